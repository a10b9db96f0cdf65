//! Task summaries, instance summaries and per-endpoint results.

use crate::errors::{ApiError, Area};
use crate::lock::lock;
use crate::query::QueryParams;
use crate::state::AppState;
use crate::tasks::{Counts, RunKind, Status, TaskRun, Timing};
use crate::time::automation as ts;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use uuid::Uuid;

const AREA: Area = Area::Automation;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/api/platform/v2/automation/endpoints/schedule-tasks",
            post(super::schedule::schedule_task),
        )
        .route(
            "/api/platform/v1/automation/endpoints/schedule-tasks",
            post(super::schedule::schedule_task),
        )
        .route("/api/platform/v1/automation/tasks/summary", get(summary))
        .route(
            "/api/platform/v2/automation/endpoints/{endpointId}/tasks/summary",
            get(endpoint_summary),
        )
        .route(
            "/api/platform/v1/automation/tasks/{taskId}/instances/summary",
            get(instances),
        )
        .route(
            "/api/platform/v2/automation/tasks/{taskId}/instances/{instanceId}/results",
            get(results),
        )
        .route(
            "/api/platform/v1/automation/tasks/{taskId}/instances/{instanceId}/results",
            get(results),
        )
}

fn timing(s: &AppState) -> Timing {
    let conv = |d: std::time::Duration| Duration::from_std(d).unwrap_or(Duration::MAX);
    Timing {
        step: conv(s.config.task_step),
        offline_checkin_after: s.config.offline_checkin_after.map(conv),
    }
}

/// Optional `From`/`To` window over task creation time.
/// Optional lower and upper bounds on creation time.
type Window = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

fn window(q: &QueryParams) -> Result<Window, ApiError> {
    let parse = |name: &str, end: bool| -> Result<Option<DateTime<Utc>>, ApiError> {
        match q.get(name).filter(|v| !v.trim().is_empty()) {
            None => Ok(None),
            Some(v) => crate::time::parse_lenient(v, end).map(Some).ok_or_else(|| {
                ApiError::bad_request(
                    AREA,
                    "INVALID_DATE",
                    format!("{name}: '{v}' is not a valid date-time (use RFC 3339)"),
                )
            }),
        }
    };
    let (from, to) = (parse("From", false)?, parse("To", true)?);
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(ApiError::bad_request(
                AREA,
                "INVALID_DATE",
                "From: must not be after To",
            ));
        }
    }
    Ok((from, to))
}

fn in_window(r: &TaskRun, (from, to): Window) -> bool {
    from.is_none_or(|f| r.created >= f) && to.is_none_or(|t| r.created <= t)
}

fn statuses(r: &TaskRun, now: DateTime<Utc>, t: Timing) -> Vec<Status> {
    r.targets
        .iter()
        .map(|x| r.target_state(x, now, t).status)
        .collect()
}

/// When the first target started, if one has. The spec's `executedOn`/`ExecutedOn` and
/// `nextSchedule`/`NextSchedule` are non-nullable, so an unset value is left out (see
/// [`put_some`]), never sent as null.
fn executed_on(r: &TaskRun, now: DateTime<Utc>, t: Timing) -> Option<String> {
    r.targets
        .iter()
        .filter_map(|x| r.target_state(x, now, t).started)
        .min()
        .map(ts)
}

/// Sets `key` when there is a value; leaves it out otherwise.
fn put_some(object: &mut Value, key: &str, value: Option<String>) {
    if let Some(v) = value {
        object[key] = Value::String(v);
    }
}

fn next_schedule(r: &TaskRun, now: DateTime<Utc>) -> Option<String> {
    match (r.kind, r.every) {
        (RunKind::Recurrent, Some(every)) => {
            // The first run at or after `now`, computed without looping over past runs.
            let elapsed = (now - r.start).num_seconds().max(-1);
            let period = every.num_seconds().max(1);
            let runs = if elapsed < 0 { 0 } else { elapsed / period + 1 };
            let next = r
                .start
                .checked_add_signed(Duration::seconds(runs.saturating_mul(period)));
            next.map(ts)
        }
        (RunKind::OneTime, _) if r.start > now => Some(ts(r.start)),
        _ => None,
    }
}

