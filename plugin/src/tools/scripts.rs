//! Script library, shell scripts and task definitions.

use super::context::Ctx;
use crate::args::{contains_ci, Args};
use crate::errors::ToolResult;
use crate::script_tools::naming::assign_tool_names;
use crate::script_tools::parameters::parameter_schema;
use crate::script_tools::shell_script::ShellScript;
use crate::shape::{array, compact, discard, field, merged, project, text};
use serde_json::{json, Value};

pub const SHELL_SCRIPTS_PATH: &str = "/api/platform/v1/automation/shellScripts";

fn name_filter(args: &Args) -> ToolResult<Option<String>> {
    Ok(args.opt_str("nameContains")?.map(|s| crate::args::fold(&s)))
}

fn name_matches(item: &Value, needle: Option<&str>) -> bool {
    needle.is_none_or(|n| text(item, &["name"]).is_some_and(|name| contains_ci(name, n)))
}

pub fn list_scripts(ctx: &Ctx, raw: &str) -> ToolResult<Value> {
    let args = Args::parse(raw, &["nameContains"])?;
    let needle = name_filter(&args)?;
    let body = ctx.api.get("/api/platform/v1/automation/scripts", &[])?;
    let scripts: Vec<Value> = array(&body, &["scripts", "data"], "scripts")?
        .iter()
        .filter(|s| name_matches(s, needle.as_deref()))
        .map(|s| {
            merged(
                project(
                    s,
                    &[
                        ("templateId", &["id", "templateId"]),
                        ("name", &["name"]),
                        ("description", &["description"]),
                        ("category", &["scriptCategory"]),
                        ("hasParameters", &["hasParameters"]),
                        ("updatedAt", &["updatedAt"]),
                    ],
                ),
                compact(vec![("templateType", json!("script"))]),
            )
        })
        .collect();
    discard(body);
    // Moved in: `json!` would copy every row by serialising it again.
    Ok(compact(vec![
        ("count", scripts.len().into()),
        ("scripts", Value::Array(scripts)),
    ]))
}

/// Fetches and decodes the shell-script templates (active and inactive).
pub fn fetch_shell_scripts(ctx: &Ctx) -> ToolResult<Vec<ShellScript>> {
    let body = ctx.api.get(SHELL_SCRIPTS_PATH, &[])?;
    Ok(array(&body, &["Templates", "templates"], "shell scripts")?
        .iter()
        .filter_map(ShellScript::from_json)
        .collect())
}

pub fn list_shell_scripts(ctx: &Ctx, raw: &str) -> ToolResult<Value> {
    let args = Args::parse(raw, &["nameContains", "includeInactive"])?;
    let needle = name_filter(&args)?;
    let include_inactive = args.opt_bool("includeInactive")?.unwrap_or(false);
    let scripts = fetch_shell_scripts(ctx)?;
    let names = assign_tool_names(&scripts);
    let listed: Vec<Value> = scripts
        .iter()
        .filter(|s| include_inactive || s.active)
        .filter(|s| needle.as_deref().is_none_or(|n| contains_ci(&s.name, n)))
        .map(|s| {
            let tool = names
                .iter()
                .find(|(id, _)| *id == s.template_id)
                .map(|(_, name)| json!(name))
                .unwrap_or(Value::Null);
            let params = parameter_schema(&s.json_schema);
            let param_names: Vec<&String> = params
                .properties
                .as_ref()
                .map(|p| p.keys().collect())
                .unwrap_or_default();
            compact(vec![
                ("templateId", json!(s.template_id)),
                ("name", json!(s.name)),
                ("description", json!(s.description)),
                ("toolName", tool),
                ("active", json!(s.active)),
                ("state", s.raw.get("state").cloned().unwrap_or(Value::Null)),
                ("categories", field(&s.raw, &["categories"])),
                ("executorEngine", field(&s.raw, &["executorEngine"])),
                ("operatingSystem", field(&s.raw, &["operatingSystem"])),
                (
                    "expectedExecutionTimeSec",
                    field(&s.raw, &["expectedExecutionTimeSec"]),
                ),
                ("hasParameters", field(&s.raw, &["hasParameters"])),
                ("parameters", json!(param_names)),
                ("requiredParameters", json!(params.required)),
            ])
        })
        .collect();
    Ok(json!({"count": listed.len(), "scripts": listed}))
}

