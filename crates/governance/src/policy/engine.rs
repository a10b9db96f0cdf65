//! [`PolicyEngine::decide`]: a tool's mode and why, in words an operator can act on.

use super::defaults::{default_mode, DefaultBasis, DefaultMode};
use super::file::{PolicyFile, PolicyFileError};
use super::mode::Mode;
use crate::tool::ToolFacts;
use std::path::{Path, PathBuf};

/// Where a decision came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum DecisionSource {
    /// The plugin's hint (static tools); also a never hint that a pattern could not loosen.
    Default {
        /// The table entry or hint that applied, in words, e.g. "plugin hint `approval`".
        rule: String,
    },
    /// The script-tool classifier; also a never that a pattern could not loosen.
    Classifier {
        /// The word that decided it, e.g. "classifier: destructive verb `uninstall`".
        rule: String,
    },
    /// A line of the policy file.
    Override {
        /// The rule's exact name or pattern, as written in the file.
        pattern: String,
        /// The policy file.
        path: PathBuf,
        /// The rule's line (1-based), so the operator can go straight to it.
        line: usize,
    },
}

/// A tool's mode, where it came from, and what to change to change it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Decision {
    /// The mode the tool runs under.
    pub mode: Mode,
    /// Where that mode came from.
    pub source: DecisionSource,
    /// One sentence for the operator: the mode, its source, and the `toolhost policy set`
    /// command that changes it.
    pub explanation: String,
}

/// The loaded policy: defaults plus the operator's overrides.
#[derive(Debug, Clone)]
pub struct PolicyEngine {
    file: PolicyFile,
}

impl PolicyEngine {
    /// Loads the policy file at `path`. A missing file means no overrides; any other problem
    /// (unreadable, malformed, a bad mode or pattern) is an error: there is no fallback.
    pub fn load(path: &Path) -> Result<PolicyEngine, PolicyFileError> {
        Ok(PolicyEngine {
            file: PolicyFile::load(path)?,
        })
    }

    /// An engine over an already parsed policy file (no disk access).
    pub fn from_file(file: PolicyFile) -> PolicyEngine {
        PolicyEngine { file }
    }

    /// The policy file the overrides came from (it may not exist).
    pub fn path(&self) -> &Path {
        &self.file.path
    }

    /// The parsed overrides.
    pub fn file(&self) -> &PolicyFile {
        &self.file
    }

    /// `[settings] default_role` of the policy file.
    pub fn default_role(&self) -> Option<&str> {
        self.file.default_role.as_deref()
    }

    /// The mode `tool` runs under: the most specific override, else its default. Only an
    /// exact name loosens a default of never: a pattern that would is set aside (the default
    /// stands, as the source), and the explanation names the exact rule that would allow it.
    pub fn decide(&self, tool: &ToolFacts<'_>) -> Decision {
        let name = tool.name;
        let default = default_mode(tool);
        let Some(rule) = self.file.matching_version(name, tool.digest) else {
            let stale = self.file.rule(name).filter(|r| r.digest.is_some());
            let explanation = match stale {
                Some(rule) => format!(
                    "default {} ({}); the override at {} line {} was confirmed for another \
                     script behind this name and does not carry over: confirm it again with \
                     `toolhost policy set {name} {}`",
                    default.mode,
                    default.rule,
                    self.file.path.display(),
                    rule.line,
                    rule.mode
                ),
                None => format!(
                    "default {} ({}); override it with `toolhost policy set {name} <mode>`",
                    default.mode, default.rule
                ),
            };
            return Self::from_default(default, explanation);
        };
        // A never default means "destroys data with no undo" (or the plugin forbids it): a
        // broad pattern written for ordinary tools must not make such a tool one click away
        // without the operator ever naming it. Tightening is always fine.
        if default.mode == Mode::Never && rule.mode < Mode::Never && !rule.pattern.is_exact() {
            let explanation = format!(
                "default never ({}); the pattern `{}` ({} line {}) cannot loosen a default of \
                 never: set the exact name with `toolhost policy set {name} {}` to allow it",
                default.rule,
                rule.pattern,
                self.file.path.display(),
                rule.line,
                rule.mode
            );
            return Self::from_default(default, explanation);
        }
        let pattern = rule.pattern.as_str();
        let how = if rule.pattern.is_exact() {
            format!("change it with `toolhost policy set {name} <mode>`")
        } else {
            format!(
                "change it for every matching tool with `toolhost policy set '{pattern}' \
                 <mode>`, or for this tool only with `toolhost policy set {name} <mode>`"
            )
        };
        Decision {
            mode: rule.mode,
            source: DecisionSource::Override {
                pattern: pattern.to_string(),
                path: self.file.path.clone(),
                line: rule.line,
            },
            explanation: format!(
                "set by {} line {} (`{pattern}` = {}); {how}",
                self.file.path.display(),
                rule.line,
                rule.mode
            ),
        }
    }

