//! What an operator reads and changes through the host: pending approvals, the audit log, the
//! effective policy of every tool and its overrides.

use crate::catalog::{resolve, ToolEntry};
use crate::error::HostError;
use crate::host::ToolHost;
use toolhost_governance::{
    set_bound_rule, Approval, ApprovalFilter, AuditFilter, AuditRecord, Decision, Mode, ToolKind,
};

impl ToolHost {
    /// Approvals matching `filter`, newest first.
    pub async fn list_approvals(
        &self,
        filter: &ApprovalFilter,
    ) -> Result<Vec<Approval>, HostError> {
        Ok(self.approvals.list(filter).await?)
    }

    /// The approval `id` in whatever state, with the result its run kept for the requester
    /// (what an MCP client retrying its call comes back for).
    pub async fn approval(&self, id: &str) -> Result<Approval, HostError> {
        Ok(self.approvals.get(id).await?)
    }

    /// Audit records matching `filter`, in the order they were written.
    pub async fn audit_records(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, HostError> {
        Ok(self.audit.read(filter).await?)
    }

    /// Every tool with its effective mode and why (the policy file read once).
    pub async fn policy_list(&self) -> Result<Vec<(ToolEntry, Decision)>, HostError> {
        let engine = self.policy_engine()?;
        Ok(self
            .list(&engine, false)
            .await?
            .into_iter()
            .map(|t| {
                let decision = engine.decide(&t.facts());
                (t, decision)
            })
            .collect())
    }

    /// `toolhost policy set`: writes the override (atomically) and returns the mode it replaced.
    /// An override of one script tool is bound to the script behind its name now: should the
    /// name later stand for another script, the override does not carry over.
    pub async fn set_policy(&self, pattern: &str, mode: Mode) -> Result<Option<Mode>, HostError> {
        let digest = match self.is_connected() {
            true => {
                let engine = self.policy_engine()?;
                let entries = self.list_all(&engine, false).await?;
                resolve(&self.metadata().id, &entries, pattern)
                    .ok()
                    .filter(|e| e.kind == ToolKind::Discovered && e.name == pattern)
                    .map(|e| e.digest().to_string())
            }
            false => None,
        };
        Ok(set_bound_rule(
            &self.config.policy_file,
            pattern,
            mode,
            digest.as_deref(),
        )?)
    }
}
