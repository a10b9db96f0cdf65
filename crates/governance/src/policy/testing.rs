//! Tools for unit tests.

use super::Mode;
use crate::tool::{ToolFacts, ToolKind};

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn facts(
    bare: &str,
    kind: ToolKind,
    description: &str,
    hint: Mode,
    read_only: bool,
    permissions: &[&str],
) -> ToolFacts<'static> {
    let permissions: Vec<String> = permissions.iter().map(|p| p.to_string()).collect();
    ToolFacts {
        name: leak(format!("connectwise_rmm:{bare}")),
        kind,
        description: leak(description.to_string()),
        hint,
        read_only,
        permissions: Box::leak(permissions.into_boxed_slice()),
        digest: None,
    }
}

pub(crate) fn static_tool(bare: &str, hint: Mode, read_only: bool) -> ToolFacts<'static> {
    facts(bare, ToolKind::Static, "", hint, read_only, &[])
}

pub(crate) fn script_tool(bare: &str, description: &str, hint: Mode) -> ToolFacts<'static> {
    facts(
        bare,
        ToolKind::Discovered,
        description,
        hint,
        false,
        &["scheduled-task:create"],
    )
}

pub(crate) fn tool_with_permissions(bare: &str, permissions: &[&str]) -> ToolFacts<'static> {
    facts(bare, ToolKind::Static, "", Mode::Auto, true, permissions)
}
