//! The plugin's error type and the mapping of upstream HTTP failures onto it.
//!
//! Asio's backend services disagree on error bodies (asio-api.md §3.2), so one tolerant parser
//! extracts a human message from any of them instead of a per-endpoint decoder.

use serde_json::Value;

/// Why a tool call failed; mirrors the WIT `tool-error` variant so the pure logic stays native-testable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolError {
    InvalidInput {
        field: String,
        message: String,
    },
    NotFound(String),
    Unauthorized(String),
    Forbidden(String),
    RateLimited {
        retry_after_seconds: Option<u32>,
        message: String,
    },
    Upstream {
        status: u16,
        message: String,
    },
    Timeout(String),
    Internal(String),
}

pub type ToolResult<T> = Result<T, ToolError>;

impl ToolError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ToolError::InvalidInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn upstream_shape(what: &str) -> Self {
        ToolError::Upstream {
            status: 200,
            message: format!("the API answered with an unexpected shape: {what}"),
        }
    }
}

/// Longest upstream message kept; long HTML error pages are useless to a model.
const MAX_MESSAGE_CHARS: usize = 500;

/// Extracts a readable message from any Asio error body: objects with `message`, `description`,
/// `error.message`, `error.description`, `error_description` or a string `error`, arrays of
/// `{code, message}`, or plain text.
pub fn parse_error_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return String::new();
    }
    match crate::pruned::parse_all(trimmed.as_bytes()) {
        Ok(value) => message_from_json(&value).unwrap_or_else(|| truncate(trimmed)),
        Err(_) => truncate(trimmed),
    }
}

fn message_from_json(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(truncate(s.trim())),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(message_from_json).collect();
            if parts.is_empty() {
                None
            } else {
                Some(truncate(&parts.join("; ")))
            }
        }
        Value::Object(map) => {
            let code = map.get("code").and_then(scalar_text);
            let text = [
                "message",
                "description",
                "error_description",
                "Message",
                "detail",
            ]
            .iter()
            .find_map(|key| map.get(*key).and_then(nonempty_str))
            .or_else(|| match map.get("error") {
                Some(Value::Object(inner)) => ["message", "description"]
                    .iter()
                    .find_map(|key| inner.get(*key).and_then(nonempty_str)),
                Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
                _ => None,
            });
            match (text, code) {
                (Some(text), Some(code)) if !text.contains(&code) => {
                    Some(truncate(&format!("{text} (code {code})")))
                }
                (Some(text), _) => Some(truncate(&text)),
                (None, Some(code)) => Some(format!("error code {code}")),
                (None, None) => None,
            }
        }
        _ => None,
    }
}

fn nonempty_str(value: &Value) -> Option<String> {
    value
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn truncate(text: &str) -> String {
    if text.chars().count() <= MAX_MESSAGE_CHARS {
        return text.to_string();
    }
    let mut out: String = text.chars().take(MAX_MESSAGE_CHARS).collect();
    out.push('…');
    out
}

/// Maps a non-success HTTP answer onto a tool error. `retry_after` is the raw `Retry-After` header.
pub fn from_status(status: u16, retry_after: Option<&str>, body: &[u8]) -> ToolError {
    let parsed = parse_error_body(body);
    let message = |fallback: &str| {
        if parsed.is_empty() {
            fallback.to_string()
        } else {
            parsed.clone()
        }
    };
    match status {
        401 => ToolError::Unauthorized(format!(
            "the ConnectWise RMM API rejected the credentials: {} (check the client id/secret and granted scopes in the host)",
            message("unauthorized")
        )),
        403 => ToolError::Forbidden(format!(
            "the ConnectWise RMM API refused access: {} (the API key may lack the scope or entitlement)",
            message("forbidden")
        )),
        404 => ToolError::NotFound(message("the ConnectWise RMM API found no such resource")),
        429 => ToolError::RateLimited {
            retry_after_seconds: retry_after.and_then(parse_retry_after),
            message: message("too many requests to the ConnectWise RMM API; wait and retry"),
        },
        _ => ToolError::Upstream { status, message: message("the ConnectWise RMM API failed") },
    }
}

/// `Retry-After` in delta seconds; HTTP-date forms are ignored because the guest has no date parser
/// worth its size and the host applies its own backoff anyway.
fn parse_retry_after(raw: &str) -> Option<u32> {
    raw.trim().parse::<u32>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_documented_error_shape() {
        assert_eq!(
            parse_error_body(br#"{"code":"E1","message":"bad limit"}"#),
            "bad limit (code E1)"
        );
        assert_eq!(
            parse_error_body(br#"{"code":"404","description":"no endpoint"}"#),
            "no endpoint (code 404)"
        );
        assert_eq!(
            parse_error_body(br#"{"error":{"code":"x","description":"bad id"}}"#),
            "bad id"
        );
        assert_eq!(
            parse_error_body(br#"{"error":{"message":"Partner is not entitled"}}"#),
            "Partner is not entitled"
        );
        assert_eq!(
            parse_error_body(
                br#"{"id":"1","message":"","error":{"message":"db down"},"type":"x"}"#
            ),
            "db down"
        );
        assert_eq!(
            parse_error_body(br#"[{"code":"T1","message":"summary required"},{"code":"T2","message":"source required"}]"#),
            "summary required (code T1); source required (code T2)"
        );
        assert_eq!(
            parse_error_body(br#"{"error":"unauthorized request","description":"token expired"}"#),
            "token expired"
        );
        assert_eq!(
            parse_error_body(br#"{"error":"invalid_scope","error_description":"scope x"}"#),
            "scope x"
        );
        assert_eq!(
            parse_error_body(b"access is forbidden\n"),
            "access is forbidden"
        );
        assert_eq!(parse_error_body(b""), "");
        assert_eq!(
            parse_error_body(br#"{"unrelated":1}"#),
            r#"{"unrelated":1}"#
        );
    }

    #[test]
    fn long_bodies_are_truncated() {
        let body = "x".repeat(2000);
        assert_eq!(
            parse_error_body(body.as_bytes()).chars().count(),
            MAX_MESSAGE_CHARS + 1
        );
    }

    #[test]
    fn maps_statuses() {
        assert!(
            matches!(from_status(401, None, b"bearer token is missing"), ToolError::Unauthorized(m) if m.contains("bearer token"))
        );
        assert!(matches!(
            from_status(403, None, b""),
            ToolError::Forbidden(_)
        ));
        assert_eq!(
            from_status(404, None, br#"{"message":"nope"}"#),
            ToolError::NotFound("nope".into())
        );
        assert_eq!(
            from_status(429, Some(" 30 "), b"Too Many Requests"),
            ToolError::RateLimited {
                retry_after_seconds: Some(30),
                message: "Too Many Requests".into()
            }
        );
        assert!(matches!(
            from_status(429, Some("Wed, 21 Oct 2015 07:28:00 GMT"), b""),
            ToolError::RateLimited {
                retry_after_seconds: None,
                ..
            }
        ));
        assert_eq!(
            from_status(
                400,
                None,
                br#"{"message":"pageSize must be sent with pageNum"}"#
            ),
            ToolError::Upstream {
                status: 400,
                message: "pageSize must be sent with pageNum".into()
            }
        );
        assert!(matches!(
            from_status(502, None, b"<html>bad gateway</html>"),
            ToolError::Upstream { status: 502, .. }
        ));
    }
}
