//! Scheduling a task: the run-task tool and the submit path every script tool shares.

use crate::args::Args;
use crate::errors::{ToolError, ToolResult};
use crate::schedule::{ScheduleRequest, When};
use crate::shape::{compact, field, text};
use crate::tools::context::Ctx;
use crate::tools::devices::list::{self as device_list, Query, Scope};
use serde_json::{json, Map, Value};

const SCHEDULE_PATH: &str = "/api/platform/v2/automation/endpoints/schedule-tasks";
/// Most endpoints one task may target (also the cap when expanding a company).
pub const MAX_TARGETS: usize = 1000;

/// A task to schedule, already validated.
pub struct TaskRequest {
    pub template_id: String,
    pub template_type: String,
    pub name: String,
    pub description: String,
    pub parameters: Map<String, Value>,
    pub targets: Vec<String>,
    /// The company whose every endpoint `targets` holds (targetType COMPANY).
    pub company: Option<String>,
    pub schedule: ScheduleRequest,
}

/// Endpoint ids from `targets`, or every endpoint of `companyId` when `targetType` is COMPANY
/// (then also that company).
pub fn resolve_targets(ctx: &Ctx, args: &Args) -> ToolResult<(Vec<String>, Option<String>)> {
    let target_type = args.opt_enum("targetType", &["MANAGED_ENDPOINT", "COMPANY"])?;
    let targets = args.opt_uuid_list("targets", MAX_TARGETS)?;
    let company = args.opt_uuid("companyId")?;
    match (targets, company, target_type) {
        (Some(_), Some(_), _) => Err(ToolError::invalid("companyId", "give either `targets` (endpoint ids) or `companyId` with targetType COMPANY, not both")),
        (Some(_), None, Some("COMPANY")) => Err(ToolError::invalid("targetType", "targetType COMPANY needs `companyId` instead of `targets`; use MANAGED_ENDPOINT (or omit it) with targets")),
        (Some(targets), None, _) => Ok((targets, None)),
        (None, Some(_), None | Some("MANAGED_ENDPOINT")) => Err(ToolError::invalid("targetType", "set targetType to \"COMPANY\" to run on every endpoint of companyId")),
        (None, Some(company), Some(_)) => {
            let listing = device_list::fetch(ctx, &Query { scope: Scope::Company(company.clone()), name_lower: None, endpoint_types: None, limit: MAX_TARGETS })?;
            if listing.truncated {
                return Err(ToolError::invalid("companyId", format!("the company has more than {MAX_TARGETS} endpoints; pass explicit `targets` in batches")));
            }
            let ids: Vec<String> = listing.devices.iter().filter_map(|d| text(d, &["endpointId"]).map(str::to_string)).collect();
            if ids.is_empty() {
                return Err(ToolError::invalid("companyId", format!("company {company} has no endpoints to run on")));
            }
            Ok((ids, Some(company)))
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
    submit(ctx, &plan(ctx, raw)?)
}

/// Validates run-task's arguments and resolves its targets: reads only.
pub fn plan(ctx: &Ctx, raw: &str) -> ToolResult<TaskRequest> {
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
    let (targets, company) = resolve_targets(ctx, &args)?;
    let name = name.unwrap_or_else(|| format!("Agent task {}", &template_id[..8]));
    Ok(TaskRequest {
        template_id,
        template_type,
        name,
        description: "Scheduled through the toolhost".to_string(),
        parameters,
        targets,
        company,
        schedule,
    })
}

#[cfg(test)]
mod tests {
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
}
