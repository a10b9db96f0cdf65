//! Static checks on what a plugin declares: metadata and tool descriptors, reporting every
//! problem found rather than stopping at the first.

use super::report::Check;
use std::collections::BTreeSet;
use toolhost_sandbox::wit;
use toolhost_sandbox::{is_valid_tool_name, Access, PluginMetadata, ToolRoute};

pub fn metadata(raw: &wit::PluginMetadata) -> Check {
    let mut findings = Vec::new();
    if let Err(err) = PluginMetadata::try_from(raw.clone()) {
        findings.push(err.to_string());
    }
    for (field, value) in [("name", &raw.name), ("description", &raw.description)] {
        if value.trim().is_empty() {
            findings.push(format!("`{field}` is empty"));
        }
    }
    let semver = raw.version.split('.').collect::<Vec<_>>();
    if semver.len() < 3
        || semver[..3].iter().any(|p| {
            p.split(['-', '+'])
                .next()
                .is_none_or(|n| n.parse::<u64>().is_err())
        })
    {
        findings.push(format!(
            "`version` `{}` is not semver (major.minor.patch)",
            raw.version
        ));
    }
    if raw.regions.is_empty() {
        findings.push("no regions: the host cannot know which origins to allow".into());
    }
    let mut keys = BTreeSet::new();
    for key in &raw.config_keys {
        if key.name.trim().is_empty() {
            findings.push("a config key has an empty name".into());
        } else if !keys.insert(key.name.as_str()) {
            findings.push(format!("config key `{}` is declared twice", key.name));
        }
    }
    Check::new(
        "metadata.well-formed",
        "metadata is complete and well-formed",
        findings,
    )
}

pub fn names(tools: &[wit::ToolDescriptor]) -> Check {
    let mut findings = Vec::new();
    let mut seen = BTreeSet::new();
    for tool in tools {
        if !is_valid_tool_name(&tool.name) {
            findings.push(format!(
                "`{}` is not a valid tool name ([a-z][a-z0-9-]*, at most 64)",
                tool.name
            ));
        }
        if !seen.insert(tool.name.as_str()) {
            findings.push(format!("`{}` is listed more than once", tool.name));
        }
    }
    Check::new(
        "tools.names",
        "tool names are unique and well-formed",
        findings,
    )
}

pub fn schemas(tools: &[wit::ToolDescriptor]) -> Check {
    let mut findings = Vec::new();
    for tool in tools {
        let mut check =
            |label: &str, text: &str| match serde_json::from_str::<serde_json::Value>(text) {
                Err(err) => findings.push(format!("`{}` {label} is not JSON: {err}", tool.name)),
                Ok(schema) => {
                    if let Err(err) = jsonschema::meta::validate(&schema) {
                        findings.push(format!(
                            "`{}` {label} is not valid JSON Schema: {err}",
                            tool.name
                        ));
                    } else if let Err(err) = jsonschema::validator_for(&schema) {
                        findings.push(format!("`{}` {label} cannot be used: {err}", tool.name));
                    } else if label == "input schema"
                        && schema.get("type").and_then(|t| t.as_str()) != Some("object")
                    {
                        findings.push(format!(
                            "`{}` input schema must have \"type\": \"object\"",
                            tool.name
                        ));
                    }
                }
            };
        check("input schema", &tool.input_schema);
        if let Some(output) = &tool.output_schema {
            check("output schema", output);
        }
    }
    Check::new(
        "tools.schemas",
        "every schema is valid JSON Schema",
        findings,
    )
}

pub fn descriptions(tools: &[wit::ToolDescriptor]) -> Check {
    let mut findings = Vec::new();
    for tool in tools {
        if tool.title.trim().is_empty() {
            findings.push(format!("`{}` has no title", tool.name));
        }
        if tool.description.trim().len() < 10 {
            findings.push(format!(
                "`{}` has no useful description (a model chooses tools by it)",
                tool.name
            ));
        }
    }
    Check::new(
        "tools.descriptions",
        "titles and descriptions are present",
        findings,
    )
}

