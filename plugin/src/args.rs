//! Strict argument validation: every failure names the field and says how to fix it.

use crate::errors::{ToolError, ToolResult};
use serde_json::{Map, Value};

/// The parsed arguments object of one call. Unknown keys are rejected up front.
pub struct Args {
    map: Map<String, Value>,
}

impl Args {
    /// Parses the JSON arguments and rejects keys outside `allowed`. An empty string is `{}`.
    pub fn parse(raw: &str, allowed: &[&str]) -> ToolResult<Args> {
        let raw = raw.trim();
        let value: Value = if raw.is_empty() {
            Value::Object(Map::new())
        } else {
            crate::pruned::parse_all(raw.as_bytes()).map_err(|err| {
                ToolError::invalid(
                    "",
                    format!("arguments must be a JSON object; could not parse them: {err}"),
                )
            })?
        };
        let Value::Object(map) = value else {
            return Err(ToolError::invalid(
                "",
                "arguments must be a JSON object, e.g. {}",
            ));
        };
        let args = Args { map };
        args.reject_unknown(allowed)?;
        Ok(args)
    }

    pub fn from_map(map: Map<String, Value>) -> Args {
        Args { map }
    }

    pub fn reject_unknown(&self, allowed: &[&str]) -> ToolResult<()> {
        for key in self.map.keys() {
            if !allowed.contains(&key.as_str()) {
                let expected = if allowed.is_empty() {
                    "this tool takes no arguments".to_string()
                } else {
                    format!("allowed: {}", allowed.join(", "))
                };
                return Err(ToolError::invalid(
                    key.clone(),
                    format!("unknown argument `{key}`; {expected}"),
                ));
            }
        }
        Ok(())
    }

    /// The raw value, treating JSON null as absent.
    pub fn raw(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub fn has(&self, key: &str) -> bool {
        self.raw(key).is_some()
    }

    pub fn opt_str(&self, key: &str) -> ToolResult<Option<String>> {
        match self.raw(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Err(ToolError::invalid(
                key,
                format!("`{key}` must not be empty; omit it instead"),
            )),
            Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
            Some(_) => Err(ToolError::invalid(key, format!("`{key}` must be a string"))),
        }
    }

    pub fn req_str(&self, key: &str) -> ToolResult<String> {
        self.opt_str(key)?
            .ok_or_else(|| ToolError::invalid(key, format!("`{key}` is required")))
    }

    pub fn opt_uuid(&self, key: &str) -> ToolResult<Option<String>> {
        match self.opt_str(key)? {
            None => Ok(None),
            Some(s) if is_uuid(&s) => Ok(Some(s.to_ascii_lowercase())),
            Some(s) => Err(ToolError::invalid(
                key,
                format!(
                    "`{key}` must be a UUID like 3f2b6c1e-0000-4000-8000-000000000000, got `{s}`"
                ),
            )),
        }
    }

    pub fn req_uuid(&self, key: &str, hint: &str) -> ToolResult<String> {
        self.opt_uuid(key)?
            .ok_or_else(|| ToolError::invalid(key, format!("`{key}` is required ({hint})")))
    }

    pub fn opt_bool(&self, key: &str) -> ToolResult<Option<bool>> {
        match self.raw(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ToolError::invalid(
                key,
                format!("`{key}` must be true or false"),
            )),
        }
    }

    /// An integer in `min..=max`, or `default` when absent.
    pub fn int_in(&self, key: &str, min: u64, max: u64, default: u64) -> ToolResult<u64> {
        match self.raw(key) {
            None => Ok(default),
            Some(value) => match value.as_u64().or_else(|| {
                value
                    .as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                    .map(|f| f as u64)
            }) {
                Some(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(ToolError::invalid(
                    key,
                    format!("`{key}` must be an integer from {min} to {max}"),
                )),
            },
        }
    }

    /// A string from a fixed set (matched case-insensitively, returned in its canonical spelling).
    pub fn opt_enum(
        &self,
        key: &str,
        choices: &[&'static str],
    ) -> ToolResult<Option<&'static str>> {
        match self.opt_str(key)? {
            None => Ok(None),
            Some(s) => choices
                .iter()
                .find(|c| c.eq_ignore_ascii_case(&s))
                .copied()
                .map(Some)
                .ok_or_else(|| {
                    ToolError::invalid(
                        key,
                        format!("`{key}` must be one of {}, got `{s}`", choices.join(", ")),
                    )
                }),
        }
    }

    /// An RFC 3339 timestamp, returned unchanged.
    pub fn opt_datetime(&self, key: &str) -> ToolResult<Option<String>> {
        match self.opt_str(key)? {
            None => Ok(None),
            Some(s) if crate::time::parse_rfc3339(&s).is_some() => Ok(Some(s)),
            Some(s) => Err(ToolError::invalid(
                key,
                format!(
                    "`{key}` must be an RFC 3339 timestamp like 2025-01-31T15:00:00Z, got `{s}`"
                ),
            )),
        }
    }

    /// A non-empty array of UUIDs, deduplicated in order.
    pub fn opt_uuid_list(&self, key: &str, max: usize) -> ToolResult<Option<Vec<String>>> {
        let Some(value) = self.raw(key) else {
            return Ok(None);
        };
        let Value::Array(items) = value else {
            return Err(ToolError::invalid(
                key,
                format!("`{key}` must be an array of UUID strings"),
            ));
        };
        if items.is_empty() {
            return Err(ToolError::invalid(
                key,
                format!("`{key}` must hold at least one UUID; omit it instead"),
            ));
        }
        if items.len() > max {
            return Err(ToolError::invalid(
                key,
                format!(
                    "`{key}` holds {} items; at most {max} are allowed",
                    items.len()
                ),
            ));
        }
        let mut out: Vec<String> = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let field = format!("{key}[{index}]");
            match item.as_str().map(str::trim) {
                Some(s) if is_uuid(s) => {
                    let s = s.to_ascii_lowercase();
                    if !out.contains(&s) {
                        out.push(s);
                    }
                }
                _ => {
                    return Err(ToolError::invalid(
                        field,
                        format!("every item of `{key}` must be a UUID string"),
                    ))
                }
            }
        }
        Ok(Some(out))
    }

