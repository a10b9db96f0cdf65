//! MCP clients in PostgreSQL: the [`ClientStore`] several replicas share, so a client added
//! through one replica authenticates on every other, and a revocation through any of them
//! refuses the token on the next request everywhere. A row per client of a tenant (table
//! `clients`, migration 0004); only the token's SHA-256 is stored.

use crate::database::Database;
use crate::error::StateError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;
use toolhost_governance::{ClientError, ClientRecord, ClientStore};

const COLUMNS: &str = "name, role, token_sha256, created, revoked, elicitation_approvals";

/// The clients of one tenant in the shared database.
#[derive(Clone)]
pub struct PgClients {
    db: Database,
    tenant: String,
}

fn store(err: StateError) -> ClientError {
    ClientError::Store(Box::new(err))
}

impl PgClients {
    /// The clients of `tenant` (an already checked tenant name) in `db`.
    pub fn new(db: Database, tenant: impl Into<String>) -> PgClients {
        PgClients {
            db,
            tenant: tenant.into(),
        }
    }

    /// The one row `sql` returns, as a record; [`ClientError::Unknown`] for none.
    async fn one(
        &self,
        what: &str,
        sql: &str,
        name: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<ClientRecord, ClientError> {
        self.db
            .query_opt(what, sql, params)
            .await
            .map_err(store)?
            .map(record)
            .ok_or_else(|| ClientError::Unknown(name.to_string()))
    }
}

fn record(row: Row) -> ClientRecord {
    ClientRecord {
        name: row.get("name"),
        role: row.get("role"),
        token_sha256: row.get("token_sha256"),
        created: row.get("created"),
        revoked: row.get("revoked"),
        elicitation_approvals: row.get("elicitation_approvals"),
    }
}

#[async_trait]
impl ClientStore for PgClients {
    fn location(&self) -> String {
        format!(
            "the state database `{}` at {}, tenant `{}`",
            self.db.name(),
            self.db.at(),
            self.tenant
        )
    }

    async fn list(&self) -> Result<Vec<ClientRecord>, ClientError> {
        let rows = self
            .db
            .query(
                "reading the clients",
                &format!("SELECT {COLUMNS} FROM clients WHERE tenant = $1 ORDER BY seq"),
                &[&self.tenant],
            )
            .await
            .map_err(store)?;
        Ok(rows.into_iter().map(record).collect())
    }

    async fn get(&self, name: &str) -> Result<ClientRecord, ClientError> {
        self.one(
            "reading a client",
            &format!("SELECT {COLUMNS} FROM clients WHERE tenant = $1 AND name = $2"),
            name,
            &[&self.tenant, &name],
        )
        .await
    }

    async fn insert(&self, record: &ClientRecord) -> Result<(), ClientError> {
        // The primary key (tenant, name) decides between two adds racing each other: the
        // loser inserts nothing.
        let inserted = self
            .db
            .execute(
                "adding a client",
                "INSERT INTO clients \
                 (tenant, name, role, token_sha256, created, revoked, elicitation_approvals) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                &[
                    &self.tenant,
                    &record.name,
                    &record.role,
                    &record.token_sha256,
                    &record.created,
                    &record.revoked,
                    &record.elicitation_approvals,
                ],
            )
            .await
            .map_err(store)?;
        match inserted {
            0 => Err(ClientError::Duplicate(record.name.clone())),
            _ => Ok(()),
        }
    }

    async fn revoke(&self, name: &str, at: DateTime<Utc>) -> Result<ClientRecord, ClientError> {
        self.one(
            "revoking a client",
            &format!(
                "UPDATE clients SET revoked = COALESCE(revoked, $3) \
                 WHERE tenant = $1 AND name = $2 RETURNING {COLUMNS}"
            ),
            name,
            &[&self.tenant, &name, &at],
        )
        .await
    }