fn task_summary(r: &TaskRun, now: DateTime<Utc>, t: Timing) -> Map<String, Value> {
    let st = statuses(r, now, t);
    let counts = Counts::of(&st);
    let overall = counts.overall();
    let terminal = st.iter().all(|s| s.is_terminal());
    let endpoint_statuses: Map<String, Value> = r
        .targets
        .iter()
        .zip(&st)
        .map(|(x, s)| (x.endpoint_id.to_string(), json!(s.as_str())))
        .collect();
    let mut json = json!({
        "taskID": r.task_id.to_string(),
        "name": r.name,
        "description": r.description,
        "regularity": r.regularity,
        "scheduleType": r.schedule_type,
        "state": "active",
        "executionStatus": overall,
        "triggeredBy": "API",
        "TemplateID": r.template_id.to_string(),
        "TemplateType": r.template_type,
        "taskInstanceId": r.instance_id.to_string(),
        "createdOn": ts(r.created),
        "modifiedOn": ts(r.created),
        "CreatedOnDay": r.created.format("%Y%m%d").to_string().parse::<i64>().unwrap_or(0),
        "TimeZone": r.time_zone,
        "is_deactivated": false,
        "canBeCancelled": !terminal,
        "canBePostponed": !terminal,
        "endpointStatuses": endpoint_statuses,
        "executionStates": {"deviceCount": counts.devices, "successCount": counts.success, "failureCount": counts.failed},
    });
    put_some(&mut json, "executedOn", executed_on(r, now, t));
    put_some(&mut json, "nextSchedule", next_schedule(r, now));
    match json {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

async fn summary(
    State(s): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let w = window(&QueryParams::parse(raw.as_deref()))?;
    let (now, t) = (Utc::now(), timing(&s));
    let store = lock(&s.tasks);
    let mut runs: Vec<&TaskRun> = store.runs.iter().filter(|r| in_window(r, w)).collect();
    runs.sort_by_key(|r| std::cmp::Reverse(r.created));
    Ok(Json(Value::Array(
        runs.into_iter()
            .map(|r| Value::Object(task_summary(r, now, t)))
            .collect(),
    )))
}

async fn endpoint_summary(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let eid: Uuid = id
        .parse()
        .ok()
        .filter(|e| s.tenant.endpoint(*e).is_some())
        .ok_or_else(|| ApiError::not_found(AREA, format!("endpoint '{id}' not found")))?;
    let (now, t) = (Utc::now(), timing(&s));
    let store = lock(&s.tasks);
    let mut out = Vec::new();
    for r in store.runs.iter().rev() {
        let Some(target) = r.targets.iter().find(|x| x.endpoint_id == eid) else {
            continue;
        };
        let mut m = task_summary(r, now, t);
        m.remove("endpointStatuses");
        m.remove("executionStates");
        m.remove("taskInstanceId");
        m.insert(
            "executionStatus".into(),
            json!(r.target_state(target, now, t).status.as_str()),
        );
        m.insert("EndpointID".into(), json!(eid.to_string()));
        m.insert("taskInstanceID".into(), json!(r.instance_id.to_string()));
        out.push(Value::Object(m));
    }
    Ok(Json(Value::Array(out)))
}

fn find_task<'a>(runs: &'a [TaskRun], raw: &str) -> Result<&'a TaskRun, ApiError> {
    raw.parse::<Uuid>()
        .ok()
        .and_then(|id| runs.iter().find(|r| r.task_id == id))
        .ok_or_else(|| ApiError::not_found(AREA, format!("task '{raw}' not found")))
}

async fn instances(
    State(s): State<Arc<AppState>>,
    Path(task): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let w = window(&QueryParams::parse(raw.as_deref()))?;
    let (now, t) = (Utc::now(), timing(&s));
    let store = lock(&s.tasks);
    let r = find_task(&store.runs, &task)?;
    let mut results = Vec::new();
    if in_window(r, w) {
        let c = Counts::of(&statuses(r, now, t));
        let mut row = json!({
            "TaskID": r.task_id.to_string(), "Id": r.instance_id.to_string(), "Name": r.name,
            "OverallStatus": c.overall(), "Regularity": r.regularity,
            "CreatedOn": ts(r.created),
            "DeviceCount": c.devices, "SuccessCount": c.success, "FailedCount": c.failed,
            "PostponedCount": 0, "DisabledCount": 0, "CanceledCount": 0,
            "ScheduledCount": c.scheduled, "WaitingCount": c.waiting, "RunningCount": c.running,
        });
        put_some(&mut row, "ExecutedOn", executed_on(r, now, t));
        put_some(&mut row, "NextSchedule", next_schedule(r, now));
        results.push(row);
    }
    let count = results.len();
    Ok(Json(json!({"Results": results, "Count": count})))
}

async fn results(
    State(s): State<Arc<AppState>>,
    Path((task, instance)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (now, t) = (Utc::now(), timing(&s));
    let store = lock(&s.tasks);
    let r = find_task(&store.runs, &task)?;
    if instance.parse::<Uuid>().ok() != Some(r.instance_id) {
        return Err(ApiError::not_found(
            AREA,
            format!("task instance '{instance}' does not exist"),
        ));
    }
    let rows: Vec<Value> = r
        .targets
        .iter()
        .map(|x| {
            let st = r.target_state(x, now, t);
            let result = match (&x.outcome, st.status) {
                (Ok(out), Status::Success) => out.clone(),
                _ => String::new(),
            };
            let exec = match (st.started, st.finished) {
                (Some(a), Some(b)) => format!("{:.1}s", (b - a).num_milliseconds() as f64 / 1000.0),
                _ => String::new(),
            };
            json!({
                "endpointId": x.endpoint_id.to_string(),
                "completionStatus": st.status.as_str(),
                "errorDetails": r.error_details(x, &st),
                "resultDetails": result,
                "executiontime": exec,
                "createdOn": ts(r.created),
                "taskId": r.task_id.to_string(),
                "taskInstanceId": r.instance_id.to_string(),
            })
        })
        .collect();
    let count = rows.len();
    Ok(Json(json!({"Result": rows, "Count": count})))
}
