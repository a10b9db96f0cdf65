//! The shell-script templates behind the script tools, decoded leniently from the API listing.

use crate::shape::text;
use serde_json::Value;

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
