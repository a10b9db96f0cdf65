//! Automation catalog: library scripts, shell scripts (templates) and task definitions.

use crate::state::AppState;
use crate::tenant::seed;
use crate::tenant::ShellScript;
use crate::time::rfc3339;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use std::sync::Arc;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/platform/v1/automation/scripts", get(scripts))
        .route(
            "/api/platform/v1/automation/shellScripts",
            get(shell_scripts),
        )
        .route("/api/platform/v1/automation/tasks", get(task_definitions))
}

fn operating_systems(s: &ShellScript) -> Value {
    let map: Map<String, Value> = s
        .operating_systems
        .iter()
        .map(|(os, versions)| (os.to_string(), json!(versions)))
        .collect();
    Value::Object(map)
}

async fn scripts(State(s): State<Arc<AppState>>) -> Json<Value> {
    Json(Value::Array(
        s.tenant
            .library_scripts
            .iter()
            .map(|l| {
                json!({
                    "id": l.id.to_string(), "name": l.name, "description": l.description,
                    "scriptCategory": l.category, "hasParameters": l.has_parameters,
                    "createdAt": rfc3339(l.created), "updatedAt": rfc3339(l.created),
                })
            })
            .collect(),
    ))
}

/// Every template, active and inactive; `state` is `active` or `inactive` (see `seed`).
async fn shell_scripts(State(s): State<Arc<AppState>>) -> Json<Value> {
    let templates: Vec<Value> = s
        .tenant
        .shell_scripts
        .iter()
        .map(|t| {
            json!({
                "templateId": t.id.to_string(), "name": s.script_name(t), "description": t.description,
                "categories": t.categories, "executorEngine": t.executor_engine,
                "expectedExecutionTimeSec": t.expected_execution_time_sec,
                "jsonSchema": t.json_schema.to_string(),
                "operatingSystem": operating_systems(t),
                "hasParameters": t.has_parameters(),
                "state": if s.script_active(t) { seed::SCRIPT_STATE_ACTIVE } else { seed::SCRIPT_STATE_INACTIVE },
                "createdOn": rfc3339(t.created), "updatedOn": rfc3339(t.updated),
            })
        })
        .collect();
    let count = templates.len();
    Json(json!({"Templates": templates, "count": count}))
}

/// Task definitions mirror the shell scripts (the spec schema carries no id).
async fn task_definitions(State(s): State<Arc<AppState>>) -> Json<Value> {
    Json(Value::Array(
        s.tenant
            .shell_scripts
            .iter()
            .map(|t| {
                let defaults: Map<String, Value> = t.json_schema["properties"]
                    .as_object()
                    .map(|p| {
                        p.iter()
                            .filter_map(|(k, v)| v.get("default").map(|d| (k.clone(), d.clone())))
                            .collect()
                    })
                    .unwrap_or_default();
                json!({
                    "name": s.script_name(t), "description": t.description, "type": "script",
                    "categories": t.categories,
                    "createdAt": rfc3339(t.created), "updatedAt": rfc3339(t.updated),
                    "userParameters": Value::Object(defaults).to_string(),
                    "JSONSchema": t.json_schema.to_string(),
                    "operatingSystem": operating_systems(t),
                    "executorEngine": "ACTIONS",
                })
            })
            .collect(),
    ))
}
