//! What an operator reads and changes through the host: pending approvals, the audit log, the
//! effective policy of every tool and its overrides.

use crate::catalog::ToolEntry;
use crate::error::HostError;
use crate::host::ToolHost;
use toolhost_governance::{
    set_rule, Approval, ApprovalFilter, AuditFilter, AuditRecord, Decision, Mode,
};

impl ToolHost {
    /// Approvals matching `filter`, newest first.
    pub fn list_approvals(&self, filter: &ApprovalFilter) -> Result<Vec<Approval>, HostError> {
        Ok(self.approvals.list(filter)?)
    }

    /// Audit records matching `filter`, in the order they were written.
    pub fn audit_records(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, HostError> {
        Ok(self.audit.read(filter)?)
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
    pub fn set_policy(&self, pattern: &str, mode: Mode) -> Result<Option<Mode>, HostError> {
        Ok(set_rule(&self.config.policy_file, pattern, mode)?)
    }
}
