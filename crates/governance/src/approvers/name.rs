//! An approver's name, as the one-time link signs them in and as audit records show them
//! (`ui:<name>`): short and plain, so a name can never pass for another or carry markup.

use std::fmt;

/// The longest approver name.
const MAX_LEN: usize = 64;

/// A checked approver name: 1 to 64 ASCII letters, digits, `.`, `_`, `-` or `@`, starting
/// with a letter or a digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApproverName(String);

/// Why a name cannot name an approver.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("approver name `{shown}` is not valid: {why}. Use 1 to {MAX_LEN} letters, digits, `.`, `_`, `-` or `@`, starting with a letter or digit (e.g. `--approver maria`)")]
pub struct ApproverNameError {
    /// The name, with anything but printable ASCII replaced, for the message.
    shown: String,
    why: &'static str,
}

impl ApproverName {
    /// Checks `name`.
    pub fn parse(name: &str) -> Result<ApproverName, ApproverNameError> {
        let fail = |why| ApproverNameError {
            shown: name
                .chars()
                .take(MAX_LEN)
                .map(|c| if c.is_ascii_graphic() { c } else { '?' })
                .collect(),
            why,
        };
        if name.is_empty() {
            return Err(fail("it is empty"));
        }
        if name.len() > MAX_LEN {
            return Err(fail("it is too long"));
        }
        if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(fail("it must start with a letter or digit"));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
        {
            return Err(fail(
                "it holds a character other than letters, digits, `.`, `_`, `-` or `@`",
            ));
        }
        Ok(ApproverName(name.to_string()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ApproverName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for ApproverName {
    type Err = ApproverNameError;

    fn from_str(s: &str) -> Result<ApproverName, ApproverNameError> {
        ApproverName::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass_and_others_are_refused_with_the_fix() {
        for ok in ["maria", "j.smith", "ops-1", "a@b.example", "X_2"] {
            assert_eq!(ApproverName::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["", "-x", "a b", "<b>", "ui:x", "é", &"a".repeat(65)] {
            let err = ApproverName::parse(bad).unwrap_err().to_string();
            assert!(err.contains("--approver"), "{err}");
        }
        let err = ApproverName::parse("bad\u{1b}[31m")
            .unwrap_err()
            .to_string();
        assert!(!err.contains('\u{1b}'), "{err}");
    }
}
