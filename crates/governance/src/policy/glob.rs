//! Tool-name patterns: `*` (any run of characters, possibly empty) and `?` (exactly one
//! character). Nothing else is special, and anything that looks like richer glob syntax is
//! refused rather than silently matched literally.

use std::cmp::Ordering;
use std::fmt;

/// A parsed tool-name pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    pattern: String,
    chars: Vec<char>,
}

/// Why a pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GlobError {
    /// The pattern is empty.
    #[error("empty tool name or pattern")]
    Empty,
    /// Richer glob syntax (`[`, `]`, `{`, `}`, `\`, `!`): refused so that `[ab]` is never
    /// silently taken as a literal and matches nothing the operator meant.
    #[error("`{0}` is not supported in patterns: only `*` and `?` are wildcards")]
    Unsupported(char),
    /// Whitespace or a control character, which no tool name contains.
    #[error("whitespace or control characters are not allowed in tool names or patterns")]
    Whitespace,
    /// An exact name without the `<plugin>:` namespace: it could never match, since every
    /// tool name is namespaced.
    #[error(
        "exact tool names are namespaced `<plugin>:<tool>` (e.g. `connectwise_rmm:{0}`); \
         use a pattern such as `*:{0}` to match any plugin"
    )]
    NotNamespaced(String),
}

impl Glob {
    /// Parses `pattern`, refusing what it cannot mean (see [`GlobError`]).
    pub fn new(pattern: &str) -> Result<Glob, GlobError> {
        if pattern.is_empty() {
            return Err(GlobError::Empty);
        }
        for c in pattern.chars() {
            if c.is_whitespace() || c.is_control() {
                return Err(GlobError::Whitespace);
            }
            if matches!(c, '[' | ']' | '{' | '}' | '\\' | '!') {
                return Err(GlobError::Unsupported(c));
            }
        }
        let glob = Glob {
            pattern: pattern.to_string(),
            chars: pattern.chars().collect(),
        };
        if glob.is_exact() && !pattern.contains(':') {
            return Err(GlobError::NotNamespaced(pattern.to_string()));
        }
        Ok(glob)
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// No wildcard: the pattern names exactly one tool.
    pub fn is_exact(&self) -> bool {
        !self.chars.iter().any(|&c| c == '*' || c == '?')
    }

    /// Characters before the first wildcard.
    pub(crate) fn literal_prefix_len(&self) -> usize {
        self.chars
            .iter()
            .take_while(|&&c| c != '*' && c != '?')
            .count()
    }

    /// Characters that are not wildcards.
    pub(crate) fn literal_len(&self) -> usize {
        self.chars.iter().filter(|&&c| c != '*' && c != '?').count()
    }

    /// Specificity order: an exact name beats every pattern; among patterns the longer
    /// literal prefix wins, then the larger count of literal characters. Equal means a tie
    /// (the policy file breaks it by the later line).
    pub(crate) fn specificity_cmp(&self, other: &Glob) -> Ordering {
        self.is_exact()
            .cmp(&other.is_exact())
            .then(self.literal_prefix_len().cmp(&other.literal_prefix_len()))
            .then(self.literal_len().cmp(&other.literal_len()))
    }

    /// Whole-string match, iterative with single-star backtracking: linear in practice,
    /// never exponential.
    /// `si` is a byte offset into `name`, moved a whole character at a time, so a call
    /// (every policy decision tries each pattern) allocates nothing.
    pub fn matches(&self, name: &str) -> bool {
        let p = &self.chars;
        let char_at = |si: usize| name[si..].chars().next();
        let (mut pi, mut si) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while let Some(c) = char_at(si) {
            if pi < p.len() && (p[pi] == '?' || p[pi] == c) {
                pi += 1;
                si += c.len_utf8();
            } else if pi < p.len() && p[pi] == '*' {
                star = Some((pi, si));
                pi += 1;
            } else if let Some((star_pi, star_si)) = star {
                // The star takes one more character of the name.
                let taken = star_si + char_at(star_si).map_or(1, char::len_utf8);
                pi = star_pi + 1;
                si = taken;
                star = Some((star_pi, taken));
            } else {
                return false;
            }
        }
        p[pi..].iter().all(|&c| c == '*')
    }
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.pattern)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(p: &str) -> Glob {
        Glob::new(p).unwrap()
    }

