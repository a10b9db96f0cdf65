//! The recording middleware. It is the outermost layer, so it sees every request, faulted or
//! refused ones included, and logs the status the client actually saw.

use super::{RecordedRequest, MAX_RECORDED_RESPONSE_BYTES};
use crate::auth::bearer;
use crate::errors::{ApiError, Area};
use crate::faults::layer::SeveredStatus;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Largest request body accepted; bigger bodies get 413 (the real API has similar limits).
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Records each request (secrets redacted) with the status it was answered with.
pub(crate) async fn record(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let (parts, body) = req.into_parts();
    if parts.version == axum::http::Version::HTTP_2 {
        state
            .http2_requests
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            let area = Area::of_path(parts.uri.path());
            let resp = ApiError::new(
                area,
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                "request body too large",
            )
            .into_response();
            state.record(recorded(&parts, None, resp.status().as_u16()));
            return resp;
        }
    };
    let body_text = (!bytes.is_empty()).then(|| redact_body(parts.uri.path(), &bytes));
    let req = Request::from_parts(parts.clone(), Body::from(bytes));
    let resp = next.run(req).await;
    let status = match resp.extensions().get::<SeveredStatus>() {
        Some(SeveredStatus(code)) => *code,
        None => resp.status().as_u16(),
    };
    let (resp, response) = capture_response(parts.uri.path(), resp).await;
    let mut entry = recorded(&parts, body_text, status);
    entry.response_body = response.body;
    entry.response_content_type = response.content_type;
    state.record(entry);
    resp
}

#[derive(Default)]
struct CapturedResponse {
    body: Option<String>,
    content_type: Option<String>,
}

/// Keeps a copy of a response body the server already holds in full (its exact size is
/// known and at most [`MAX_RECORDED_RESPONSE_BYTES`]). Streamed bodies (oversized fault
/// bodies) and cut connections pass through untouched and uncaptured, so faults behave
/// exactly as without recording.
async fn capture_response(path: &str, resp: Response) -> (Response, CapturedResponse) {
    let content_type = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let mut captured = CapturedResponse {
        body: None,
        content_type,
    };
    let size = http_body::Body::size_hint(resp.body()).exact();
    let capturable = resp.extensions().get::<SeveredStatus>().is_none()
        && size.is_some_and(|n| n as usize <= MAX_RECORDED_RESPONSE_BYTES);
    if !capturable {
        return (resp, captured);
    }
    let (parts, body) = resp.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_RECORDED_RESPONSE_BYTES).await {
        Ok(bytes) => bytes,
        Err(err) => {
            // A body of known size that fails to read in memory: answer what the client
            // would have seen, a server error, and record nothing of it.
            tracing::error!(error = %err, "could not read a response body for recording");
            let resp = ApiError::new(
                Area::of_path(path),
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "response body unreadable",
            )
            .into_response();
            return (resp, captured);
        }
    };
    if !bytes.is_empty() {
        captured.body = Some(redact_response(path, &bytes));
    }
    (Response::from_parts(parts, Body::from(bytes)), captured)
}

/// Token responses carry a bearer token: keep the shape, not the value.
fn redact_response(path: &str, bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes).into_owned();
    if path != "/v1/token" {
        return text;
    }
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(serde_json::Value::Object(mut map)) => {
            if map.contains_key("access_token") {
                map.insert("access_token".into(), "REDACTED".into());
            }
            serde_json::Value::Object(map).to_string()
        }
        _ => text,
    }
}

fn recorded(
    parts: &axum::http::request::Parts,
    body: Option<String>,
    status: u16,
) -> RecordedRequest {
    let headers = parts
        .headers
        .iter()
        .map(|(k, v)| {
            let value = if k == header::AUTHORIZATION {
                "REDACTED".to_string()
            } else {
                String::from_utf8_lossy(v.as_bytes()).into_owned()
            };
            (k.as_str().to_string(), value)
        })
        .collect();
    RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        status,
        had_bearer_token: bearer(&parts.headers).is_some(),
        headers,
        body,
        response_body: None,
        response_content_type: None,
    }
}

/// Token request bodies carry the client secret: never keep it.
fn redact_body(path: &str, bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes).into_owned();
    if path != "/v1/token" {
        return text;
    }
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(serde_json::Value::Object(mut map)) => {
            if map.contains_key("client_secret") {
                map.insert("client_secret".into(), "REDACTED".into());
            }
            serde_json::Value::Object(map).to_string()
        }
        _ => "<unparsed token request body withheld>".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_token_secrets() {
        let body = br#"{"client_id":"a","client_secret":"s3cret"}"#;
        let out = redact_body("/v1/token", body);
        assert!(!out.contains("s3cret"));
        assert!(!redact_body("/v1/token", b"client_secret=s3cret").contains("s3cret"));
        assert_eq!(redact_body("/api/x", b"hello"), "hello");
    }

    #[test]
    fn redacts_issued_tokens() {
        let body = br#"{"access_token":"tok-123","token_type":"Bearer","expires_in":3599}"#;
        let out = redact_response("/v1/token", body);
        assert!(!out.contains("tok-123"));
        assert!(out.contains("\"expires_in\":3599"));
        assert_eq!(redact_response("/api/x", b"[1]"), "[1]");
    }
}
