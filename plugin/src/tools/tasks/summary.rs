//! The tasks summary (get-tasks-summary): every task of a time window, or of one endpoint.

use crate::args::Args;
use crate::errors::{ToolError, ToolResult};
use crate::http::segment;
use crate::shape::{array, compact, field, merged, project};
use crate::time;
use crate::tools::context::Ctx;
use serde_json::{json, Value};

const DAY_SECONDS: i64 = 86_400;

pub fn get_tasks_summary(ctx: &Ctx, raw: &str) -> ToolResult<Value> {
    let args = Args::parse(raw, &["endpointId", "from", "to"])?;
    let endpoint = args.opt_uuid("endpointId")?;
    let to = args
        .opt_datetime("to")?
        .unwrap_or_else(|| time::format_rfc3339(ctx.now()));
    let from = match args.opt_datetime("from")? {
        Some(from) => from,
        None => time::format_rfc3339(
            time::parse_rfc3339(&to).unwrap_or_else(|| ctx.now()) - DAY_SECONDS,
        ),
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
            merged(
                project(
                    t,
                    &[
                        ("taskId", &["taskID", "taskId", "TaskID"]),
                        ("name", &["name"]),
                        ("state", &["state"]),
                        ("executionStatus", &["executionStatus"]),
                        ("regularity", &["regularity"]),
                        ("createdOn", &["createdOn"]),
                        ("executedOn", &["executedOn"]),
                        ("nextSchedule", &["nextSchedule"]),
                        ("deactivated", &["is_deactivated"]),
                    ],
                ),
                compact(vec![
                    (
                        "taskInstanceId",
                        field(t, &["taskInstanceId", "taskInstanceID"]),
                    ),
                    (
                        "templateId",
                        field(t, &["TemplateID", "templateId", "templateID"]),
                    ),
                    ("deviceCount", field(&states, &["deviceCount"])),
                    ("successCount", field(&states, &["successCount"])),
                    ("failureCount", field(&states, &["failureCount"])),
                ]),
            )
        })
        .collect();
    // Moved in: `json!` would copy every row by serialising it again.
    let mut out = compact(vec![
        ("count", tasks.len().into()),
        ("tasks", Value::Array(tasks)),
    ]);
    if endpoint.is_some() {
        out["endpointId"] = json!(endpoint);
    } else {
        out["from"] = json!(from);
        out["to"] = json!(to);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::errors::ToolError;
    use crate::http::fake::FakeTransport;
    use crate::tools::testing::*;

    const E1: &str = "11111111-1111-4111-8111-111111111111";

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