    /// A non-empty array of plain words; `known` spellings are canonicalized, others kept as given.
    pub fn opt_word_list(
        &self,
        key: &str,
        known: &[&str],
        max: usize,
    ) -> ToolResult<Option<Vec<String>>> {
        let Some(value) = self.raw(key) else {
            return Ok(None);
        };
        let Some(items) = value.as_array().filter(|a| !a.is_empty() && a.len() <= max) else {
            return Err(ToolError::invalid(
                key,
                format!(
                    "`{key}` must be an array of 1 to {max} words, e.g. {}",
                    known.join(", ")
                ),
            ));
        };
        let mut out: Vec<String> = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let word = item
                .as_str()
                .map(str::trim)
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphabetic()));
            let Some(word) = word else {
                return Err(ToolError::invalid(
                    format!("{key}[{index}]"),
                    format!("must be a word such as {}", known.join(", ")),
                ));
            };
            let word = known
                .iter()
                .find(|k| k.eq_ignore_ascii_case(word))
                .map(|k| k.to_string())
                .unwrap_or_else(|| word.to_string());
            if !out.contains(&word) {
                out.push(word);
            }
        }
        Ok(Some(out))
    }

    pub fn opt_object(&self, key: &str) -> ToolResult<Option<&Map<String, Value>>> {
        match self.raw(key) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(_) => Err(ToolError::invalid(
                key,
                format!("`{key}` must be a JSON object"),
            )),
        }
    }
}

/// 8-4-4-4-12 hexadecimal, any case.
pub fn is_uuid(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Folds text for name matching: ASCII case and typographic apostrophes ("Maria’s" = "maria's").
/// Only ASCII case is folded because Unicode case tables would add ~15 KB to the component.
pub fn fold(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{2018}' | '\u{2019}' | '\u{02BC}' => '\'',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Case-insensitive substring test used by every name filter; `needle` is already folded.
pub fn contains_ci(haystack: &str, needle_folded: &str) -> bool {
    fold(haystack).contains(needle_folded)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3F2B6C1E-0000-4000-8000-000000000000";

    fn field_of(err: ToolError) -> String {
        match err {
            ToolError::InvalidInput { field, .. } => field,
            other => panic!("expected invalid-input, got {other:?}"),
        }
    }

    #[test]
    fn rejects_non_objects_and_unknown_keys() {
        assert!(Args::parse("", &[]).is_ok());
        assert_eq!(field_of(Args::parse("[1]", &[]).err().unwrap()), "");
        assert_eq!(field_of(Args::parse("{", &[]).err().unwrap()), "");
        assert_eq!(
            field_of(Args::parse(r#"{"lmit":3}"#, &["limit"]).err().unwrap()),
            "lmit"
        );
    }

    #[test]
    fn validates_scalars() {
        let args = Args::parse(
            &format!(r#"{{"id":"{ID}","bad":"x","n":5,"f":2.5,"b":true,"e":"server","t":"2025-01-31T15:00:00Z","nul":null}}"#),
            &["id", "bad", "n", "f", "b", "e", "t", "nul"],
        )
        .unwrap();
        assert_eq!(args.req_uuid("id", "").unwrap(), ID.to_ascii_lowercase());
        assert_eq!(field_of(args.opt_uuid("bad").unwrap_err()), "bad");
        assert_eq!(args.int_in("n", 1, 10, 3).unwrap(), 5);
        assert_eq!(args.int_in("missing", 1, 10, 3).unwrap(), 3);
        assert!(args.int_in("n", 6, 10, 7).is_err());
        assert!(args.int_in("f", 1, 10, 3).is_err());
        assert_eq!(args.opt_bool("b").unwrap(), Some(true));
        assert_eq!(
            args.opt_enum("e", &["Server", "Desktop"]).unwrap(),
            Some("Server")
        );
        assert!(args.opt_enum("bad", &["Server"]).is_err());
        assert!(args.opt_datetime("t").unwrap().is_some());
        assert!(args.opt_datetime("bad").is_err());
        assert_eq!(args.opt_str("nul").unwrap(), None);
        assert_eq!(field_of(args.req_str("absent").unwrap_err()), "absent");
    }

    #[test]
    fn validates_lists() {
        let args = Args::parse(
            &format!(r#"{{"t":["{ID}","{ID}"],"u":["{ID}","nope"],"e":[]}}"#),
            &["t", "u", "e"],
        )
        .unwrap();
        assert_eq!(args.opt_uuid_list("t", 10).unwrap().unwrap().len(), 1);
        assert_eq!(field_of(args.opt_uuid_list("u", 10).unwrap_err()), "u[1]");
        assert_eq!(field_of(args.opt_uuid_list("e", 10).unwrap_err()), "e");
        assert!(args.opt_uuid_list("t", 1).is_err());
    }

    #[test]
    fn folds_names() {
        assert!(contains_ci("Maria’s LAPTOP", &fold("maria's laptop")));
        assert!(!contains_ci("DC02", &fold("dc01")));
    }

    #[test]
    fn uuid_shape() {
        assert!(is_uuid(ID));
        assert!(!is_uuid("3f2b6c1e00004000800000000000000000000"));
        assert!(!is_uuid("3f2b6c1e-0000-4000-8000-00000000000g"));
    }
}
