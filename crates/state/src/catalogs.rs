//! [`PgCatalogs`]: the discovered half of a tenant's tool catalog in the state database
//! (table `toolhost_catalogs`, migration 0009), the copy every replica serves, so a refresh
//! on one replica is what all of them list and call at once (no replica keeps offering a
//! removed script's tool, or refusing a new one, until its own copy expires).
//!
//! A row per (tenant, component build, connection), as a home's `catalog.json` is keyed;
//! the tools are the host's JSON form, opaque here. Replicas take turns refreshing: a
//! [`CatalogRefresh`] holds a session-level advisory lock per (tenant, key), polled within
//! the caller's patience, and lets go when it saves or is dropped (a dropped turn closes its
//! connection, and the server frees the lock with the session; so does a replica that dies).

use crate::database::Database;
use crate::error::StateError;
use deadpool_postgres::Object;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};
use tokio_postgres::Row;

/// Longest pause between two tries of a held refresh lock.
const LONGEST_POLL: Duration = Duration::from_millis(50);
/// A catalog of another build or connection of the tenant older than this is deleted when
/// a catalog is saved: a rolling upgrade keeps both builds' catalogs, a retired one goes.
const KEEP_OTHERS_MS: i64 = 7 * 24 * 3600 * 1000;

/// What a catalog was discovered for: the component build and the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogKey {
    /// The SHA-256 of the component that discovered it.
    pub component_sha256: String,
    /// The connection's region.
    pub region: String,
    /// The connection's client id.
    pub client_id: String,
}

/// A stored catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCatalog {
    /// How many times the row was saved: changes with every refresh.
    pub revision: i64,
    /// When the discovery that produced it began (Unix milliseconds).
    pub discovered_at_ms: i64,
    /// The tools, in the host's JSON form.
    pub tools: Value,
}

/// The catalogs of one tenant in the shared database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PgCatalogs {
    db: Database,
    tenant: String,
}

impl PgCatalogs {
    /// The catalog rows of `tenant` (an already checked tenant name) in `db`.
    pub fn new(db: Database, tenant: impl Into<String>) -> PgCatalogs {
        PgCatalogs {
            db,
            tenant: tenant.into(),
        }
    }

    /// The tenant's catalog for `key`, if one was saved.
    pub async fn load(&self, key: &CatalogKey) -> Result<Option<StoredCatalog>, StateError> {
        let db = &self.db;
        db.within(async {
            let client = db.client().await?;
            self.load_with(&client, key).await
        })
        .await
    }

    /// Takes the refresh turn of `key`, waiting up to `patience` while another replica
    /// holds it; `None` when it is still held then.
    pub async fn refresh_turn(
        &self,
        key: &CatalogKey,
        patience: Duration,
    ) -> Result<Option<CatalogRefresh>, StateError> {
        let db = &self.db;
        let lock = advisory_key(&self.tenant, key);
        let started = Instant::now();
        let client = db.within(db.client()).await?;
        let mut pause = Duration::from_millis(2);
        loop {
            let row = db
                .within(async {
                    client
                        .query_one("SELECT pg_try_advisory_lock($1)", &[&lock])
                        .await
                        .map_err(|e| db.failed("the catalog refresh lock", e))
                })
                .await?;
            if row.get::<_, bool>(0) {
                return Ok(Some(CatalogRefresh {
                    catalogs: self.clone(),
                    key: key.clone(),
                    lock,
                    client: Some(client),
                }));
            }
            if started.elapsed() >= patience {
                return Ok(None);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(LONGEST_POLL);
        }
    }

    async fn load_with(
        &self,
        client: &Object,
        key: &CatalogKey,
    ) -> Result<Option<StoredCatalog>, StateError> {
        let row = client
            .query_opt(
                "SELECT revision, discovered_at_ms, tools FROM toolhost_catalogs \
                 WHERE tenant = $1 AND component_sha256 = $2 AND region = $3 AND client_id = $4",
                &[
                    &self.tenant,
                    &key.component_sha256,
                    &key.region,
                    &key.client_id,
                ],
            )
            .await
            .map_err(|e| self.db.failed("reading the tenant's tool catalog", e))?;
        row.map(|row| self.stored(&row)).transpose()
    }

    fn stored(&self, row: &Row) -> Result<StoredCatalog, StateError> {
        let corrupt = |e: tokio_postgres::Error| {
            self.db
                .corrupt(format_args!("tenant `{}`'s tool catalog: {e}", self.tenant))
        };
        Ok(StoredCatalog {
            revision: row.try_get("revision").map_err(corrupt)?,
            discovered_at_ms: row.try_get("discovered_at_ms").map_err(corrupt)?,
            tools: row.try_get("tools").map_err(corrupt)?,
        })
    }
}

/// One replica's turn to refresh a catalog: the advisory lock, held on its own connection
/// until [`CatalogRefresh::save`] or drop.
pub struct CatalogRefresh {
    catalogs: PgCatalogs,
    key: CatalogKey,
    lock: i64,
    /// `None` only once saved.
    client: Option<Object>,
}

impl CatalogRefresh {
    /// The catalog as it stands now, read under the lock: another replica's refresh that
    /// ended while this one waited is here.
    pub async fn current(&self) -> Result<Option<StoredCatalog>, StateError> {
        let db = &self.catalogs.db;
        let client = self.held()?;
        db.within(self.catalogs.load_with(client, &self.key)).await
    }

