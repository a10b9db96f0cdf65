//! Scheduling tasks (run-task and every script tool) and reading their summaries and results.

use super::devices::{self, Query, Scope};
use super::Ctx;
use crate::args::Args;
use crate::errors::{ToolError, ToolResult};
use crate::http::segment;
use crate::schedule::{ScheduleRequest, When};
use crate::shape::{array, clip, compact, field, text};
use crate::time;
use serde_json::{json, Map, Value};

const SCHEDULE_PATH: &str = "/api/platform/v2/automation/endpoints/schedule-tasks";
/// Most endpoints one task may target (also the cap when expanding a company).
pub const MAX_TARGETS: usize = 1000;
/// Longest script output kept per endpoint.
const MAX_OUTPUT_CHARS: usize = 4000;
/// Completion states meaning the endpoint has not finished (asio-api.md §2.11).
const IN_PROGRESS: &[&str] = &[
    "scheduled",
    "running",
    "waiting",
    "pending",
    "queued",
    "inprogress",
    "in progress",
];
const DAY_SECONDS: i64 = 86_400;

/// A task to schedule, already validated.
pub struct TaskRequest {
    pub template_id: String,
    pub template_type: String,
    pub name: String,
    pub description: String,
    pub parameters: Map<String, Value>,
    pub targets: Vec<String>,
    pub schedule: ScheduleRequest,
}

/// Endpoint ids from `targets`, or every endpoint of `companyId` when `targetType` is COMPANY.
pub fn resolve_targets(ctx: &Ctx, args: &Args) -> ToolResult<Vec<String>> {
    let target_type = args.opt_enum("targetType", &["MANAGED_ENDPOINT", "COMPANY"])?;
    let targets = args.opt_uuid_list("targets", MAX_TARGETS)?;
    let company = args.opt_uuid("companyId")?;
    match (targets, company, target_type) {
        (Some(_), Some(_), _) => Err(ToolError::invalid("companyId", "give either `targets` (endpoint ids) or `companyId` with targetType COMPANY, not both")),
        (Some(_), None, Some("COMPANY")) => Err(ToolError::invalid("targetType", "targetType COMPANY needs `companyId` instead of `targets`; use MANAGED_ENDPOINT (or omit it) with targets")),
        (Some(targets), None, _) => Ok(targets),
        (None, Some(_), None | Some("MANAGED_ENDPOINT")) => Err(ToolError::invalid("targetType", "set targetType to \"COMPANY\" to run on every endpoint of companyId")),
        (None, Some(company), Some(_)) => {
            let listing = devices::fetch(ctx, &Query { scope: Scope::Company(company.clone()), name_lower: None, endpoint_types: None, limit: MAX_TARGETS })?;
            if listing.truncated {
                return Err(ToolError::invalid("companyId", format!("the company has more than {MAX_TARGETS} endpoints; pass explicit `targets` in batches")));
            }
            let ids: Vec<String> = listing.devices.iter().filter_map(|d| text(d, &["endpointId"]).map(str::to_string)).collect();
            if ids.is_empty() {
                return Err(ToolError::invalid("companyId", format!("company {company} has no endpoints to run on")));
            }
            Ok(ids)
        }
        (None, None, _) => Err(ToolError::invalid("targets", "give `targets` (endpoint ids from cw-rmm-list-devices) or `companyId` with targetType COMPANY")),
    }
}

/// Sends the schedule-tasks request and shapes the answer.
pub fn submit(ctx: &Ctx, task: &TaskRequest) -> ToolResult<Value> {
    let body = json!({
        "templateID": task.template_id,
        "templateType": task.template_type,
        "name": task.name,
        "description": task.description,
        "resourcesType": "Both",
        // The spec wants the parameters as a JSON-encoded string, not an object.
        "parameters": Value::Object(task.parameters.clone()).to_string(),
        "targets": task.targets,
        "targetType": "MANAGED_ENDPOINT",
        "schedule": task.schedule.to_body(&ctx.settings),
    });
    let answer = ctx.api.post(SCHEDULE_PATH, &[], &body)?.body;
    let task_id = text(&answer, &["taskId", "taskID", "TaskID", "id"])
        .ok_or_else(|| ToolError::upstream_shape("schedule-tasks answered without a taskId"))?;
    Ok(compact(vec![
        ("taskId", json!(task_id)),
        (
            "name",
            field(&answer, &["name"])
                .as_str()
                .map(Value::from)
                .unwrap_or_else(|| json!(task.name)),
        ),
        ("templateId", json!(task.template_id)),
        ("targetCount", json!(task.targets.len())),
        ("targets", json!(task.targets)),
        ("schedule", task.schedule.describe(&ctx.settings)),
        ("state", field(&answer, &["stateToBeSubmitted"])),
        ("createdOn", field(&answer, &["createdOn"])),
        (
            "next",
            json!("call cw-rmm-get-task-results with this taskId to follow the run"),
        ),
    ]))
}