    #[test]
    fn exact_names_match_only_themselves() {
        let e = g("connectwise_rmm:cw-rmm-list-devices");
        assert!(e.is_exact());
        assert!(e.matches("connectwise_rmm:cw-rmm-list-devices"));
        assert!(!e.matches("connectwise_rmm:cw-rmm-list-devices2"));
        assert!(!e.matches("connectwise_rmm:cw-rmm-list-device"));
    }

    #[test]
    fn star_matches_any_run_including_empty() {
        let p = g("connectwise_rmm:cw-rmm-script-*");
        assert!(p.matches("connectwise_rmm:cw-rmm-script-"));
        assert!(p.matches("connectwise_rmm:cw-rmm-script-uninstall-agent"));
        assert!(!p.matches("connectwise_rmm:cw-rmm-run-task"));
        assert!(g("*").matches(""));
        assert!(g("*").matches("anything:at-all"));
        assert!(g("*:*delete*").matches("p:cw-rmm-script-delete-temp"));
        assert!(g("a*b*c").matches("abc"));
        assert!(g("a*b*c").matches("axxbyyc"));
        assert!(!g("a*b*c").matches("axxbyy"));
        assert!(g("a**c").matches("ac"));
    }

    #[test]
    fn question_mark_matches_exactly_one_char() {
        let p = g("p:tool-?");
        assert!(p.matches("p:tool-a"));
        assert!(p.matches("p:tool-é"));
        assert!(!p.matches("p:tool-"));
        assert!(!p.matches("p:tool-ab"));
    }

    #[test]
    fn stars_and_marks_take_whole_characters_of_any_width() {
        assert!(g("p:é*ü").matches("p:éßü"));
        assert!(g("p:*ü").matches("p:ééü"));
        assert!(g("p:?-?").matches("p:日-本"));
        assert!(!g("p:?").matches("p:日本"));
        assert!(g("p:*本").matches("p:日本"));
        assert!(!g("p:*本x").matches("p:日本"));
    }

    #[test]
    fn backtracking_is_not_exponential() {
        let p = g("*a*a*a*a*a*a*a*a*b");
        let s = "a".repeat(5000);
        assert!(!p.matches(&s));
    }

    #[test]
    fn refuses_unsupported_syntax() {
        assert_eq!(Glob::new(""), Err(GlobError::Empty));
        assert_eq!(Glob::new("p:[ab]"), Err(GlobError::Unsupported('[')));
        assert_eq!(Glob::new("p:{a,b}"), Err(GlobError::Unsupported('{')));
        assert_eq!(Glob::new("p: x"), Err(GlobError::Whitespace));
        assert!(matches!(
            Glob::new("cw-rmm-run-task"),
            Err(GlobError::NotNamespaced(_))
        ));
        assert!(Glob::new("cw-rmm-*").is_ok());
    }

    #[test]
    fn specificity_prefers_exact_then_longer_literal_prefix() {
        let exact = g("p:cw-rmm-script-a");
        let long = g("p:cw-rmm-script-*");
        let short = g("p:cw-*");
        let inner = g("*:cw-rmm-script-a");
        assert_eq!(exact.specificity_cmp(&long), Ordering::Greater);
        assert_eq!(exact.specificity_cmp(&inner), Ordering::Greater);
        assert_eq!(long.specificity_cmp(&short), Ordering::Greater);
        // A longer prefix beats more literal characters elsewhere.
        assert_eq!(short.specificity_cmp(&inner), Ordering::Greater);
        // Same prefix: more literal characters win.
        assert_eq!(g("p:*-task").specificity_cmp(&g("p:*")), Ordering::Greater);
        assert_eq!(g("p:a?").specificity_cmp(&g("p:a*")), Ordering::Equal);
    }
}
