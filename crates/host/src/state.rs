//! [`StateBackend`]: where a host keeps the state its replicas must share (pending approvals,
//! the audit log): the embedded files of its home, or the PostgreSQL database of
//! [`toolhost_state`].

use std::path::Path;
use std::sync::Arc;
use toolhost_governance::{ApprovalError, ApprovalStore, AuditError, AuditLog, SpooledAudit};
use toolhost_state::{Database, PgApprovals, PgAudit, SealingKey};

/// The spool of a database host's audit records, beside its `audit.jsonl` in the home
/// (`<home>/audit-spool.jsonl`): records wait there while the database is unreachable.
pub const AUDIT_SPOOL_FILE: &str = "audit-spool.jsonl";

/// Where shared state lives.
#[derive(Debug, Clone, Default)]
pub enum StateBackend {
    /// Files in the home (`approvals/`, `audit.jsonl`): one machine, no server.
    #[default]
    Embedded,
    /// A database that several replicas share, rows kept apart by `tenant`.
    Postgres {
        /// The connected, migrated database.
        db: Database,
        /// The tenant whose rows this host reads and writes.
        tenant: String,
        /// The operator's key: client secrets, tokens and MCP signing keys are sealed with it
        /// at rest (a database host never stores them in clear).
        key: SealingKey,
    },
}

impl StateBackend {
    /// The approvals: the files in `dir` (embedded) or the tenant's rows.
    pub(crate) fn approvals(&self, dir: &Path) -> Result<ApprovalStore, ApprovalError> {
        match self {
            StateBackend::Embedded => ApprovalStore::open(dir),
            StateBackend::Postgres { db, tenant, .. } => Ok(ApprovalStore::with_backend(Arc::new(
                PgApprovals::new(db.clone(), tenant.clone()),
            ))),
        }
    }

    /// The audit log: the file at `path` (embedded) or the tenant's rows, with a spool beside
    /// `path` ([`AUDIT_SPOOL_FILE`]) keeping the records the database cannot take until it can.
    pub(crate) fn audit(&self, path: &Path) -> Result<AuditLog, AuditError> {
        match self {
            StateBackend::Embedded => AuditLog::open(path),
            StateBackend::Postgres { db, tenant, .. } => {
                let primary = PgAudit::new(db.clone(), tenant.clone());
                let spool = path.with_file_name(AUDIT_SPOOL_FILE);
                Ok(AuditLog::with_backend(Arc::new(SpooledAudit::open(
                    primary, spool,
                )?)))
            }
        }
    }
}