pub fn run_task(ctx: &Ctx, raw: &str) -> ToolResult<Value> {
    let args = Args::parse(
        raw,
        &[
            "templateId",
            "templateType",
            "name",
            "parameters",
            "targets",
            "companyId",
            "targetType",
            "schedule",
        ],
    )?;
    let template_id = args.req_uuid(
        "templateId",
        "find it with cw-rmm-list-scripts or cw-rmm-list-shell-scripts",
    )?;
    let template_type = args
        .opt_str("templateType")?
        .unwrap_or_else(|| "script".to_string());
    let name = args.opt_str("name")?;
    if name.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return Err(ToolError::invalid(
            "name",
            "`name` must be at most 200 characters",
        ));
    }
    let parameters = args.opt_object("parameters")?.cloned().unwrap_or_default();
    let schedule = ScheduleRequest::from_args(&args, When::Now)?;
    let targets = resolve_targets(ctx, &args)?;
    let name = name.unwrap_or_else(|| format!("Agent task {}", &template_id[..8]));
    submit(
        ctx,
        &TaskRequest {
            template_id,
            template_type,
            name,
            description: "Scheduled through the toolhost".to_string(),
            parameters,
            targets,
            schedule,
        },
    )
}

pub fn get_tasks_summary(ctx: &Ctx, raw: &str) -> ToolResult<Value> {
    let args = Args::parse(raw, &["endpointId", "from", "to"])?;
    let endpoint = args.opt_uuid("endpointId")?;
    let to = args
        .opt_datetime("to")?
        .unwrap_or_else(|| time::format_rfc3339(ctx.now));
    let from = match args.opt_datetime("from")? {
        Some(from) => from,
        None => time::format_rfc3339(time::parse_rfc3339(&to).unwrap_or(ctx.now) - DAY_SECONDS),
    };
    let (from_s, to_s) = (
        time::parse_rfc3339(&from).unwrap_or(0),
        time::parse_rfc3339(&to).unwrap_or(0),
    );
    if from_s > to_s {
        return Err(ToolError::invalid("from", "`from` must not be after `to`"));
    }
    let body = match &endpoint {
        Some(id) => ctx.api.get(
            &format!(
                "/api/platform/v2/automation/endpoints/{}/tasks/summary",
                segment(id)
            ),
            &[],
        )?,
        None => ctx.api.get(
            "/api/platform/v1/automation/tasks/summary",
            &[("From", from.clone()), ("To", to.clone())],
        )?,
    };
    let tasks: Vec<Value> = array(&body, &["tasks", "Results", "data"], "tasks summary")?
        .iter()
        .map(|t| {
            let states = t.get("executionStates").cloned().unwrap_or(Value::Null);
            compact(vec![
                ("taskId", field(t, &["taskID", "taskId", "TaskID"])),
                (
                    "taskInstanceId",
                    field(t, &["taskInstanceId", "taskInstanceID"]),
                ),
                ("name", field(t, &["name"])),
                (
                    "templateId",
                    field(t, &["TemplateID", "templateId", "templateID"]),
                ),
                ("state", field(t, &["state"])),
                ("executionStatus", field(t, &["executionStatus"])),
                ("regularity", field(t, &["regularity"])),
                ("createdOn", field(t, &["createdOn"])),
                ("executedOn", field(t, &["executedOn"])),
                ("nextSchedule", field(t, &["nextSchedule"])),
                ("deactivated", field(t, &["is_deactivated"])),
                ("deviceCount", field(&states, &["deviceCount"])),
                ("successCount", field(&states, &["successCount"])),
                ("failureCount", field(&states, &["failureCount"])),
            ])
        })
        .collect();
    let mut out = json!({"count": tasks.len(), "tasks": tasks});
    if endpoint.is_some() {
        out["endpointId"] = json!(endpoint);
    } else {
        out["from"] = json!(from);
        out["to"] = json!(to);
    }
    Ok(out)
}

fn count(instance: &Value, key: &str) -> u64 {
    instance.get(key).and_then(Value::as_u64).unwrap_or(0)
}

