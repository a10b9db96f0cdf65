//! `/healthz` (the process answers), `/readyz` (it can serve calls: every tenant connected,
//! the plugin loaded, each catalog readable) and `/metrics`. They sit outside the Host guard and
//! the bearer check: probes and scrapers address the pod by IP and carry no token, and none
//! of them reveals more than tenant and tool names and counts.

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
use toolhost_host::{TenantName, ToolHost};

/// What the probes look at.
pub struct Probes {
    /// The hosts MCP calls run on, one per tenant (the default first).
    pub mcp_hosts: Vec<Arc<ToolHost>>,
    /// Each tenant's admin UI host (the same tenants, the default first).
    pub ui_hosts: Vec<Arc<RwLock<ToolHost>>>,
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

fn not_ready(tenant: &TenantName, reason: String) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"ready": false, "tenant": tenant, "reason": format!("tenant `{tenant}`: {reason}")})),
    )
        .into_response()
}

/// Ready when every tenant served is: the first one that is not is named, with why.
async fn readyz(State(probes): State<Arc<Probes>>) -> Response {
    let mut plugin = String::new();
    let mut tools_by_tenant = serde_json::Map::new();
    for host in &probes.mcp_hosts {
        let tenant = host.tenant();
        // The plugin is loaded: a host exists only once its component compiled and answered
        // its metadata.
        plugin = host.metadata().name.clone();
        if !host.is_connected() {
            let connect = if tenant.is_default() {
                "`toolhost connect`".to_string()
            } else {
                format!("`toolhost --tenant {tenant} connect`")
            };
            return not_ready(
                tenant,
                format!("no tenant connection: set TOOLHOST_CLIENT_ID and TOOLHOST_CLIENT_SECRET (or TOOLHOST_CLIENT_SECRET_FILE), or run {connect} on this home, then restart"),
            );
        }
        match host.tools().await {
            Ok(tools) => {
                probes
                    .metrics
                    .set_known_tools(tenant.as_str(), tools.iter().map(|t| t.name.clone()));
                tools_by_tenant.insert(tenant.to_string(), json!(tools.len()));
            }
            Err(err) => {
                return not_ready(tenant, format!("the tool catalog cannot be read: {err}"))
            }
        }
    }
    let tools: u64 = tools_by_tenant.values().filter_map(|v| v.as_u64()).sum();
    Json(json!({"ready": true, "plugin": plugin, "tools": tools, "tenants": tools_by_tenant}))
        .into_response()
}

async fn metrics(State(probes): State<Arc<Probes>>) -> Response {
    let metrics = &probes.metrics;
    // Each tenant's host mints its own tokens (and the UI's host of its tenant its own).
    for host in &probes.mcp_hosts {
        let tenant = host.tenant().as_str();
        metrics.add_tenant(tenant);
        metrics.observe_mints(tenant, MintSource::Mcp, host.token_mints());
        match host.list_approvals(&ApprovalFilter::pending()).await {
            Ok(list) => metrics.set_pending_approvals(tenant, list.len()),
            Err(err) => {
                tracing::warn!("metrics: cannot list pending approvals of tenant `{tenant}`: {err}")
            }
        }
    }
    for ui_host in &probes.ui_hosts {
        let ui_host = ui_host.read().await;
        metrics.observe_mints(
            ui_host.tenant().as_str(),
            MintSource::Ui,
            ui_host.token_mints(),
        );
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
