//! Descriptors of the 17 static tools: names, descriptions for a model, schemas, hints.

use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Auto,
    Approval,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Annotations {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    pub open_world: bool,
}

pub const READ: Annotations = Annotations {
    read_only: true,
    destructive: false,
    idempotent: true,
    open_world: true,
};
pub const RUN: Annotations = Annotations {
    read_only: false,
    destructive: true,
    idempotent: false,
    open_world: true,
};
pub const CREATE: Annotations = Annotations {
    read_only: false,
    destructive: false,
    idempotent: false,
    open_world: true,
};

#[derive(Debug, Clone)]
pub struct ToolSpec {
    pub name: String,
    pub title: String,
    pub description: String,
    pub input_schema: Value,
    pub output_schema: Option<Value>,
    pub annotations: Annotations,
    pub policy: Policy,
    pub permissions: Vec<String>,
    /// Every request the tool may make (see [`crate::routes`]).
    pub routes: Vec<crate::routes::Route>,
}

pub const LIST_COMPANIES: &str = "cw-rmm-list-companies";
pub const GET_COMPANY: &str = "cw-rmm-get-company";
pub const LIST_SITES: &str = "cw-rmm-list-sites";
pub const LIST_DEVICES: &str = "cw-rmm-list-devices";
pub const GET_DEVICE: &str = "cw-rmm-get-device";
pub const GET_DEVICE_STATE: &str = "cw-rmm-get-device-state";
pub const GET_DEVICE_PATCHES: &str = "cw-rmm-get-device-patches";
pub const LIST_DEVICE_GROUPS: &str = "cw-rmm-list-device-groups";
pub const LIST_SCRIPTS: &str = "cw-rmm-list-scripts";
pub const LIST_SHELL_SCRIPTS: &str = "cw-rmm-list-shell-scripts";
pub const LIST_TASKS: &str = "cw-rmm-list-tasks";
pub const GET_TASKS_SUMMARY: &str = "cw-rmm-get-tasks-summary";
pub const RUN_TASK: &str = "cw-rmm-run-task";
pub const GET_TASK_RESULTS: &str = "cw-rmm-get-task-results";
pub const LIST_TICKETS: &str = "cw-rmm-list-tickets";
pub const GET_TICKET: &str = "cw-rmm-get-ticket";
pub const CREATE_TICKET: &str = "cw-rmm-create-ticket";

/// Endpoint types seen in the API; others are accepted as long as they are plain words, because
/// the spec publishes no closed list.
pub const ENDPOINT_TYPES: &[&str] = &["Server", "Desktop", "Laptop"];
pub const TICKET_SORT_FIELDS: &[&str] = &[
    "assignTo",
    "number",
    "updatedAt",
    "createdAt",
    "status",
    "type",
    "priority",
    "summary",
    "assignTeam",
    "dueDate",
    "source",
];

/// The static tools' descriptors as data: building them with `json!` cost ~40 KB of component.
const CATALOG_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/catalog.min.json"));

const SCHEMA_DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// A draft 2020-12 object schema that allows only the listed properties.
pub fn object_schema(properties: Value, required: &[&str]) -> Value {
    json!({
        "$schema": SCHEMA_DIALECT,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false
    })
}

/// Target selection shared by run-task and the script tools, as text (parsed on use): a
/// `json!` literal of it cost ~3 KB of component code.
const TARGET_PROPERTIES: &str = r#"{"targets":{"type":"array","items":{"type":"string","format":"uuid"},"minItems":1,"maxItems":1000,"uniqueItems":true,"description":"Endpoint ids (endpointId from cw-rmm-list-devices) to run on. Use this or companyId."},"companyId":{"type":"string","format":"uuid","description":"Run on every endpoint of this company; requires targetType COMPANY."},"targetType":{"type":"string","enum":["MANAGED_ENDPOINT","COMPANY"],"description":"MANAGED_ENDPOINT with targets (default), or COMPANY with companyId."}}"#;

pub fn target_properties() -> Value {
    crate::pruned::parse_all(TARGET_PROPERTIES.as_bytes()).unwrap_or_default()
}

/// The `i`th of the four annotation flags `build.rs` writes in a fixed order.
fn flag(flags: &Value, i: usize) -> bool {
    flags.get(i).and_then(Value::as_bool).unwrap_or(false)
}

