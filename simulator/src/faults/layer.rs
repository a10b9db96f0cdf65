//! The fault middleware: answers a request the way its first matching armed fault says.

use super::bodies::{CutBody, OversizedJson};
use super::FaultAction;
use crate::errors::{ApiError, Area};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Marks a response whose connection will be cut: recording logs this status instead.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SeveredStatus(pub u16);

/// The middleware: applies the first matching armed fault, if any.
pub(crate) async fn apply(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    let Some(action) = state.faults.take(req.method().as_str(), &path) else {
        return next.run(req).await;
    };
    tracing::debug!(method = %req.method(), %path, ?action, "injecting fault");
    match action {
        FaultAction::Status {
            status,
            body,
            retry_after,
        } => status_response(&path, status, body, retry_after),
        FaultAction::Latency(delay) => {
            tokio::time::sleep(delay).await;
            next.run(req).await
        }
        FaultAction::MalformedJson => json_response(Body::from(
            r#"{"data": [{"id": "sim-malformed", "name": "trunc"#,
        )),
        FaultAction::OversizedBody { bytes } => json_response(Body::new(OversizedJson::new(bytes))),
        FaultAction::ConnectionReset => severed(Response::new(Body::new(CutBody::immediately()))),
        FaultAction::ResetAfterHandling => {
            drop(next.run(req).await);
            severed(Response::new(Body::new(CutBody::immediately())))
        }
        FaultAction::Gather(gathering) => {
            if !gathering.meet().await {
                tracing::warn!(%path, "gathering gave up waiting; serving anyway");
            }
            next.run(req).await
        }
        FaultAction::ExpireTokensFirst => {
            state.tokens.expire_all();
            next.run(req).await
        }
        FaultAction::TruncatedBody => truncated(next.run(req).await).await,
    }
}

fn status_response(
    path: &str,
    status: u16,
    body: Option<String>,
    retry_after: Option<String>,
) -> Response {
    let status = StatusCode::from_u16(status)
        .ok()
        .filter(|s| !s.is_informational())
        .unwrap_or_else(|| {
            tracing::warn!(status, "unusable injected status; answering 500");
            StatusCode::INTERNAL_SERVER_ERROR
        });
    let mut resp = match body {
        None => ApiError::new(
            Area::of_path(path),
            status,
            "SIMULATED_FAULT",
            "injected fault",
        )
        .into_response(),
        Some(text) => {
            let kind = match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(_) => "application/json",
                Err(_) => "text/plain; charset=utf-8",
            };
            let mut r = Response::new(Body::from(text));
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
            r
        }
    };
    *resp.status_mut() = status;
    if let Some(value) = retry_after {
        match HeaderValue::from_str(&value) {
            Ok(v) => {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Err(_) => tracing::warn!(value, "unusable injected Retry-After; omitted"),
        }
    }
    resp
}

fn json_response(body: Body) -> Response {
    let mut resp = Response::new(body);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn severed(mut resp: Response) -> Response {
    resp.extensions_mut().insert(SeveredStatus(0));
    resp
}

/// The real response's head, a `Content-Length` promising the whole body, half the body.
async fn truncated(real: Response) -> Response {
    let (mut parts, body) = real.into_parts();
    let full = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let sent = full.slice(..full.len() / 2);
    let promised = (full.len() as u64).max(sent.len() as u64 + 1);
    parts.headers.remove(header::TRANSFER_ENCODING);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(promised));
    severed(Response::from_parts(
        parts,
        Body::new(CutBody::after(sent, promised)),
    ))
}
