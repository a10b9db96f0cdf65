//! One tool per active shell script: stable names (slugs), input schemas from the script's
//! published parameters, and calls that schedule the script through the run-task code path.

use crate::args::Args;
use crate::catalog::{self, object_schema, Policy, ToolSpec, RUN};
use crate::errors::{ToolError, ToolResult};
use crate::schedule::{self, ScheduleRequest, When};
use crate::shape::text;
use crate::tools::{scripts, tasks, Ctx};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

pub const PREFIX: &str = "cw-rmm-script-";
/// Tool names are at most 64 characters.
const MAX_NAME: usize = 64;
/// Room kept for a collision suffix such as `-12`.
const SUFFIX_ROOM: usize = 4;
const MAX_DESCRIPTION_CHARS: usize = 600;
/// `state` values that mean a script cannot be scheduled (the simulator and spec use `active`/`inactive`).
const INACTIVE_STATES: &[&str] = &[
    "inactive",
    "disabled",
    "deleted",
    "archived",
    "draft",
    "retired",
    "deprecated",
    "unpublished",
];
const SCRIPT_TOOL_KEYS: &[&str] = &[
    "parameters",
    "targets",
    "companyId",
    "targetType",
    "schedule",
];

/// A shell-script template as listed by `GET /automation/shellScripts`.
#[derive(Debug, Clone)]
pub struct ShellScript {
    pub template_id: String,
    pub name: String,
    pub description: String,
    pub json_schema: String,
    pub active: bool,
    pub raw: Value,
}

impl ShellScript {
    /// None for entries without a template id (they cannot be scheduled).
    pub fn from_json(raw: &Value) -> Option<ShellScript> {
        let template_id = text(raw, &["templateId", "templateID", "id"])?
            .trim()
            .to_string();
        if template_id.is_empty() {
            return None;
        }
        let active = match raw.get("state") {
            Some(Value::String(state)) => {
                !INACTIVE_STATES.contains(&state.trim().to_ascii_lowercase().as_str())
            }
            _ => raw.get("active").and_then(Value::as_bool).unwrap_or(true),
        };
        let json_schema = match raw.get("jsonSchema") {
            Some(Value::String(s)) => s.clone(),
            // Tolerate a schema served as an object instead of the documented JSON string.
            Some(other @ Value::Object(_)) => other.to_string(),
            _ => String::new(),
        };
        Some(ShellScript {
            name: text(raw, &["name"]).unwrap_or("").trim().to_string(),
            description: text(raw, &["description"]).unwrap_or("").trim().to_string(),
            template_id,
            json_schema,
            active,
            raw: raw.clone(),
        })
    }
}

/// Lowercase ASCII letters and digits joined by single dashes.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let max = MAX_NAME - PREFIX.len() - SUFFIX_ROOM;
    slug.truncate(max);
    slug.trim_end_matches('-').to_string()
}

fn base_slug(script: &ShellScript) -> String {
    let slug = slugify(&script.name);
    if !slug.is_empty() {
        return slug;
    }
    let id: String = script
        .template_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect();
    format!("script-{}", id.to_ascii_lowercase())
}

/// Tool names of the active scripts as `(templateId, name)`, independent of listing order:
/// equal slugs are ordered by templateId and get `-2`, `-3`, … after the first.
pub fn assign_tool_names(scripts: &[ShellScript]) -> Vec<(String, String)> {
    let mut entries: Vec<(String, &str)> = scripts
        .iter()
        .filter(|s| s.active)
        .map(|s| (base_slug(s), s.template_id.as_str()))
        .collect();
    entries.sort();
    entries.dedup_by(|a, b| a.1 == b.1);
    let mut used: BTreeSet<String> = entries.iter().map(|(slug, _)| slug.clone()).collect();
    let mut names = Vec::with_capacity(entries.len());
    for (index, (slug, id)) in entries.iter().enumerate() {
        let duplicate = index > 0 && entries[index - 1].0 == *slug;
        let slug = if duplicate {
            let mut n = 2;
            loop {
                let candidate = format!("{slug}-{n}");
                if !used.contains(&candidate)
                    && !catalog::is_static(&format!("{PREFIX}{candidate}"))
                {
                    used.insert(candidate.clone());
                    break candidate;
                }
                n += 1;
            }
        } else {
            slug.clone()
        };
        names.push((id.to_string(), format!("{PREFIX}{slug}")));
    }
    names
}

