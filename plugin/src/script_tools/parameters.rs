//! The parameters a script publishes: the tool's `parameters` schema and the check of supplied values.

use crate::errors::{ToolError, ToolResult};
use serde_json::{json, Map, Value};

/// The parameters a script publishes: property schemas and required names, or None when the
/// published schema is missing or unusable.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterSchema {
    pub properties: Option<Map<String, Value>>,
    pub required: Vec<String>,
}

pub fn parameter_schema(raw: &str) -> ParameterSchema {
    let parsed: Option<Value> = crate::pruned::parse_all(raw.trim().as_bytes()).ok();
    // Some producers double-encode the schema string.
    let parsed = match parsed {
        Some(Value::String(inner)) => crate::pruned::parse_all(inner.as_bytes()).ok(),
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
