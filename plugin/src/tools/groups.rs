//! Device groups.

use super::context::Ctx;
use crate::args::{contains_ci, Args};
use crate::errors::ToolResult;
use crate::shape::{array, compact, discard, project, text};
use serde_json::Value;

pub fn list_device_groups(ctx: &Ctx, raw: &str) -> ToolResult<Value> {
    let args = Args::parse(raw, &["nameContains"])?;
    let needle = args.opt_str("nameContains")?.map(|s| crate::args::fold(&s));
    let body = ctx.api.get("/api/platform/v1/device-groups", &[])?;
    let groups: Vec<Value> = array(&body, &["deviceGroups", "groups", "data"], "device groups")?
        .iter()
        .filter(|g| {
            needle
                .as_deref()
                .is_none_or(|n| text(g, &["name"]).is_some_and(|name| contains_ci(name, n)))
        })
        .map(|g| {
            project(
                g,
                &[
                    ("groupId", &["id"]),
                    ("name", &["name"]),
                    ("description", &["description"]),
                    ("predefined", &["predefined"]),
                    ("static", &["static"]),
                    ("updatedAt", &["updatedAt"]),
                ],
            )
        })
        .collect();
    discard(body);
    // Moved in: `json!` would copy every row by serialising it again.
    Ok(compact(vec![
        ("count", groups.len().into()),
        ("groups", Value::Array(groups)),
    ]))
}

#[cfg(test)]
mod tests {
    use crate::http::fake::FakeTransport;
    use crate::tools::testing::*;

    #[test]
    fn lists_groups() {
        let fake = FakeTransport::new();
        fake.reply(
            200,
            r#"[{"id":"g1","name":"All Servers","static":false},{"id":"g2","name":"Laptops"}]"#,
        );
        let out = run(
            &fake,
            "cw-rmm-list-device-groups",
            r#"{"nameContains":"SERVER"}"#,
        )
        .unwrap();
        assert_eq!(out["count"], 1);
        assert_eq!(out["groups"][0]["groupId"], "g1");
    }
}
