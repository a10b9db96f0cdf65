//! [`PgAudit`]: the audit log of one tenant in the state database (table `audit_records`,
//! migration 0001). Every replica appends to the one table; its `bigserial` sequence puts the
//! records of all of them in one order, which is the order they read back in. Each record is
//! inserted under its id (migration 0006), once: a replica that spooled records while the
//! database was unreachable may send them again after a crash, and those are skipped.

use crate::database::Database;
use chrono::{DateTime, Utc};
use toolhost_governance::{
    AuditBackend, AuditError, AuditFilter, AuditRecord, IdempotentAuditBackend, KeyedAuditRecord,
};

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

    /// Appends `record` under a fresh id (see [`IdempotentAuditBackend::append_once`]).
    async fn append(&self, record: &AuditRecord) -> Result<(), AuditError> {
        self.append_once(&[KeyedAuditRecord::new(record.clone())])
            .await
    }

    async fn read(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, AuditError> {
        // The server keeps microseconds: within the one microsecond of `since` the record's own
        // time (nanoseconds) decides, below.
        let since: Option<DateTime<Utc>> = filter.since;
        let limit: Option<i64> = filter.limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
        let rows = self
            .db
            .query(
                "reading the audit log",
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

#[async_trait::async_trait]
impl IdempotentAuditBackend for PgAudit {
    /// One transaction: every record in order, or none; a record whose id the tenant already
    /// has is skipped by the unique index of migration 0006.
    async fn append_once(&self, records: &[KeyedAuditRecord]) -> Result<(), AuditError> {
        let rows = records
            .iter()
            .map(|k| Ok((k.id.to_string(), serde_json::to_value(&k.record)?)))
            .collect::<Result<Vec<_>, serde_json::Error>>()?;
        let failed = |e| self.db.failed("appending audit records", e);
        self.db
            .within(async {
                let mut client = self.db.client().await?;
                let tx = client.transaction().await.map_err(failed)?;
                let insert = tx
                    .prepare(
                        "INSERT INTO audit_records \
                         (tenant, time, tool, decision, outcome, record, record_id) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7::text::uuid) \
                         ON CONFLICT (tenant, record_id) DO NOTHING",
                    )
                    .await
                    .map_err(failed)?;
                for (k, (id, value)) in records.iter().zip(&rows) {
                    let r = &k.record;
                    tx.execute(
                        &insert,
                        &[
                            &self.tenant,
                            &r.time,
                            &r.tool,
                            &r.decision.as_str(),
                            &r.outcome.as_str(),
                            value,
                            id,
                        ],
                    )
                    .await
                    .map_err(failed)?;
                }
                tx.commit().await.map_err(failed)
            })
            .await?;
        Ok(())
    }
}
