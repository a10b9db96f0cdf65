//! [`PgApprovals`]: the pending approvals of one tenant in the state database (table
//! `approvals`, migration 0001), shared by every replica.
//!
//! A record leaves `pending` through one conditional `UPDATE ... WHERE phase = 'pending'`:
//! the server lets exactly one statement match, so an approval approved at the same moment
//! through two replicas is claimed (and runs) once, and a claim and a denial cannot both win.
//! The row keeps the record as the embedded store writes it; its state fields are merged in
//! by the same statement that moves the phase.

use crate::database::Database;
use crate::error::StateError;
use chrono::Utc;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use toolhost_governance::{
    Approval, ApprovalBackend, ApprovalError, ApprovalFilter, ApprovalState, PasskeyEvidence,
};

/// The approvals of one tenant.
#[derive(Debug, Clone)]
pub struct PgApprovals {
    db: Database,
    tenant: String,
}

impl PgApprovals {
    /// The approvals of `tenant` (an already checked tenant name) in `db`.
    pub fn new(db: Database, tenant: impl Into<String>) -> PgApprovals {
        PgApprovals {
            db,
            tenant: tenant.into(),
        }
    }

    /// The record in `value`, checked as the embedded store checks a file: it must be the
    /// approval asked for, and its arguments must match their digest (or it never runs).
    fn parse(&self, id: &str, value: Value) -> Result<Approval, StateError> {
        let approval: Approval = serde_json::from_value(value)
            .map_err(|e| self.db.corrupt(format!("approval {id}: {e}")))?;
        if approval.id != id {
            return Err(self
                .db
                .corrupt(format!("approval {id}: it holds approval {}", approval.id)));
        }
        if sha256_hex(&approval.arguments) != approval.arguments_sha256 {
            return Err(self.db.corrupt(format!(
                "approval {id}: the arguments do not match their SHA-256"
            )));
        }
        Ok(approval)
    }

    /// Moves `id` from `from` to `to`, merging `fields` into its record, when `guard` (more
    /// SQL conditions) holds too; `None` when no row matched.
    async fn advance(
        &self,
        id: &str,
        from: &str,
        to: &str,
        fields: Value,
        guard: &str,
    ) -> Result<Option<Approval>, StateError> {
        let sql = format!(
            "UPDATE approvals SET phase = $3, record = record || $4::jsonb \
             WHERE tenant = $1 AND id = $2 AND phase = $5 {guard} RETURNING record"
        );
        let row = self
            .db
            .query_opt(
                "moving an approval",
                &sql,
                &[&self.tenant, &id, &to, &fields, &from],
            )
            .await?;
        row.map(|row| self.parse(id, row.get(0))).transpose()
    }

    /// The approval as it stands and whether it has expired by the server's clock.
    async fn current(&self, id: &str) -> Result<Option<(Approval, bool)>, StateError> {
        let row = self
            .db
            .query_opt(
                "reading an approval",
                "SELECT record, expires_at <= now() FROM approvals \
                 WHERE tenant = $1 AND id = $2",
                &[&self.tenant, &id],
            )
            .await?;
        row.map(|row| Ok((self.parse(id, row.get(0))?, row.get(1))))
            .transpose()
    }
}

#[async_trait::async_trait]
impl ApprovalBackend for PgApprovals {
    fn location(&self) -> String {
        format!(
            "approvals of tenant `{}` in the state database `{}` at {}",
            self.tenant,
            self.db.name(),
            self.db.at()
        )
    }

