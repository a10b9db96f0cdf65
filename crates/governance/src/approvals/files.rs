//! [`FileApprovals`]: the embedded approval backend, one JSON file per approval in a private
//! directory.
//!
//! Phases live in file names: `<id>.pending.json` becomes `<id>.claimed.json` (approved:
//! executing, then executed) or `<id>.denied.json`, by `rename`. A rename of the pending file
//! succeeds for exactly one caller, so an approval is claimed at most once even when several
//! processes approve it at the same moment, and a claim and a denial cannot both win. The
//! record is then rewritten in place atomically (temp + rename). If a process dies between
//! the rename and the rewrite, the file name still tells the truth.

use super::backend::ApprovalBackend;
use super::error::ApprovalError;
use super::id::canonical_id;
use super::model::{sha256_hex, Approval, ApprovalFilter, ApprovalState};
use crate::approvers::PasskeyEvidence;
use chrono::Utc;
use serde_json::Value;
use std::io;
use std::path::{Path, PathBuf};
use toolhost_base::{create_private_dir, write_private};

const PENDING: &str = "pending";
const CLAIMED: &str = "claimed";
const DENIED: &str = "denied";
/// Who moved an approval, when the process that moved it died before recording it.
const INTERRUPTED: &str = "(unknown: interrupted)";

/// The approvals of one home, one file each in a private directory (see the module
/// documentation for why renames make a claim win exactly once). It holds only the
/// directory, so several handles (or processes) share one store.
#[derive(Debug, Clone)]
pub struct FileApprovals {
    dir: PathBuf,
}

impl FileApprovals {
    /// Opens (creating, 0700) the store directory.
    pub fn open(dir: impl Into<PathBuf>) -> Result<FileApprovals, ApprovalError> {
        let dir = dir.into();
        create_private_dir(&dir).map_err(|e| ApprovalError::io(&dir, e))?;
        Ok(FileApprovals { dir })
    }

    /// The directory holding the records.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn get_now(&self, id: &str) -> Result<Approval, ApprovalError> {
        // Pending first: a pending file only ever moves to a terminal name, so checking in
        // this order cannot miss a record that is being moved.
        for phase in [PENDING, CLAIMED, DENIED] {
            if let Some(a) = self.read(id, phase)? {
                return Ok(a);
            }
        }
        Err(ApprovalError::NotFound(id.to_string()))
    }
}

#[async_trait::async_trait]
impl ApprovalBackend for FileApprovals {
    fn location(&self) -> String {
        format!("approval directory {}", self.dir.display())
    }

    async fn insert(&self, approval: &Approval) -> Result<(), ApprovalError> {
        self.write(&self.path(&approval.id, PENDING), approval)
    }

    async fn get(&self, id: &str) -> Result<Approval, ApprovalError> {
        self.get_now(id)
    }

    async fn ids_starting_with(&self, prefix: &str) -> Result<Vec<String>, ApprovalError> {
        let mut ids = self.ids()?;
        ids.retain(|id| id.starts_with(prefix));
        Ok(ids)
    }