    fn from_default(default: DefaultMode, explanation: String) -> Decision {
        let source = match default.basis {
            DefaultBasis::Classifier => DecisionSource::Classifier { rule: default.rule },
            DefaultBasis::Hint => DecisionSource::Default { rule: default.rule },
        };
        Decision {
            mode: default.mode,
            source,
            explanation,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::set_rule;
    use crate::policy::testing::{script_tool, static_tool};

    fn engine(text: &str) -> PolicyEngine {
        PolicyEngine::from_file(PolicyFile::parse(Path::new("/x/policy.toml"), text).unwrap())
    }

    #[test]
    fn defaults_without_a_file() {
        let e = engine("");
        let d = e.decide(&static_tool("cw-rmm-run-task", Mode::Approval, false));
        assert_eq!(d.mode, Mode::Approval);
        assert_eq!(
            d.source,
            DecisionSource::Default {
                rule: "plugin hint `approval`".into()
            }
        );
        assert_eq!(
            d.explanation,
            "default approval (plugin hint `approval`); override it with `toolhost policy set \
             connectwise_rmm:cw-rmm-run-task <mode>`"
        );
        let d = e.decide(&script_tool("cw-rmm-script-wipe-pc", "", Mode::Approval));
        assert_eq!(d.mode, Mode::Never);
        assert!(matches!(d.source, DecisionSource::Classifier { .. }));
        assert!(d.explanation.contains("data-destroying verb `wipe`"));
    }

    #[test]
    fn override_lines_explain_what_to_change() {
        let e = engine("[tools]\n\"connectwise_rmm:cw-rmm-list-devices\" = \"approval\"\n\"connectwise_rmm:cw-rmm-script-*\" = \"never\"\n");
        let d = e.decide(&script_tool("cw-rmm-script-get-logs", "", Mode::Approval));
        assert_eq!(d.mode, Mode::Never);
        assert_eq!(
            d.source,
            DecisionSource::Override {
                pattern: "connectwise_rmm:cw-rmm-script-*".into(),
                path: "/x/policy.toml".into(),
                line: 3
            }
        );
        assert!(d.explanation.starts_with(
            "set by /x/policy.toml line 3 (`connectwise_rmm:cw-rmm-script-*` = never); change it"
        ));
        assert!(d
            .explanation
            .contains("`toolhost policy set connectwise_rmm:cw-rmm-script-get-logs <mode>`"));
        let d = e.decide(&static_tool("cw-rmm-list-devices", Mode::Auto, true));
        assert_eq!(d.mode, Mode::Approval);
        assert_eq!(
            d.explanation,
            "set by /x/policy.toml line 2 (`connectwise_rmm:cw-rmm-list-devices` = approval); \
             change it with `toolhost policy set connectwise_rmm:cw-rmm-list-devices <mode>`"
        );
    }

    #[test]
    fn an_operator_override_may_loosen_the_hint() {
        let e = engine("[tools]\n\"connectwise_rmm:cw-rmm-run-task\" = \"auto\"\n");
        let d = e.decide(&static_tool("cw-rmm-run-task", Mode::Approval, false));
        assert_eq!(d.mode, Mode::Auto);
    }

    #[test]
    fn a_pattern_cannot_loosen_a_classifier_never() {
        let wipe = script_tool("cw-rmm-script-wipe-pc", "", Mode::Approval);
        for mode in ["auto", "approval"] {
            let e = engine(&format!(
                "[tools]\n\"connectwise_rmm:cw-rmm-script-*\" = \"{mode}\"\n"
            ));
            let d = e.decide(&wipe);
            assert_eq!(d.mode, Mode::Never, "{mode}");
            assert_eq!(
                d.source,
                DecisionSource::Classifier {
                    rule: "classifier: data-destroying verb `wipe`".into()
                }
            );
            assert_eq!(
                d.explanation,
                format!(
                    "default never (classifier: data-destroying verb `wipe`); the pattern \
                     `connectwise_rmm:cw-rmm-script-*` (/x/policy.toml line 2) cannot loosen a \
                     default of never: set the exact name with `toolhost policy set \
                     connectwise_rmm:cw-rmm-script-wipe-pc {mode}` to allow it"
                )
            );
        }
        // However specific: `?` is a pattern too, and so is a narrower `*`.
        for pattern in ["cw-rmm-script-wipe-p?", "cw-rmm-script-wipe-*"] {
            let e = engine(&format!(
                "[tools]\n\"connectwise_rmm:{pattern}\" = \"auto\"\n"
            ));
            assert_eq!(e.decide(&wipe).mode, Mode::Never, "{pattern}");
        }
    }

    #[test]
    fn a_pattern_cannot_loosen_a_never_hint() {
        let e = engine("[tools]\n\"connectwise_rmm:*\" = \"auto\"\n");
        let d = e.decide(&static_tool("cw-rmm-purge", Mode::Never, false));
        assert_eq!(d.mode, Mode::Never);
        assert_eq!(
            d.source,
            DecisionSource::Default {
                rule: "plugin hint `never`".into()
            }
        );
        assert!(
            d.explanation.contains(
                "cannot loosen a default of never: set the exact name with `toolhost policy \
                 set connectwise_rmm:cw-rmm-purge auto`"
            ),
            "{}",
            d.explanation
        );
    }

    #[test]
    fn the_exact_name_loosens_a_never_and_patterns_still_tighten_and_loosen_the_rest() {
        let e = engine(
            "[tools]\n\"connectwise_rmm:cw-rmm-script-*\" = \"auto\"\n\
             \"connectwise_rmm:cw-rmm-script-wipe-pc\" = \"approval\"\n\
             \"connectwise_rmm:cw-rmm-list-*\" = \"never\"\n\
             \"connectwise_rmm:cw-rmm-purge-*\" = \"never\"\n",
        );
        let d = e.decide(&script_tool("cw-rmm-script-wipe-pc", "", Mode::Approval));
        assert_eq!(d.mode, Mode::Approval);
        assert!(matches!(d.source, DecisionSource::Override { line: 3, .. }));
        // Loosening an approval default by pattern is still the operator's call.
        let d = e.decide(&script_tool("cw-rmm-script-uninstall-x", "", Mode::Auto));
        assert_eq!(d.mode, Mode::Auto);
        assert!(matches!(d.source, DecisionSource::Override { line: 2, .. }));
        // Tightening by pattern, from auto and from never alike: the rule is the source.
        let d = e.decide(&static_tool("cw-rmm-list-devices", Mode::Auto, true));
        assert_eq!(d.mode, Mode::Never);
        assert!(matches!(d.source, DecisionSource::Override { line: 4, .. }));
        let d = e.decide(&static_tool("cw-rmm-purge-all", Mode::Never, false));
        assert_eq!(d.mode, Mode::Never);
        assert!(matches!(d.source, DecisionSource::Override { line: 5, .. }));
    }

    #[test]
    fn load_refuses_a_malformed_file_and_sees_set_rule() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.toml");
        assert!(PolicyEngine::load(&path).unwrap().file().rules.is_empty());
        set_rule(&path, "connectwise_rmm:cw-rmm-list-tickets", Mode::Never).unwrap();
        let e = PolicyEngine::load(&path).unwrap();
        let d = e.decide(&static_tool("cw-rmm-list-tickets", Mode::Auto, true));
        assert_eq!(d.mode, Mode::Never);
        std::fs::write(&path, "[tools]\n\"connectwise_rmm:x\" = \"yes\"\n").unwrap();
        let err = PolicyEngine::load(&path).unwrap_err();
        assert!(err.to_string().contains("line 2, column 23"), "{err}");
    }

    #[test]
    fn decisions_serialize_with_the_source_kind() {
        let e = engine("");
        let d = e.decide(&static_tool("cw-rmm-get-ticket", Mode::Auto, true));
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["mode"], "auto");
        assert_eq!(v["source"]["kind"], "default");
    }

