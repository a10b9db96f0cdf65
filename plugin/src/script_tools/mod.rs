//! One tool per active shell script: stable names (slugs), input schemas from the script's
//! published parameters, and calls that schedule the script through the run-task code path.

pub mod descriptor;
pub mod naming;
pub mod parameters;
pub mod shell_script;

use crate::args::Args;
use crate::catalog::ToolSpec;
use crate::errors::{ToolError, ToolResult};
use crate::schedule::{ScheduleRequest, When};
use crate::tools::context::Ctx;
use crate::tools::scripts::fetch_shell_scripts;
use crate::tools::tasks::run::{resolve_targets, submit, TaskRequest};
use descriptor::descriptor;
use naming::assign_tool_names;
use parameters::parameter_schema;
use serde_json::Value;

const SCRIPT_TOOL_KEYS: &[&str] = &[
    "parameters",
    "targets",
    "companyId",
    "targetType",
    "schedule",
];

/// Descriptors of every active script, in tool-name order.
pub fn discover(ctx: &Ctx) -> ToolResult<Vec<ToolSpec>> {
    let scripts = fetch_shell_scripts(ctx)?;
    let mut names = assign_tool_names(&scripts);
    names.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(names
        .iter()
        .filter_map(|(id, name)| {
            scripts
                .iter()
                .find(|s| &s.template_id == id)
                .map(|s| descriptor(s, name))
        })
        .collect())
}

/// Runs a script tool: re-reads the script list to find the template, validates, schedules.
pub fn call(ctx: &Ctx, tool_name: &str, raw: &str) -> ToolResult<Value> {
    submit(ctx, &plan(ctx, tool_name, raw)?)
}

/// Finds the script behind a script tool, validates the arguments and resolves the targets:
/// reads only.
pub fn plan(ctx: &Ctx, tool_name: &str, raw: &str) -> ToolResult<TaskRequest> {
    let args = Args::parse(raw, SCRIPT_TOOL_KEYS)?;
    let scripts = fetch_shell_scripts(ctx)?;
    let names = assign_tool_names(&scripts);
    let script = names
        .iter()
        .find(|(_, name)| name == tool_name)
        .and_then(|(id, _)| scripts.iter().find(|s| &s.template_id == id))
        .ok_or_else(|| {
            ToolError::NotFound(format!(
                "no active shell script behind `{tool_name}` any more; refresh the tool list or use cw-rmm-list-shell-scripts"
            ))
        })?;
    let parameters =
        parameter_schema(&script.json_schema).validate(args.opt_object("parameters")?)?;
    let schedule = ScheduleRequest::from_args(&args, When::NextCheckIn)?;
    let (targets, company) = resolve_targets(ctx, &args)?;
    let name = if script.name.is_empty() {
        tool_name.to_string()
    } else {
        script.name.clone()
    };
    Ok(TaskRequest {
        template_id: script.template_id.clone(),
        template_type: "script".to_string(),
        name,
        description: script.description.clone(),
        parameters,
        targets,
        company,
        schedule,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn discover_and_call_a_script_tool() {
        use crate::http::fake::FakeTransport;
        use crate::tools::testing::{ctx, invalid_field, run};
        let listing = json!({"Templates": [
            {"templateId": "aaaaaaaa-0000-4000-8000-000000000001", "name": "Disk Cleanup", "state": "active",
             "jsonSchema": r#"{"properties":{"drive":{"type":"string"}},"required":["drive"]}"#},
            {"templateId": "aaaaaaaa-0000-4000-8000-000000000002", "name": "Retired", "state": "inactive"}], "count": 2})
        .to_string();
        let fake = FakeTransport::new();
        fake.reply(200, &listing)
            .reply(200, &listing)
            .reply(201, r#"{"taskId":"t-1"}"#)
            .reply(200, &listing);
        let tools = discover(&ctx(&fake)).unwrap();
        assert_eq!(tools.len(), 1);
        assert_eq!(tools[0].name, "cw-rmm-script-disk-cleanup");
        let target = "11111111-1111-4111-8111-111111111111";
        let out = run(
            &fake,
            "cw-rmm-script-disk-cleanup",
            &format!(r#"{{"targets":["{target}"],"parameters":{{"drive":"C:"}}}}"#),
        )
        .unwrap();
        assert_eq!(out["taskId"], "t-1");
        assert_eq!(out["schedule"]["type"], "next-check-in");
        let body = fake.body_of(2);
        assert_eq!(body["templateID"], "aaaaaaaa-0000-4000-8000-000000000001");
        assert_eq!(body["name"], "Disk Cleanup");
        assert_eq!(body["parameters"], r#"{"drive":"C:"}"#);
        assert_eq!(body["schedule"]["regularity"], "NextAgentCheckIn");
        assert_eq!(
            invalid_field(run(
                &fake,
                "cw-rmm-script-disk-cleanup",
                &format!(r#"{{"targets":["{target}"]}}"#)
            )),
            "parameters.drive"
        );
        fake.reply(200, &listing);
        assert!(matches!(
            run(&fake, "cw-rmm-script-retired", r#"{}"#),
            Err(ToolError::NotFound(_))
        ));
    }
}
