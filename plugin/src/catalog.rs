//! Descriptors of the 17 static tools: names, descriptions for a model, schemas, hints.

use crate::schedule::{self, When};
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

pub const READ: Annotations = Annotations { read_only: true, destructive: false, idempotent: true, open_world: true };
pub const RUN: Annotations = Annotations { read_only: false, destructive: true, idempotent: false, open_world: true };
pub const CREATE: Annotations = Annotations { read_only: false, destructive: false, idempotent: false, open_world: true };

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
pub const TICKET_SORT_FIELDS: &[&str] =
    &["assignTo", "number", "updatedAt", "createdAt", "status", "type", "priority", "summary", "assignTeam", "dueDate", "source"];

fn uuid(description: &str) -> Value {
    json!({"type": "string", "format": "uuid", "description": description})
}

fn name_contains() -> Value {
    json!({"type": "string", "minLength": 1, "description": "Case-insensitive substring to match on the name."})
}

fn limit(max: u64, default: u64) -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": max, "default": default, "description": "Maximum number of items to return."})
}

/// A draft 2020-12 object schema that allows only the listed properties.
pub fn object_schema(properties: Value, required: &[&str]) -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false
    })
}

/// Target selection shared by run-task and the script tools.
pub fn target_properties() -> Value {
    json!({
        "targets": {"type": "array", "items": {"type": "string", "format": "uuid"}, "minItems": 1, "maxItems": 1000, "uniqueItems": true,
                    "description": "Endpoint ids (endpointId from cw-rmm-list-devices) to run on. Use this or companyId."},
        "companyId": {"type": "string", "format": "uuid", "description": "Run on every endpoint of this company; requires targetType COMPANY."},
        "targetType": {"type": "string", "enum": ["MANAGED_ENDPOINT", "COMPANY"],
                       "description": "MANAGED_ENDPOINT with targets (default), or COMPANY with companyId."}
    })
}

fn spec(name: &str, title: &str, description: &str, input: Value, output: Option<Value>, annotations: Annotations, policy: Policy, permission: &str) -> ToolSpec {
    ToolSpec {
        name: name.to_string(),
        title: title.to_string(),
        description: description.to_string(),
        input_schema: input,
        output_schema: output,
        annotations,
        policy,
        permissions: vec![permission.to_string()],
    }
}

fn list_output(key: &str) -> Value {
    json!({"type": "object", "properties": {key: {"type": "array", "items": {"type": "object"}}, "count": {"type": "integer"}}, "required": [key, "count"]})
}

