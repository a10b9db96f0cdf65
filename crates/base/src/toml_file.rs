//! The operator's TOML files (policy, roles, settings): parsed into a typed value, with every
//! mistake reported at its file, line and column so the fix is one look away.

use crate::line_col::LineCol;
use serde::de::DeserializeOwned;
use std::io;
use std::path::{Path, PathBuf};

/// A mistake at a place in a TOML file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}, line {line}, column {column}: {message}", path.display())]
pub struct TomlError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line of the mistake.
    pub line: usize,
    /// 1-based column of the mistake, in characters.
    pub column: usize,
    /// What is wrong, and where possible what to write instead.
    pub message: String,
}

/// The text of a TOML file and where it came from: parses it, and places errors in it.
#[derive(Debug, Clone, Copy)]
pub struct TomlText<'a> {
    path: &'a Path,
    text: &'a str,
}

impl<'a> TomlText<'a> {
    /// `text`, read from `path` (the path only names the file in errors).
    pub fn new(path: &'a Path, text: &'a str) -> TomlText<'a> {
        TomlText { path, text }
    }

    /// The text itself.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// Deserializes the whole file; a syntax or shape error names its line and column.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, TomlError> {
        toml::from_str(self.text).map_err(|e| {
            self.error_at(
                e.span().map_or(0, |s| s.start),
                e.message().trim().to_string(),
            )
        })
    }

    /// An error at byte `offset` of the text (a `toml::Spanned` value's `span().start`).
    pub fn error_at(&self, offset: usize, message: impl Into<String>) -> TomlError {
        let at = LineCol::of(self.text, offset);
        TomlError {
            path: self.path.to_path_buf(),
            line: at.line,
            column: at.column,
            message: message.into(),
        }
    }

    /// The 1-based line of byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        LineCol::of(self.text, offset).line
    }
}

/// The file's text, or `None` when it does not exist (an operator file that is optional).
pub fn read_optional(path: &Path) -> io::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Limits {
        memory_mb: u64,
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let path = Path::new("/etc/toolhost.toml");
        let text = "\nmemory_mb = \"lots\"\n";
        let err = TomlText::new(path, text).parse::<Limits>().unwrap_err();
        assert_eq!((err.line, err.column), (2, 13), "{err}");
        assert!(
            err.to_string()
                .starts_with("/etc/toolhost.toml, line 2, column 13: "),
            "{err}"
        );
        let err = TomlText::new(path, "memory = 1\n")
            .parse::<Limits>()
            .unwrap_err();
        assert!(err.message.contains("memory"), "{err}");
    }

    #[test]
    fn a_missing_file_is_none_and_others_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            read_optional(&dir.path().join("absent.toml")).unwrap(),
            None
        );
        assert!(read_optional(dir.path()).is_err());
    }
}