    async fn set_elicitation_approvals(
        &self,
        name: &str,
        allow: bool,
    ) -> Result<ClientRecord, ClientError> {
        self.one(
            "changing a client",
            &format!(
                "UPDATE clients SET elicitation_approvals = $3 \
                 WHERE tenant = $1 AND name = $2 RETURNING {COLUMNS}"
            ),
            name,
            &[&self.tenant, &name, &allow],
        )
        .await
    }

    async fn find_active(&self, token_sha256: &str) -> Result<Option<ClientRecord>, ClientError> {
        let rows = self
            .db
            .query(
                "authenticating a client",
                &format!(
                    "SELECT {COLUMNS} FROM clients \
                     WHERE tenant = $1 AND token_sha256 = $2 AND revoked IS NULL LIMIT 1"
                ),
                &[&self.tenant, &token_sha256],
            )
            .await
            .map_err(store)?;
        Ok(rows.into_iter().next().map(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fresh_database;
    use std::sync::Arc;
    use toolhost_governance::{ClientRegistry, Role, RoleTable};

    fn roles() -> RoleTable {
        RoleTable::from_roles(vec![Role::builtin()])
    }

    fn registry(db: &Database, tenant: &str) -> ClientRegistry {
        ClientRegistry::new(Arc::new(PgClients::new(db.clone(), tenant)))
    }

    #[tokio::test]
    async fn clients_are_shared_by_replicas_and_kept_apart_by_tenant() {
        let Some(db) = fresh_database().await else {
            return;
        };
        let (one, two) = (registry(&db, "acme"), registry(&db, "acme"));
        let other_tenant = registry(&db, "globex");
        let role = roles().names()[0].to_string();
        let (record, token) = one.add("agent-1", &role, &roles(), false).await.unwrap();
        let found = two.authenticate(token.expose()).await.unwrap().unwrap();
        assert_eq!(
            (found.name, found.role, found.token_sha256),
            (record.name, record.role, record.token_sha256)
        );
        assert!(other_tenant
            .authenticate(token.expose())
            .await
            .unwrap()
            .is_none());
        assert!(matches!(
            other_tenant.get("agent-1").await,
            Err(ClientError::Unknown(_))
        ));
        // The same name in another tenant is another client.
        other_tenant
            .add("agent-1", &role, &roles(), false)
            .await
            .unwrap();
        assert!(matches!(
            two.add("agent-1", &role, &roles(), true).await,
            Err(ClientError::Duplicate(_))
        ));
        let stored: Vec<String> = db
            .client()
            .await
            .unwrap()
            .query("SELECT row_to_json(clients)::text FROM clients", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert!(stored.iter().all(|row| !row.contains(token.expose())));

        let revoked = two.revoke("agent-1").await.unwrap().revoked.unwrap();
        assert!(one.authenticate(token.expose()).await.unwrap().is_none());
        assert!(matches!(
            one.active("agent-1").await,
            Err(ClientError::Revoked(_))
        ));
        assert_eq!(
            one.revoke("agent-1").await.unwrap().revoked,
            Some(revoked),
            "revoking twice keeps the first time"
        );
        assert!(other_tenant.active("agent-1").await.is_ok());
        assert!(
            one.set_elicitation_approvals("agent-1", true)
                .await
                .unwrap()
                .elicitation_approvals
        );
        assert!(matches!(
            one.revoke("nobody").await,
            Err(ClientError::Unknown(_))
        ));
        one.add("agent-2", &role, &roles(), false).await.unwrap();
        let names: Vec<String> = two
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, ["agent-1", "agent-2"], "in creation order");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn racing_adds_of_one_name_make_one_client() {
        let Some(db) = fresh_database().await else {
            return;
        };
        let role = roles().names()[0].to_string();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let registry = registry(&db, "acme");
                let role = role.clone();
                tokio::spawn(async move { registry.add("agent", &role, &roles(), false).await })
            })
            .collect();
        let mut created = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => created += 1,
                Err(ClientError::Duplicate(_)) => {}
                Err(other) => panic!("{other}"),
            }
        }
        assert_eq!(created, 1);
    }
}
