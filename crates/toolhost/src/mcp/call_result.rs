//! A tool's result as MCP's `CallToolResult`, in one place: a direct call's and the result
//! of a call an operator approved, which its requester collects by retrying
//! ([`super::approval_round`]), look the same.

use rmcp::model::{CallToolResult, ContentBlock, JsonObject};
use serde_json::Value;
use toolhost_host::ToolEntry;

/// The tool's output schema, when it declares one MCP can carry (an object schema).
pub fn output_schema(entry: &ToolEntry) -> Option<&JsonObject> {
    match &entry.descriptor.output_schema {
        Some(Value::Object(schema))
            if schema.get("type").and_then(Value::as_str) == Some("object") =>
        {
            Some(schema)
        }
        _ => None,
    }
}

/// What `tool` returned, as its successful result: structured when the tool (looked up in
/// `tools`) declares an output schema.
pub fn tool_result(tools: &[ToolEntry], tool: &str, result: Value) -> CallToolResult {
    let structured = tools
        .iter()
        .find(|t| t.name == tool)
        .is_some_and(|t| output_schema(t).is_some());
    success_result(result, structured)
}

/// A successful result: the JSON as text (every client reads it), plus structured content
/// when the tool declares an output schema and the result is an object.
fn success_result(result: Value, structured: bool) -> CallToolResult {
    let text = serde_json::to_string_pretty(&result).unwrap_or_else(|_| result.to_string());
    let mut out = CallToolResult::success(vec![ContentBlock::text(text)]);
    if structured && result.is_object() {
        out.structured_content = Some(result);
    }
    out
}
