//! Printing results and errors, for people or (`--json`) for scripts.

use super::display::{escape, json_text};
use toolhost_host::{HostError, OperatorRoleError};

/// A failure whose report is already printed (as text, or as the one JSON document of
/// `--json`): nothing more is printed for it, only the exit status tells.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AlreadyReported(pub String);

/// Results hold plugin strings: the JSON is made terminal-safe (and stays the same JSON).
pub fn print_json(value: &impl serde::Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{}", json_text(&text)),
        Err(err) => eprintln!("error: cannot render JSON: {err}"),
    }
}

pub fn print_error(err: &anyhow::Error, json: bool) {
    // The report, already printed, is the whole answer: stdout stays one JSON document.
    if json && err.downcast_ref::<AlreadyReported>().is_some() {
        return;
    }
    let kind = err
        .downcast_ref::<HostError>()
        .map_or("error", HostError::kind);
    if json {
        let approval_id = match err.downcast_ref::<HostError>() {
            Some(HostError::ApprovalRequired { id, .. }) => Some(id.clone()),
            _ => None,
        };
        print_json(
            &serde_json::json!({"error": {"kind": kind, "message": format!("{err:#}"), "approvalId": approval_id}}),
        );
    } else {
        // The message quotes tool names and the plugin's own error text.
        eprintln!("error: {}", escape(&format!("{err:#}")));
    }
}

/// 2: the caller must act (connect, approve, fix arguments); 1: anything else.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    if let Some(OperatorRoleError::Raises { .. } | OperatorRoleError::NotLower { .. }) =
        err.downcast_ref::<OperatorRoleError>()
    {
        return 2;
    }
    match err.downcast_ref::<HostError>() {
        Some(
            HostError::NotConnected
            | HostError::ApprovalRequired { .. }
            | HostError::ApprovalDenied { .. }
            | HostError::RoleDenied { .. }
            | HostError::Refused { .. }
            | HostError::InvalidArguments { .. }
            | HostError::UnknownTool { .. }
            | HostError::UnknownRegion { .. }
            | HostError::InvalidConnection { .. },
        ) => 2,
        _ => 1,
    }
}