fn is_in_progress(status: &str) -> bool {
    IN_PROGRESS.contains(&status.trim().to_ascii_lowercase().as_str())
}

pub fn get_task_results(ctx: &Ctx, raw: &str) -> ToolResult<Value> {
    let args = Args::parse(raw, &["taskId", "instanceId"])?;
    let task_id = args.req_uuid("taskId", "from cw-rmm-run-task or cw-rmm-get-tasks-summary")?;
    let wanted = args.opt_uuid("instanceId")?;
    let summary = ctx.api.get(
        &format!(
            "/api/platform/v1/automation/tasks/{}/instances/summary",
            segment(&task_id)
        ),
        &[],
    )?;
    let instances = array(&summary, &["Results", "results"], "task instances")?;
    let instance = match &wanted {
        Some(id) => instances.iter().find(|i| {
            text(i, &["Id", "id", "instanceId"]).is_some_and(|x| x.eq_ignore_ascii_case(id))
        }),
        // The latest instance: newest execution, then newest creation (ISO strings sort by time).
        None => instances.iter().max_by_key(|i| {
            (
                text(i, &["ExecutedOn", "executedOn"]).unwrap_or(""),
                text(i, &["CreatedOn", "createdOn"]).unwrap_or(""),
            )
        }),
    };
    let instance_id = match (&wanted, instance) {
        (Some(id), _) => id.clone(),
        (None, Some(i)) => text(i, &["Id", "id", "instanceId"])
            .map(str::to_string)
            .ok_or_else(|| ToolError::upstream_shape("task instance without Id"))?,
        (None, None) => {
            return Ok(json!({
                "taskId": task_id, "instanceId": null, "status": "NotStarted", "done": false, "counts": {}, "results": [],
                "message": "the task has no instance yet (for example it waits for the next agent check-in); ask again later"
            }))
        }
    };
    let body = ctx.api.get(
        &format!(
            "/api/platform/v2/automation/tasks/{}/instances/{}/results",
            segment(&task_id),
            segment(&instance_id)
        ),
        &[],
    )?;
    let results: Vec<Value> = array(&body, &["Result", "results", "Results"], "task results")?
        .iter()
        .map(|r| {
            compact(vec![
                (
                    "endpointId",
                    field(r, &["endpointId", "endpointID", "EndpointID"]),
                ),
                ("status", field(r, &["completionStatus", "status"])),
                (
                    "output",
                    clip(field(r, &["resultDetails"]), MAX_OUTPUT_CHARS),
                ),
                (
                    "errors",
                    clip(field(r, &["errorDetails"]), MAX_OUTPUT_CHARS),
                ),
                (
                    "executionTime",
                    field(r, &["executiontime", "executionTime"]),
                ),
                ("createdOn", field(r, &["createdOn"])),
            ])
        })
        .collect();
    let endpoint_pending = results
        .iter()
        .any(|r| text(r, &["status"]).is_some_and(is_in_progress));
    let (status, counts, instance_pending) = match instance {
        Some(i) => {
            let counts = json!({
                "devices": count(i, "DeviceCount"), "success": count(i, "SuccessCount"), "failed": count(i, "FailedCount"),
                "scheduled": count(i, "ScheduledCount"), "waiting": count(i, "WaitingCount"), "running": count(i, "RunningCount"),
                "postponed": count(i, "PostponedCount"), "canceled": count(i, "CanceledCount"), "disabled": count(i, "DisabledCount"),
            });
            let pending =
                count(i, "ScheduledCount") + count(i, "WaitingCount") + count(i, "RunningCount")
                    > 0;
            (
                field(i, &["OverallStatus", "overallStatus"]),
                counts,
                pending,
            )
        }
        None => (Value::Null, status_counts(&results), false),
    };
    // Done when nothing is still scheduled, waiting or running: per endpoint when results exist,
    // otherwise from the instance's own status.
    let done = if results.is_empty() {
        !instance_pending
            && status
                .as_str()
                .is_some_and(|s| !s.is_empty() && !is_in_progress(s))
    } else {
        !endpoint_pending && !instance_pending
    };
    Ok(json!({
        "taskId": task_id,
        "instanceId": instance_id,
        "status": status,
        "done": done,
        "counts": counts,
        "results": results,
    }))
}

