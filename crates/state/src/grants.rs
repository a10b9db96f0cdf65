//! Tenant grants in PostgreSQL: what `toolhost connect` (or `toolhost grant accept`) records in
//! a home's `grant.json`, one row per tenant (table `toolhost_grants`, migration 0007), so
//! every replica checks its component against the grant the operator accepted.

use crate::database::Database;
use crate::error::StateError;
use serde_json::Value;

/// The grants of every tenant in the shared database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PgGrants {
    db: Database,
    tenant: String,
}

impl PgGrants {
    /// The grant rows of `tenant` in `db`.
    pub fn new(db: Database, tenant: impl Into<String>) -> PgGrants {
        PgGrants {
            db,
            tenant: tenant.into(),
        }
    }

    /// The recorded grant (the host's JSON form), if any.
    pub async fn load(&self) -> Result<Option<Value>, StateError> {
        let db = &self.db;
        let row = db
            .query_opt(
                "reading the tenant's grant",
                "SELECT grant_record FROM toolhost_grants WHERE tenant = $1",
                &[&self.tenant],
            )
            .await?;
        row.map(|row| {
            row.try_get("grant_record")
                .map_err(|e| db.corrupt(format_args!("tenant `{}`'s grant: {e}", self.tenant)))
        })
        .transpose()
    }

    /// Records (or replaces) the grant.
    pub async fn save(&self, grant: &Value) -> Result<(), StateError> {
        let db = &self.db;
        db.execute(
            "recording the tenant's grant",
            "INSERT INTO toolhost_grants (tenant, grant_record, updated) \
             VALUES ($1, $2, now()) ON CONFLICT (tenant) DO UPDATE \
             SET grant_record = EXCLUDED.grant_record, updated = now()",
            &[&self.tenant, grant],
        )
        .await?;
        Ok(())
    }
}