/// The static tools in a fixed order.
pub fn static_tools() -> Vec<ToolSpec> {
    let mut tools = Vec::with_capacity(17);
    tools.push(spec(LIST_COMPANIES, "List companies",
        "List the companies (clients) managed in ConnectWise RMM with their companyId. Use nameContains to find one company by name or friendly name before calling tools that need a companyId.",
        object_schema(json!({"nameContains": name_contains(), "limit": limit(1000, 100)}), &[]),
        Some(list_output("companies")), READ, Policy::Auto, "companies:view"));
    tools.push(spec(GET_COMPANY, "Get company",
        "Get one company's details: status, primary site, primary contact and address.",
        object_schema(json!({"companyId": uuid("companyId from cw-rmm-list-companies.")}), &["companyId"]),
        None, READ, Policy::Auto, "companies:view"));
    tools.push(spec(LIST_SITES, "List sites",
        "List sites (locations) across all companies or for one company, with siteId and companyId.",
        object_schema(json!({"companyId": uuid("Only sites of this company."), "nameContains": name_contains(), "limit": limit(1000, 100)}), &[]),
        Some(list_output("sites")), READ, Policy::Auto, "companies:view"));
    tools.push(spec(LIST_DEVICES, "List devices",
        "List managed endpoints (devices) with endpointId, companyId, siteId, names, type, OS and IPs. Resolve a device mentioned by name (e.g. \"DC01\" or \"Maria's laptop\") with `name`; narrow with companyId or siteId when known. Without them every company is searched.",
        object_schema(json!({
            "companyId": uuid("Only devices of this company."),
            "siteId": uuid("Only devices of this site."),
            "name": {"type": "string", "minLength": 1, "description": "Case-insensitive substring of the friendly name or device name."},
            "endpointType": {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z]+$", "examples": ENDPOINT_TYPES}, "minItems": 1, "maxItems": 10, "uniqueItems": true, "description": "Only these endpoint types, e.g. [\"Server\"] or [\"Desktop\", \"Laptop\"]."},
            "limit": limit(10000, 100)
        }), &[]),
        Some(json!({"type": "object", "properties": {"devices": {"type": "array", "items": {"type": "object"}}, "count": {"type": "integer"}, "truncated": {"type": "boolean"}}, "required": ["devices", "count", "truncated"]})),
        READ, Policy::Auto, "devices:view"));
    tools.push(spec(GET_DEVICE, "Get device",
        "Get hardware, OS, network, drive, antivirus and user details of one endpoint. companyId and siteId are looked up when omitted.",
        object_schema(json!({"endpointId": uuid("endpointId from cw-rmm-list-devices."), "companyId": uuid("The endpoint's company (optional)."), "siteId": uuid("The endpoint's site (optional).")}), &["endpointId"]),
        None, READ, Policy::Auto, "devices:view"));
    tools.push(spec(GET_DEVICE_STATE, "Get device state",
        "Get live health of one endpoint in one answer: online status and last heartbeat, CPU, memory, disks, last boot time and logged-on users, with an overall health verdict (healthy, warning, critical, offline) and the issues behind it.",
        object_schema(json!({"endpointId": uuid("endpointId from cw-rmm-list-devices.")}), &["endpointId"]),
        Some(json!({"type": "object", "properties": {"endpointId": {"type": "string"}, "online": {"type": ["boolean", "null"]}, "health": {"enum": ["healthy", "warning", "critical", "offline", "unknown"]}, "issues": {"type": "array", "items": {"type": "string"}}}, "required": ["endpointId", "health", "issues"]})),
        READ, Policy::Auto, "devices:view"));
    tools.push(spec(GET_DEVICE_PATCHES, "Get device patches",
        "Get an endpoint's patch status: missing, installed and pending-reboot counts, compliance, schedules, and the patch list. Patch status codes are passed through as statusCode.",
        object_schema(json!({"endpointId": uuid("endpointId from cw-rmm-list-devices.")}), &["endpointId"]),
        Some(json!({"type": "object", "properties": {"summary": {"type": "object"}, "patches": {"type": "array"}}, "required": ["summary", "patches"]})),
        READ, Policy::Auto, "devices:view"));
    tools.push(spec(LIST_DEVICE_GROUPS, "List device groups",
        "List the configured device groups (static and dynamic) with their ids.",
        object_schema(json!({"nameContains": name_contains()}), &[]),
        Some(list_output("groups")), READ, Policy::Auto, "devices:view"));
    tools.push(spec(LIST_SCRIPTS, "List scripts",
        "List the automation script library. Each templateId can be run with cw-rmm-run-task.",
        object_schema(json!({"nameContains": name_contains()}), &[]),
        Some(list_output("scripts")), READ, Policy::Auto, "tasks:view"));
    tools.push(spec(LIST_SHELL_SCRIPTS, "List shell scripts",
        "List shell scripts (PowerShell, Bash, CMD templates) with templateId, parameters, supported OS and the per-script tool name (cw-rmm-script-...) that runs each one.",
        object_schema(json!({"nameContains": name_contains(), "includeInactive": {"type": "boolean", "default": false, "description": "Also list inactive scripts."}}), &[]),
        Some(list_output("scripts")), READ, Policy::Auto, "tasks:view"));
    tools.push(spec(LIST_TASKS, "List tasks",
        "List automation task definitions (what can be scheduled) with their parameters and supported OS.",
        object_schema(json!({"nameContains": name_contains()}), &[]),
        Some(list_output("tasks")), READ, Policy::Auto, "tasks:view"));
    tools.push(spec(GET_TASKS_SUMMARY, "Get tasks summary",
        "Summarize scheduled tasks and their execution state (success/failure counts) across the tenant for a time window (default the last 24 hours), or for one endpoint. Gives taskId for cw-rmm-get-task-results.",
        object_schema(json!({
            "endpointId": uuid("Only tasks of this endpoint."),
            "from": {"type": "string", "format": "date-time", "description": "RFC 3339 window start (default 24 hours ago)."},
            "to": {"type": "string", "format": "date-time", "description": "RFC 3339 window end (default now)."}
        }), &[]),
        Some(list_output("tasks")), READ, Policy::Auto, "scheduled-task:view"));
    let mut run_props = json!({
        "templateId": uuid("Script or template id (templateId from cw-rmm-list-scripts or cw-rmm-list-shell-scripts)."),
        "templateType": {"type": "string", "minLength": 1, "default": "script", "description": "Template type; script unless told otherwise."},
        "name": {"type": "string", "minLength": 1, "maxLength": 200, "description": "Task name shown in ConnectWise RMM."},
        "parameters": {"type": "object", "description": "Script parameters by name."},
        "schedule": schedule::json_schema(When::Now)
    });
    merge(&mut run_props, target_properties());
    tools.push(spec(RUN_TASK, "Run task",
        "Schedule a script or template on endpoints (by endpoint ids in targets, or every endpoint of a company with companyId + targetType COMPANY), now by default or at the next check-in, once or recurring. Returns taskId; poll cw-rmm-get-task-results for output. Changes devices: needs approval.",
        object_schema(run_props, &["templateId"]),
        Some(json!({"type": "object", "properties": {"taskId": {"type": "string"}, "name": {"type": "string"}, "targetCount": {"type": "integer"}, "schedule": {"type": "object"}}, "required": ["taskId", "targetCount", "schedule"]})),
        RUN, Policy::Approval, "scheduled-task:create"));
    tools.push(spec(GET_TASK_RESULTS, "Get task results",
        "Get the outcome of a scheduled task: the latest (or given) instance's status, whether it is done, counts, and per-endpoint output and errors. Poll until done is true.",
        object_schema(json!({"taskId": uuid("taskId from cw-rmm-run-task or cw-rmm-get-tasks-summary."), "instanceId": uuid("A specific instance (default: the latest).")}), &["taskId"]),
        Some(json!({"type": "object", "properties": {"taskId": {"type": "string"}, "instanceId": {"type": ["string", "null"]}, "status": {"type": "string"}, "done": {"type": "boolean"}, "counts": {"type": "object"}, "results": {"type": "array"}}, "required": ["taskId", "done", "results"]})),
        READ, Policy::Auto, "scheduled-task:view"));
    tools.push(spec(LIST_TICKETS, "List tickets",
        "List service tickets, newest first by default, filtered by company, site, status name, priority name or summary text.",
        object_schema(json!({
            "companyId": uuid("Only tickets of this company."),
            "siteId": uuid("Only tickets of this site."),
            "status": {"type": "string", "minLength": 1, "description": "Status name (or id), e.g. New."},
            "priority": {"type": "string", "minLength": 1, "description": "Priority name (or id), e.g. High."},
            "summaryContains": {"type": "string", "minLength": 1, "description": "Text to search in the ticket summary."},
            "sortBy": {"type": "string", "enum": TICKET_SORT_FIELDS, "default": "createdAt"},
            "sortDir": {"type": "string", "enum": ["asc", "desc"], "default": "desc"},
            "limit": limit(1000, 50)
        }), &[]),
        Some(json!({"type": "object", "properties": {"tickets": {"type": "array"}, "totalCount": {"type": "integer"}, "count": {"type": "integer"}}, "required": ["tickets", "count"]})),
        READ, Policy::Auto, "tickets:view"));
    tools.push(spec(GET_TICKET, "Get ticket",
        "Get one service ticket in full: description, status, priority, board, source, company, site, assets, assignee and tags.",
        object_schema(json!({"ticketId": uuid("ticketId from cw-rmm-list-tickets.")}), &["ticketId"]),
        None, READ, Policy::Auto, "tickets:view"));
    tools.push(spec(CREATE_TICKET, "Create ticket",
        "Create a service ticket. board, source and priority accept an id or a name (resolved through the ticketing lookups). Link it to a company, site and endpoints when known.",
        object_schema(json!({
            "summary": {"type": "string", "minLength": 1, "maxLength": 500},
            "description": {"type": "string", "minLength": 1},
            "board": {"type": "string", "minLength": 1, "description": "Service board id or name."},
            "source": {"type": "string", "minLength": 1, "description": "Ticket source id or name."},
            "priority": {"type": "string", "minLength": 1, "description": "Priority id or name."},
            "companyId": uuid("Company the ticket is for."),
            "siteId": uuid("Site the ticket is for."),
            "endpointIds": {"type": "array", "items": {"type": "string", "format": "uuid"}, "minItems": 1, "maxItems": 100, "uniqueItems": true, "description": "Endpoints (assets) the ticket is about."}
        }), &["summary", "description", "board", "source"]),
        Some(json!({"type": "object", "properties": {"ticketId": {"type": "string"}, "number": {}, "summary": {"type": "string"}}, "required": ["ticketId"]})),
        CREATE, Policy::Approval, "tickets:create"));
    tools
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
            assert!(tool.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            assert_eq!(tool.input_schema["type"], "object");
            assert_eq!(tool.input_schema["additionalProperties"], false);
            for required in tool.input_schema["required"].as_array().unwrap() {
                assert!(tool.input_schema["properties"].get(required.as_str().unwrap()).is_some(), "{}", tool.name);
            }
            let approval = matches!(tool.name.as_str(), RUN_TASK | CREATE_TICKET);
            assert_eq!(tool.policy == Policy::Approval, approval, "{}", tool.name);
            assert_eq!(tool.annotations.read_only, !approval);
        }
        assert!(tools.iter().find(|t| t.name == RUN_TASK).unwrap().annotations.destructive);
        assert_eq!(tools.iter().find(|t| t.name == CREATE_TICKET).unwrap().annotations, CREATE);
    }
}
