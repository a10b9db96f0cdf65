//! The results of one task run (get-task-results): per-endpoint output and whether it is done.

use crate::args::Args;
use crate::errors::{ToolError, ToolResult};
use crate::http::segment;
use crate::shape::{array, clip, compact, field, text};
use crate::tools::context::Ctx;
use serde_json::{json, Map, Value};

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
    use crate::http::fake::FakeTransport;
    use crate::tools::testing::*;
    use serde_json::json;

    const T: &str = "aaaaaaaa-0000-4000-8000-000000000001";
    const E1: &str = "11111111-1111-4111-8111-111111111111";
    const E2: &str = "22222222-2222-4222-8222-222222222222";

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
}
