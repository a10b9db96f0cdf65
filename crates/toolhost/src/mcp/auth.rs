//! Bearer authentication of `toolhost mcp --http`: every request must carry a registered,
//! unrevoked client's token. A refusal says what is expected, never which part of what was
//! sent was wrong (missing, unknown and revoked look the same), and the token is never logged.

use super::identity::AuthenticatedClient;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use toolhost_governance::ClientRegistry;

/// A JSON-RPC shaped refusal (so MCP clients show the message).
fn refusal(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {"code": -32600, "message": message},
    });
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
    }
    response
}

fn unauthorized() -> Response {
    refusal(
        StatusCode::UNAUTHORIZED,
        "Unauthorized: send `Authorization: Bearer <token>` with a client token (an operator creates one with `toolhost clients add`)",
    )
}

/// The token of an `Authorization: Bearer <token>` header, if that is what it holds.
fn bearer(request: &Request) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The axum layer: authenticates, then hands the client to the MCP server in the request's
/// extensions (rmcp passes the HTTP request parts on to the handler).
pub async fn auth_layer(
    State(registry): State<Arc<ClientRegistry>>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(token) = bearer(&request) else {
        return unauthorized();
    };
    match registry.authenticate(token).await {
        Ok(Some(client)) => {
            request.extensions_mut().insert(AuthenticatedClient(client));
            next.run(request).await
        }
        Ok(None) => unauthorized(),
        Err(err) => {
            // The registry's error names the store and the fix: for the operator's log only.
            tracing::error!("cannot authenticate an MCP request: {err}");
            refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the server cannot read its client registry: see the server's log",
            )
        }
    }
}
