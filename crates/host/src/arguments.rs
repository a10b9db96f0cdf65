//! Host-side validation of tool arguments against the tool's input schema, before the
//! plugin runs. The plugin validates too; the host does not trust it to.
//!
//! Schemas come from an untrusted plugin, so validators are built with no remote or file
//! resolution (`jsonschema` without its resolve features): a `$ref` to a URL fails closed.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The first problem found, naming the argument and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("invalid arguments: {field}: {message}")]
pub struct ArgumentError {
    /// `companyId`, `targets[0]`, or `(arguments)` for the object as a whole.
    pub field: String,
    /// What is wrong and what to pass instead.
    pub message: String,
}

/// Parses a call's arguments: the one parse the host makes of them.
pub fn parse_arguments(arguments: &str) -> Result<Value, ArgumentError> {
    let value: Value = serde_json::from_str(arguments).map_err(|err| ArgumentError {
        field: "(arguments)".into(),
        message: format!(
            "not valid JSON ({err}); pass a JSON object such as {{\"endpointId\": \"...\"}}"
        ),
    })?;
    if !value.is_object() {
        return Err(ArgumentError {
            field: "(arguments)".into(),
            message: "must be a JSON object".into(),
        });
    }
    Ok(value)
}

/// Compiled input schemas, one per tool, built on first use.
#[derive(Default)]
pub struct ArgumentValidators {
    compiled: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

impl ArgumentValidators {
    /// Checks parsed `arguments` (a JSON object) against `schema`, the input schema of `tool`.
    pub fn check(
        &self,
        tool: &str,
        schema: &Value,
        arguments: &Value,
    ) -> Result<(), ArgumentError> {
        if !arguments.is_object() {
            return Err(ArgumentError {
                field: "(arguments)".into(),
                message: "must be a JSON object".into(),
            });
        }
        let validator = self.validator(tool, schema)?;
        if let Some(error) = validator.iter_errors(arguments).next() {
            return Err(ArgumentError {
                field: field_of(&error),
                message: error.to_string(),
            });
        }
        Ok(())
    }

    /// Parses and checks: for callers holding the raw text.
    pub fn parse_and_check(
        &self,
        tool: &str,
        schema: &Value,
        arguments: &str,
    ) -> Result<Value, ArgumentError> {
        let value = parse_arguments(arguments)?;
        self.check(tool, schema, &value)?;
        Ok(value)
    }

    fn validator(
        &self,
        tool: &str,
        schema: &Value,
    ) -> Result<Arc<jsonschema::Validator>, ArgumentError> {
        let mut compiled = self.compiled.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = compiled.get(tool) {
            return Ok(v.clone());
        }
        let validator = jsonschema::validator_for(schema).map_err(|err| ArgumentError {
            field: "(schema)".into(),
            message: format!("the plugin's input schema for `{tool}` is unusable: {err}"),
        })?;
        let validator = Arc::new(validator);
        compiled.insert(tool.to_string(), validator.clone());
        Ok(validator)
    }

    /// Forgets compiled schemas (after a catalog refresh).
    pub fn clear(&self) {
        self.compiled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

fn field_of(error: &jsonschema::ValidationError<'_>) -> String {
    use jsonschema::error::ValidationErrorKind;
    let path = pointer_to_field(error.instance_path().as_str());
    let child = match error.kind() {
        ValidationErrorKind::Required { property } => property.as_str().map(str::to_string),
        ValidationErrorKind::AdditionalProperties { unexpected } => unexpected.first().cloned(),
        _ => None,
    };
    // A property named "" exists in JSON; name it so the message says which one.
    let child = child.map(|c| {
        if c.is_empty() {
            "\"\" (an empty property name)".to_string()
        } else {
            c
        }
    });
    match (path.is_empty(), child) {
        (true, Some(child)) => child,
        (false, Some(child)) => format!("{path}.{child}"),
        (true, None) => "(arguments)".into(),
        (false, None) => path,
    }
}

/// `/targets/0/id` -> `targets[0].id`
fn pointer_to_field(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if segment.chars().all(|c| c.is_ascii_digit()) && !segment.is_empty() {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "endpointId": {"type": "string", "format": "uuid"},
                "targets": {"type": "array", "items": {"type": "string", "minLength": 3}},
                "limit": {"type": "integer", "minimum": 1}
            },
            "required": ["endpointId"],
            "additionalProperties": false
        })
    }

    #[test]
    fn names_the_missing_field() {
        let err = ArgumentValidators::default()
            .parse_and_check("t", &schema(), "{}")
            .unwrap_err();
        assert_eq!(err.field, "endpointId");
    }

    #[test]
    fn names_nested_and_unknown_fields() {
        let v = ArgumentValidators::default();
        let err = v
            .parse_and_check(
                "t",
                &schema(),
                r#"{"endpointId":"x","targets":["ok1","a"]}"#,
            )
            .unwrap_err();
        assert_eq!(err.field, "targets[1]");
        let err = v
            .parse_and_check("t", &schema(), r#"{"endpointId":"x","bogus":1}"#)
            .unwrap_err();
        assert_eq!(err.field, "bogus");
        let err = v
            .parse_and_check("t", &schema(), r#"{"endpointId":"x","limit":0}"#)
            .unwrap_err();
        assert_eq!(err.field, "limit");
    }

    #[test]
    fn rejects_non_objects_and_bad_json() {
        let v = ArgumentValidators::default();
        assert_eq!(
            v.parse_and_check("t", &schema(), "[1]").unwrap_err().field,
            "(arguments)"
        );
        assert!(v
            .parse_and_check("t", &schema(), "{oops")
            .unwrap_err()
            .message
            .contains("not valid JSON"));
        assert!(v
            .parse_and_check("t", &schema(), r#"{"endpointId":"x"}"#)
            .is_ok());
    }
}
