//! [`AuditBackend`]: where audit records are kept, with the errors it reports and the
//! [`AuditFilter`] it reads back with.

use super::record::{AuditDecision, AuditOutcome, AuditRecord};
use chrono::{DateTime, Utc};
use std::io;
use std::path::PathBuf;

/// Why the audit log could not be opened, written or read.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The log file or its directory could not be created, read or written.
    #[error("audit log {}: {source}", path.display())]
    Io {
        /// The log file (or its directory).
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The shared store (a database) could not be reached or answered wrongly: the message
    /// names where it is.
    #[error("{0}")]
    Store(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Records wait in this replica's spool because the shared store cannot take them yet:
    /// reading now would show an incomplete log as if it were whole.
    #[error("{pending} audit record(s) wait in {} for the {location}, which cannot take them yet, so the log cannot be read whole: {source}", spool.display())]
    Spooled {
        /// How many records wait.
        pending: usize,
        /// The spool file.
        spool: PathBuf,
        /// Where they are going.
        location: String,
        /// Why it cannot take them.
        source: Box<AuditError>,
    },
    /// A record could not be turned into JSON.
    #[error("cannot serialize an audit record: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// Where audit records are kept: appended one at a time, never rewritten, read back in the
/// one order they were appended in (across every process or replica that shares them).
#[async_trait::async_trait]
pub trait AuditBackend: Send + Sync {
    /// Where the records live, for messages (a file, a database and tenant).
    fn location(&self) -> String;

    /// Appends one record; `Ok` only once it is kept.
    async fn append(&self, record: &AuditRecord) -> Result<(), AuditError>;

    /// The records `filter` selects, oldest first.
    async fn read(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, AuditError>;
}

/// Which records to show.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Substring of the tool name.
    pub tool: Option<String>,
    /// Only this decision.
    pub decision: Option<AuditDecision>,
    /// Only this outcome.
    pub outcome: Option<AuditOutcome>,
    /// Records at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// The most recent `limit` matching records.
    pub limit: Option<usize>,
}

impl AuditFilter {
    /// Whether `r` passes every set condition; `limit` is not a per-record condition and is
    /// applied afterwards, to what matched.
    pub fn matches(&self, r: &AuditRecord) -> bool {
        self.tool.as_deref().is_none_or(|t| r.tool.contains(t))
            && self.decision.is_none_or(|d| r.decision == d)
            && self.outcome.is_none_or(|o| r.outcome == o)
            && self.since.is_none_or(|s| r.time >= s)
    }
}
