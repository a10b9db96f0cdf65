//! [`PgAudit`]: the audit log of one tenant in the state database (table `audit_records`,
//! migration 0001). Every replica appends to the one table; its `bigserial` sequence puts the
//! records of all of them in one order, which is the order they read back in.

use crate::database::Database;
use chrono::{DateTime, Utc};
use toolhost_governance::{AuditBackend, AuditError, AuditFilter, AuditRecord};

/// The audit log of one tenant.
#[derive(Debug, Clone)]
pub struct PgAudit {
    db: Database,
    tenant: String,
}

impl PgAudit {
    /// The audit log of `tenant` (an already checked tenant name) in `db`.
    pub fn new(db: Database, tenant: impl Into<String>) -> PgAudit {
        PgAudit {
            db,
            tenant: tenant.into(),
        }
    }
}

#[async_trait::async_trait]
impl AuditBackend for PgAudit {
    fn location(&self) -> String {
        format!(
            "audit log of tenant `{}` in the state database `{}` at {}",
            self.tenant,
            self.db.name(),
            self.db.at()
        )
    }

    async fn append(&self, record: &AuditRecord) -> Result<(), AuditError> {
        let value = serde_json::to_value(record)?;
        self.db
            .within(async {
                let client = self.db.client().await?;
                client
                    .execute(
                        "INSERT INTO audit_records (tenant, time, tool, decision, outcome, record) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                        &[
                            &self.tenant,
                            &record.time,
                            &record.tool,
                            &record.decision.as_str(),
                            &record.outcome.as_str(),
                            &value,
                        ],
                    )
                    .await
                    .map_err(|e| self.db.failed("appending an audit record", e))
            })
            .await?;
        Ok(())
    }

    async fn read(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, AuditError> {
        // The server keeps microseconds: within the one microsecond of `since` the record's own
        // time (nanoseconds) decides, below.
        let since: Option<DateTime<Utc>> = filter.since;
        let limit: Option<i64> = filter.limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
        let rows = self
            .db
            .within(async {
                let client = self.db.client().await?;
                client
                    .query(
                        "SELECT seq, record FROM (
                             SELECT seq, record FROM audit_records
                             WHERE tenant = $1
                               AND ($2::text IS NULL OR strpos(tool, $2) > 0)
                               AND ($3::text IS NULL OR decision = $3)
                               AND ($4::text IS NULL OR outcome = $4)
                               AND ($5::timestamptz IS NULL OR time >= $5)
                             ORDER BY seq DESC
                             LIMIT $6
                         ) AS matched ORDER BY seq",
                        &[
                            &self.tenant,
                            &filter.tool,
                            &filter.decision.map(|d| d.as_str()),
                            &filter.outcome.map(|o| o.as_str()),
                            &since,
                            &limit,
                        ],
                    )
                    .await
                    .map_err(|e| self.db.failed("reading the audit log", e))
            })
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let seq: i64 = row.get(0);
            let record: AuditRecord = serde_json::from_value(row.get(1))
                .map_err(|e| self.db.corrupt(format!("audit record {seq}: {e}")))?;
            if filter.matches(&record) {
                out.push(record);
            }
        }
        Ok(out)
    }
}
