//! The Activity page: the audit log and the tenant's recent tasks (last 24 h, 48 h or a
//! custom range), each with status counts.

use super::error::{ApiError, ApiResult};
use super::state::UiState;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use toolhost_governance::AuditFilter;
use toolhost_host::{Caller, DeferApprovals};

/// The tool that lists the tenant's tasks (see docs/tools.md).
pub const TASKS_SUMMARY_TOOL: &str = "cw-rmm-get-tasks-summary";
const DEFAULT_AUDIT_LIMIT: usize = 200;

pub fn routes() -> Router<Arc<UiState>> {
    Router::new()
        .route("/api/audit", get(audit))
        .route("/api/tasks", post(tasks))
}

#[derive(serde::Deserialize)]
struct Range {
    #[serde(default)]
    from: Option<DateTime<Utc>>,
    #[serde(default)]
    to: Option<DateTime<Utc>>,
    #[serde(default)]
    limit: Option<usize>,
}

/// How many of `items` have each value of `key`.
fn counts<'a>(items: impl Iterator<Item = &'a Value>, key: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for item in items {
        let value = match item.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => "unknown".into(),
            Some(other) => other.to_string(),
        };
        *counts.entry(value).or_insert(0) += 1;
    }
    counts
}

async fn audit(
    State(state): State<Arc<UiState>>,
    Query(range): Query<Range>,
) -> ApiResult<Json<Value>> {
    let filter = AuditFilter {
        since: range.from,
        limit: None,
        ..AuditFilter::default()
    };
    let host = state.host.read().await;
    let mut records = host.audit_records(&filter).await.map_err(ApiError::from)?;
    if let Some(to) = range.to {
        records.retain(|r| r.time <= to);
    }
    records.reverse(); // newest first
    let values: Vec<Value> = records
        .iter()
        .map(|r| serde_json::to_value(r).unwrap_or(Value::Null))
        .collect();
    let outcome_counts = counts(values.iter(), "outcome");
    let total = values.len();
    let shown: Vec<Value> = values
        .into_iter()
        .take(range.limit.unwrap_or(DEFAULT_AUDIT_LIMIT))
        .collect();
    Ok(Json(json!({
        "records": shown,
        "total": total,
        "counts": outcome_counts,
    })))
}

/// Calls the tasks-summary tool through `ToolHost::call`, as `ui:<operator>`: the same
/// roles, policy and audit as any other caller.
async fn tasks(
    State(state): State<Arc<UiState>>,
    Json(range): Json<Range>,
) -> ApiResult<Json<Value>> {
    let to = range.to.unwrap_or_else(Utc::now);
    let from = range.from.unwrap_or(to - chrono::Duration::hours(24));
    if from > to {
        return Err(ApiError::bad_request("`from` must not be after `to`"));
    }
    let arguments = json!({"from": from.to_rfc3339(), "to": to.to_rfc3339()}).to_string();
    let caller = Caller::new(state.actor(), None);
    let host = state.host.read().await;
    let report = host
        .call(TASKS_SUMMARY_TOOL, &arguments, &caller, &DeferApprovals)
        .await
        .map_err(ApiError::from)?;
    let tasks = report.result["tasks"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    Ok(Json(json!({
        "from": from.to_rfc3339(),
        "to": to.to_rfc3339(),
        "tasks": tasks,
        "counts": counts(tasks.iter(), "executionStatus"),
    })))
}
