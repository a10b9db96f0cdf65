//! [`ApprovalStore`]: one JSON file per approval in a private directory.
//!
//! Phases live in file names: `<id>.pending.json` becomes `<id>.claimed.json` (approved:
//! executing, then executed) or `<id>.denied.json`, by `rename`. A rename of the pending file
//! succeeds for exactly one caller, so an approval is claimed at most once even when several
//! processes approve it at the same moment, and a claim and a denial cannot both win. The
//! record is then rewritten in place atomically (temp + rename). If a process dies between
//! the rename and the rewrite, the file name still tells the truth.

use super::error::ApprovalError;
use super::model::{sha256_hex, Approval, ApprovalFilter, ApprovalState, MAX_KEPT_RESULT};
use super::preview::Preview;
use crate::approvers::PasskeyEvidence;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toolhost_base::{create_private_dir, write_private};

/// How long an approval can be approved: 24 hours.
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);

const PENDING: &str = "pending";
const CLAIMED: &str = "claimed";
const DENIED: &str = "denied";
/// Who moved an approval, when the process that moved it died before recording it.
const INTERRUPTED: &str = "(unknown: interrupted)";

/// The pending approvals, one file each in a private directory (see the module
/// documentation for why renames make a claim win exactly once). Cheap to clone: it holds
/// only the directory and the TTL, so several handles (or processes) share one store.
#[derive(Debug, Clone)]
pub struct ApprovalStore {
    dir: PathBuf,
    ttl: Duration,
}

impl ApprovalStore {
    /// Opens (creating, 0700) the store directory.
    pub fn open(dir: impl Into<PathBuf>) -> Result<ApprovalStore, ApprovalError> {
        let dir = dir.into();
        create_private_dir(&dir).map_err(|e| ApprovalError::io(&dir, e))?;
        Ok(ApprovalStore {
            dir,
            ttl: DEFAULT_TTL,
        })
    }

    /// How long new approvals stay approvable.
    pub fn with_ttl(mut self, ttl: Duration) -> ApprovalStore {
        self.ttl = ttl;
        self
    }

    /// The directory holding the records.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How long new approvals stay approvable ([`DEFAULT_TTL`] unless set).
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Records a pending approval for `tool` with exactly `arguments`.
    pub fn create(
        &self,
        tool: &str,
        arguments: &Value,
        requester: &str,
        role: &str,
    ) -> Result<Approval, ApprovalError> {
        self.create_bound(tool, None, arguments, requester, role)
    }

    /// Like [`ApprovalStore::create`], bound to `tool_digest`: the digest of the tool's
    /// declaration the requester called (see [`Approval::tool_digest`]).
    pub fn create_bound(
        &self,
        tool: &str,
        tool_digest: Option<&str>,
        arguments: &Value,
        requester: &str,
        role: &str,
    ) -> Result<Approval, ApprovalError> {
        self.create_previewed(tool, tool_digest, None, arguments, requester, role)
    }

    /// Like [`ApprovalStore::create_bound`], keeping the `preview` the person is shown.
    pub fn create_previewed(
        &self,
        tool: &str,
        tool_digest: Option<&str>,
        preview: Option<Preview>,
        arguments: &Value,
        requester: &str,
        role: &str,
    ) -> Result<Approval, ApprovalError> {
        let arguments = serde_json::to_string(arguments).map_err(ApprovalError::Arguments)?;
        let created_at = Utc::now();
        let ttl = chrono::Duration::from_std(self.ttl).unwrap_or(chrono::Duration::MAX);
        let approval = Approval {
            id: uuid::Uuid::new_v4().to_string(),
            tool: tool.to_string(),
            arguments_sha256: sha256_hex(&arguments),
            arguments,
            requester: requester.to_string(),
            role: role.to_string(),
            tool_digest: tool_digest.map(str::to_string),
            preview,
            created_at,
            expires_at: created_at
                .checked_add_signed(ttl)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
            state: ApprovalState::Pending,
            passkey: None,
        };
        self.write(&self.path(&approval.id, PENDING), &approval)?;
        Ok(approval)
    }

    /// The approval `id`, in whatever state.
    pub fn get(&self, id: &str) -> Result<Approval, ApprovalError> {
        let id = canonical_id(id)?;
        // Pending first: a pending file only ever moves to a terminal name, so checking in
        // this order cannot miss a record that is being moved.
        for phase in [PENDING, CLAIMED, DENIED] {
            if let Some(a) = self.read(&id, phase)? {
                return Ok(a);
            }
        }
        Err(ApprovalError::NotFound(id))
    }