pub fn annotations(tools: &[wit::ToolDescriptor]) -> Check {
    let mut findings = Vec::new();
    for tool in tools {
        let a = &tool.annotations;
        if a.destructive && matches!(tool.policy_hint, wit::PolicyHint::Auto) {
            findings.push(format!(
                "`{}` is destructive but hints auto: a destructive tool needs approval or never",
                tool.name
            ));
        }
        if a.read_only && a.destructive {
            findings.push(format!(
                "`{}` claims to be both read-only and destructive",
                tool.name
            ));
        }
    }
    Check::new(
        "tools.annotations",
        "annotations are consistent with the policy hints",
        findings,
    )
}

/// Every route well-formed; a read-only tool declares reads only; a read sent as anything
/// but GET or HEAD is allowed and reported as a warning, for the operator to see.
pub fn routes(tools: &[wit::ToolDescriptor]) -> Check {
    let mut findings = Vec::new();
    let mut warnings = Vec::new();
    for tool in tools {
        for r in &tool.routes {
            let access = match r.access {
                wit::Access::Read => Access::Read,
                wit::Access::Write => Access::Write,
            };
            match ToolRoute::new(&r.method, &r.path, access) {
                Err(err) => findings.push(format!("`{}` route: {err}", tool.name)),
                Ok(route) if tool.annotations.read_only && access == Access::Write => findings
                    .push(format!(
                        "`{}` is read-only but declares the write `{route}`",
                        tool.name
                    )),
                Ok(route) if route.is_unusual_read() => warnings.push(format!(
                    "`{}` reads with `{} {}` (not GET or HEAD)",
                    tool.name, route.method, route.path
                )),
                Ok(_) => {}
            }
        }
    }
    Check::new(
        "tools.routes",
        "every request a tool may make is declared, and read-only tools only read",
        findings,
    )
    .with_warnings(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::Status;

    fn tool(
        name: &str,
        schema: &str,
        destructive: bool,
        hint: wit::PolicyHint,
    ) -> wit::ToolDescriptor {
        wit::ToolDescriptor {
            name: name.into(),
            title: "T".into(),
            description: "Does a useful thing.".into(),
            input_schema: schema.into(),
            output_schema: None,
            annotations: wit::Annotations {
                read_only: !destructive,
                destructive,
                idempotent: !destructive,
                open_world: true,
            },
            policy_hint: hint,
            permissions: vec![],
            routes: vec![wit::Route {
                method: "GET".into(),
                path: "/v1/things".into(),
                access: wit::Access::Read,
            }],
        }
    }

    #[test]
    fn routes_are_checked_and_unusual_reads_warned() {
        let obj = r#"{"type":"object"}"#;
        let mut reader = tool("reader", obj, false, wit::PolicyHint::Auto);
        assert!(routes(std::slice::from_ref(&reader)).status == Status::Pass);
        reader.routes.push(wit::Route {
            method: "POST".into(),
            path: "/v1/things/search".into(),
            access: wit::Access::Read,
        });
        let check = routes(std::slice::from_ref(&reader));
        assert_eq!(check.status, Status::Pass);
        assert_eq!(check.warnings.len(), 1, "{:?}", check.warnings);
        reader.routes.push(wit::Route {
            method: "POST".into(),
            path: "/v1/things".into(),
            access: wit::Access::Write,
        });
        reader.routes.push(wit::Route {
            method: "GET".into(),
            path: "relative".into(),
            access: wit::Access::Read,
        });
        let check = routes(&[reader]);
        assert_eq!(check.status, Status::Fail);
        assert_eq!(check.findings.len(), 2, "{:?}", check.findings);
    }

    #[test]
    fn finds_every_declaration_problem() {
        let obj = r#"{"type":"object"}"#;
        let tools = vec![
            tool("ok-tool", obj, false, wit::PolicyHint::Auto),
            tool("ok-tool", obj, false, wit::PolicyHint::Auto),
            tool("Bad_Name", obj, false, wit::PolicyHint::Auto),
            tool(
                "bad-schema",
                r#"{"type": 12}"#,
                false,
                wit::PolicyHint::Auto,
            ),
            tool("not-json", "{", false, wit::PolicyHint::Auto),
            tool("wipe-all", obj, true, wit::PolicyHint::Auto),
        ];
        assert_eq!(names(&tools).findings.len(), 2);
        assert_eq!(schemas(&tools).findings.len(), 2);
        assert_eq!(annotations(&tools).findings.len(), 1);
        assert!(descriptions(&tools).findings.is_empty());
    }
}