/// The parameters a script publishes: property schemas and required names, or None when the
/// published schema is missing or unusable.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterSchema {
    pub properties: Option<Map<String, Value>>,
    pub required: Vec<String>,
}

pub fn parameter_schema(raw: &str) -> ParameterSchema {
    let parsed: Option<Value> = serde_json::from_str(raw.trim()).ok();
    // Some producers double-encode the schema string.
    let parsed = match parsed {
        Some(Value::String(inner)) => serde_json::from_str(&inner).ok(),
        other => other,
    };
    let properties = parsed
        .as_ref()
        .and_then(|v| v.get("properties"))
        .and_then(Value::as_object)
        .cloned();
    let required = match (
        &properties,
        parsed
            .as_ref()
            .and_then(|v| v.get("required"))
            .and_then(Value::as_array),
    ) {
        (Some(props), Some(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .filter(|r| props.contains_key(*r))
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    ParameterSchema {
        properties,
        required,
    }
}

impl ParameterSchema {
    /// JSON Schema of the tool's `parameters` argument.
    pub fn to_json(&self) -> Value {
        match &self.properties {
            Some(props) => {
                json!({"type": "object", "properties": props, "required": self.required, "additionalProperties": false,
                                  "description": "The script's parameters."})
            }
            None => {
                json!({"type": "object", "description": "Script parameters by name (this script publishes no usable schema)."})
            }
        }
    }

    /// Checks supplied parameters against the published schema (names, required, basic types, enums).
    pub fn validate(
        &self,
        supplied: Option<&Map<String, Value>>,
    ) -> ToolResult<Map<String, Value>> {
        let supplied = supplied.cloned().unwrap_or_default();
        let Some(props) = &self.properties else {
            return Ok(supplied);
        };
        for required in &self.required {
            if supplied.get(required).is_none_or(Value::is_null) {
                return Err(ToolError::invalid(
                    format!("parameters.{required}"),
                    format!("the script requires parameter `{required}`"),
                ));
            }
        }
        for (key, value) in &supplied {
            let field = format!("parameters.{key}");
            let Some(schema) = props.get(key) else {
                let known: Vec<&str> = props.keys().map(String::as_str).collect();
                return Err(ToolError::invalid(
                    field,
                    format!(
                        "the script has no parameter `{key}`; it takes: {}",
                        known.join(", ")
                    ),
                ));
            };
            if let Some(expected) = schema.get("type").and_then(Value::as_str) {
                let ok = match expected {
                    "string" => value.is_string(),
                    "integer" => value.is_i64() || value.is_u64(),
                    "number" => value.is_number(),
                    "boolean" => value.is_boolean(),
                    "array" => value.is_array(),
                    "object" => value.is_object(),
                    _ => true,
                };
                if !ok {
                    return Err(ToolError::invalid(
                        field,
                        format!("`{key}` must be of type {expected}"),
                    ));
                }
            }
            if let Some(n) = value.as_f64() {
                if let Some(min) = schema
                    .get("minimum")
                    .and_then(Value::as_f64)
                    .filter(|min| n < *min)
                {
                    return Err(ToolError::invalid(
                        field,
                        format!("`{key}` must be at least {}", Value::from(min)),
                    ));
                }
                if let Some(max) = schema
                    .get("maximum")
                    .and_then(Value::as_f64)
                    .filter(|max| n > *max)
                {
                    return Err(ToolError::invalid(
                        field,
                        format!("`{key}` must be at most {}", Value::from(max)),
                    ));
                }
            }
            if let Some(text) = value.as_str() {
                let length = text.chars().count() as u64;
                if let Some(min) = schema
                    .get("minLength")
                    .and_then(Value::as_u64)
                    .filter(|min| length < *min)
                {
                    return Err(ToolError::invalid(
                        field,
                        format!("`{key}` must be at least {min} characters"),
                    ));
                }
                if let Some(max) = schema
                    .get("maxLength")
                    .and_then(Value::as_u64)
                    .filter(|max| length > *max)
                {
                    return Err(ToolError::invalid(
                        field,
                        format!("`{key}` must be at most {max} characters"),
                    ));
                }
            }
            if let Some(choices) = schema.get("enum").and_then(Value::as_array) {
                if !choices.contains(value) {
                    return Err(ToolError::invalid(
                        field,
                        format!("`{key}` must be one of {}", Value::Array(choices.clone())),
                    ));
                }
            }
        }
        Ok(supplied)
    }
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max).collect();
    out.push('…');
    out
}

/// The descriptor of one script tool.
pub fn descriptor(script: &ShellScript, tool_name: &str) -> ToolSpec {
    let params = parameter_schema(&script.json_schema);
    let mut properties = json!({"parameters": params.to_json(), "schedule": schedule::json_schema(When::NextCheckIn)});
    catalog::merge(&mut properties, catalog::target_properties());
    let required: Vec<&str> = if params.required.is_empty() {
        vec![]
    } else {
        vec!["parameters"]
    };
    let what = if script.description.is_empty() {
        String::new()
    } else {
        format!(" {}", clip(&script.description, MAX_DESCRIPTION_CHARS))
    };
    ToolSpec {
        name: tool_name.to_string(),
        title: if script.name.is_empty() { tool_name.to_string() } else { format!("Run script: {}", script.name) },
        description: format!(
            "Run the ConnectWise RMM shell script \"{}\" on endpoints (targets) or every endpoint of a company (companyId + targetType COMPANY).{what} Scheduled at the next agent check-in unless schedule says otherwise; returns taskId for cw-rmm-get-task-results. Changes devices: needs approval.",
            script.name
        ),
        input_schema: object_schema(properties, &required),
        output_schema: None,
        annotations: RUN,
        policy: Policy::Approval,
        permissions: vec!["scheduled-task:create".to_string()],
    }
}

/// Descriptors of every active script, in tool-name order.
pub fn discover(ctx: &Ctx) -> ToolResult<Vec<ToolSpec>> {
    let scripts = scripts::fetch_shell_scripts(ctx)?;
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
    let args = Args::parse(raw, SCRIPT_TOOL_KEYS)?;
    let scripts = scripts::fetch_shell_scripts(ctx)?;
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
    let targets = tasks::resolve_targets(ctx, &args)?;
    let name = if script.name.is_empty() {
        tool_name.to_string()
    } else {
        script.name.clone()
    };
    tasks::submit(
        ctx,
        &tasks::TaskRequest {
            template_id: script.template_id.clone(),
            template_type: "script".to_string(),
            name,
            description: script.description.clone(),
            parameters,
            targets,
            schedule,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(id: &str, name: &str, state: &str) -> ShellScript {
        ShellScript::from_json(
            &json!({"templateId": id, "name": name, "state": state, "jsonSchema": "garbage{"}),
        )
        .unwrap()
    }

    #[test]
    fn slugs() {
        assert_eq!(slugify("Disk Cleanup"), "disk-cleanup");
        assert_eq!(
            slugify("  Restart   Print Spooler (v2)! "),
            "restart-print-spooler-v2"
        );
        assert_eq!(slugify("Über-Wartung"), "ber-wartung");
        assert_eq!(slugify("___"), "");
        let long = slugify(&"a".repeat(100));
        assert_eq!(long.len(), MAX_NAME - PREFIX.len() - SUFFIX_ROOM);
        assert_eq!(slugify(&format!("{} b", "a".repeat(45))), "a".repeat(45));
    }

    #[test]
    fn names_are_stable_unique_and_skip_inactive() {
        let a = script(
            "bbbb0000-0000-4000-8000-000000000002",
            "Disk Cleanup",
            "active",
        );
        let b = script(
            "aaaa0000-0000-4000-8000-000000000001",
            "disk cleanup!",
            "ACTIVE",
        );
        let c = script(
            "cccc0000-0000-4000-8000-000000000003",
            "Disk Cleanup 2",
            "active",
        );
        let d = script("dddd0000-0000-4000-8000-000000000004", "日本語", "active");
        let e = script(
            "eeee0000-0000-4000-8000-000000000005",
            "Disk Cleanup",
            "inactive",
        );
        let forward = assign_tool_names(&[a.clone(), b.clone(), c.clone(), d.clone(), e.clone()]);
        let backward = assign_tool_names(&[e, d, c, b, a]);
        let mut f = forward.clone();
        let mut g = backward;
        f.sort();
        g.sort();
        assert_eq!(f, g);
        let name_of = |id: &str| forward.iter().find(|(i, _)| i == id).unwrap().1.clone();
        assert_eq!(
            name_of("aaaa0000-0000-4000-8000-000000000001"),
            "cw-rmm-script-disk-cleanup"
        );
        // "disk-cleanup-2" is taken by a script's own name, so the duplicate gets -3.
        assert_eq!(
            name_of("bbbb0000-0000-4000-8000-000000000002"),
            "cw-rmm-script-disk-cleanup-3"
        );
        assert_eq!(
            name_of("cccc0000-0000-4000-8000-000000000003"),
            "cw-rmm-script-disk-cleanup-2"
        );
        assert_eq!(
            name_of("dddd0000-0000-4000-8000-000000000004"),
            "cw-rmm-script-script-dddd0000"
        );
        assert_eq!(forward.len(), 4);
        for (_, name) in &forward {
            assert!(name.len() <= MAX_NAME && !catalog::is_static(name));
        }
    }

    #[test]
    fn parameter_schemas_tolerate_garbage() {
        let good = parameter_schema(
            r#"{"type":"object","properties":{"drive":{"type":"string","enum":["C:","D:"],"minLength":2},"days":{"type":"integer","minimum":0,"maximum":3650}},"required":["drive","ghost"]}"#,
        );
        assert_eq!(good.required, vec!["drive"]);
        assert_eq!(good.to_json()["additionalProperties"], false);
        let double =
            parameter_schema(&serde_json::to_string(r#"{"properties":{"x":{}}}"#).unwrap());
        assert!(double.properties.unwrap().contains_key("x"));
        for garbage in ["", "not json", "[1,2]", r#"{"properties":3}"#] {
            let schema = parameter_schema(garbage);
            assert!(schema.properties.is_none());
            assert!(schema.to_json().get("additionalProperties").is_none());
        }
        let field = |r: ToolResult<Map<String, Value>>| match r {
            Err(ToolError::InvalidInput { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(good.validate(None)), "parameters.drive");
        assert_eq!(
            field(good.validate(json!({"drive": "E:"}).as_object())),
            "parameters.drive"
        );
        assert_eq!(
            field(good.validate(json!({"drive": "C:", "days": 1.5}).as_object())),
            "parameters.days"
        );
        assert_eq!(
            field(good.validate(json!({"drive": "C:", "x": 1}).as_object())),
            "parameters.x"
        );
        assert!(good
            .validate(json!({"drive": "C:", "days": 7}).as_object())
            .is_ok());
    }

    #[test]
    fn descriptors_follow_the_contract() {
        let s = ShellScript::from_json(
            &json!({"templateId": "t1", "name": "Disk Cleanup", "description": "Frees space",
            "jsonSchema": r#"{"properties":{"drive":{"type":"string"}},"required":["drive"]}"#}),
        )
        .unwrap();
        let d = descriptor(&s, "cw-rmm-script-disk-cleanup");
        assert_eq!(d.policy, Policy::Approval);
        assert_eq!(d.input_schema["required"], json!(["parameters"]));
        assert_eq!(
            d.input_schema["properties"]["schedule"]["properties"]["type"]["default"],
            "next-check-in"
        );
        assert!(d.input_schema["properties"]["targets"].is_object());
        assert_eq!(d.input_schema["additionalProperties"], false);
    }

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
