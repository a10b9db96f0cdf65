//! `/healthz` (the process answers), `/readyz` (it can serve calls: a tenant connection, the
//! plugin loaded, the catalog readable) and `/metrics`. They sit outside the Host guard and
//! the bearer check: probes and scrapers address the pod by IP and carry no token, and none
//! of them reveals more than tool names and counts.

use super::metrics::{Metrics, MintSource};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;
use tokio::sync::RwLock;
use toolhost_governance::ApprovalFilter;
use toolhost_host::ToolHost;

/// What the probes look at.
pub struct Probes {
    /// The host MCP calls run on.
    pub mcp_host: Arc<ToolHost>,
    /// The admin UI's host (same home).
    pub ui_host: Arc<RwLock<ToolHost>>,
    pub metrics: Arc<Metrics>,
}

pub fn routes(probes: Arc<Probes>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(probes)
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

fn not_ready(reason: String) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"ready": false, "reason": reason})),
    )
        .into_response()
}

async fn readyz(State(probes): State<Arc<Probes>>) -> Response {
    let host = &probes.mcp_host;
    // The plugin is loaded: a host exists only once its component compiled and answered
    // its metadata.
    let plugin = host.metadata().name.clone();
    if !host.is_connected() {
        return not_ready(
            "no tenant connection: set TOOLHOST_CLIENT_ID and TOOLHOST_CLIENT_SECRET (or TOOLHOST_CLIENT_SECRET_FILE), or run `toolhost connect` on this home, then restart".into(),
        );
    }
    match host.tools().await {
        Ok(tools) => {
            probes
                .metrics
                .set_known_tools(tools.iter().map(|t| t.name.clone()));
            Json(json!({"ready": true, "plugin": plugin, "tools": tools.len()})).into_response()
        }
        Err(err) => not_ready(format!("the tool catalog cannot be read: {err}")),
    }
}

async fn metrics(State(probes): State<Arc<Probes>>) -> Response {
    let metrics = &probes.metrics;
    metrics.observe_mints(MintSource::Mcp, probes.mcp_host.token_mints());
    metrics.observe_mints(MintSource::Ui, probes.ui_host.read().await.token_mints());
    match probes.mcp_host.list_approvals(&ApprovalFilter::pending()) {
        Ok(pending) => metrics.set_pending_approvals(pending.len()),
        Err(err) => tracing::warn!("metrics: cannot list pending approvals: {err}"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.render(),
    )
        .into_response()
}
