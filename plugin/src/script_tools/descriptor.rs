//! The tool descriptor of one shell script: title, description and input schema.

use super::parameters::parameter_schema;
use super::shell_script::ShellScript;
use crate::catalog::{self, object_schema, Policy, ToolSpec, RUN};
use crate::schedule::{self, When};
use serde_json::json;

const MAX_DESCRIPTION_CHARS: usize = 600;

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
    let mut input_schema = object_schema(properties, &required);
    // Which template the tool runs, in what the operator sees and the host digests: an
    // approval or override of this tool is bound to it, so a rename in the tenant that points
    // the tool's name at another template voids them instead of redirecting them.
    input_schema["$comment"] = json!(format!("shell script template {}", script.template_id));
    let what = if script.description.is_empty() {
        String::new()
    } else {
        format!(" {}", clip(&script.description, MAX_DESCRIPTION_CHARS))
    };
    ToolSpec {
        name: tool_name.to_string(),
        title: if script.name.is_empty() { tool_name.to_string() } else { format!("Run script: {}", script.name) },
        description: format!(
            "Run the ConnectWise RMM shell script \"{}\" on endpoints (targets) or every endpoint of a company (companyId + targetType COMPANY).{what} Scheduled at the next agent check-in unless schedule says otherwise; returns taskId for cw-rmm-get-task-results. The host's policy decides whether a run waits for approval.",
            script.name
        ),
        input_schema,
        output_schema: None,
        annotations: RUN,
        // "No opinion": the plugin cannot know what a tenant's script does, so the host's
        // classifier decides from its name and description (a hint can only make it stricter).
        policy: Policy::Auto,
        permissions: vec!["scheduled-task:create".to_string()],
        routes: crate::routes::script_tool(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_follow_the_contract() {
        let s = ShellScript::from_json(
            &json!({"templateId": "t1", "name": "Disk Cleanup", "description": "Frees space",
            "jsonSchema": r#"{"properties":{"drive":{"type":"string"}},"required":["drive"]}"#}),
        )
        .unwrap();
        let d = descriptor(&s, "cw-rmm-script-disk-cleanup");
        assert_eq!(d.policy, Policy::Auto);
        assert!(d
            .description
            .ends_with("The host's policy decides whether a run waits for approval."));
        assert_eq!(d.input_schema["required"], json!(["parameters"]));
        assert_eq!(
            d.input_schema["properties"]["schedule"]["properties"]["type"]["default"],
            "next-check-in"
        );
        assert!(d.input_schema["properties"]["targets"].is_object());
        assert_eq!(d.input_schema["additionalProperties"], false);
        assert_eq!(d.input_schema["$comment"], "shell script template t1");
    }
}
