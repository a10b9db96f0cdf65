//! What can go wrong at the host's front door, each with the fix in its message.

use crate::arguments::ArgumentError;
use crate::connection::ConnectionFileError;
use crate::credentials::CredentialError;
use crate::runtime::{CallFailure, LoadError};

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("not connected to a tenant: run `toolhost connect --region <au|na|eu> --client-id <ID>` (the secret is read from TOOLHOST_CLIENT_SECRET or asked for)")]
    NotConnected,
    #[error("unknown region `{region}`: choose one of {known}")]
    UnknownRegion { region: String, known: String },
    #[error(transparent)]
    ConnectionFile(#[from] ConnectionFileError),
    #[error("{0}")]
    Credentials(#[from] CredentialError),
    #[error("unknown tool `{name}`{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`? (`toolhost tools` lists them)")).unwrap_or_else(|| "; `toolhost tools` lists the tools".into()))]
    UnknownTool {
        name: String,
        suggestion: Option<String>,
    },
    #[error("`{tool}`: {error}")]
    InvalidArguments { tool: String, error: ArgumentError },
    #[error("`{tool}` needs approval before it runs; nothing was sent. Re-run with --approve after checking the arguments")]
    ApprovalRequired { tool: String },
    #[error("`{tool}` is set to never run through the agent ({reason})")]
    Refused { tool: String, reason: String },
    #[error("`{tool}` failed: {failure}")]
    Call { tool: String, failure: CallFailure },
}

impl HostError {
    /// A stable, machine-readable kind for `--json` output and exit codes.
    pub fn kind(&self) -> &'static str {
        match self {
            HostError::Load(_) => "plugin-load",
            HostError::NotConnected => "not-connected",
            HostError::UnknownRegion { .. } => "unknown-region",
            HostError::ConnectionFile(_) => "connection-file",
            HostError::Credentials(_) => "credentials",
            HostError::UnknownTool { .. } => "unknown-tool",
            HostError::InvalidArguments { .. } => "invalid-arguments",
            HostError::ApprovalRequired { .. } => "approval-required",
            HostError::Refused { .. } => "refused",
            HostError::Call { failure, .. } => match failure {
                CallFailure::Tool(_) => "tool-error",
                CallFailure::Gate(_) => "outbound-denied",
                _ => "plugin-failure",
            },
        }
    }
}
