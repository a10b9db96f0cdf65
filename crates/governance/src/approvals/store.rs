//! [`ApprovalStore`]: what the rest of the code holds, over whichever [`ApprovalBackend`] keeps
//! the records. The store makes the records (ids, digests, expiry) and checks ids; the
//! backend keeps them and moves them, each claim exactly once.

use super::backend::ApprovalBackend;
use super::error::ApprovalError;
use super::files::FileApprovals;
use super::id::canonical_id;
use super::model::{sha256_hex, Approval, ApprovalFilter, ApprovalState, MAX_KEPT_RESULT};
use super::preview::Preview;
use crate::approvers::PasskeyEvidence;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How long an approval can be approved: 24 hours.
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// The pending approvals. Cheap to clone: clones share one backend, and several stores (or
/// processes, or replicas) over the same records share its exactly-once claims.
#[derive(Clone)]
pub struct ApprovalStore {
    backend: Arc<dyn ApprovalBackend>,
    ttl: Duration,
}

impl fmt::Debug for ApprovalStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApprovalStore")
            .field("location", &self.backend.location())
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl ApprovalStore {
    /// The embedded store: opens (creating, 0700) the directory of approval files.
    pub fn open(dir: impl Into<PathBuf>) -> Result<ApprovalStore, ApprovalError> {
        Ok(ApprovalStore::with_backend(Arc::new(FileApprovals::open(
            dir,
        )?)))
    }

    /// A store over `backend` (a database shared by replicas, say).
    pub fn with_backend(backend: Arc<dyn ApprovalBackend>) -> ApprovalStore {
        ApprovalStore {
            backend,
            ttl: DEFAULT_TTL,
        }
    }

    /// How long new approvals stay approvable.
    pub fn with_ttl(mut self, ttl: Duration) -> ApprovalStore {
        self.ttl = ttl;
        self
    }

    /// Where the records live, for messages.
    pub fn location(&self) -> String {
        self.backend.location()
    }

    /// How long new approvals stay approvable ([`DEFAULT_TTL`] unless set).
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Records a pending approval for `tool` with exactly `arguments`.
    pub async fn create(
        &self,
        tool: &str,
        arguments: &Value,
        requester: &str,
        role: &str,
    ) -> Result<Approval, ApprovalError> {
        self.create_previewed(tool, None, None, arguments, requester, role)
            .await
    }

    /// Records a pending approval for `tool` with exactly `arguments`, bound to
    /// `tool_digest` (the digest of the tool's declaration the requester called, see
    /// [`Approval::tool_digest`]) and keeping the `preview` the person is shown.
    pub async fn create_previewed(
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
        self.backend.insert(&approval).await?;
        Ok(approval)
    }

    /// The approval `id`, in whatever state.
    pub async fn get(&self, id: &str) -> Result<Approval, ApprovalError> {
        self.backend.get(&canonical_id(id)?).await
    }

    /// The full id of the one approval whose id starts with `prefix` (at least 4 characters).
    pub async fn resolve(&self, prefix: &str) -> Result<String, ApprovalError> {
        if let Ok(id) = canonical_id(prefix) {
            return Ok(id);
        }
        let prefix = prefix.to_ascii_lowercase();
        if prefix.len() < 4 || !prefix.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            return Err(ApprovalError::InvalidId(prefix));
        }
        let mut matches = self.backend.ids_starting_with(&prefix).await?;
        matches.dedup();
        match matches.len() {
            0 => Err(ApprovalError::NotFound(prefix)),
            1 => Ok(matches.remove(0)),
            _ => Err(ApprovalError::Ambiguous { prefix, matches }),
        }
    }

    /// Every approval `filter` matches, oldest first, without run results (see
    /// [`Approval::without_result`]).
    pub async fn list(&self, filter: &ApprovalFilter) -> Result<Vec<Approval>, ApprovalError> {
        self.backend.list(filter).await
    }

    /// Denies a pending approval (expired ones too). Refused once claimed or denied.
    pub async fn deny(&self, id: &str, by: &str) -> Result<Approval, ApprovalError> {
        self.backend.deny(&canonical_id(id)?, by).await
    }

    /// Moves a pending, unexpired approval to executing: exactly one caller ever gets `Ok`
    /// for an id; everyone else gets why not (expired, denied, executing, executed).
    pub async fn claim(&self, id: &str, by: &str) -> Result<Approval, ApprovalError> {
        self.claim_with_passkey(id, by, None).await
    }

    /// Like [`ApprovalStore::claim`], keeping `passkey` (the approver's verified assertion)
    /// in the record as evidence.
    pub async fn claim_with_passkey(
        &self,
        id: &str,
        by: &str,
        passkey: Option<PasskeyEvidence>,
    ) -> Result<Approval, ApprovalError> {
        self.backend.claim(&canonical_id(id)?, by, passkey).await
    }

    /// Records the outcome of a claimed approval's single run.
    pub async fn complete(&self, id: &str, outcome: &str) -> Result<Approval, ApprovalError> {
        self.complete_with_result(id, outcome, None).await
    }

    /// Like [`ApprovalStore::complete`], keeping what the run returned for the requester
    /// (dropped when its JSON text is larger than [`MAX_KEPT_RESULT`]).
    pub async fn complete_with_result(
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
        self.backend.complete(&id, outcome, result.cloned()).await
    }
}
