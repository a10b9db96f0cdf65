//! Access tokens in PostgreSQL: the [`TokenBackend`] several replicas share, so a tenant's
//! token is minted once (not once per replica) and the API's 423 lock-out deadline stops
//! every replica. A row per (tenant, connection binding) in table `access_tokens` (migration 0002).
//!
//! The lock is a transaction-level advisory lock on a key derived from the tenant and the
//! binding, taken with `pg_try_advisory_xact_lock` and polled within the caller's patience:
//! a second replica waits while the first mints, then reads the fresh token instead of
//! minting. A write commits, which lets go; a holder that fails, is cancelled or dies
//! rolls back (or loses its connection), which lets go too.
//!
//! With the operator's [`SealingKey`] the access token is sealed at rest for its row (a
//! sealed token copied into another tenant's or binding's row does not open there); a row
//! written without a key holds it as the home's 0600 token file does, and a host without
//! the key refuses a sealed row rather than guess.

use crate::database::Database;
use crate::error::StateError;
use crate::sealing::SealingKey;
use async_trait::async_trait;
use deadpool_postgres::Object;
use sha2::{Digest, Sha256};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_postgres::Row;
use toolhost_base::SecretString;
use toolhost_sandbox::{
    SharedToken, StoreError, StoredToken, TokenBackend, TokenBinding, TokenLock, TokenStore,
};

/// Longest a single statement may take before the database is reported unreachable (a lost
/// server otherwise leaves a query waiting on TCP for minutes).
const STATEMENT_WITHIN: Duration = Duration::from_secs(10);
const LONGEST_POLL: Duration = Duration::from_millis(50);

/// The shared token records of one tenant in the database.
#[derive(Clone)]
pub struct PgTokens {
    db: Database,
    tenant: String,
    key: Option<SealingKey>,
}

impl PgTokens {
    /// The token records of `tenant` (an already checked tenant name) in `db`, the access
    /// token stored as the home's 0600 token file holds it unless [sealed](Self::sealed_with).
    pub fn new(db: Database, tenant: impl Into<String>) -> PgTokens {
        PgTokens {
            db,
            tenant: tenant.into(),
            key: None,
        }
    }

    /// The same records, with access tokens sealed at rest with `key`.
    pub fn sealed_with(mut self, key: SealingKey) -> PgTokens {
        self.key = Some(key);
        self
    }

    /// A [`TokenStore`] over these records, for a token provider to share.
    pub fn into_store(self) -> TokenStore {
        TokenStore::new(Arc::new(self))
    }
}

#[async_trait]
impl TokenBackend for PgTokens {
    async fn lock(
        &self,
        binding: &TokenBinding,
        patience: Duration,
    ) -> Result<Box<dyn TokenLock>, StoreError> {
        let binding_key = binding.key();
        let mut lock = PgTokenLock {
            db: self.db.clone(),
            advisory_key: advisory_key(&self.tenant, &binding_key),
            tenant: self.tenant.clone(),
            binding_key,
            key: self.key.clone(),
            patience,
            tx: None,
        };
        lock.acquire().await?;
        Ok(Box::new(lock))
    }

    fn describe(&self) -> String {
        describe(&self.tenant)
    }
}

fn describe(tenant: &str) -> String {
    format!("the access tokens of tenant `{tenant}` in the state database")
}