    /// Saves the tools discovered from `discovered_at_ms` on and lets go of the lock;
    /// returns the row as saved.
    pub async fn save(
        mut self,
        discovered_at_ms: i64,
        tools: &Value,
    ) -> Result<StoredCatalog, StateError> {
        let db = self.catalogs.db.clone();
        let tenant = &self.catalogs.tenant;
        let key = &self.key;
        let client = self.held()?;
        let row = db
            .within(async {
                client
                    .execute(
                        "DELETE FROM toolhost_catalogs WHERE tenant = $1 \
                         AND (component_sha256, region, client_id) <> ($2, $3, $4) \
                         AND discovered_at_ms < $5",
                        &[
                            &tenant,
                            &key.component_sha256,
                            &key.region,
                            &key.client_id,
                            &(discovered_at_ms - KEEP_OTHERS_MS),
                        ],
                    )
                    .await
                    .map_err(|e| db.failed("removing retired tool catalogs", e))?;
                client
                    .query_one(
                        "INSERT INTO toolhost_catalogs AS c (tenant, component_sha256, region, \
                         client_id, revision, discovered_at_ms, tools, updated) \
                         VALUES ($1, $2, $3, $4, 1, $5, $6, now()) \
                         ON CONFLICT (tenant, component_sha256, region, client_id) DO UPDATE \
                         SET revision = c.revision + 1, discovered_at_ms = EXCLUDED.discovered_at_ms, \
                             tools = EXCLUDED.tools, updated = now() \
                         RETURNING revision, discovered_at_ms, tools",
                        &[
                            &tenant,
                            &key.component_sha256,
                            &key.region,
                            &key.client_id,
                            &discovered_at_ms,
                            tools,
                        ],
                    )
                    .await
                    .map_err(|e| db.failed("saving the tenant's tool catalog", e))
            })
            .await?;
        let saved = self.catalogs.stored(&row)?;
        let unlocked = db
            .within(async {
                client
                    .execute("SELECT pg_advisory_unlock($1)", &[&self.lock])
                    .await
                    .map_err(|e| db.failed("releasing the catalog refresh lock", e))
            })
            .await;
        if unlocked.is_ok() {
            // Unlocked: the connection may serve others again (drop would close it).
            drop(self.client.take());
        }
        Ok(saved)
    }

    fn held(&self) -> Result<&Object, StateError> {
        self.client.as_ref().ok_or_else(|| {
            self.catalogs
                .db
                .unreachable("the catalog refresh lock was let go")
        })
    }
}

impl Drop for CatalogRefresh {
    fn drop(&mut self) {
        // Still locked (not saved, or unlocking failed): closing the session frees the lock
        // on the server, and the connection never returns to the pool holding it.
        if let Some(client) = self.client.take() {
            drop(Object::take(client));
        }
    }
}

/// The refresh lock of one tenant's catalog key: 64 bits of a SHA-256, so neither tenants
/// nor keys share a lock (nor, in practice, anything else that takes advisory locks).
fn advisory_key(tenant: &str, key: &CatalogKey) -> i64 {
    let digest = Sha256::digest(
        format!(
            "toolhost catalog\0{tenant}\0{}\0{}\0{}",
            key.component_sha256, key.region, key.client_id
        )
        .as_bytes(),
    );
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

#[cfg(test)]
#[path = "catalogs_tests.rs"]
mod tests;
