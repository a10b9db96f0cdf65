//! `POST /api/platform/v2/automation/endpoints/schedule-tasks`: validation and run creation.

use crate::errors::{parse_json, ApiError, Area};
use crate::lock::lock;
use crate::state::AppState;
use crate::tasks::{outcome, RunKind, Target, TaskRun};
use crate::tenant::seed;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{Duration, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use uuid::Uuid;

const AREA: Area = Area::Automation;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ScheduleTask {
    #[serde(rename = "templateID")]
    template_id: Option<String>,
    template_type: Option<String>,
    name: Option<String>,
    description: Option<String>,
    parameters: Option<Value>,
    targets: Option<Vec<String>>,
    target_type: Option<String>,
    schedule: Option<Schedule>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Schedule {
    schedule_type: Option<String>,
    regularity: Option<String>,
    start_date: Option<String>,
    time_zone: Option<String>,
    repeat: Option<Repeat>,
}

#[derive(Deserialize, Default)]
struct Repeat {
    every: Option<Value>,
    frequency: Option<String>,
}

fn bad(code: &str, msg: impl Into<String>) -> ApiError {
    ApiError::bad_request(AREA, code, msg)
}

/// The template to run: its script key (for simulated output), display name and parameter schema.
struct Template {
    key: String,
    name: String,
    description: String,
    schema: Option<Value>,
}

fn resolve_template(s: &AppState, raw: &str) -> Result<(Uuid, Template), ApiError> {
    let id: Uuid = raw.parse().map_err(|_| {
        bad(
            "INVALID_TEMPLATE_ID",
            format!("templateID: '{raw}' is not a valid uuid"),
        )
    })?;
    if let Some(t) = s.tenant.shell_script(id) {
        if !s.script_active(t) {
            return Err(bad(
                "TEMPLATE_INACTIVE",
                format!(
                    "templateID: template '{}' is inactive and cannot be scheduled",
                    s.script_name(t)
                ),
            ));
        }
        return Ok((
            id,
            Template {
                key: t.key.into(),
                name: s.script_name(t),
                description: t.description.into(),
                schema: Some(t.json_schema.clone()),
            },
        ));
    }
    if let Some(l) = s.tenant.library_script(id) {
        return Ok((
            id,
            Template {
                key: "library".into(),
                name: l.name.into(),
                description: l.description.into(),
                schema: None,
            },
        ));
    }
    let builtin = [
        (
            seed::POWERSHELL_TEMPLATE_ID,
            "powershell",
            "PowerShell Script",
        ),
        (seed::CMD_TEMPLATE_ID, "cmd", "Command Prompt Script"),
        (seed::BASH_TEMPLATE_ID, "bash", "Bash Script"),
    ];
    if let Some((_, key, name)) = builtin
        .iter()
        .find(|(bid, _, _)| bid.parse::<Uuid>().ok() == Some(id))
    {
        let schema = json!({"type": "object", "properties": {"body": {"type": "string", "minLength": 1}, "expectedExecutionTimeSec": {"type": "integer", "minimum": 1}}, "required": ["body"]});
        return Ok((
            id,
            Template {
                key: (*key).into(),
                name: (*name).into(),
                description: String::new(),
                schema: Some(schema),
            },
        ));
    }
    Err(bad(
        "TEMPLATE_NOT_FOUND",
        format!("templateID: template '{raw}' does not exist"),
    ))
}

/// Checks parameters against the subset of JSON Schema the templates use.
fn check_parameters(schema: &Value, params: &Value) -> Result<(), ApiError> {
    let obj = params.as_object().ok_or_else(|| {
        bad(
            "INVALID_PARAMETERS",
            "parameters: must encode a JSON object",
        )
    })?;
    let props = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for req in schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !obj.contains_key(req) {
            return Err(bad(
                "INVALID_PARAMETERS",
                format!("parameters: required parameter '{req}' is missing"),
            ));
        }
    }
    for (k, v) in obj {
        let Some(p) = props.get(k) else {
            if schema["additionalProperties"] == Value::Bool(false) {
                return Err(bad(
                    "INVALID_PARAMETERS",
                    format!("parameters: unknown parameter '{k}'"),
                ));
            }
            continue;
        };
        let type_ok = match p["type"].as_str() {
            Some("string") => v.is_string(),
            Some("integer") => v.is_i64() || v.is_u64(),
            Some("number") => v.is_number(),
            Some("boolean") => v.is_boolean(),
            _ => true,
        };
        if !type_ok {
            return Err(bad(
                "INVALID_PARAMETERS",
                format!(
                    "parameters: '{k}' must be of type {}",
                    p["type"].as_str().unwrap_or("?")
                ),
            ));
        }
        if let Some(allowed) = p["enum"].as_array() {
            if !allowed.contains(v) {
                return Err(bad(
                    "INVALID_PARAMETERS",
                    format!(
                        "parameters: '{k}' must be one of {}",
                        Value::Array(allowed.clone())
                    ),
                ));
            }
        }
        if let (Some(n), Some(min)) = (v.as_f64(), p["minimum"].as_f64()) {
            if n < min {
                return Err(bad(
                    "INVALID_PARAMETERS",
                    format!("parameters: '{k}' must be at least {min}"),
                ));
            }
        }
        if let (Some(n), Some(max)) = (v.as_f64(), p["maximum"].as_f64()) {
            if n > max {
                return Err(bad(
                    "INVALID_PARAMETERS",
                    format!("parameters: '{k}' must be at most {max}"),
                ));
            }
        }
        if let (Some(text), Some(min)) = (v.as_str(), p["minLength"].as_u64()) {
            if (text.chars().count() as u64) < min {
                return Err(bad(
                    "INVALID_PARAMETERS",
                    format!("parameters: '{k}' must not be empty"),
                ));
            }
        }
    }
    Ok(())
}

fn parse_kind(schedule: &Schedule) -> Result<RunKind, ApiError> {
    match schedule.regularity.as_deref() {
        Some("RunNow") | Some("Immediate") => Ok(RunKind::Now),
        Some("NextAgentCheckIn") => Ok(RunKind::NextCheckIn),
        Some("OneTime") => Ok(RunKind::OneTime),
        Some("Recurrent") => Ok(RunKind::Recurrent),
        Some(other) => Err(bad("INVALID_REGULARITY", format!("schedule.regularity: unsupported value '{other}' (expected RunNow, Immediate, NextAgentCheckIn, OneTime or Recurrent)"))),
        None => Err(bad("INVALID_REGULARITY", "schedule.regularity: is required")),
    }
}

fn repeat_interval(repeat: &Repeat) -> Result<Duration, ApiError> {
    let every = repeat
        .every
        .as_ref()
        .and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .unwrap_or(1);
    if !(1..=1000).contains(&every) {
        return Err(bad(
            "INVALID_REPEAT",
            "schedule.repeat.every: must be an integer between 1 and 1000",
        ));
    }
    let unit = match repeat.frequency.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("hourly") => Duration::hours(1),
        Some("daily") => Duration::days(1),
        Some("weekly") => Duration::weeks(1),
        Some("monthly") => Duration::days(30),
        Some(other) => return Err(bad("INVALID_REPEAT", format!("schedule.repeat.frequency: unsupported value '{other}' (expected Hourly, Daily, Weekly or Monthly)"))),
        None => return Err(bad("INVALID_REPEAT", "schedule.repeat.frequency: is required for Recurrent")),
    };
    Ok(unit * every as i32)
}

