//! Arguments as the audit log may keep them: values of secret-looking keys replaced, and
//! every known secret scrubbed from every string (keys included).

use serde_json::{Map, Value};
use toolhost_base::{scrub, SecretString};

/// What replaces a secret.
pub const REDACTED: &str = "[redacted]";

/// Key fragments (compared lowercase, with `-` and `_` removed) whose values are secrets.
const SECRET_KEYS: &[&str] = &[
    "secret",
    "password",
    "passwd",
    "token",
    "apikey",
    "credential",
    "authorization",
];

/// Replaces, recursively, the value of every key matching a secret-looking name (one that
/// contains `secret`, `password`, `passwd`, `token`, `apikey`, `credential` or
/// `authorization`, ignoring case, `-` and `_`: `clientSecret`, `api_key`, `X-Api-Key`,
/// `accessToken` all match) with `"[redacted]"`, scrubs every occurrence of `secrets` from
/// every string and key, and replaces what follows `Bearer ` in any string.
pub fn redact(value: &Value, secrets: &[&SecretString]) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (key, v) in map {
                let redacted = if is_secret_key(key) {
                    Value::String(REDACTED.to_string())
                } else {
                    redact(v, secrets)
                };
                out.insert(clean(key, secrets), redacted);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| redact(v, secrets)).collect()),
        Value::String(s) => Value::String(clean(s, secrets)),
        other => other.clone(),
    }
}

fn is_secret_key(key: &str) -> bool {
    let k: String = key
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect();
    SECRET_KEYS.iter().any(|s| k.contains(s))
}

fn clean(text: &str, secrets: &[&SecretString]) -> String {
    let mut out = scrub(text, secrets);
    // Short secrets are not scrubbed by `scrub` (too many false hits); scrub them exactly.
    for s in secrets {
        if !s.is_empty() && out == s.expose() {
            out = REDACTED.to_string();
        }
    }
    bearer(&out)
}

/// `Bearer <anything>` -> `Bearer [redacted]`, case-insensitively, wherever it appears.
fn bearer(text: &str) -> String {
    const WORD: &str = "bearer ";
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    let mut search = 0;
    while let Some(found) = lower[search..].find(WORD) {
        let start = search + found + WORD.len();
        let end = text[start..]
            .find(|c: char| c.is_whitespace() || c == '"' || c == ',')
            .map_or(text.len(), |i| start + i);
        if end > start && &text[start..end] != REDACTED {
            out.push_str(&text[rest..start]);
            out.push_str(REDACTED);
            rest = end;
        }
        search = end.max(start);
    }
    out.push_str(&text[rest..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_keys_match_in_any_spelling() {
        for k in [
            "password",
            "clientSecret",
            "api_key",
            "X-Api-Key",
            "accessToken",
            "Authorization",
            "credentials",
            "passwd",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in ["companyId", "name", "parameters", "description"] {
            assert!(!is_secret_key(k), "{k}");
        }
    }

    #[test]
    fn no_secret_survives() {
        let secret = SecretString::new("s3cr3t-client-value");
        let token = SecretString::new("eyJhbGciOi.token.value");
        let short = SecretString::new("abc");
        let args = json!({
            "templateId": "t-1",
            "parameters": {
                "Password": "hunter2",
                "note": "use s3cr3t-client-value to log in",
                "nested": [{"api_key": {"deep": "x"}}, "Bearer eyJhbGciOi.token.value", "abc"],
                "s3cr3t-client-value": 1
            },
            "headers": {"Authorization": "Bearer anything"},
            "comment": "sent with authorization: Bearer zzz-unknown-token, ok"
        });
        let out = redact(&args, &[&secret, &token, &short]);
        let text = serde_json::to_string(&out).unwrap();
        for leaked in [
            "hunter2",
            "s3cr3t-client-value",
            "eyJhbGciOi",
            "anything",
            "zzz-unknown-token",
            "\"x\"",
            "\"abc\"",
        ] {
            assert!(!text.contains(leaked), "{leaked} leaked in {text}");
        }
        assert_eq!(out["templateId"], "t-1");
        assert_eq!(out["parameters"]["Password"], REDACTED);
        assert_eq!(out["parameters"]["note"], "use [redacted] to log in");
        assert_eq!(out["parameters"]["nested"][0]["api_key"], REDACTED);
        assert_eq!(out["parameters"]["nested"][1], "Bearer [redacted]");
        assert_eq!(out["parameters"]["[redacted]"], 1);
        assert_eq!(
            out["comment"],
            "sent with authorization: Bearer [redacted], ok"
        );
    }

    #[test]
    fn bearer_handles_edges() {
        assert_eq!(bearer("Bearer"), "Bearer");
        assert_eq!(bearer("bearer "), "bearer ");
        assert_eq!(
            bearer("BEARER a BEARER b"),
            "BEARER [redacted] BEARER [redacted]"
        );
        assert_eq!(bearer("Bearer [redacted]"), "Bearer [redacted]");
        assert_eq!(bearer("é Bearer ü"), "é Bearer [redacted]");
    }
}