    /// The full id of the one approval whose id starts with `prefix` (at least 4 characters).
    pub fn resolve(&self, prefix: &str) -> Result<String, ApprovalError> {
        if let Ok(id) = canonical_id(prefix) {
            return Ok(id);
        }
        let prefix = prefix.to_ascii_lowercase();
        if prefix.len() < 4 || !prefix.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            return Err(ApprovalError::InvalidId(prefix));
        }
        let mut matches: Vec<String> = self
            .ids()?
            .into_iter()
            .filter(|id| id.starts_with(&prefix))
            .collect();
        matches.dedup();
        match matches.len() {
            0 => Err(ApprovalError::NotFound(prefix)),
            1 => Ok(matches.remove(0)),
            _ => Err(ApprovalError::Ambiguous { prefix, matches }),
        }
    }

    /// Every approval `filter` matches, oldest first, without run results (see
    /// [`Approval::without_result`]).
    pub fn list(&self, filter: &ApprovalFilter) -> Result<Vec<Approval>, ApprovalError> {
        let now = Utc::now();
        let mut out = Vec::new();
        for id in self.ids()? {
            match self.get(&id) {
                Ok(a) if filter.matches(&a, now) => out.push(a.without_result()),
                Ok(_) | Err(ApprovalError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        out.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// Denies a pending approval (expired ones too). Refused once claimed or denied.
    pub fn deny(&self, id: &str, by: &str) -> Result<Approval, ApprovalError> {
        let id = canonical_id(id)?;
        let mut approval = self
            .read(&id, PENDING)?
            .ok_or_else(|| self.why_not_pending(&id))?;
        self.take(&id, DENIED)?;
        approval.state = ApprovalState::Denied {
            by: by.to_string(),
            at: Utc::now(),
        };
        self.write(&self.path(&id, DENIED), &approval)?;
        Ok(approval)
    }

    /// Moves a pending, unexpired approval to executing: exactly one caller ever gets `Ok`
    /// for an id; everyone else gets why not (expired, denied, executing, executed).
    pub fn claim(&self, id: &str, by: &str) -> Result<Approval, ApprovalError> {
        self.claim_with_passkey(id, by, None)
    }

    /// Like [`ApprovalStore::claim`], keeping `passkey` (the approver's verified assertion)
    /// in the record as evidence.
    pub fn claim_with_passkey(
        &self,
        id: &str,
        by: &str,
        passkey: Option<PasskeyEvidence>,
    ) -> Result<Approval, ApprovalError> {
        let id = canonical_id(id)?;
        let mut approval = self
            .read(&id, PENDING)?
            .ok_or_else(|| self.why_not_pending(&id))?;
        if approval.is_expired(Utc::now()) {
            return Err(ApprovalError::Expired {
                id,
                expired_at: approval.expires_at,
            });
        }
        self.take(&id, CLAIMED)?;
        approval.state = ApprovalState::Executing {
            by: by.to_string(),
            at: Utc::now(),
        };
        approval.passkey = passkey;
        self.write(&self.path(&id, CLAIMED), &approval)?;
        Ok(approval)
    }

    /// Records the outcome of a claimed approval's single run.
    pub fn complete(&self, id: &str, outcome: &str) -> Result<Approval, ApprovalError> {
        self.complete_with_result(id, outcome, None)
    }

    /// Like [`ApprovalStore::complete`], keeping what the run returned for the requester
    /// (dropped when its JSON text is larger than [`MAX_KEPT_RESULT`]).
    pub fn complete_with_result(
        &self,
        id: &str,
        outcome: &str,
        result: Option<&Value>,
    ) -> Result<Approval, ApprovalError> {
        let id = canonical_id(id)?;
        let result = result.filter(|r| {
            let size = serde_json::to_string(r).map_or(usize::MAX, |t| t.len());
            if size > MAX_KEPT_RESULT {
                tracing::warn!("approval {id}: its result ({size} bytes) is too large to keep");
            }
            size <= MAX_KEPT_RESULT
        });
        let mut approval = self
            .read(&id, CLAIMED)?
            .ok_or_else(|| ApprovalError::NotExecuting { id: id.clone() })?;
        let ApprovalState::Executing { by, .. } = &approval.state else {
            return Err(self.why_not_pending(&id));
        };
        approval.state = ApprovalState::Executed {
            by: by.clone(),
            at: Utc::now(),
            outcome: outcome.to_string(),
            result: result.cloned(),
        };
        self.write(&self.path(&id, CLAIMED), &approval)?;
        Ok(approval)
    }

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
        let approval = match self.get(id) {
            Ok(a) => a,
            Err(e) => return e,
        };
        let id = id.to_string();
        match approval.state {
            ApprovalState::Denied { by, at } => ApprovalError::Denied { id, by, at },
            ApprovalState::Executing { by, at } => ApprovalError::AlreadyExecuting { id, by, at },
            ApprovalState::Executed { by, at, .. } => ApprovalError::AlreadyExecuted { id, by, at },
            ApprovalState::Pending => ApprovalError::NotExecuting { id },
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

/// A UUID in its canonical lowercase hyphenated form: never a path.
fn canonical_id(id: &str) -> Result<String, ApprovalError> {
    uuid::Uuid::parse_str(id)
        .ok()
        .filter(|_| id.len() == 36)
        .map(|u| u.hyphenated().to_string())
        .ok_or_else(|| ApprovalError::InvalidId(id.to_string()))
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
