//! The state of MCP 2026-07-28 approval rounds in PostgreSQL, shared by every replica of a
//! tenant (migration 0005): the key that signs `requestState` values, so that a state sealed
//! by one replica opens on another, and the marks of delivered outcomes, so that an outcome
//! is delivered once across all replicas rather than once per replica.
//!
//! With the operator's [`SealingKey`] the signing key is sealed at rest for its tenant's row:
//! whoever reads the table alone cannot forge a `requestState`.

use crate::database::Database;
use crate::error::StateError;
use crate::sealing::SealingKey;

/// Bytes of key material (HMAC-SHA256 wants at least 32).
const KEY_BYTES: usize = 48;

/// Why the shared request state cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum McpStateError {
    /// The database failed or is unreachable (the message names where it is).
    #[error(transparent)]
    Database(#[from] StateError),
    /// The operating system's random source failed.
    #[error("cannot draw a request-state key from the operating system: {0}")]
    Random(String),
    /// The stored key is too short to be one this crate wrote.
    #[error("the MCP request-state key of tenant `{0}` in the database is damaged: delete its row in `mcp_state_keys` (pending 2026-07-28 approval rounds then restart) and start the servers again")]
    BadKey(String),
    /// The stored key is sealed and this host has no sealing key, or another one.
    #[error("the MCP request-state key of tenant `{tenant}` in the database cannot be opened: {why}. Start every replica with the same {}", crate::sealing::STATE_KEY_ENV)]
    Sealed {
        /// The tenant.
        tenant: String,
        /// Why it did not open (never any part of a key).
        why: String,
    },
}

/// The request state of one tenant in the shared database.
#[derive(Clone)]
pub struct PgRequestStates {
    db: Database,
    tenant: String,
    /// Seals the signing key at rest; `None` stores it as it is.
    sealing: Option<SealingKey>,
}

impl PgRequestStates {
    /// The request state of `tenant` (an already checked tenant name) in `db`.
    pub fn new(db: Database, tenant: impl Into<String>) -> PgRequestStates {
        PgRequestStates {
            db,
            tenant: tenant.into(),
            sealing: None,
        }
    }

    /// The tenant whose state this is.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The same, with the signing key sealed at rest with `key`.
    pub fn sealed_with(mut self, key: SealingKey) -> PgRequestStates {
        self.sealing = Some(key);
        self
    }

    /// The label a sealed signing key is bound to: a key copied into another tenant's row
    /// does not open there.
    fn label(&self) -> String {
        format!("tenant/{}/mcp-request-state-key", self.tenant)
    }

    /// The tenant's signing key, created by the first replica to ask: a fresh key is offered
    /// and the stored one read back, so replicas starting together end up with the same key.
    pub async fn key(&self) -> Result<Vec<u8>, McpStateError> {
        let mut offered = vec![0u8; KEY_BYTES];
        getrandom::fill(&mut offered).map_err(|e| McpStateError::Random(e.to_string()))?;
        let stored = match &self.sealing {
            Some(sealing) => sealing
                .seal(&offered, &self.label())
                .map_err(|e| McpStateError::Random(e.to_string()))?,
            None => offered,
        };
        let db = &self.db;
        // Two statements, each on its own pooled connection: the insert is committed before
        // the read, which then sees whichever replica's key won.
        db.execute(
            "storing the MCP request-state key",
            "INSERT INTO mcp_state_keys (tenant, key, sealed) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant) DO NOTHING",
            &[&self.tenant, &stored, &self.sealing.is_some()],
        )
        .await?;
        let row = db
            .query_one(
                "reading the MCP request-state key",
                "SELECT key, sealed FROM mcp_state_keys WHERE tenant = $1",
                &[&self.tenant],
            )
            .await?;
        let stored: Vec<u8> = row.get("key");
        let key = match (row.get::<_, bool>("sealed"), &self.sealing) {
            (true, Some(sealing)) => {
                sealing
                    .open(&stored, &self.label())
                    .map_err(|e| McpStateError::Sealed {
                        tenant: self.tenant.clone(),
                        why: e.to_string(),
                    })?
            }
            (true, None) => {
                return Err(McpStateError::Sealed {
                    tenant: self.tenant.clone(),
                    why: "it is sealed and this host has no sealing key".to_string(),
                })
            }
            // Stored before the deployment had a sealing key: still the tenant's key.
            (false, _) => stored,
        };
        if key.len() < 32 {
            return Err(McpStateError::BadKey(self.tenant.clone()));
        }
        Ok(key)
    }

    /// Marks `approval`'s outcome as delivered: `true` for the first mark across all
    /// replicas, `false` when it was already marked (the primary key decides).
    pub async fn redeem(&self, approval: &str) -> Result<bool, McpStateError> {
        let db = &self.db;
        let inserted = db
            .execute(
                "marking an MCP approval round's outcome delivered",
                "INSERT INTO mcp_redeemed (tenant, approval) VALUES ($1, $2) \
                 ON CONFLICT (tenant, approval) DO NOTHING",
                &[&self.tenant, &approval],
            )
            .await?;
        Ok(inserted == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fresh_database;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replicas_agree_on_one_key_per_tenant() {
        let Some(db) = fresh_database().await else {
            return;
        };
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let states = PgRequestStates::new(db.clone(), "acme");
                tokio::spawn(async move { states.key().await.unwrap() })
            })
            .collect();
        let mut keys = Vec::new();
        for task in tasks {
            keys.push(task.await.unwrap());
        }
        assert!(keys.iter().all(|k| k == &keys[0] && k.len() >= 32));
        let other = PgRequestStates::new(db.clone(), "globex");
        assert_ne!(other.key().await.unwrap(), keys[0]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_outcome_is_redeemed_once_across_replicas() {
        let Some(db) = fresh_database().await else {
            return;
        };
        const ID: &str = "0b7c6a3e-8f1d-4c2b-9a55-2f6f0f1e9d10";
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let states = PgRequestStates::new(db.clone(), "acme");
                tokio::spawn(async move { states.redeem(ID).await.unwrap() })
            })
            .collect();
        let mut won = 0;
        for task in tasks {
            won += usize::from(task.await.unwrap());
        }
        assert_eq!(won, 1);
        // The same approval id in another tenant is another approval.
        let other = PgRequestStates::new(db, "globex");
        assert!(other.redeem(ID).await.unwrap());
    }

    #[tokio::test]
    async fn the_key_is_sealed_at_rest_with_the_operators_key() {
        let Some(db) = fresh_database().await else {
            return;
        };
        let sealing = SealingKey::from_bytes([7; 32]);
        let states = PgRequestStates::new(db.clone(), "acme").sealed_with(sealing);
        let key = states.key().await.unwrap();
        let stored: Vec<u8> = db
            .client()
            .await
            .unwrap()
            .query_one("SELECT key FROM mcp_state_keys WHERE tenant = 'acme'", &[])
            .await
            .unwrap()
            .get(0);
        assert!(!stored.windows(16).any(|w| key.windows(16).any(|k| k == w)));
        assert_eq!(states.key().await.unwrap(), key, "opens again");
        let keyless = PgRequestStates::new(db.clone(), "acme");
        assert!(matches!(
            keyless.key().await,
            Err(McpStateError::Sealed { .. })
        ));
        let another = PgRequestStates::new(db, "acme").sealed_with(SealingKey::from_bytes([8; 32]));
        let err = another.key().await.unwrap_err();
        assert!(matches!(err, McpStateError::Sealed { .. }), "{err}");
    }
}
