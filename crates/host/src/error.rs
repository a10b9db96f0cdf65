//! What can go wrong at the host's front door, each with the fix in its message.

use crate::arguments::ArgumentError;
use crate::connection::{ConnectionError, ConnectionFileError};
use crate::settings::SettingsError;
use toolhost_governance::{ApprovalError, AuditError, PolicyFileError, RoleDenied, RolesFileError};
use toolhost_sandbox::{CallFailure, CredentialError, LoadError};

/// Every failure of the front door. Each message names what to change; none carries a
/// secret (the audit scrubs them again before writing).
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)] // each variant's message is its documentation
pub enum HostError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("not connected to a tenant: run `toolhost connect --region <au|na|eu> --client-id <ID>` (the secret is read from TOOLHOST_CLIENT_SECRET or asked for)")]
    NotConnected,
    #[error("unknown region `{region}`: choose one of {known}")]
    UnknownRegion { region: String, known: String },
    #[error("{field}: {message}")]
    InvalidConnection {
        field: &'static str,
        message: String,
    },
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
    #[error("`{tool}` needs approval: nothing was sent. Approval required: {id}; a person other than the requester must approve it, in the toolhost admin UI or at the operator's interactive terminal. The agent cannot approve it")]
    ApprovalRequired { tool: String, id: String },
    #[error("approval {id} was requested by {requester}: a requester can never approve its own request. A person other than the requester approves it, in the toolhost admin UI or at the operator's interactive terminal")]
    SelfApproval { id: String, requester: String },
    #[error("approval {id} was not approved: this host requires the approver's passkey (toolhost.toml `[approvals] require_passkey`). Approve it in the admin UI (`toolhost ui`) with your enrolled passkey; nothing was run")]
    PasskeyRequired { id: String },
    #[error("`{tool}` was not run and approval {id} is void: {change}. Nothing was sent; make the call again to ask for a new approval")]
    ToolChanged {
        tool: String,
        id: String,
        change: String,
    },
    #[error("`{tool}` was not run and approval {id} is void: what it would do is no longer what was approved ({changes}). Nothing was sent; make the call again to ask for a new approval")]
    PreviewChanged {
        tool: String,
        id: String,
        changes: String,
    },
    #[error("{what} is not what was granted ({changes}). Nothing was sent. Review it with `toolhost grant show` and accept it with `toolhost grant accept` (or in the admin UI)")]
    NotGranted { what: String, changes: String },
    #[error("the plugin asks to call {origin}, which needs your explicit consent because {reason}: connect again with `--allow-origin {origin}` if you trust it")]
    OriginNotAllowed { origin: String, reason: String },
    #[error("`{tool}` was not run: {by} denied the approval")]
    ApprovalDenied { tool: String, by: String },
    #[error("`{tool}` refused for this role: {denied}")]
    RoleDenied { tool: String, denied: RoleDenied },
    #[error(transparent)]
    Approval(#[from] ApprovalError),
    #[error(transparent)]
    PolicyFile(#[from] PolicyFileError),
    #[error(transparent)]
    RolesFile(#[from] RolesFileError),
    /// The tenant's connection in the state database could not be read or saved.
    #[error("the tenant connection in the state database: {0}")]
    StoredConnection(#[from] toolhost_state::ConnectionStoreError),
    #[error("the audit log is unusable: {0}")]
    Audit(#[from] AuditError),
    #[error("invalid settings file {0}")]
    Settings(#[from] SettingsError),
    #[error("`{tool}` is set to never run through the agent ({reason})")]
    Refused { tool: String, reason: String },
    #[error("`{tool}` failed: {failure}")]
    Call {
        tool: String,
        failure: CallFailure,
        /// Statuses of the upstream exchanges made before it failed (for the audit).
        upstream_statuses: Vec<u16>,
    },
}

impl From<ConnectionError> for HostError {
    fn from(err: ConnectionError) -> HostError {
        match err {
            ConnectionError::UnknownRegion { region, known } => {
                HostError::UnknownRegion { region, known }
            }
            ConnectionError::Invalid { field, message } => {
                HostError::InvalidConnection { field, message }
            }
        }
    }
}

impl HostError {
    /// A stable, machine-readable kind for `--json` output and exit codes.
    pub fn kind(&self) -> &'static str {
        match self {
            HostError::Load(_) => "plugin-load",
            HostError::NotConnected => "not-connected",
            HostError::UnknownRegion { .. } => "unknown-region",
            HostError::InvalidConnection { .. } => "invalid-connection",
            HostError::ConnectionFile(_) => "connection-file",
            HostError::Credentials(_) => "credentials",
            HostError::UnknownTool { .. } => "unknown-tool",
            HostError::InvalidArguments { .. } => "invalid-arguments",
            HostError::ApprovalRequired { .. } => "approval-required",
            HostError::SelfApproval { .. } => "self-approval",
            HostError::PasskeyRequired { .. } => "passkey-required",
            HostError::ApprovalDenied { .. } => "approval-denied",
            HostError::ToolChanged { .. } => "tool-changed",
            HostError::PreviewChanged { .. } => "preview-changed",
            HostError::NotGranted { .. } => "not-granted",
            HostError::OriginNotAllowed { .. } => "origin-not-allowed",
            HostError::RoleDenied { .. } => "role-denied",
            HostError::Approval(_) => "approval",
            HostError::PolicyFile(_) => "policy-file",
            HostError::RolesFile(_) => "roles-file",
            HostError::Audit(_) => "audit",
            HostError::StoredConnection(_) => "state-database",
            HostError::Settings(_) => "settings-file",
            HostError::Refused { .. } => "refused",
            HostError::Call { failure, .. } => match failure {
                CallFailure::Tool(_) => "tool-error",
                CallFailure::Gate(_) => "outbound-denied",
                _ => "plugin-failure",
            },
        }
    }

    /// Upstream statuses seen by a failed call, if any.
    pub fn upstream_statuses(&self) -> Option<Vec<u16>> {
        match self {
            HostError::Call {
                upstream_statuses, ..
            } => Some(upstream_statuses.clone()),
            _ => None,
        }
    }
}
