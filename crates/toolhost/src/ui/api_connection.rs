//! The integration card (`GET /api/status`) and the connect form (`POST /api/connect`).

use super::connect_form::ConnectForm;
use super::error::{ApiError, ApiResult};
use super::state::UiState;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::Arc;
use toolhost_base::scrub;
use toolhost_base::SecretString;
use toolhost_host::ToolHost;

pub fn routes() -> Router<Arc<UiState>> {
    Router::new()
        .route("/api/status", get(status))
        .route("/api/connect", post(connect))
        .route("/api/tools/refresh", post(refresh))
        .route("/api/grant/accept", post(accept_grant))
}

/// Seconds since the Unix epoch as RFC 3339.
fn rfc3339(secs: u64) -> Option<String> {
    chrono::DateTime::from_timestamp(secs as i64, 0).map(|t| t.to_rfc3339())
}

/// The card: everything about the connection except its secret.
async fn card(
    host: &ToolHost,
    tools: Result<Vec<toolhost_host::ToolEntry>, toolhost_host::HostError>,
) -> Value {
    let meta = host.metadata();
    let regions: Vec<Value> = meta
        .regions
        .iter()
        .map(|r| json!({"id": r.id, "label": r.label}))
        .collect();
    let saved = host.connection();
    let region = saved.map(|s| s.region.clone());
    let region_label = region
        .as_deref()
        .and_then(|id| meta.region(id))
        .map(|r| r.label.clone());
    let upstream = saved.and_then(|s| s.routes.iter().next().map(|(_, to)| to.url()));
    let refreshed = host.catalog_refreshed_at().and_then(rfc3339);
    let (tool_count, static_count, tools_error) = match &tools {
        Ok(list) => (
            Some(list.len()),
            Some(
                list.iter()
                    .filter(|t| t.kind == toolhost_host::ToolKind::Static)
                    .count(),
            ),
            None,
        ),
        Err(err) => (None, None, Some(err.to_string())),
    };
    let grant = match host.is_connected() {
        true => grant_summary(host).await,
        false => Value::Null,
    };
    json!({
        "grant": grant,
        "plugin": {"id": meta.id, "name": meta.name, "version": meta.version},
        "connected": host.is_connected(),
        "region": region,
        "regionLabel": region_label,
        "clientId": saved.map(|s| s.client_id.clone()),
        "upstream": upstream,
        "toolCount": tool_count,
        "staticTools": static_count,
        "toolsError": tools_error,
        "lastRefresh": refreshed,
        "regions": regions,
        "defaultRegion": meta.default_region,
    })
}

/// What the plugin was granted, and every difference since: the same facts as
/// `toolhost grant show`.
async fn grant_summary(host: &ToolHost) -> Value {
    match host.grant_review().await {
        Ok(review) => {
            let current = &review.current;
            json!({
                "apiOrigin": current.api_origin.url(),
                "tokenEndpoint": current.token_endpoint,
                "extraOrigins": current.extra_origins.iter().map(|o| o.url()).collect::<Vec<_>>(),
                "tools": current.tools.len(),
                "granted": review.granted.as_ref().map(|g| json!({"at": g.accepted_at, "by": g.accepted_by})),
                "changes": review.changes.0,
                "warnings": review.warnings,
            })
        }
        Err(err) => json!({"error": err.to_string()}),
    }
}

/// Accepts what the component and the tenant offer now (the UI's "Accept changes").
async fn accept_grant(State(state): State<Arc<UiState>>) -> ApiResult<Json<Value>> {
    let by = state.actor();
    {
        let mut host = state.host.write().await;
        host.accept_grant(&by).await.map_err(ApiError::from)?;
    }
    let host = state.host.read().await;
    let tools = host.tools().await;
    Ok(Json(card(&host, tools).await))
}

async fn status(State(state): State<Arc<UiState>>) -> Json<Value> {
    let host = state.host.read().await;
    let tools = host.tools().await;
    let mut card = card(&host, tools).await;
    card["upstreamHint"] = json!(state.upstream);
    Json(card)
}

async fn refresh(State(state): State<Arc<UiState>>) -> ApiResult<Json<Value>> {
    let host = state.host.read().await;
    let tools = host.refresh_tools().await.map_err(ApiError::from)?;
    Ok(Json(card(&host, Ok(tools)).await))
}

/// Validates like `toolhost connect`, proves the credentials by minting a token, and saves
/// the connection. Error messages never carry the secret. The network work runs under the
/// shared lock, so other pages keep loading; only the final swap takes the host exclusively.
async fn connect(
    State(state): State<Arc<UiState>>,
    Json(form): Json<ConnectForm>,
) -> ApiResult<Json<Value>> {
    let secret = SecretString::new(form.client_secret.clone());
    let hide = |err: toolhost_host::HostError| {
        let mut api = ApiError::from(err);
        api.message = scrub(&api.message, &[&secret]);
        api
    };
    let verified = {
        let host = state.host.read().await;
        let settings = form.settings(host.metadata()).map_err(&hide)?;
        host.verify_connection(settings).await.map_err(&hide)?
    };
    let mut host = state.host.write().await;
    let report = host.commit_connection(verified).await.map_err(&hide)?;
    let host = host.downgrade();
    let tools = host.tools().await;
    Ok(Json(json!({
        "connected": true,
        "message": format!(
            "Connected to {} ({}). {} tools discovered: {} static, {} from the tenant's scripts.",
            host.metadata().name,
            report.region,
            report.static_tools + report.discovered_tools,
            report.static_tools,
            report.discovered_tools
        ),
        "card": card(&host, tools).await,
    })))
}