/// Per-status counts computed from the endpoint results (when the instance summary is missing).
fn status_counts(results: &[Value]) -> Value {
    let mut counts = Map::new();
    for result in results {
        let status = text(result, &["status"])
            .unwrap_or("unknown")
            .to_ascii_lowercase();
        let entry = counts.entry(status).or_insert(json!(0));
        *entry = json!(entry.as_u64().unwrap_or(0) + 1);
    }
    Value::Object(counts)
}

#[cfg(test)]
mod tests {
    use crate::errors::ToolError;
    use crate::http::fake::FakeTransport;
    use crate::tools::testing::*;
    use serde_json::json;

    const T: &str = "aaaaaaaa-0000-4000-8000-000000000001";
    const E1: &str = "11111111-1111-4111-8111-111111111111";
    const E2: &str = "22222222-2222-4222-8222-222222222222";
    const C: &str = "cccccccc-cccc-4ccc-8ccc-cccccccccccc";

    #[test]
    fn run_task_now_with_targets() {
        let fake = FakeTransport::new();
        fake.reply(201, r#"{"taskId":"99999999-0000-4000-8000-000000000009","name":"Fix it","stateToBeSubmitted":"Active"}"#);
        let out = run(&fake, "cw-rmm-run-task", &format!(r#"{{"templateId":"{T}","name":"Fix it","targets":["{E1}","{E2}"],"parameters":{{"body":"Get-Process"}}}}"#)).unwrap();
        assert_eq!(out["taskId"], "99999999-0000-4000-8000-000000000009");
        assert_eq!(out["targetCount"], 2);
        assert_eq!(out["schedule"]["type"], "now");
        let body = fake.body_of(0);
        assert_eq!(body["templateID"], T);
        assert_eq!(body["templateType"], "script");
        assert_eq!(body["parameters"], r#"{"body":"Get-Process"}"#);
        assert_eq!(body["targetType"], "MANAGED_ENDPOINT");
        assert_eq!(
            body["schedule"],
            json!({"scheduleType":"TIME","regularity":"RunNow","category":"STZ"})
        );
        assert_eq!(
            fake.paths()[0],
            "/api/platform/v2/automation/endpoints/schedule-tasks"
        );
    }

    #[test]
    fn run_task_expands_a_company() {
        let fake = FakeTransport::new();
        fake.reply(200, &json!({"platform": [{"companyID": C, "siteID": "s", "endpoints": [{"endpointID": E1}, {"endpointID": E2}]}]}).to_string())
            .reply(201, r#"{"taskId":"t"}"#);
        let out = run(&fake, "cw-rmm-run-task", &format!(r#"{{"templateId":"{T}","companyId":"{C}","targetType":"COMPANY","schedule":{{"type":"next-check-in"}}}}"#)).unwrap();
        assert_eq!(out["targetCount"], 2);
        assert_eq!(fake.body_of(1)["targets"], json!([E1, E2]));
        assert_eq!(
            fake.body_of(1)["schedule"]["regularity"],
            "NextAgentCheckIn"
        );
    }

    #[test]
    fn run_task_validation() {
        let fake = FakeTransport::new();
        assert_eq!(
            invalid_field(run(
                &fake,
                "cw-rmm-run-task",
                &format!(r#"{{"templateId":"{T}"}}"#)
            )),
            "targets"
        );
        assert_eq!(
            invalid_field(run(
                &fake,
                "cw-rmm-run-task",
                &format!(r#"{{"targets":["{E1}"]}}"#)
            )),
            "templateId"
        );
        assert_eq!(
            invalid_field(run(
                &fake,
                "cw-rmm-run-task",
                &format!(r#"{{"templateId":"{T}","companyId":"{C}"}}"#)
            )),
            "targetType"
        );
        assert_eq!(
            invalid_field(run(
                &fake,
                "cw-rmm-run-task",
                &format!(r#"{{"templateId":"{T}","targets":["{E1}"],"companyId":"{C}"}}"#)
            )),
            "companyId"
        );
        assert_eq!(
            invalid_field(run(
                &fake,
                "cw-rmm-run-task",
                &format!(r#"{{"templateId":"{T}","targets":["x"]}}"#)
            )),
            "targets[0]"
        );
        assert_eq!(
            invalid_field(run(
                &fake,
                "cw-rmm-run-task",
                &format!(r#"{{"templateId":"{T}","targets":["{E1}"],"parameters":"a=b"}}"#)
            )),
            "parameters"
        );
        assert_eq!(
            invalid_field(run(
                &fake,
                "cw-rmm-run-task",
                &format!(
                    r#"{{"templateId":"{T}","targets":["{E1}"],"schedule":{{"type":"once"}}}}"#
                )
            )),
            "schedule.at"
        );
        assert_eq!(
            invalid_field(run(
                &fake,
                "cw-rmm-run-task",
                &format!(r#"{{"templateId":"{T}","targets":["{E1}"],"force":true}}"#)
            )),
            "force"
        );
        assert!(fake.requests.borrow().is_empty());
    }

    #[test]
    fn results_of_the_latest_instance() {
        let fake = FakeTransport::new();
        fake.reply(200, r#"{"Results":[
                {"TaskID":"t","Id":"11111111-0000-4000-8000-000000000001","OverallStatus":"Success","ExecutedOn":"2025-01-30T10:00:00Z","DeviceCount":1,"SuccessCount":1},
                {"TaskID":"t","Id":"22222222-0000-4000-8000-000000000002","OverallStatus":"Running","ExecutedOn":"2025-01-31T10:00:00Z","DeviceCount":2,"SuccessCount":1,"RunningCount":1}],"Count":2}"#)
            .reply(200, &json!({"Result": [
                {"endpointId": E1, "completionStatus": "Success", "resultDetails": "x".repeat(5000), "executiontime": "3s"},
                {"endpointId": E2, "completionStatus": "Running"}], "Count": 2}).to_string());
        let out = run(
            &fake,
            "cw-rmm-get-task-results",
            &format!(r#"{{"taskId":"{T}"}}"#),
        )
        .unwrap();
        assert_eq!(out["instanceId"], "22222222-0000-4000-8000-000000000002");
        assert_eq!(out["done"], false);
        assert_eq!(out["counts"]["running"], 1);
        assert!(out["results"][0]["output"]
            .as_str()
            .unwrap()
            .ends_with("[truncated]"));
        assert_eq!(fake.paths()[1], format!("/api/platform/v2/automation/tasks/{T}/instances/22222222-0000-4000-8000-000000000002/results"));
    }

    #[test]
    fn results_done_and_not_started() {
        let fake = FakeTransport::new();
        fake.reply(200, r#"{"Results":[{"Id":"11111111-0000-4000-8000-000000000001","OverallStatus":"Failed","DeviceCount":1,"FailedCount":1}]}"#)
            .reply(200, &json!({"Result": [{"endpointId": E1, "completionStatus": "Failed", "errorDetails": "exit 1"}]}).to_string())
            .reply(200, r#"{"Results":[],"Count":0}"#);
        let out = run(
            &fake,
            "cw-rmm-get-task-results",
            &format!(r#"{{"taskId":"{T}"}}"#),
        )
        .unwrap();
        assert_eq!(out["done"], true);
        assert_eq!(out["results"][0]["errors"], "exit 1");
        let none = run(
            &fake,
            "cw-rmm-get-task-results",
            &format!(r#"{{"taskId":"{T}"}}"#),
        )
        .unwrap();
        assert_eq!(none["status"], "NotStarted");
        assert_eq!(none["done"], false);
    }

    #[test]
    fn tasks_summary_defaults_to_the_last_day() {
        let fake = FakeTransport::new();
        fake.reply(200, r#"[{"taskID":"t1","name":"Patch","state":"Active","executionStates":{"deviceCount":3,"successCount":2,"failureCount":1}}]"#)
            .reply(200, "[]");
        let out = run(&fake, "cw-rmm-get-tasks-summary", "{}").unwrap();
        assert_eq!(out["tasks"][0]["failureCount"], 1);
        assert_eq!(fake.paths()[0], "/api/platform/v1/automation/tasks/summary?From=2025-01-30T12%3A00%3A00Z&To=2025-01-31T12%3A00%3A00Z");
        run(
            &fake,
            "cw-rmm-get-tasks-summary",
            &format!(r#"{{"endpointId":"{E1}"}}"#),
        )
        .unwrap();
        assert_eq!(
            fake.paths()[1],
            format!("/api/platform/v2/automation/endpoints/{E1}/tasks/summary")
        );
        assert_eq!(
            invalid_field(run(
                &fake,
                "cw-rmm-get-tasks-summary",
                r#"{"from":"2025-02-01T00:00:00Z","to":"2025-01-01T00:00:00Z"}"#
            )),
            "from"
        );
        assert!(matches!(
            run(&fake, "cw-rmm-get-tasks-summary", r#"{"from":"monday"}"#),
            Err(ToolError::InvalidInput { .. })
        ));
    }
}