    async fn insert(&self, approval: &Approval) -> Result<(), ApprovalError> {
        let record = serde_json::to_value(approval).map_err(ApprovalError::Arguments)?;
        self.db
            .execute(
                "recording an approval",
                "INSERT INTO approvals (tenant, id, phase, tool, created_at, expires_at, record) \
                 VALUES ($1, $2, 'pending', $3, $4, $5, $6)",
                &[
                    &self.tenant,
                    &approval.id,
                    &approval.tool,
                    &approval.created_at,
                    &approval.expires_at,
                    &record,
                ],
            )
            .await?;
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Approval, ApprovalError> {
        match self.current(id).await? {
            Some((approval, _)) => Ok(approval),
            None => Err(ApprovalError::NotFound(id.to_string())),
        }
    }

    async fn ids_starting_with(&self, prefix: &str) -> Result<Vec<String>, ApprovalError> {
        // The prefix is hex digits and hyphens (checked by the store): no LIKE wildcards.
        let rows = self
            .db
            .query(
                "finding an approval",
                "SELECT id FROM approvals WHERE tenant = $1 AND id LIKE $2 || '%' ORDER BY id",
                &[&self.tenant, &prefix],
            )
            .await?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    async fn list(&self, filter: &ApprovalFilter) -> Result<Vec<Approval>, ApprovalError> {
        let rows = self
            .db
            .query(
                "listing approvals",
                "SELECT id, record FROM approvals WHERE tenant = $1 \
                 AND ($2::text IS NULL OR strpos(tool, $2) > 0) \
                 ORDER BY created_at, id",
                &[&self.tenant, &filter.tool_contains],
            )
            .await?;
        let now = Utc::now();
        let mut out = Vec::new();
        for row in rows {
            let id: String = row.get(0);
            let approval = self.parse(&id, row.get(1))?;
            if filter.matches(&approval, now) {
                out.push(approval.without_result());
            }
        }
        // The server orders by microseconds; the records keep nanoseconds.
        out.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    async fn claim(
        &self,
        id: &str,
        by: &str,
        passkey: Option<PasskeyEvidence>,
    ) -> Result<Approval, ApprovalError> {
        let mut fields = state_fields(&ApprovalState::Executing {
            by: by.to_string(),
            at: Utc::now(),
        })?;
        if let Some(passkey) = passkey {
            fields["passkey"] = serde_json::to_value(passkey).map_err(ApprovalError::Arguments)?;
        }
        let claimed = self
            .advance(id, "pending", "executing", fields, "AND expires_at > now()")
            .await?;
        if let Some(approval) = claimed {
            return Ok(approval);
        }
        match self.current(id).await? {
            None => Err(ApprovalError::NotFound(id.to_string())),
            Some((approval, expired)) if approval.state == ApprovalState::Pending && expired => {
                Err(ApprovalError::Expired {
                    id: id.to_string(),
                    expired_at: approval.expires_at,
                })
            }
            Some((approval, _)) => Err(ApprovalError::not_pending(approval)),
        }
    }

    async fn deny(&self, id: &str, by: &str) -> Result<Approval, ApprovalError> {
        let fields = state_fields(&ApprovalState::Denied {
            by: by.to_string(),
            at: Utc::now(),
        })?;
        if let Some(approval) = self.advance(id, "pending", "denied", fields, "").await? {
            return Ok(approval);
        }
        match self.current(id).await? {
            None => Err(ApprovalError::NotFound(id.to_string())),
            Some((approval, _)) => Err(ApprovalError::not_pending(approval)),
        }
    }

    async fn complete(
        &self,
        id: &str,
        outcome: &str,
        result: Option<Value>,
    ) -> Result<Approval, ApprovalError> {
        // `by` stays as the claim wrote it.
        let mut fields = json!({"state": "executed", "at": Utc::now(), "outcome": outcome});
        if let Some(result) = result {
            fields["result"] = result;
        }
        if let Some(approval) = self
            .advance(id, "executing", "executed", fields, "")
            .await?
        {
            return Ok(approval);
        }
        match self.current(id).await? {
            None => Err(ApprovalError::NotExecuting { id: id.to_string() }),
            Some((approval, _)) => Err(ApprovalError::not_pending(approval)),
        }
    }
}

/// The record fields of `state` (`state`, `by`, `at`), as the record flattens them.
fn state_fields(state: &ApprovalState) -> Result<Value, ApprovalError> {
    serde_json::to_value(state).map_err(ApprovalError::Arguments)
}

/// Lowercase hex SHA-256, as the records keep it.
fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
#[path = "stores_tests.rs"]
mod tests;
