//! The Tools page: every tool with its effective mode and why (`toolhost policy list`),
//! search and filters, a CSV download, and mode changes (`toolhost policy set`).

use super::error::{ApiError, ApiResult};
use super::state::UiState;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::Arc;
use toolhost_governance::{Decision, Mode};
use toolhost_host::ToolEntry;
use toolhost_host::ToolKind;

pub fn routes() -> Router<Arc<UiState>> {
    Router::new()
        .route("/api/tools", get(list))
        .route("/api/tools.csv", get(csv))
        .route("/api/policy", post(set_policy))
}

/// The page's search box and filters; the CSV download uses the same ones.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ToolFilter {
    /// Matches the name, title or description, case-insensitively.
    #[serde(default)]
    pub q: Option<String>,
    /// `auto`, `approval` or `never`.
    #[serde(default)]
    pub mode: Option<String>,
    /// `static` or `script`.
    #[serde(default)]
    pub kind: Option<String>,
}

fn kind_name(kind: ToolKind) -> &'static str {
    match kind {
        ToolKind::Static => "static",
        ToolKind::Discovered => "script",
    }
}

/// A filter value that says something (not absent, not blank).
fn wanted(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl ToolFilter {
    pub fn matches(&self, tool: &ToolEntry, decision: &Decision) -> bool {
        if wanted(&self.mode).is_some_and(|m| m != decision.mode.as_str()) {
            return false;
        }
        if wanted(&self.kind).is_some_and(|k| k != kind_name(tool.kind)) {
            return false;
        }
        wanted(&self.q).is_none_or(|q| {
            let q = q.to_lowercase();
            [
                &tool.name,
                &tool.descriptor.title,
                &tool.descriptor.description,
            ]
            .iter()
            .any(|text| text.to_lowercase().contains(&q))
        })
    }
}

fn row(tool: &ToolEntry, decision: &Decision) -> Value {
    json!({
        "name": tool.name,
        "toolName": tool.descriptor.name,
        "title": tool.descriptor.title,
        "description": tool.descriptor.description,
        "kind": kind_name(tool.kind),
        "mode": decision.mode,
        "source": decision.source,
        "why": decision.explanation,
    })
}

async fn filtered(
    state: &UiState,
    filter: &ToolFilter,
) -> ApiResult<(Vec<(ToolEntry, Decision)>, usize)> {
    let host = state.host.read().await;
    let all = host.policy_list().await.map_err(ApiError::from)?;
    let total = all.len();
    Ok((
        all.into_iter()
            .filter(|(t, d)| filter.matches(t, d))
            .collect(),
        total,
    ))
}

async fn list(
    State(state): State<Arc<UiState>>,
    Query(filter): Query<ToolFilter>,
) -> ApiResult<Json<Value>> {
    let (tools, total) = filtered(&state, &filter).await?;
    let rows: Vec<Value> = tools.iter().map(|(t, d)| row(t, d)).collect();
    Ok(Json(json!({"tools": rows, "total": total})))
}

/// One CSV field: quoted when needed, and defused when a spreadsheet would read it as a
/// formula.
pub fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

async fn csv(
    State(state): State<Arc<UiState>>,
    Query(filter): Query<ToolFilter>,
) -> ApiResult<Response> {
    let (tools, _) = filtered(&state, &filter).await?;
    let mut out = String::from("tool,kind,mode,why\r\n");
    for (tool, decision) in &tools {
        let fields = [
            tool.name.as_str(),
            kind_name(tool.kind),
            decision.mode.as_str(),
            decision.explanation.as_str(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    Ok((
        [
            (http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"toolhost-tools.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}

#[derive(serde::Deserialize)]
struct PolicyChange {
    /// A tool name or a glob pattern, as `toolhost policy set` takes it.
    pattern: String,
    mode: String,
}

async fn set_policy(
    State(state): State<Arc<UiState>>,
    Json(change): Json<PolicyChange>,
) -> ApiResult<Json<Value>> {
    let pattern = change.pattern.trim();
    if pattern.is_empty() {
        return Err(ApiError::bad_request("the pattern is empty"));
    }
    let mode: Mode = change
        .mode
        .parse()
        .map_err(|err: toolhost_governance::ParseModeError| {
            ApiError::bad_request(err.to_string())
        })?;
    let host = state.host.read().await;
    let previous = host
        .set_policy(pattern, mode)
        .await
        .map_err(ApiError::from)?;
    Ok(Json(json!({
        "pattern": pattern,
        "mode": mode,
        "previous": previous,
        "file": host.config().policy_file.display().to_string(),
    })))
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
        assert_eq!(csv_field("-1,2"), "\"'-1,2\"");
    }
}