pub async fn schedule_task(
    State(s): State<Arc<AppState>>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let req: ScheduleTask = parse_json(AREA, &body)?;
    let raw_template = req
        .template_id
        .as_deref()
        .ok_or_else(|| bad("INVALID_TEMPLATE_ID", "templateID: is required"))?;
    let (template_id, template) = resolve_template(&s, raw_template)?;
    let params: Value = match &req.parameters {
        None | Some(Value::Null) => json!({}),
        Some(Value::String(text)) if text.trim().is_empty() => json!({}),
        Some(Value::String(text)) => serde_json::from_str(text).map_err(|_| {
            bad(
                "INVALID_PARAMETERS",
                "parameters: must be a JSON-encoded string of an object",
            )
        })?,
        Some(_) => {
            return Err(bad(
                "INVALID_PARAMETERS",
                "parameters: must be a JSON-encoded string, not an object",
            ))
        }
    };
    if let Some(schema) = &template.schema {
        check_parameters(schema, &params)?;
    }
    match req.target_type.as_deref() {
        Some("MANAGED_ENDPOINT") => {}
        other => {
            return Err(bad(
                "INVALID_TARGET_TYPE",
                format!(
                    "targetType: must be MANAGED_ENDPOINT, got '{}'",
                    other.unwrap_or("")
                ),
            ))
        }
    }
    let targets = req.targets.unwrap_or_default();
    if targets.is_empty() {
        return Err(bad(
            "INVALID_TARGETS",
            "targets: at least one endpoint id is required",
        ));
    }
    let mut endpoints = Vec::new();
    for t in &targets {
        let e = t
            .parse()
            .ok()
            .and_then(|id| s.tenant.endpoint(id))
            .ok_or_else(|| {
                bad(
                    "INVALID_TARGETS",
                    format!("targets: endpoint '{t}' does not exist"),
                )
            })?;
        if !endpoints
            .iter()
            .any(|x: &&crate::tenant::Endpoint| x.id == e.id)
        {
            endpoints.push(e);
        }
    }
    let schedule = req
        .schedule
        .ok_or_else(|| bad("INVALID_SCHEDULE", "schedule: is required"))?;
    let kind = parse_kind(&schedule)?;
    let now = Utc::now();
    let start_date = match (kind, schedule.start_date.as_deref()) {
        (RunKind::OneTime | RunKind::Recurrent, None | Some("")) => {
            return Err(bad(
                "INVALID_START_DATE",
                "schedule.startDate: is required for OneTime and Recurrent",
            ))
        }
        (RunKind::OneTime | RunKind::Recurrent, Some(d)) => {
            Some(crate::time::parse_lenient(d, false).ok_or_else(|| {
                bad(
                    "INVALID_START_DATE",
                    format!("schedule.startDate: '{d}' is not a valid RFC 3339 date-time"),
                )
            })?)
        }
        _ => None,
    };
    let every = if kind == RunKind::Recurrent {
        Some(repeat_interval(schedule.repeat.as_ref().ok_or_else(
            || {
                bad(
                    "INVALID_REPEAT",
                    "schedule.repeat: is required for Recurrent",
                )
            },
        )?)?)
    } else {
        None
    };
    let run = TaskRun {
        task_id: Uuid::new_v4(),
        instance_id: Uuid::new_v4(),
        template_id,
        template_type: req.template_type.unwrap_or_else(|| "script".into()),
        name: req
            .name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| template.name.clone()),
        description: req.description.unwrap_or(template.description),
        regularity: schedule.regularity.clone().unwrap_or_default(),
        schedule_type: schedule.schedule_type.unwrap_or_else(|| "TIME".into()),
        time_zone: schedule.time_zone.unwrap_or_else(|| "UTC".into()),
        kind,
        created: now,
        start: start_date.map_or(now, |d| d.max(now)),
        every,
        targets: endpoints
            .iter()
            .map(|e| Target {
                endpoint_id: e.id,
                online: e.online,
                outcome: outcome(&template.key, &params, e),
            })
            .collect(),
    };
    let body = json!({
        "taskId": run.task_id.to_string(),
        "templateId": run.template_id.to_string(),
        "templateType": run.template_type,
        "name": run.name,
        "createdOn": crate::time::rfc3339(now),
        "modifiedOn": crate::time::rfc3339(now),
        "stateToBeSubmitted": "active",
    });
    lock(&s.tasks).runs.push(run);
    Ok((StatusCode::CREATED, Json(body)))
}
