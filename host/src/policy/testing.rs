//! Tool entries for unit tests.

use crate::host::{ToolEntry, ToolKind};
use crate::runtime::{Annotations, PolicyHint, ToolDescriptor};

fn entry(
    bare: &str,
    kind: ToolKind,
    description: &str,
    hint: PolicyHint,
    read_only: bool,
    permissions: &[&str],
) -> ToolEntry {
    ToolEntry {
        name: format!("connectwise_rmm:{bare}"),
        kind,
        policy: super::Mode::from(hint),
        descriptor: ToolDescriptor {
            name: bare.to_string(),
            title: bare.to_string(),
            description: description.to_string(),
            input_schema: serde_json::json!({"type": "object"}),
            output_schema: None,
            annotations: Annotations {
                read_only,
                destructive: !read_only,
                idempotent: read_only,
                open_world: true,
            },
            policy_hint: hint,
            permissions: permissions.iter().map(|p| p.to_string()).collect(),
        },
    }
}

pub(crate) fn static_tool(bare: &str, hint: PolicyHint, read_only: bool) -> ToolEntry {
    entry(bare, ToolKind::Static, "", hint, read_only, &[])
}

pub(crate) fn script_tool(bare: &str, description: &str, hint: PolicyHint) -> ToolEntry {
    entry(
        bare,
        ToolKind::Discovered,
        description,
        hint,
        false,
        &["scheduled-task:create"],
    )
}

pub(crate) fn tool_with_permissions(bare: &str, permissions: &[&str]) -> ToolEntry {
    entry(
        bare,
        ToolKind::Static,
        "",
        PolicyHint::Auto,
        true,
        permissions,
    )
}