pub fn list_tasks(ctx: &Ctx, raw: &str) -> ToolResult<Value> {
    let args = Args::parse(raw, &["nameContains"])?;
    let needle = name_filter(&args)?;
    let body = ctx.api.get("/api/platform/v1/automation/tasks", &[])?;
    let tasks: Vec<Value> = array(&body, &["tasks", "data"], "tasks")?
        .iter()
        .filter(|t| name_matches(t, needle.as_deref()))
        .map(|t| {
            let schema = text(t, &["JSONSchema", "jsonSchema"]).unwrap_or("");
            let params = parameter_schema(schema);
            let param_names: Vec<&String> = params
                .properties
                .as_ref()
                .map(|p| p.keys().collect())
                .unwrap_or_default();
            merged(
                project(
                    t,
                    &[
                        ("templateId", &["templateId", "templateID", "id"]),
                        ("name", &["name"]),
                        ("description", &["description"]),
                        ("type", &["type"]),
                        ("categories", &["categories"]),
                        ("executorEngine", &["executorEngine"]),
                        ("operatingSystem", &["operatingSystem"]),
                    ],
                ),
                compact(vec![
                    ("parameters", json!(param_names)),
                    ("requiredParameters", json!(params.required)),
                ]),
            )
        })
        .collect();
    discard(body);
    Ok(json!({"count": tasks.len(), "tasks": tasks}))
}

#[cfg(test)]
mod tests {
    use crate::http::fake::FakeTransport;
    use crate::tools::testing::*;

    pub const SHELL: &str = r#"{"Templates":[
        {"templateId":"aaaaaaaa-0000-4000-8000-000000000001","name":"Disk Cleanup","description":"Frees space","state":"active","jsonSchema":"{\"type\":\"object\",\"properties\":{\"drive\":{\"type\":\"string\"}},\"required\":[\"drive\"]}"},
        {"templateId":"aaaaaaaa-0000-4000-8000-000000000002","name":"Old Thing","state":"inactive","jsonSchema":""}],"count":2}"#;

    #[test]
    fn lists_shell_scripts_with_tool_names() {
        let fake = FakeTransport::new();
        fake.reply(200, SHELL).reply(200, SHELL);
        let out = run(&fake, "cw-rmm-list-shell-scripts", "{}").unwrap();
        assert_eq!(out["count"], 1);
        assert_eq!(out["scripts"][0]["toolName"], "cw-rmm-script-disk-cleanup");
        assert_eq!(out["scripts"][0]["requiredParameters"][0], "drive");
        let all = run(
            &fake,
            "cw-rmm-list-shell-scripts",
            r#"{"includeInactive":true}"#,
        )
        .unwrap();
        assert_eq!(all["count"], 2);
        assert!(all["scripts"][1].get("toolName").is_none());
    }

    #[test]
    fn lists_scripts_and_tasks() {
        let fake = FakeTransport::new();
        fake.reply(200, r#"[{"id":"s1","name":"Reboot","scriptCategory":"Maintenance","hasParameters":false}]"#)
            .reply(200, r#"[{"name":"Restart service","type":"script","JSONSchema":"{\"properties\":{\"service\":{\"type\":\"string\"}}}"}]"#);
        assert_eq!(
            run(&fake, "cw-rmm-list-scripts", "{}").unwrap()["scripts"][0]["templateId"],
            "s1"
        );
        assert_eq!(
            run(&fake, "cw-rmm-list-tasks", "{}").unwrap()["tasks"][0]["parameters"][0],
            "service"
        );
    }
}