fn spec_from_json(tool: &Value) -> ToolSpec {
    let text = |key: &str| {
        tool.get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let flags = tool.get("annotations").cloned().unwrap_or(Value::Null);
    let mut input_schema = tool.get("inputSchema").cloned().unwrap_or(Value::Null);
    input_schema["$schema"] = json!(SCHEMA_DIALECT);
    ToolSpec {
        name: text("name"),
        title: text("title"),
        description: text("description"),
        input_schema,
        output_schema: tool.get("outputSchema").cloned(),
        annotations: Annotations {
            read_only: flag(&flags, 0),
            destructive: flag(&flags, 1),
            idempotent: flag(&flags, 2),
            open_world: flag(&flags, 3),
        },
        policy: if text("policy") == "auto" {
            Policy::Auto
        } else {
            Policy::Approval
        },
        permissions: tool
            .get("permissions")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        routes: crate::routes::from_catalog(tool),
    }
}

/// The static tools in a fixed order. The embedded catalog is checked by the unit tests, so the
/// empty fallback never happens in a released build; it only avoids a trap.
pub fn static_tools() -> Vec<ToolSpec> {
    match crate::pruned::parse_all(CATALOG_JSON.as_bytes()) {
        Ok(Value::Array(tools)) => tools.iter().map(spec_from_json).collect(),
        _ => Vec::new(),
    }
}

/// Adds the members of `extra` into `base` (both objects).
pub fn merge(base: &mut Value, extra: Value) {
    if let (Value::Object(base), Value::Object(extra)) = (base, extra) {
        base.extend(extra);
    }
}

pub fn is_static(name: &str) -> bool {
    static_tools().iter().any(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seventeen_valid_unique_tools() {
        let tools = static_tools();
        assert_eq!(tools.len(), 17);
        let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 17);
        for tool in &tools {
            assert!(tool.name.len() <= 64 && tool.name.starts_with("cw-rmm-"));
            assert!(tool
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            assert_eq!(tool.input_schema["type"], "object");
            assert_eq!(tool.input_schema["additionalProperties"], false);
            for required in tool.input_schema["required"].as_array().unwrap() {
                assert!(
                    tool.input_schema["properties"]
                        .get(required.as_str().unwrap())
                        .is_some(),
                    "{}",
                    tool.name
                );
            }
            let approval = matches!(tool.name.as_str(), RUN_TASK | CREATE_TICKET);
            assert_eq!(tool.policy == Policy::Approval, approval, "{}", tool.name);
            assert_eq!(tool.annotations.read_only, !approval);
        }
        assert!(
            tools
                .iter()
                .find(|t| t.name == RUN_TASK)
                .unwrap()
                .annotations
                .destructive
        );
        assert_eq!(
            tools
                .iter()
                .find(|t| t.name == CREATE_TICKET)
                .unwrap()
                .annotations,
            CREATE
        );
        for tool in tools.iter().filter(|t| t.annotations.read_only) {
            assert_eq!(tool.annotations, READ, "{}", tool.name);
        }
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names[..3], [LIST_COMPANIES, GET_COMPANY, LIST_SITES]);
        assert_eq!(names[16], CREATE_TICKET);
        let permissions = |name: &str| {
            tools
                .iter()
                .find(|t| t.name == name)
                .unwrap()
                .permissions
                .clone()
        };
        assert_eq!(permissions(RUN_TASK), ["scheduled-task:create"]);
        assert_eq!(permissions(GET_TASKS_SUMMARY), ["scheduled-task:view"]);
        assert_eq!(permissions(LIST_SHELL_SCRIPTS), ["tasks:view"]);
        assert_eq!(permissions(GET_DEVICE_PATCHES), ["devices:view"]);
        assert_eq!(permissions(CREATE_TICKET), ["tickets:create"]);
    }

    #[test]
    fn run_task_schema_shares_the_schedule_and_target_schemas() {
        let tools = static_tools();
        let run = &tools
            .iter()
            .find(|t| t.name == RUN_TASK)
            .unwrap()
            .input_schema["properties"];
        assert_eq!(
            run["schedule"],
            crate::schedule::json_schema(crate::schedule::When::Now)
        );
        for (key, schema) in target_properties().as_object().unwrap() {
            assert_eq!(&run[key], schema, "{key}");
        }
    }
}
