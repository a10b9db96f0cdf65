//! The policy file: operator overrides, by exact tool name or `*`/`?` pattern.
//!
//! ```toml
//! [settings]
//! default_role = "Technician"
//!
//! [tools]
//! "connectwise_rmm:cw-rmm-list-devices" = "auto"
//! "connectwise_rmm:cw-rmm-script-*" = "approval"
//! ```
//!
//! Every mistake is an error with the file, line and column: a policy that cannot be read is
//! never read as "no policy".

use super::glob::{Glob, GlobError};
use super::mode::{Mode, ParseModeError};
use crate::parsed_files::{FileIdentity, ParsedFiles};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use toml::Spanned;
use toolhost_base::{TomlError, TomlText};

/// One override: `pattern = mode`, on `line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The exact tool name or pattern the rule applies to.
    pub pattern: Glob,
    /// The mode it sets.
    pub mode: Mode,
    /// Its line in the file (1-based): decisions cite it, and the later line wins a tie.
    pub line: usize,
    /// For an override of one script tool: the digest of the tool's declaration the operator
    /// confirmed it for. The rule applies only while the tool is still that script.
    pub digest: Option<String>,
}

/// A parsed policy file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PolicyFile {
    /// Where it was read from, cited in errors and explanations.
    pub path: PathBuf,
    /// In file order.
    pub rules: Vec<Rule>,
    /// `[settings] default_role`, if set.
    pub default_role: Option<String>,
}