    #[test]
    fn an_override_bound_to_a_script_does_not_carry_over_to_another() {
        let e = engine(
            "[tools]\n\"connectwise_rmm:cw-rmm-script-wipe-pc\" = { mode = \"approval\", digest = \"aaa\" }\n",
        );
        let mut tool = script_tool("cw-rmm-script-wipe-pc", "", Mode::Approval);
        tool.digest = Some("aaa");
        let d = e.decide(&tool);
        assert_eq!(d.mode, Mode::Approval, "{}", d.explanation);
        assert!(matches!(d.source, DecisionSource::Override { .. }));
        tool.digest = Some("bbb");
        let d = e.decide(&tool);
        assert_eq!(d.mode, Mode::Never, "{}", d.explanation);
        assert!(
            d.explanation.contains("does not carry over")
                && d.explanation
                    .contains("toolhost policy set connectwise_rmm:cw-rmm-script-wipe-pc approval"),
            "{}",
            d.explanation
        );
    }

    #[test]
    fn a_digest_binds_only_an_exact_name() {
        let err = PolicyFile::parse(
            Path::new("/x/policy.toml"),
            "[tools]\n\"connectwise_rmm:*\" = { mode = \"auto\", digest = \"a\" }\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("exact tool name"), "{err}");
    }
}