    async fn list(&self, filter: &ApprovalFilter) -> Result<Vec<Approval>, ApprovalError> {
        let now = Utc::now();
        let mut out = Vec::new();
        for id in self.ids()? {
            match self.get_now(&id) {
                Ok(a) if filter.matches(&a, now) => out.push(a.without_result()),
                Ok(_) | Err(ApprovalError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        out.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    async fn deny(&self, id: &str, by: &str) -> Result<Approval, ApprovalError> {
        let mut approval = self
            .read(id, PENDING)?
            .ok_or_else(|| self.why_not_pending(id))?;
        self.take(id, DENIED)?;
        approval.state = ApprovalState::Denied {
            by: by.to_string(),
            at: Utc::now(),
        };
        self.write(&self.path(id, DENIED), &approval)?;
        Ok(approval)
    }

    async fn claim(
        &self,
        id: &str,
        by: &str,
        passkey: Option<PasskeyEvidence>,
    ) -> Result<Approval, ApprovalError> {
        let mut approval = self
            .read(id, PENDING)?
            .ok_or_else(|| self.why_not_pending(id))?;
        if approval.is_expired(Utc::now()) {
            return Err(ApprovalError::Expired {
                id: id.to_string(),
                expired_at: approval.expires_at,
            });
        }
        self.take(id, CLAIMED)?;
        approval.state = ApprovalState::Executing {
            by: by.to_string(),
            at: Utc::now(),
        };
        approval.passkey = passkey;
        self.write(&self.path(id, CLAIMED), &approval)?;
        Ok(approval)
    }

    async fn complete(
        &self,
        id: &str,
        outcome: &str,
        result: Option<Value>,
    ) -> Result<Approval, ApprovalError> {
        let mut approval = self
            .read(id, CLAIMED)?
            .ok_or_else(|| ApprovalError::NotExecuting { id: id.to_string() })?;
        let ApprovalState::Executing { by, .. } = &approval.state else {
            return Err(self.why_not_pending(id));
        };
        approval.state = ApprovalState::Executed {
            by: by.clone(),
            at: Utc::now(),
            outcome: outcome.to_string(),
            result,
        };
        self.write(&self.path(id, CLAIMED), &approval)?;
        Ok(approval)
    }
}

impl FileApprovals {
    /// Renames the pending file to `phase`; losing the race means someone else moved it.
    fn take(&self, id: &str, phase: &str) -> Result<(), ApprovalError> {
        let from = self.path(id, PENDING);
        match std::fs::rename(&from, self.path(id, phase)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(self.why_not_pending(id)),
            Err(e) => Err(ApprovalError::io(from, e)),
        }
    }

    /// The error for an approval that is no longer (or never was) pending.
    fn why_not_pending(&self, id: &str) -> ApprovalError {
        match self.get_now(id) {
            Ok(a) => ApprovalError::not_pending(a),
            Err(e) => e,
        }
    }

    fn path(&self, id: &str, phase: &str) -> PathBuf {
        self.dir.join(format!("{id}.{phase}.json"))
    }

    fn write(&self, path: &Path, approval: &Approval) -> Result<(), ApprovalError> {
        let mut bytes = serde_json::to_vec_pretty(approval).map_err(ApprovalError::Arguments)?;
        bytes.push(b'\n');
        write_private(path, &bytes).map_err(|e| ApprovalError::io(path, e))
    }

    /// The record in `<id>.<phase>.json`, if that file exists, checked against its name.
    fn read(&self, id: &str, phase: &str) -> Result<Option<Approval>, ApprovalError> {
        let path = self.path(id, phase);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ApprovalError::io(path, e)),
        };
        let corrupt = |reason: String| ApprovalError::Corrupt {
            path: path.clone(),
            reason,
        };
        let mut a: Approval = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        if a.id != id {
            return Err(corrupt(format!("it holds approval {}", a.id)));
        }
        if sha256_hex(&a.arguments) != a.arguments_sha256 {
            return Err(corrupt("the arguments do not match their SHA-256".into()));
        }
        // The name is authoritative: a record not rewritten after its rename (the process
        // died in between) still counts as moved.
        let interrupted = || (INTERRUPTED.to_string(), a.created_at);
        a.state = match (phase, a.state) {
            (PENDING, ApprovalState::Pending) => ApprovalState::Pending,
            (CLAIMED, ApprovalState::Pending) => {
                let (by, at) = interrupted();
                ApprovalState::Executing { by, at }
            }
            (CLAIMED, s @ (ApprovalState::Executing { .. } | ApprovalState::Executed { .. })) => s,
            (DENIED, ApprovalState::Pending) => {
                let (by, at) = interrupted();
                ApprovalState::Denied { by, at }
            }
            (DENIED, s @ ApprovalState::Denied { .. }) => s,
            (_, s) => return Err(corrupt(format!("state {s:?} in a {phase} file"))),
        };
        Ok(Some(a))
    }

    /// Ids of every record file (temporary files start with `.` and are skipped).
    fn ids(&self) -> Result<Vec<String>, ApprovalError> {
        let entries = std::fs::read_dir(&self.dir).map_err(|e| ApprovalError::io(&self.dir, e))?;
        let mut ids = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| ApprovalError::io(&self.dir, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some(stem) = name.strip_suffix(".json") else {
                continue;
            };
            let Some((id, phase)) = stem.rsplit_once('.') else {
                continue;
            };
            if [PENDING, CLAIMED, DENIED].contains(&phase) && canonical_id(id).is_ok() {
                ids.push(id.to_string());
            }
        }
        ids.sort();
        ids.dedup();
        Ok(ids)
    }
}

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
