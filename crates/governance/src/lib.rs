//! Governance: who may run which tool, under which mode, and what happened.
//!
//! - Policy: every tool runs `auto`, `approval` or `never` ([`Mode`]); defaults come from the
//!   plugin's hint (static tools, never loosened for a write) and the script classifier, overrides
//!   from the operator's `policy.toml` ([`PolicyEngine::decide`] says the mode and why).
//! - Roles: may this role make this call at all, asked before policy ([`RoleTable::check`]).
//! - Approvals: a call that needs approval is kept, and runs exactly once with exactly the
//!   approved arguments ([`ApprovalStore`], over files or another crate's [`ApprovalBackend`]).
//! - Clients: the agents an operator named, each with a role and a bearer token kept only as
//!   a hash ([`ClientRegistry`]).
//! - Audit: one append-only record per attempt, redacted ([`AuditLog`], over a JSON Lines file
//!   or another crate's [`AuditBackend`]).
//!
//! Nothing here runs a plugin or opens a socket; the host composes these with the sandbox.

#![warn(missing_docs)]

mod approvals;
mod approvers;
mod audit;
mod clients;
mod parsed_files;
mod policy;
mod roles;
mod tool;

pub use approvals::{
    Approval, ApprovalBackend, ApprovalError, ApprovalFilter, ApprovalState, ApprovalStatus,
    ApprovalStore, FileApprovals, Preview, PreviewFact, DEFAULT_TTL as DEFAULT_APPROVAL_TTL,
    MAX_KEPT_RESULT as MAX_KEPT_APPROVAL_RESULT,
};
pub use approvers::{
    passkey_challenge, ApproverName, ApproverNameError, PasskeyEvidence, CHALLENGE_NONCE_BYTES,
};
pub use audit::{
    arguments_sha256, read_file as read_audit_file, redact, AuditBackend, AuditDecision,
    AuditError, AuditFilter, AuditLog, AuditOutcome, AuditRecord, IdempotentAuditBackend,
    JsonlAudit, KeyedAuditRecord, SpooledAudit, REDACTED,
};
pub use clients::{
    ClientError, ClientRecord, ClientRegistry, ClientStore, ClientToken, FileClients, CLIENTS_FILE,
    TOKEN_PREFIX,
};
pub use policy::{
    set_bound_rule, set_rule, Decision, DecisionSource, Glob, GlobError, Mode, ParseModeError,
    PolicyEngine, PolicyFile, PolicyFileError, Rule,
};
pub use roles::{
    normalize_role_name, Role, RoleDenied, RoleTable, RolesFileError, Scope, ALL_PERMISSIONS,
    BUILTIN_ROLE, FIXED_AI_ASSIST, FIXED_LIMITED_ACCESS,
};
pub use tool::{ToolFacts, ToolKind};
