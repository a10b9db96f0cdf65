//! [`ApprovalBackend`]: where approval records are kept. The embedded default keeps one file
//! per approval ([`super::files::FileApprovals`]); another crate keeps them in a database
//! shared by several replicas. Either way a claim wins exactly once.

use super::error::ApprovalError;
use super::model::{Approval, ApprovalFilter};
use crate::approvers::PasskeyEvidence;
use serde_json::Value;

/// The storage under an [`super::ApprovalStore`]. Ids given to it are already canonical
/// UUIDs; records given to it are complete. Every method is one step that either happened or
/// did not: a backend that cannot reach its storage returns an error, never a guess.
#[async_trait::async_trait]
pub trait ApprovalBackend: Send + Sync {
    /// Where the records live, for messages (a directory, a database and tenant).
    fn location(&self) -> String;

    /// Keeps a new pending approval.
    async fn insert(&self, approval: &Approval) -> Result<(), ApprovalError>;

    /// The approval `id` in whatever state, with its run result; `NotFound` when none.
    async fn get(&self, id: &str) -> Result<Approval, ApprovalError>;

    /// The ids starting with `prefix` (lowercase hex and hyphens), sorted.
    async fn ids_starting_with(&self, prefix: &str) -> Result<Vec<String>, ApprovalError>;

    /// Every approval `filter` matches, oldest first (by creation time, then id), without
    /// run results ([`Approval::without_result`]).
    async fn list(&self, filter: &ApprovalFilter) -> Result<Vec<Approval>, ApprovalError>;

    /// Moves a pending approval that has not expired to executing, approved `by`, keeping
    /// `passkey`: exactly one caller ever gets `Ok` for an id, across threads, processes and
    /// replicas; everyone else gets why not ([`ApprovalError::not_pending`], or `Expired`).
    async fn claim(
        &self,
        id: &str,
        by: &str,
        passkey: Option<PasskeyEvidence>,
    ) -> Result<Approval, ApprovalError>;

    /// Moves a pending approval (expired ones too) to denied `by`; refused once it moved.
    async fn deny(&self, id: &str, by: &str) -> Result<Approval, ApprovalError>;

    /// Records the outcome of an executing approval's single run, keeping `result` (already
    /// bounded by the caller). `NotExecuting` when it was never claimed.
    async fn complete(
        &self,
        id: &str,
        outcome: &str,
        result: Option<Value>,
    ) -> Result<Approval, ApprovalError>;
}
