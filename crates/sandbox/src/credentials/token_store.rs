//! The access token every process (and replica) of one connection shares.
//!
//! The Asio API locks a key that mints more than a handful of tokens in seconds, so a token
//! must outlive the process that minted it and be shared by every process that could mint
//! one. A [`TokenStore`] holds one record per connection ([`TokenBinding`]): the current
//! token and the 423 lock-out deadline. Its lock makes a refresh single-flight across
//! processes: the holder reads the record, mints only if the record has no usable token,
//! writes it back, and lets go.
//!
//! Where the records live is a [`TokenBackend`]: the home's token file by default
//! ([`TokenStore::in_home`]), or any other implementation (a database several replicas
//! share) through [`TokenStore::new`]. Times are wall-clock because monotonic clocks do not
//! cross processes.

use sha2::{Digest, Sha256};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use toolhost_base::SecretString;

/// What a stored token belongs to. Two connections share a record only when all of it is
/// equal; the secret itself is never stored, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenBinding {
    token_url: String,
    sent_to: String,
    client_id: String,
    scopes: Vec<String>,
    secret_sha256: String,
}

impl TokenBinding {
    /// The binding of a token minted at `token_url` (the real origin and path), actually
    /// sent to `sent_to` (its upstream route), for `client_id` with `scopes` and `secret`.
    pub fn new(
        token_url: &str,
        sent_to: &str,
        client_id: &str,
        scopes: &[String],
        secret: &SecretString,
    ) -> TokenBinding {
        // The scopes a token carries do not depend on the order they were asked in.
        let mut scopes = scopes.to_vec();
        scopes.sort();
        scopes.dedup();
        TokenBinding {
            token_url: token_url.to_string(),
            sent_to: sent_to.to_string(),
            client_id: client_id.to_string(),
            scopes,
            secret_sha256: hex::encode(Sha256::digest(secret.expose().as_bytes())),
        }
    }

    /// A stable name for the binding (64 hex digits: the SHA-256 of its JSON form), to key
    /// a record by where a whole binding is unwieldy, such as a database row. It reveals no
    /// more than the binding does, which holds no secret.
    pub fn key(&self) -> String {
        // Serialising a struct of strings cannot fail; the field order is the declaration's.
        let json = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(&json))
    }
}

/// What the processes sharing a store know about one connection's token.
#[derive(Debug, Clone, Default)]
pub struct SharedToken {
    /// The current token, if any was minted and it is not known to be dead.
    pub token: Option<StoredToken>,
    /// Until when the API has locked the key (HTTP 423): nobody mints before.
    pub locked_until: Option<SystemTime>,
}

/// A minted token and when to stop using it.
#[derive(Debug, Clone)]
pub struct StoredToken {
    /// The bearer token.
    pub value: SecretString,
    /// When it is refreshed (shortly before it expires).
    pub refresh_at: SystemTime,
    /// Set when the token replaced one the API answered 401 to, until the API accepts it:
    /// a 401 to this token then mints nothing before this time.
    pub unproven_until: Option<SystemTime>,
}

impl SharedToken {
    /// The token, if it is still before its refresh time at `now`.
    pub fn usable(&self, now: SystemTime) -> Option<&StoredToken> {
        self.token.as_ref().filter(|t| now < t.refresh_at)
    }

    /// Whether the record still says anything at `now` (a usable token or a lock-out): a
    /// record that does not may be dropped.
    pub fn is_live(&self, now: SystemTime) -> bool {
        self.usable(now).is_some() || self.locked_until.is_some_and(|until| now < until)
    }
}

/// Why the store could not be used. No variant carries a token or a secret.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file could not be opened, locked, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Another holder kept the lock longer than the caller would wait.
    #[error("{lock} stayed locked for {} s", waited.as_secs())]
    Busy {
        /// The lock (a lock file's path, or what the backend calls its lock).
        lock: String,
        /// How long the caller waited.
        waited: Duration,
    },
    /// The backend (a database, say) failed or could not be reached.
    #[error("{store}: {detail}")]
    Backend {
        /// What the store is, for the operator (never a connection string with a password).
        store: String,
        /// What failed, and what to do about it when the backend knows.
        detail: String,
    },
}

/// Where a [`TokenStore`] keeps its records. Implement it to share tokens through something
/// other than a home directory; [`TokenStore::new`] takes one.
#[async_trait::async_trait]
pub trait TokenBackend: Send + Sync {
    /// Takes the lock on `binding`'s record that every sharer takes before reading or
    /// writing it, waiting at most `patience` for another holder ([`StoreError::Busy`]
    /// after that). The lock is held until the returned guard is dropped.
    async fn lock(
        &self,
        binding: &TokenBinding,
        patience: Duration,
    ) -> Result<Box<dyn TokenLock>, StoreError>;

