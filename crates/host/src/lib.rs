//! The host: one plugin, one tenant connection, the tool catalog and the one call pipeline
//! every front end uses.
//!
//! [`ToolHost::call`] admits a call (the caller's role, the tool, the policy's mode, the
//! arguments against the tool's schema), asks for approval when the mode says so, runs the
//! plugin in the sandbox ([`toolhost_sandbox`]) and audits the attempt
//! ([`toolhost_governance`]). [`ToolHost::approve`] runs a pending approval through the same
//! admission, exactly once.
//!
//! [`conformance`] judges any component against the plugin world, for marketplace review.

#![warn(missing_docs)]
// Host errors carry the details an operator needs (paths, line numbers, upstream
// statuses); they travel on the cold path only, so their size does not matter.
#![allow(clippy::result_large_err)]

mod arguments;
mod catalog;
mod clients;
mod config;
mod connection;
mod error;
mod grant;
mod host;
pub mod metrics;
mod operator;
mod operator_role;
mod pipeline;
mod settings;
mod shared_runtimes;
mod state;
mod tenant;

pub mod conformance;

pub use arguments::{parse_arguments, ArgumentError, ArgumentValidators};
pub use catalog::ToolEntry;
pub use config::{HostConfig, OutboundLimits, DEFAULT_CATALOG_TTL};
pub use connection::{
    connection_path, ConnectRequest, ConnectionError, ConnectionFileError, ConnectionSettings,
};
pub use error::HostError;
pub use grant::{grant_path, needs_explicit_allow, Grant, GrantDiff, GrantReview, GrantedTool};
pub use host::{ConnectReport, ToolHost, VerifiedConnection};
pub use operator_role::OperatorRoleError;
pub use pipeline::{
    ApprovalAnswer, ApprovalQuestion, Approver, CallReport, Caller, DeferApprovals, StaticApprover,
};
pub use settings::{settings_path, SettingsError, SETTINGS_FILE};
pub use shared_runtimes::SharedRuntimes;
pub use state::{StateBackend, AUDIT_SPOOL_FILE};
pub use tenant::{
    tenant_summaries, tenants_in, TenantName, TenantNameError, TenantSummary, TENANTS_DIR,
};
pub use toolhost_governance::ToolKind;
