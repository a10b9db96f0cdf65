//! A string that never prints itself: client secrets and access tokens.

use std::fmt;
use std::sync::Arc;

/// Debug and Display print `[redacted]`; there is no Serialize. Reading the value takes an
/// explicit `expose()`, which is easy to audit with a grep.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(Arc<str>);

impl SecretString {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> SecretString {
        SecretString(Arc::from(value.into()))
    }

    /// The value itself: only for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string (a missing secret).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Replaces every occurrence of any secret in `text` (for upstream messages that might echo
/// what they were sent).
pub fn scrub(text: &str, secrets: &[&SecretString]) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        if secret.expose().len() >= 4 {
            out = out.replace(secret.expose(), "[redacted]");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_value() {
        let s = SecretString::new("hunter2-very-secret");
        assert_eq!(format!("{s:?} {s}"), "[redacted] [redacted]");
        assert_eq!(s.expose(), "hunter2-very-secret");
    }

    #[test]
    fn scrubs_echoed_secrets() {
        let s = SecretString::new("hunter2-very-secret");
        assert_eq!(
            scrub("bad secret hunter2-very-secret!", &[&s]),
            "bad secret [redacted]!"
        );
    }
}