    /// What the store is, for messages (a path, or a database and tenant; no secret).
    fn describe(&self) -> String;
}

/// A held lock on one binding's record (see [`TokenBackend::lock`]); dropping it lets go.
#[async_trait::async_trait]
pub trait TokenLock: Send {
    /// The record; empty when there is none.
    async fn read(&mut self) -> Result<SharedToken, StoreError>;

    /// Replaces the record. A record that says nothing ([`SharedToken::is_live`] false) may
    /// be dropped instead of stored, and so may other bindings' dead records.
    async fn write(&mut self, shared: &SharedToken) -> Result<(), StoreError>;
}

/// The shared token records of a home or of a set of replicas: a cheap handle over its
/// [`TokenBackend`], cloned into every provider that uses it. The home's token file is
/// `TokenStore::in_home` (its own module).
#[derive(Clone)]
pub struct TokenStore {
    backend: Arc<dyn TokenBackend>,
}

impl TokenStore {
    /// A store over another backend.
    pub fn new(backend: Arc<dyn TokenBackend>) -> TokenStore {
        TokenStore { backend }
    }

    /// Takes the lock on `binding`'s record, waiting at most `patience` for another holder
    /// (polled, so no thread blocks).
    pub async fn lock(
        &self,
        binding: &TokenBinding,
        patience: Duration,
    ) -> Result<StoreGuard, StoreError> {
        Ok(StoreGuard(self.backend.lock(binding, patience).await?))
    }

    /// What the store is, for messages.
    pub fn describe(&self) -> String {
        self.backend.describe()
    }
}

impl fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TokenStore")
            .field(&self.backend.describe())
            .finish()
    }
}

/// The lock on one binding's record, held: read and write the record. Dropping it unlocks.
pub struct StoreGuard(Box<dyn TokenLock>);

impl StoreGuard {
    /// The record; empty when there is none.
    pub async fn read(&mut self) -> Result<SharedToken, StoreError> {
        self.0.read().await
    }

    /// Replaces the record (see [`TokenLock::write`]).
    pub async fn write(&mut self, shared: &SharedToken) -> Result<(), StoreError> {
        self.0.write(shared).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(secret: &str, scopes: &[&str]) -> TokenBinding {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        TokenBinding::new(
            "https://api.example.com/v1/token",
            "http://127.0.0.1:9",
            "client",
            &scopes,
            &SecretString::new(secret),
        )
    }

    #[test]
    fn a_binding_key_is_stable_and_names_the_whole_binding() {
        let key = binding("secret-1", &["b", "a"]).key();
        assert_eq!(key.len(), 64);
        assert!(key.chars().all(|c| c.is_ascii_hexdigit()));
        // The same connection asked in another scope order is the same record.
        assert_eq!(binding("secret-1", &["a", "b", "a"]).key(), key);
        // Any other part is another record.
        assert_ne!(binding("secret-2", &["a", "b"]).key(), key);
        assert_ne!(binding("secret-1", &["a"]).key(), key);
        // Pinned: a key is what a database row is stored under, so it must not drift
        // between versions (a change would only cost one mint, but would leave rows behind).
        let pinned = TokenBinding::new("u", "s", "c", &[], &SecretString::new("x")).key();
        let json = format!(
            r#"{{"tokenUrl":"u","sentTo":"s","clientId":"c","scopes":[],"secretSha256":"{}"}}"#,
            hex::encode(Sha256::digest(b"x"))
        );
        assert_eq!(pinned, hex::encode(Sha256::digest(json.as_bytes())));
        assert!(!key.contains("secret-1"));
    }

    #[test]
    fn a_record_says_nothing_once_its_token_and_lock_have_passed() {
        const HOUR: Duration = Duration::from_secs(3600);
        const WAIT: Duration = Duration::from_secs(5);
        let token = |valid_for| SharedToken {
            token: Some(StoredToken {
                value: SecretString::new("t"),
                refresh_at: SystemTime::now() + valid_for,
                unproven_until: None,
            }),
            locked_until: None,
        };
        let now = SystemTime::now();
        assert!(!SharedToken::default().is_live(now));
        assert!(token(HOUR).is_live(now));
        let expired = token(Duration::ZERO);
        assert!(!expired.is_live(SystemTime::now()));
        let lock_out = SharedToken {
            token: None,
            locked_until: Some(now + WAIT),
        };
        assert!(lock_out.is_live(now));
        assert!(!lock_out.is_live(now + WAIT));
    }

    #[test]
    fn a_backend_failure_names_the_store_only() {
        let err = StoreError::Backend {
            store: "PostgreSQL token store of tenant acme".into(),
            detail: "connection refused".into(),
        };
        assert_eq!(
            err.to_string(),
            "PostgreSQL token store of tenant acme: connection refused"
        );
    }
}