/// The advisory lock of one tenant's binding: 64 bits of a SHA-256, so neither tenants nor
/// bindings share a lock (nor, in practice, anything else that takes advisory locks).
fn advisory_key(tenant: &str, binding_key: &str) -> i64 {
    let digest = Sha256::digest(format!("toolhost token\0{tenant}\0{binding_key}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// The lock on one binding's row, held while `tx` is open.
struct PgTokenLock {
    db: Database,
    tenant: String,
    binding_key: String,
    advisory_key: i64,
    key: Option<SealingKey>,
    patience: Duration,
    /// The transaction holding the advisory lock; `None` once a write has committed (a
    /// later read or write takes the lock again).
    tx: Option<Tx>,
}

impl PgTokenLock {
    /// A stored token that does not open: minting past it could burn the key on every call,
    /// so the call fails and says why.
    fn unsealable(&self, why: impl std::fmt::Display) -> StoreError {
        StoreError::Backend {
            store: describe(&self.tenant),
            detail: format!(
                "the stored access token cannot be read: {why}; start every replica with the same state key"
            ),
        }
    }

    fn failed(&self, err: StateError) -> StoreError {
        self.broken(err)
    }

    fn broken(&self, detail: impl std::fmt::Display) -> StoreError {
        StoreError::Backend {
            store: describe(&self.tenant),
            detail: detail.to_string(),
        }
    }

    /// Runs one statement (`what` it does, for the message), bounded by [`STATEMENT_WITHIN`].
    async fn run<T>(
        &self,
        what: &str,
        statement: impl Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(STATEMENT_WITHIN, statement).await {
            Ok(Ok(value)) => Ok(value),
            // A server error's message only: its DETAIL can quote a row (a token).
            Ok(Err(err)) => Err(self.failed(self.db.failed(what, err))),
            Err(_) => Err(self.failed(self.db.unreachable(format_args!(
                "no answer within {} s",
                STATEMENT_WITHIN.as_secs()
            )))),
        }
    }

    /// Opens a transaction and takes the advisory lock in it, polling within the patience
    /// (unless it is held already).
    async fn acquire(&mut self) -> Result<(), StoreError> {
        if self.tx.is_none() {
            let started = Instant::now();
            let client = self.db.client().await.map_err(|e| self.failed(e))?;
            let tx = Tx::begin(client);
            self.run("a transaction", tx.client().batch_execute("BEGIN"))
                .await?;
            let mut pause = Duration::from_millis(2);
            loop {
                let row = self
                    .run(
                        "the token lock",
                        tx.client().query_one(
                            "SELECT pg_try_advisory_xact_lock($1)",
                            &[&self.advisory_key],
                        ),
                    )
                    .await?;
                if row.get::<_, bool>(0) {
                    break;
                }
                if started.elapsed() >= self.patience {
                    return Err(StoreError::Busy {
                        lock: format!("the token lock of tenant `{}` in the database", self.tenant),
                        waited: started.elapsed(),
                    });
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(LONGEST_POLL);
            }
            self.tx = Some(tx);
        }
        Ok(())
    }

    /// The connection holding the lock (after [`PgTokenLock::acquire`]).
    fn held(&self) -> Result<&Object, StoreError> {
        match &self.tx {
            Some(tx) => Ok(tx.client()),
            None => Err(self.broken("the lock was lost")),
        }
    }
}

#[async_trait]
impl TokenLock for PgTokenLock {
    async fn read(&mut self) -> Result<SharedToken, StoreError> {
        self.acquire().await?;
        let client = self.held()?;
        let row = self
            .run(
                "reading the token",
                client.query_opt(
                "SELECT access_token, sealed, refresh_at_ms, unproven_until_ms, locked_until_ms \
             FROM access_tokens WHERE tenant = $1 AND binding_key = $2",
                &[&self.tenant, &self.binding_key],
            ),
            )
            .await?;
        match row {
            Some(row) => self.shared(&row),
            None => Ok(SharedToken::default()),
        }
    }

    async fn write(&mut self, shared: &SharedToken) -> Result<(), StoreError> {
        let now = SystemTime::now();
        let now_ms = to_ms(now);
        self.acquire().await?;
        let client = self.held()?;
        // Other connections' records that say nothing any more go, as in the home's token
        // file, skipping any a holder has locked (never waiting on another binding's mint).
        self.run(
            "removing expired tokens",
            client.execute(
                "DELETE FROM access_tokens WHERE (tenant, binding_key) IN ( \
                 SELECT tenant, binding_key FROM access_tokens \
                 WHERE tenant = $1 AND binding_key <> $2 \
                   AND COALESCE(refresh_at_ms, 0) <= $3 AND COALESCE(locked_until_ms, 0) <= $3 \
                 FOR UPDATE SKIP LOCKED)",
                &[&self.tenant, &self.binding_key, &now_ms],
            ),
        )
        .await?;
        if shared.is_live(now) {
            let token = shared.token.as_ref();
            let value = match (token, &self.key) {
                (Some(t), Some(key)) => Some(
                    key.seal_secret(&t.value, &self.label())
                        .map_err(|e| self.broken(e))?,
                ),
                (Some(t), None) => Some(t.value.expose().as_bytes().to_vec()),
                (None, _) => None,
            };
            let sealed = value.is_some() && self.key.is_some();
            let refresh_at = token.map(|t| to_ms(t.refresh_at));
            let unproven_until = token.and_then(|t| t.unproven_until.map(to_ms));
            let locked_until = shared.locked_until.map(to_ms);
            self.run(
                "storing the token",
                client.execute(
                "INSERT INTO access_tokens (tenant, binding_key, access_token, sealed, refresh_at_ms, \
                     unproven_until_ms, locked_until_ms, updated) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, now()) \
                 ON CONFLICT (tenant, binding_key) DO UPDATE SET \
                     access_token = EXCLUDED.access_token, sealed = EXCLUDED.sealed, \
                     refresh_at_ms = EXCLUDED.refresh_at_ms, \
                     unproven_until_ms = EXCLUDED.unproven_until_ms, \
                     locked_until_ms = EXCLUDED.locked_until_ms, updated = now()",
                &[
                    &self.tenant,
                    &self.binding_key,
                    &value,
                    &sealed,
                    &refresh_at,
                    &unproven_until,
                    &locked_until,
                ],
            ),
            )
            .await?;
        } else {
            // A record with nothing to say (a token refused with a 401, say) leaves no copy.
            self.run(
                "removing the token",
                client.execute(
                    "DELETE FROM access_tokens WHERE tenant = $1 AND binding_key = $2",
                    &[&self.tenant, &self.binding_key],
                ),
            )
            .await?;
        }
        let committed = match self.tx.take() {
            Some(tx) => tx.commit().await,
            None => return Err(self.broken("the lock was lost")),
        };
        match committed {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => Err(self.failed(self.db.failed("storing the token", err))),
            Err(_) => Err(self.failed(self.db.unreachable(format_args!(
                "no answer within {} s",
                STATEMENT_WITHIN.as_secs()
            )))),
        }
    }
}

impl PgTokenLock {
    /// What a sealed token is bound to: its tenant and binding.
    fn label(&self) -> String {
        format!("tenant/{}/token/{}", self.tenant, self.binding_key)
    }

    fn shared(&self, row: &Row) -> Result<SharedToken, StoreError> {
        let value: Option<Vec<u8>> = row.get("access_token");
        let sealed: bool = row.get("sealed");
        let refresh_at: Option<i64> = row.get("refresh_at_ms");
        let unproven_until: Option<i64> = row.get("unproven_until_ms");
        let locked_until: Option<i64> = row.get("locked_until_ms");
        let value = match value {
            Some(sealed_value) if sealed => match &self.key {
                Some(key) => Some(
                    key.open_secret(&sealed_value, &self.label())
                        .map_err(|e| self.unsealable(e))?,
                ),
                None => {
                    return Err(self.unsealable(
                        "it is sealed and this host has no state key (TOOLHOST_STATE_KEY)",
                    ))
                }
            },
            // Written without a key, or not a token this host wrote (as with a damaged token
            // file, the next mint replaces it).
            Some(clear) => String::from_utf8(clear).ok().map(SecretString::new),
            None => None,
        };
        let token = match (value, refresh_at) {
            (Some(value), Some(refresh_at)) => Some(StoredToken {
                value,
                refresh_at: from_ms(refresh_at),
                unproven_until: unproven_until.map(from_ms),
            }),
            _ => None,
        };
        Ok(SharedToken {
            token,
            locked_until: locked_until.map(from_ms),
        })
    }
}

/// A pooled connection inside a transaction. Dropped before [`Tx::commit`] (an error, a
/// cancelled call, a guard let go without a write), it rolls back in the background; a
/// connection whose state is unknown is closed rather than returned to the pool, which
/// rolls back too. Either way the advisory lock goes with the transaction.
struct Tx(Option<Object>);

impl Tx {
    fn begin(client: Object) -> Tx {
        Tx(Some(client))
    }

    fn client(&self) -> &Object {
        // Only `commit` and `drop` take the connection out, and both consume the `Tx`.
        self.0
            .as_ref()
            .expect("an open transaction has its connection")
    }

    async fn commit(
        mut self,
    ) -> Result<Result<(), tokio_postgres::Error>, tokio::time::error::Elapsed> {
        let client = self
            .0
            .take()
            .expect("an open transaction has its connection");
        let committed =
            tokio::time::timeout(STATEMENT_WITHIN, client.batch_execute("COMMIT")).await;
        if !matches!(committed, Ok(Ok(()))) {
            // Whatever state it is in, it must not serve anyone else.
            drop(Object::take(client));
        }
        committed
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        let Some(client) = self.0.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    let rolled_back =
                        tokio::time::timeout(STATEMENT_WITHIN, client.batch_execute("ROLLBACK"))
                            .await;
                    if !matches!(rolled_back, Ok(Ok(()))) {
                        drop(Object::take(client));
                    }
                });
            }
            Err(_) => drop(Object::take(client)),
        }
    }
}

fn to_ms(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn from_ms(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

#[cfg(test)]
#[path = "tokens_tests.rs"]
mod tests;
