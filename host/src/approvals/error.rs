//! What can go wrong with an approval, each case distinct so callers can say exactly why a
//! call will not run.

use chrono::{DateTime, Utc};
use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    #[error("`{0}` is not an approval id (expected a UUID)")]
    InvalidId(String),
    #[error("no approval `{0}`")]
    NotFound(String),
    #[error("`{prefix}` matches several approvals: {}", matches.join(", "))]
    Ambiguous {
        prefix: String,
        matches: Vec<String>,
    },
    #[error("approval {id} expired at {expired_at}: it cannot run; ask for the call again")]
    Expired {
        id: String,
        expired_at: DateTime<Utc>,
    },
    #[error("approval {id} was denied by {by} at {at}: it cannot run")]
    Denied {
        id: String,
        by: String,
        at: DateTime<Utc>,
    },
    #[error("approval {id} was already approved by {by} at {at} and is running: it runs once")]
    AlreadyExecuting {
        id: String,
        by: String,
        at: DateTime<Utc>,
    },
    #[error("approval {id} was already approved by {by} and ran at {at}: it runs once")]
    AlreadyExecuted {
        id: String,
        by: String,
        at: DateTime<Utc>,
    },
    #[error("approval {id} is not running, so it cannot be completed")]
    NotExecuting { id: String },
    #[error("cannot serialize the arguments: {0}")]
    Arguments(#[source] serde_json::Error),
    #[error("approval file {} is corrupt: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("approval store {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

impl ApprovalError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> ApprovalError {
        ApprovalError::Io {
            path: path.into(),
            source,
        }
    }
}
