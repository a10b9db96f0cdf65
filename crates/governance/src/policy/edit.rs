//! `toolhost policy set`: one rule changed, every other line and comment kept.

use super::file::{PolicyFile, PolicyFileError};
use super::glob::Glob;
use super::mode::Mode;
use std::io;
use std::path::Path;
use toml_edit::{DocumentMut, Item, Table, Value};
use toolhost_base::{write_private, TomlText};

/// Sets `pattern = mode` in the `[tools]` table of the policy file at `path` (creating the
/// file, 0600, if missing), keeping the other rules, their order and comments. A malformed
/// file is refused rather than rewritten. The result is checked by the same parser the
/// engine uses before it replaces the file atomically. Returns the mode it replaced.
pub fn set_rule(path: &Path, pattern: &str, mode: Mode) -> Result<Option<Mode>, PolicyFileError> {
    set_bound_rule(path, pattern, mode, None)
}

/// Like [`set_rule`], bound to `digest` (the declaration of the one tool `pattern` names, as
/// the operator saw it): the override applies only while the tool is still that.
pub fn set_bound_rule(
    path: &Path,
    pattern: &str,
    mode: Mode,
    digest: Option<&str>,
) -> Result<Option<Mode>, PolicyFileError> {
    Glob::new(pattern).map_err(|source| PolicyFileError::Pattern {
        pattern: pattern.to_string(),
        source,
    })?;
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(PolicyFileError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let previous = PolicyFile::parse(path, &text)?
        .rule(pattern)
        .map(|r| r.mode);

    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        // Unreachable after a successful parse above, but never assume.
        PolicyFileError::Invalid(TomlText::new(path, &text).error_at(0, e.message()))
    })?;
    let tools = doc
        .entry("tools")
        .or_insert_with(|| Item::Table(Table::new()))
        .as_table_like_mut()
        .ok_or_else(|| {
            PolicyFileError::Invalid(
                TomlText::new(path, &text).error_at(0, "`tools` is not a table"),
            )
        })?;
    let value = match digest {
        None => Value::from(mode.as_str()),
        Some(digest) => {
            let mut bound = toml_edit::InlineTable::new();
            bound.insert("mode", Value::from(mode.as_str()));
            bound.insert("digest", Value::from(digest));
            Value::InlineTable(bound)
        }
    };
    match tools.get_mut(pattern).and_then(Item::as_value_mut) {
        Some(existing) => {
            let decor = existing.decor().clone();
            *existing = value;
            *existing.decor_mut() = decor;
        }
        None => {
            tools.insert(pattern, Item::Value(value));
        }
    }
    let new_text = doc.to_string();
    let check = PolicyFile::parse(path, &new_text)?;
    debug_assert_eq!(check.rule(pattern).map(|r| r.mode), Some(mode));

    write_private(path, new_text.as_bytes()).map_err(|source| PolicyFileError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(previous)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_the_file_with_a_tools_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cfg/policy.toml");
        let prev = set_rule(&path, "connectwise_rmm:cw-rmm-script-*", Mode::Never).unwrap();
        assert_eq!(prev, None);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "[tools]\n\"connectwise_rmm:cw-rmm-script-*\" = \"never\"\n"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn keeps_comments_order_and_other_rules() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.toml");
        let original = "# Operator overrides\n[settings]\ndefault_role = \"Technician\"\n\n[tools]\n# reads\n\"p:a\" = \"auto\" # fine\n\"p:b-*\" = \"approval\"\n";
        std::fs::write(&path, original).unwrap();
        assert_eq!(
            set_rule(&path, "p:a", Mode::Never).unwrap(),
            Some(Mode::Auto)
        );
        assert_eq!(set_rule(&path, "p:c", Mode::Auto).unwrap(), None);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "# Operator overrides\n[settings]\ndefault_role = \"Technician\"\n\n[tools]\n# reads\n\"p:a\" = \"never\" # fine\n\"p:b-*\" = \"approval\"\n\"p:c\" = \"auto\"\n"
        );
        let f = PolicyFile::load(&path).unwrap();
        assert_eq!(f.rules.len(), 3);
    }

    #[test]
    fn refuses_to_rewrite_a_malformed_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.toml");
        std::fs::write(&path, "[tools]\n\"p:a\" = \"allow\"\n").unwrap();
        let err = set_rule(&path, "p:b", Mode::Auto).unwrap_err();
        assert!(
            matches!(&err, PolicyFileError::Invalid(e) if e.line == 2),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "[tools]\n\"p:a\" = \"allow\"\n"
        );
    }

    #[test]
    fn refuses_a_bad_pattern() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.toml");
        let err = set_rule(&path, "p:[x]", Mode::Auto).unwrap_err();
        assert!(matches!(err, PolicyFileError::Pattern { .. }));
        assert!(!path.exists());
    }
}
