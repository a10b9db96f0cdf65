//! The router: every API area's routes behind the layers, outermost first: request
//! recording, fault injection, then the bearer-token gate.

use crate::errors::{ApiError, Area};
use crate::state::AppState;
use crate::{auth, faults, recording, routes};
use axum::extract::Request;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

pub fn router(state: Arc<AppState>) -> Router {
    let api = Router::new()
        .route("/v1/token", post(auth::token))
        .merge(routes::companies::router())
        .merge(routes::devices::router())
        .merge(routes::device_state::router())
        .merge(routes::patching::router())
        .merge(routes::groups::router())
        .merge(routes::automation::router())
        .merge(routes::tasks::router())
        .merge(routes::tickets::router())
        .route("/health", get(|| async { "ok" }))
        .fallback(not_found);
    api.layer(middleware::from_fn_with_state(
        state.clone(),
        auth::require_bearer,
    ))
    .layer(middleware::from_fn_with_state(
        state.clone(),
        faults::layer::apply,
    ))
    .layer(middleware::from_fn_with_state(
        state.clone(),
        recording::layer::record,
    ))
    .with_state(state)
}

async fn not_found(req: Request) -> Response {
    let path = req.uri().path().to_string();
    ApiError::not_found(
        Area::of_path(&path),
        format!("no such resource: {} {}", req.method(), path),
    )
    .into_response()
}
