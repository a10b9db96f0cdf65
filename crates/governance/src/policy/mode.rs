//! The three modes a tool can run under, ordered by strictness.

use std::fmt;
use std::str::FromStr;

/// `Auto < Approval < Never`: `max` of two modes is the stricter one.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Runs when called.
    Auto,
    /// Records a pending approval; runs only once an operator approves it.
    Approval,
    /// Refused.
    Never,
}

impl Mode {
    /// Every mode, loosest first.
    pub const ALL: [Mode; 3] = [Mode::Auto, Mode::Approval, Mode::Never];

    /// The lowercase name used in files and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Auto => "auto",
            Mode::Approval => "approval",
            Mode::Never => "never",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A mode that is not `auto`, `approval` or `never`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown mode `{0}`: expected `auto`, `approval` or `never`")]
pub struct ParseModeError(pub String);

impl FromStr for Mode {
    type Err = ParseModeError;

    /// Exact lowercase names only: a policy must not depend on guessing what `Allow` meant.
    fn from_str(s: &str) -> Result<Mode, ParseModeError> {
        match s {
            "auto" => Ok(Mode::Auto),
            "approval" => Ok(Mode::Approval),
            "never" => Ok(Mode::Never),
            other => Err(ParseModeError(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_by_strictness() {
        assert!(Mode::Auto < Mode::Approval && Mode::Approval < Mode::Never);
        assert_eq!(Mode::Auto.max(Mode::Never), Mode::Never);
    }

    #[test]
    fn parses_exact_names_only() {
        for m in Mode::ALL {
            assert_eq!(m.as_str().parse::<Mode>(), Ok(m));
        }
        let err = "allow".parse::<Mode>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown mode `allow`: expected `auto`, `approval` or `never`"
        );
        assert!("Auto".parse::<Mode>().is_err());
    }

    #[test]
    fn serde_is_lowercase() {
        assert_eq!(
            serde_json::to_string(&Mode::Approval).unwrap(),
            "\"approval\""
        );
        let m: Mode = serde_json::from_str("\"never\"").unwrap();
        assert_eq!(m, Mode::Never);
    }
}
