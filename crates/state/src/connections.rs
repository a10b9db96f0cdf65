//! Tenant connections in PostgreSQL: what `toolhost connect` saves in a home's
//! `connection.json`, shared by every replica. One row per tenant (table
//! `toolhost_connections`, migration 0003): the non-secret settings as JSON, and the API client
//! secret sealed with the operator's [`SealingKey`] for that row. A host without the key
//! cannot read the secret, and the plaintext is never written to the database.

use crate::database::Database;
use crate::error::StateError;
use crate::sealing::{OpenError, SealError, SealingKey};
use serde_json::Value;
use toolhost_base::SecretString;

/// One tenant's connection as stored.
#[derive(Debug, Clone)]
pub struct StoredConnection {
    /// What is not secret: region, client id, scopes, routes (the caller's shape).
    pub settings: Value,
    /// The API client secret.
    pub client_secret: SecretString,
}

/// Why a connection could not be saved or loaded. Never carries the secret.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionStoreError {
    /// The database did not answer or refused the statement.
    #[error(transparent)]
    State(#[from] StateError),
    /// Not a tenant name.
    #[error("{0:?} is not a tenant name: use 1 to 63 lowercase letters, digits or '-', starting with a letter or digit")]
    BadTenant(String),
    /// The settings carry the secret itself, which would store it in clear.
    #[error("tenant `{tenant}`'s connection settings contain the client secret: it is stored sealed, separately, never among the settings")]
    SecretInSettings {
        /// The tenant.
        tenant: String,
    },
    /// Sealing failed.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// The stored secret does not open with this host's key.
    #[error("{0}; start this host with the key the connection was saved with, or run `toolhost connect` again")]
    Open(#[from] OpenError),
}

/// The connections of every tenant in the shared database, sealed with one key.
#[derive(Clone)]
pub struct PgConnections {
    db: Database,
    key: SealingKey,
}

impl std::fmt::Debug for PgConnections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConnections")
            .field("db", &self.db)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl PgConnections {
    /// The connections in `db`, sealed and opened with `key`.
    pub fn new(db: &Database, key: SealingKey) -> PgConnections {
        PgConnections {
            db: db.clone(),
            key,
        }
    }

    /// Saves (or replaces) `tenant`'s connection; the secret is sealed for this tenant's row.
    pub async fn save(
        &self,
        tenant: &str,
        connection: &StoredConnection,
    ) -> Result<(), ConnectionStoreError> {
        check_tenant(tenant)?;
        let secret = connection.client_secret.expose();
        if !secret.is_empty() && connection.settings.to_string().contains(secret) {
            return Err(ConnectionStoreError::SecretInSettings {
                tenant: tenant.to_string(),
            });
        }
        let sealed = self
            .key
            .seal_secret(&connection.client_secret, &secret_label(tenant))?;
        let db = &self.db;
        db.execute(
            "saving a tenant connection",
            "INSERT INTO toolhost_connections (tenant, settings, client_secret_sealed, updated) \
             VALUES ($1, $2, $3, now()) \
             ON CONFLICT (tenant) DO UPDATE SET settings = EXCLUDED.settings, \
             client_secret_sealed = EXCLUDED.client_secret_sealed, updated = now()",
            &[&tenant, &connection.settings, &sealed],
        )
        .await?;
        Ok(())
    }

    /// `tenant`'s connection, if one was saved; the secret opened with this host's key.
    pub async fn load(
        &self,
        tenant: &str,
    ) -> Result<Option<StoredConnection>, ConnectionStoreError> {
        check_tenant(tenant)?;
        let db = &self.db;
        let row = db
            .query_opt(
                "reading a tenant connection",
                "SELECT settings, client_secret_sealed FROM toolhost_connections \
                 WHERE tenant = $1",
                &[&tenant],
            )
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let corrupt = |e: tokio_postgres::Error| {
            db.corrupt(format_args!("tenant `{tenant}`'s connection: {e}"))
        };
        let sealed: Vec<u8> = row.try_get("client_secret_sealed").map_err(corrupt)?;
        let settings: Value = row.try_get("settings").map_err(corrupt)?;
        let client_secret = self.key.open_secret(&sealed, &secret_label(tenant))?;
        Ok(Some(StoredConnection {
            settings,
            client_secret,
        }))
    }

    /// The tenants with a saved connection, by name (secrets stay sealed).
    pub async fn tenants(&self) -> Result<Vec<String>, ConnectionStoreError> {
        let db = &self.db;
        let rows = db
            .query(
                "listing the tenants",
                "SELECT tenant FROM toolhost_connections ORDER BY tenant",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .filter_map(|row| row.try_get::<_, String>("tenant").ok())
            .collect())
    }

    /// Removes `tenant`'s connection; whether there was one.
    pub async fn delete(&self, tenant: &str) -> Result<bool, ConnectionStoreError> {
        check_tenant(tenant)?;
        let db = &self.db;
        let removed = db
            .execute(
                "removing a tenant connection",
                "DELETE FROM toolhost_connections WHERE tenant = $1",
                &[&tenant],
            )
            .await?;
        Ok(removed > 0)
    }
}

/// What the sealed secret is bound to: this tenant's client-secret row and nothing else.
fn secret_label(tenant: &str) -> String {
    format!("tenant/{tenant}/client-secret")
}

/// `[a-z0-9][a-z0-9-]{0,62}`: the label a secret is bound to must name exactly one tenant.
fn check_tenant(tenant: &str) -> Result<(), ConnectionStoreError> {
    let mut chars = tenant.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if first_ok && rest_ok && tenant.len() <= 63 {
        Ok(())
    } else {
        Err(ConnectionStoreError::BadTenant(tenant.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fresh_database;

    #[test]
    fn tenant_names_follow_the_shared_rule() {
        for good in ["default", "acme", "a", "msp-42", &"a".repeat(63)] {
            assert!(check_tenant(good).is_ok(), "{good}");
        }
        for bad in ["", "-acme", "Acme", "a/b", "a b", &"a".repeat(64)] {
            assert!(check_tenant(bad).is_err(), "{bad}");
        }
    }

    const SECRET: &str = "acme-s3cr3t-client-value";

    fn acme() -> StoredConnection {
        StoredConnection {
            settings: serde_json::json!({"region": "na", "clientId": "acme-client"}),
            client_secret: SecretString::new(SECRET),
        }
    }

    #[tokio::test]
    async fn the_secret_is_stored_sealed_and_opens_only_with_the_key_in_its_own_row() {
        let Some(db) = fresh_database().await else {
            return;
        };
        let key = SealingKey::from_bytes([1u8; 32]);
        let store = PgConnections::new(&db, key.clone());
        assert!(store.load("acme").await.unwrap().is_none());
        store.save("acme", &acme()).await.unwrap();
        let globex = StoredConnection {
            settings: serde_json::json!({"region": "eu", "clientId": "globex-client"}),
            client_secret: SecretString::new("globex-other-secret"),
        };
        store.save("globex", &globex).await.unwrap();

        // What the database holds: nowhere the plaintext, in any column of any row.
        let client = db.client().await.unwrap();
        let rows = client
            .query(
                "SELECT tenant, t::text AS whole, client_secret_sealed FROM toolhost_connections t",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(rows.len(), 2);
        for row in &rows {
            let whole: String = row.get("whole");
            let sealed: Vec<u8> = row.get("client_secret_sealed");
            assert!(!whole.contains(SECRET), "{whole}");
            assert!(!whole.contains("globex-other-secret"), "{whole}");
            for plain in [SECRET.as_bytes(), b"globex-other-secret".as_slice()] {
                assert!(!sealed.windows(plain.len()).any(|w| w == plain));
            }
        }

        // With the key: the same connection back.
        let loaded = store.load("acme").await.unwrap().unwrap();
        assert_eq!(loaded.settings, acme().settings);
        assert_eq!(loaded.client_secret.expose(), SECRET);

        // A host with another key reads nothing, and its error does not carry the secret.
        let stranger = PgConnections::new(&db, SealingKey::from_bytes([2u8; 32]));
        let err = stranger.load("acme").await.unwrap_err();
        assert!(
            matches!(err, ConnectionStoreError::Open(OpenError::Refused { .. })),
            "{err}"
        );
        let text = err.to_string();
        assert!(text.contains("tenant/acme/client-secret"), "{text}");
        assert!(!text.contains(SECRET), "{text}");
        assert!(!format!("{stranger:?}").contains("[1, 1"));

        // acme's sealed secret copied into globex's row does not open as globex's.
        client
            .execute(
                "UPDATE toolhost_connections SET client_secret_sealed = \
                 (SELECT client_secret_sealed FROM toolhost_connections WHERE tenant = 'acme') \
                 WHERE tenant = 'globex'",
                &[],
            )
            .await
            .unwrap();
        let moved = store.load("globex").await.unwrap_err();
        assert!(
            matches!(moved, ConnectionStoreError::Open(OpenError::Refused { .. })),
            "{moved}"
        );

        assert!(store.delete("globex").await.unwrap());
        assert!(store.load("globex").await.unwrap().is_none());
        assert!(!store.delete("globex").await.unwrap());
    }

    #[tokio::test]
    async fn settings_that_carry_the_secret_are_refused_before_anything_is_written() {
        let Some(db) = fresh_database().await else {
            return;
        };
        let store = PgConnections::new(&db, SealingKey::from_bytes([1u8; 32]));
        let mut leaky = acme();
        leaky.settings = serde_json::json!({"region": "na", "clientSecret": SECRET});
        let err = store.save("acme", &leaky).await.unwrap_err();
        assert!(
            matches!(err, ConnectionStoreError::SecretInSettings { .. }),
            "{err}"
        );
        assert!(!err.to_string().contains(SECRET));
        assert!(store.load("acme").await.unwrap().is_none());
        let bad = store.save("Acme/x", &acme()).await.unwrap_err();
        assert!(matches!(bad, ConnectionStoreError::BadTenant(_)), "{bad}");
    }

    #[test]
    fn each_tenant_has_its_own_label() {
        assert_eq!(secret_label("default"), "tenant/default/client-secret");
        assert_ne!(secret_label("acme"), secret_label("globex"));
    }
}
