//! Authentication: `POST /v1/token` (OAuth2 client credentials, JSON body) and the
//! bearer-token gate in front of every `/api/...` route.

use crate::errors::{ApiError, Area};
use crate::state::AppState;
use crate::tokens::{MintError, TokenRequest};
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::sync::Arc;

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

pub async fn token(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let req: TokenRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(_) => {
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "the request body must be a JSON object with grant_type, client_id, client_secret and scope")
        }
    };
    match state.tokens.mint(&req) {
        Ok((token, scope)) => Json(json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": state.config.token_ttl.as_secs(),
            "scope": scope,
        }))
        .into_response(),
        Err(MintError::InvalidRequest(msg)) => {
            oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &msg)
        }
        Err(MintError::UnsupportedGrant) => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only grant_type client_credentials is supported",
        ),
        Err(MintError::InvalidClient) => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed: unknown client_id or wrong client_secret",
        ),
        Err(MintError::InvalidScope(s)) => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            &format!("the requested scope '{s}' is invalid or not granted to this client"),
        ),
        Err(MintError::Locked { retry_after_secs }) => {
            let mut resp = oauth_error(
                StatusCode::LOCKED,
                "temporarily_locked",
                "this API key has been temporarily locked after too many token requests; reuse the cached token and retry later",
            );
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            resp
        }
    }
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Every `/api/...` route needs a valid bearer token; failures answer in the area's 401 shape.
pub(crate) async fn require_bearer(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    if path.starts_with("/api/") {
        let valid = bearer(req.headers()).is_some_and(|t| state.tokens.is_valid(t));
        if !valid {
            return ApiError::unauthorized(Area::of_path(path)).into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&h), None);
    }
}
