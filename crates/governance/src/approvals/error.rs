//! What can go wrong with an approval, each case distinct so callers can say exactly why a
//! call will not run.

use super::model::{Approval, ApprovalState};
use chrono::{DateTime, Utc};
use std::io;
use std::path::PathBuf;

/// Why an approval could not be created, found, moved or read. The refusals (expired,
/// denied, already run) are separate from store failures so the operator is told why the
/// call will not run, not just that it failed.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    /// Neither a UUID nor (where a prefix is accepted) 4 or more hex digits: ids become file
    /// names, so anything else is refused before it can name a path.
    #[error("`{0}` is not an approval id (expected a UUID)")]
    InvalidId(String),
    /// No approval has this id (or id prefix).
    #[error("no approval `{0}`")]
    NotFound(String),
    /// An id prefix that names more than one approval: guessing could run the wrong call.
    #[error("`{prefix}` matches several approvals: {}", matches.join(", "))]
    Ambiguous {
        /// The prefix as given (lowercased).
        prefix: String,
        /// The full ids it matches.
        matches: Vec<String>,
    },
    /// Still pending but past its expiry: it can be denied, never run.
    #[error("approval {id} expired at {expired_at}: it cannot run; ask for the call again")]
    Expired {
        /// The approval's id.
        id: String,
        /// When it stopped being approvable.
        expired_at: DateTime<Utc>,
    },
    /// An operator denied it.
    #[error("approval {id} was denied by {by} at {at}: it cannot run")]
    Denied {
        /// The approval's id.
        id: String,
        /// Who denied it.
        by: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Someone else already claimed it and its single run is under way.
    #[error("approval {id} was already approved by {by} at {at} and is running: it runs once")]
    AlreadyExecuting {
        /// The approval's id.
        id: String,
        /// Who approved it.
        by: String,
        /// When it was claimed.
        at: DateTime<Utc>,
    },
    /// Its single run has already happened.
    #[error("approval {id} was already approved by {by} and ran at {at}: it runs once")]
    AlreadyExecuted {
        /// The approval's id.
        id: String,
        /// Who approved it.
        by: String,
        /// When the run finished.
        at: DateTime<Utc>,
    },
    /// A completion for an approval that was never claimed (or is still pending).
    #[error("approval {id} is not running, so it cannot be completed")]
    NotExecuting {
        /// The approval's id.
        id: String,
    },
    /// The arguments (or the record) could not be turned into JSON.
    #[error("cannot serialize the arguments: {0}")]
    Arguments(#[source] serde_json::Error),
    /// A record that does not parse, names another id, or whose arguments no longer match
    /// their digest: it is never run.
    #[error("approval file {} is corrupt: {reason}", path.display())]
    Corrupt {
        /// The record's file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The shared store (a database) could not be reached or answered wrongly: the message
    /// names where it is; no call runs without its record.
    #[error("{0}")]
    Store(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The store directory or a record file could not be read or written.
    #[error("approval store {}: {source}", path.display())]
    Io {
        /// The directory or file involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}

impl ApprovalError {
    /// Why `approval`, found but no longer pending (or pending where a claim was needed),
    /// cannot move: denied, executing, executed.
    pub fn not_pending(approval: Approval) -> ApprovalError {
        let id = approval.id;
        match approval.state {
            ApprovalState::Denied { by, at } => ApprovalError::Denied { id, by, at },
            ApprovalState::Executing { by, at } => ApprovalError::AlreadyExecuting { id, by, at },
            ApprovalState::Executed { by, at, .. } => ApprovalError::AlreadyExecuted { id, by, at },
            ApprovalState::Pending => ApprovalError::NotExecuting { id },
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> ApprovalError {
        ApprovalError::Io {
            path: path.into(),
            source,
        }
    }
}