/// Why the policy file could not be used. Every case is an error, never "no policy":
/// a broken file must not quietly loosen what runs.
#[derive(Debug, thiserror::Error)]
pub enum PolicyFileError {
    /// The file exists but could not be read.
    #[error("cannot read policy file {}: {source}", path.display())]
    Read {
        /// The policy file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// [`set_rule`](crate::set_rule) could not write the updated file.
    #[error("cannot write policy file {}: {source}", path.display())]
    Write {
        /// The policy file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The text is not a valid policy (TOML syntax, unknown key, bad mode or pattern), with
    /// the line and column.
    #[error("invalid policy file {0}")]
    Invalid(#[from] TomlError),
    /// A pattern given to [`set_rule`](crate::set_rule) was refused before the file was
    /// touched.
    #[error("invalid tool name or pattern `{pattern}`: {source}")]
    Pattern {
        /// The pattern as given.
        pattern: String,
        /// Why it was refused.
        source: GlobError,
    },
    /// A mode name that is not `auto`, `approval` or `never`.
    #[error(transparent)]
    Mode(#[from] ParseModeError),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    settings: Option<RawSettings>,
    #[serde(default)]
    tools: BTreeMap<Spanned<String>, Spanned<RawRule>>,
}

/// `"tool" = "mode"`, or for a script tool bound to what the operator confirmed,
/// `"tool" = { mode = "auto", digest = "<sha256 of its declaration>" }`.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawRule {
    Mode(String),
    Bound { mode: String, digest: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    default_role: Option<Spanned<String>>,
}

impl PolicyFile {
    /// Reads and parses `path`; a missing file is an empty policy (no overrides). A file
    /// unchanged since it was last parsed (same identity) is not read again.
    pub fn load(path: &Path) -> Result<PolicyFile, PolicyFileError> {
        static PARSED: LazyLock<ParsedFiles<PolicyFile>> = LazyLock::new(ParsedFiles::new);
        let read_error = |source| PolicyFileError::Read {
            path: path.to_path_buf(),
            source,
        };
        let missing = || PolicyFile {
            path: path.to_path_buf(),
            ..PolicyFile::default()
        };
        let Some(identity) = FileIdentity::of(path).map_err(read_error)? else {
            return Ok(missing());
        };
        if let Some(parsed) = PARSED.get(path, identity) {
            return Ok(parsed);
        }
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let parsed = PolicyFile::parse(path, &text)?;
                PARSED.put(path, identity, parsed.clone());
                Ok(parsed)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(missing()),
            Err(source) => Err(read_error(source)),
        }
    }

    /// Parses `text`; `path` is only used in errors and explanations.
    pub fn parse(path: &Path, text: &str) -> Result<PolicyFile, PolicyFileError> {
        let toml = TomlText::new(path, text);
        let invalid =
            |offset: usize, message: String| PolicyFileError::from(toml.error_at(offset, message));
        let raw: RawFile = toml.parse()?;
        let mut rules = Vec::with_capacity(raw.tools.len());
        for (key, value) in raw.tools {
            let pattern = Glob::new(key.get_ref()).map_err(|e| {
                invalid(
                    key.span().start,
                    format!("invalid tool name or pattern `{}`: {e}", key.get_ref()),
                )
            })?;
            let (mode, digest) = match value.get_ref() {
                RawRule::Mode(mode) => (mode, None),
                RawRule::Bound { mode, digest } => (mode, Some(digest.clone())),
            };
            let mode: Mode = mode
                .parse()
                .map_err(|e: ParseModeError| invalid(value.span().start, e.to_string()))?;
            if digest.is_some() && !pattern.is_exact() {
                return Err(invalid(
                    value.span().start,
                    "a digest binds an override to one tool: use an exact tool name".into(),
                ));
            }
            rules.push(Rule {
                digest,
                pattern,
                mode,
                line: toml.line_of(key.span().start),
            });
        }
        rules.sort_by_key(|r| r.line);
        let default_role = match raw.settings.and_then(|s| s.default_role) {
            Some(role) if role.get_ref().trim().is_empty() => {
                return Err(invalid(
                    role.span().start,
                    "default_role must name a role".to_string(),
                ))
            }
            Some(role) => Some(role.into_inner()),
            None => None,
        };
        Ok(PolicyFile {
            path: path.to_path_buf(),
            rules,
            default_role,
        })
    }

    /// The most specific rule matching `tool`: an exact name beats every pattern; among
    /// patterns the longest literal prefix, then the most literal characters, then the later
    /// line wins. Whether the rule may loosen the tool's default is the engine's to decide.
    pub fn matching(&self, tool: &str) -> Option<&Rule> {
        self.matching_version(tool, None)
    }

    /// Like [`PolicyFile::matching`], for a tool whose declaration has `digest`: a rule bound
    /// to another digest (confirmed for another script behind the same name) does not apply.
    pub fn matching_version(&self, tool: &str, digest: Option<&str>) -> Option<&Rule> {
        self.rules
            .iter()
            .filter(|r| r.pattern.matches(tool))
            .filter(|r| r.digest.is_none() || r.digest.as_deref() == digest)
            .max_by(|a, b| {
                a.pattern
                    .specificity_cmp(&b.pattern)
                    .then(a.line.cmp(&b.line))
            })
    }

    /// The rule whose pattern is exactly `pattern`, if any.
    pub fn rule(&self, pattern: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.pattern.as_str() == pattern)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<PolicyFile, PolicyFileError> {
        PolicyFile::parse(Path::new("/cfg/policy.toml"), text)
    }

    fn position(err: PolicyFileError) -> (usize, usize, String) {
        match err {
            PolicyFileError::Invalid(TomlError {
                line,
                column,
                message,
                ..
            }) => (line, column, message),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    const SAMPLE: &str = r#"# overrides
[settings]
default_role = "Technician"

[tools]
"connectwise_rmm:cw-rmm-list-devices" = "auto"
"connectwise_rmm:cw-rmm-script-*" = "approval"
"connectwise_rmm:cw-rmm-script-wipe-*" = "never"
"connectwise_rmm:*" = "approval"
"#;

    #[test]
    fn parses_rules_in_file_order_with_lines() {
        let f = parse(SAMPLE).unwrap();
        assert_eq!(f.default_role.as_deref(), Some("Technician"));
        let got: Vec<_> = f
            .rules
            .iter()
            .map(|r| (r.pattern.as_str(), r.mode, r.line))
            .collect();
        assert_eq!(
            got,
            [
                ("connectwise_rmm:cw-rmm-list-devices", Mode::Auto, 6),
                ("connectwise_rmm:cw-rmm-script-*", Mode::Approval, 7),
                ("connectwise_rmm:cw-rmm-script-wipe-*", Mode::Never, 8),
                ("connectwise_rmm:*", Mode::Approval, 9),
            ]
        );
    }

    #[test]
    fn empty_text_and_missing_file_mean_no_overrides() {
        assert!(parse("").unwrap().rules.is_empty());
        let f = PolicyFile::load(Path::new("/nonexistent/dir/policy.toml")).unwrap();
        assert!(f.rules.is_empty() && f.default_role.is_none());
    }

    #[test]
    fn most_specific_rule_wins() {
        let f = parse(SAMPLE).unwrap();
        let line = |tool: &str| f.matching(tool).map(|r| r.line);
        assert_eq!(line("connectwise_rmm:cw-rmm-list-devices"), Some(6));
        assert_eq!(line("connectwise_rmm:cw-rmm-script-wipe-disk"), Some(8));
        assert_eq!(line("connectwise_rmm:cw-rmm-script-get-logs"), Some(7));
        assert_eq!(line("connectwise_rmm:cw-rmm-run-task"), Some(9));
        assert_eq!(line("other:tool"), None);
    }

    #[test]
    fn exact_name_beats_a_later_pattern_and_ties_go_to_the_later_line() {
        let f = parse(
            "[tools]\n\"p:a-b\" = \"never\"\n\"p:a-*\" = \"auto\"\n\"p:?-b\" = \"auto\"\n\"p:*-b\" = \"approval\"\n",
        )
        .unwrap();
        assert_eq!(f.matching("p:a-b").unwrap().mode, Mode::Never);
        // `p:?-b` and `p:*-b` tie (prefix 2, 4 literals): the later line wins.
        assert_eq!(f.matching("p:c-b").unwrap().line, 5);
    }

    #[test]
    fn unknown_mode_reports_line_and_column_of_the_value() {
        let err = parse("[tools]\n\"p:x\" = \"allow\"\n").unwrap_err();
        let (line, column, message) = position(err);
        assert_eq!((line, column), (2, 9));
        assert!(message.contains("unknown mode `allow`"), "{message}");
    }

    #[test]
    fn bad_glob_reports_line_and_column_of_the_key() {
        let err = parse("[tools]\n\n  \"p:[ab]\" = \"auto\"\n").unwrap_err();
        let text = err.to_string();
        let (line, column, message) = position(err);
        assert_eq!((line, column), (3, 3));
        assert!(message.contains("only `*` and `?`"), "{message}");
        assert!(text.starts_with("invalid policy file /cfg/policy.toml, line 3, column 3:"));
    }

    #[test]
    fn toml_syntax_errors_report_line_and_column() {
        let (line, column, _) = position(parse("[tools]\n\"p:x\" = auto\n").unwrap_err());
        assert_eq!((line, column), (2, 9));
        let (line, _, _) =
            position(parse("[tools]\n\"p:x\" = \"auto\"\n\"p:x\" = \"never\"\n").unwrap_err());
        assert_eq!(line, 3);
    }

    #[test]
    fn unknown_sections_and_types_are_errors() {
        let (line, _, message) = position(parse("[tool]\n\"p:x\" = \"auto\"\n").unwrap_err());
        assert_eq!(line, 1);
        assert!(message.contains("tool"), "{message}");
        let (line, column, _) = position(parse("[tools]\n\"p:x\" = 1\n").unwrap_err());
        assert_eq!((line, column), (2, 9));
        let (line, _, _) = position(parse("[settings]\ndefault_role = \"\"\n").unwrap_err());
        assert_eq!(line, 2);
        assert!(parse("[settings]\nfallback = \"allow\"\n").is_err());
    }
}
