//! Helpers for reading loosely typed upstream JSON and building trimmed answers.

use crate::errors::{ToolError, ToolResult};
use serde_json::{Map, Value};

/// Lets go of a value without freeing it. The instance a call runs in is thrown away when the
/// call returns, and its memory with it, so freeing a parsed answer member by member is work
/// nobody needs: 24,000 of the 380,000 instructions a three-company listing costs in the
/// plugin (callgrind). Only for a value that lives until the call ends, never inside a loop:
/// a listing frees each page as it goes, or its memory would grow with the number of pages.
pub fn discard(value: Value) {
    std::mem::forget(value)
}

/// The first present, non-null value among `keys` (Asio spells one field several ways).
pub fn pick<'v>(value: &'v Value, keys: &[&str]) -> Option<&'v Value> {
    keys.iter()
        .find_map(|key| value.get(*key).filter(|v| !v.is_null()))
}

/// Like [`pick`] but cloned, JSON null when absent.
pub fn field(value: &Value, keys: &[&str]) -> Value {
    pick(value, keys).cloned().unwrap_or(Value::Null)
}

pub fn text<'v>(value: &'v Value, keys: &[&str]) -> Option<&'v str> {
    pick(value, keys).and_then(Value::as_str)
}

/// `thing.id` of a nested `{id, name}` reference.
pub fn nested_id(value: &Value, key: &str) -> Value {
    value
        .get(key)
        .and_then(|v| v.get("id"))
        .cloned()
        .unwrap_or(Value::Null)
}

/// `thing.name` of a nested `{id, name}` reference.
pub fn nested_name(value: &Value, key: &str) -> Value {
    value
        .get(key)
        .and_then(|v| v.get("name"))
        .cloned()
        .unwrap_or(Value::Null)
}

/// The body as an array, or the array under one of `keys` when the body is an object wrapper.
pub fn array<'v>(value: &'v Value, keys: &[&str], what: &str) -> ToolResult<&'v Vec<Value>> {
    static EMPTY: Vec<Value> = Vec::new();
    match value {
        Value::Array(items) => Ok(items),
        Value::Null => Ok(&EMPTY),
        Value::Object(_) => match pick(value, keys) {
            Some(Value::Array(items)) => Ok(items),
            None => Ok(&EMPTY),
            Some(_) => Err(ToolError::upstream_shape(&format!(
                "{what}: expected a list"
            ))),
        },
        _ => Err(ToolError::upstream_shape(&format!(
            "{what}: expected a list"
        ))),
    }
}

/// An object with null members dropped, so answers stay short.
pub fn compact(pairs: Vec<(&str, Value)>) -> Value {
    let mut map = Map::new();
    for (key, value) in pairs {
        if !value.is_null() {
            map.insert(key.to_string(), value);
        }
    }
    Value::Object(map)
}

/// `compact` of `(key, field(value, keys))` pairs, as a table: a table is data where the
/// same pairs written out cost component code.
pub fn project(value: &Value, fields: &[(&str, &[&str])]) -> Value {
    compact(
        fields
            .iter()
            .map(|(key, keys)| (*key, field(value, keys)))
            .collect(),
    )
}

/// The members of `a` and `b` (both objects) in one object.
pub fn merged(mut a: Value, b: Value) -> Value {
    if let (Value::Object(a), Value::Object(b)) = (&mut a, b) {
        a.extend(b);
    }
    a
}

/// Truncates long free text (script output) so one call cannot flood the model's context.
pub fn clip(value: Value, max_chars: usize) -> Value {
    match value {
        Value::String(s) if s.chars().count() > max_chars => {
            let mut out: String = s.chars().take(max_chars).collect();
            out.push_str("… [truncated]");
            Value::String(out)
        }
        other => other,
    }
}

pub fn to_string(value: &Value) -> String {
    value.to_string()
}
