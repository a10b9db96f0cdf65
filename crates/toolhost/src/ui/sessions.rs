//! The one-time launch token and the browser sessions it is exchanged for.
//!
//! `toolhost ui` (or `toolhost serve`) prints a URL carrying a random token. The page trades
//! it (once) for a session: an HttpOnly, SameSite=Strict cookie plus a CSRF token the page
//! sends back in a header on every state-changing request. A session lasts at most
//! [`SESSION_LIFETIME`] (12 h) after its sign-in, less when the browser or the server ends it.
//!
//! Where sessions live is a [`SessionStore`] (the state crate's seam): this process's memory ([`MemorySessions`]: a
//! restart logs out; the embedded backend), or the state database ([`PgUiSessions`]), where
//! every replica of a tenant sees the same launch tokens and sessions. Stores see only the
//! SHA-256 of launch tokens and session ids, never the values.

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use toolhost_host::StateBackend;
use toolhost_state::{LaunchExchange, PgUiSessions, SessionStore, StateError};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "toolhost_session";

/// How long a session lasts after its sign-in, whatever happens meanwhile (a working day and
/// some): then the browser needs a new launch link.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// 244 bits from the OS RNG (two v4 UUIDs), as 64 hex digits.
pub fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Compares without an early exit, so timing does not reveal how much of a guess matched.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What stores keep instead of a token or session id: its SHA-256, lowercase hex.
pub fn token_sha256(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A logged-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub csrf: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LaunchTokenError {
    #[error("this link was already used: restart `toolhost ui` (or a `toolhost serve` replica) for a new one")]
    AlreadyUsed,
    #[error("wrong launch token: use the exact URL `toolhost ui` printed")]
    Wrong,
    #[error(transparent)]
    Store(#[from] StateError),
}

/// This process's sessions (the embedded backend): nothing persisted, a restart logs out.
#[derive(Debug, Default)]
pub struct MemorySessions {
    state: Mutex<MemoryState>,
}

#[derive(Debug, Default)]
struct MemoryState {
    /// Launch token hash -> spent.
    launch_tokens: HashMap<String, bool>,
    /// Session id hash -> (CSRF token, expiry).
    sessions: HashMap<String, (String, Instant)>,
}

impl MemorySessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl SessionStore for MemorySessions {
    async fn add_launch_token(&self, token_sha256: &str) -> Result<(), StateError> {
        self.lock()
            .launch_tokens
            .entry(token_sha256.to_string())
            .or_insert(false);
        Ok(())
    }

    async fn exchange(
        &self,
        token_sha256: &str,
        id_sha256: &str,
        csrf: &str,
        lifetime: Duration,
    ) -> Result<LaunchExchange, StateError> {
        let mut state = self.lock();
        let now = Instant::now();
        state.sessions.retain(|_, (_, expires)| *expires > now);
        match state.launch_tokens.get_mut(token_sha256) {
            None => Ok(LaunchExchange::Unknown),
            Some(true) => Ok(LaunchExchange::AlreadyUsed),
            Some(spent) => {
                *spent = true;
                state
                    .sessions
                    .insert(id_sha256.to_string(), (csrf.to_string(), now + lifetime));
                Ok(LaunchExchange::Started)
            }
        }
    }

    async fn find(&self, id_sha256: &str) -> Result<Option<String>, StateError> {
        Ok(self
            .lock()
            .sessions
            .get(id_sha256)
            .filter(|(_, expires)| *expires > Instant::now())
            .map(|(csrf, _)| csrf.clone()))
    }

    async fn end(&self, id_sha256: &str) -> Result<(), StateError> {
        self.lock().sessions.remove(id_sha256);
        Ok(())
    }

    async fn withdraw_launch_token(&self, token_sha256: &str) -> Result<(), StateError> {
        let mut state = self.lock();
        if state.launch_tokens.get(token_sha256) == Some(&false) {
            state.launch_tokens.remove(token_sha256);
        }
        Ok(())
    }
}

/// This process's launch token and the sessions of its store.
pub struct Sessions {
    launch_token: String,
    store: Arc<dyn SessionStore>,
    lifetime: Duration,
    /// The approver this UI signs in: mixed into every hash, so that a link or session of
    /// another approver's UI on the same store (`toolhost ui --approver jo` beside replicas
    /// signing in `maria`) is unknown here.
    approver: String,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the launch token.
        f.debug_struct("Sessions").finish_non_exhaustive()
    }
}

impl Sessions {
    /// A fresh launch token signing in `approver`, recorded in `store` (so that any replica
    /// of the same approver sharing it accepts it).
    pub async fn new(store: Arc<dyn SessionStore>, approver: &str) -> Result<Sessions, StateError> {
        let sessions = Sessions {
            launch_token: random_token(),
            store,
            lifetime: SESSION_LIFETIME,
            approver: approver.to_string(),
        };
        let key = sessions.key(&sessions.launch_token);
        sessions.store.add_launch_token(&key).await?;
        Ok(sessions)
    }

    /// The sessions signing in `approver`, kept where `backend` keeps state: this process's
    /// memory (embedded), or the tenant's rows.
    pub async fn for_backend(
        backend: &StateBackend,
        approver: &str,
    ) -> Result<Sessions, StateError> {
        let store: Arc<dyn SessionStore> = match backend {
            StateBackend::Embedded => Arc::new(MemorySessions::default()),
            StateBackend::Postgres { db, tenant, .. } => {
                Arc::new(PgUiSessions::new(db.clone(), tenant.clone()))
            }
        };
        Sessions::new(store, approver).await
    }

    /// What the store keeps for `secret` (a launch token or session id) of this approver.
    fn key(&self, secret: &str) -> String {
        // An approver name has no newline: the two parts cannot run into each other.
        token_sha256(&format!("{}\n{secret}", self.approver))
    }

    /// In-memory sessions with a chosen launch token (tests).
    #[cfg(test)]
    pub fn with_launch_token(token: impl Into<String>) -> Sessions {
        let store = Arc::new(MemorySessions::default());
        let sessions = Sessions {
            launch_token: token.into(),
            store: store.clone(),
            lifetime: SESSION_LIFETIME,
            approver: "operator".to_string(),
        };
        let key = sessions.key(&sessions.launch_token);
        store.lock().launch_tokens.insert(key, false);
        sessions
    }

    /// The same sessions, lasting `lifetime` (tests of expiry).
    #[cfg(test)]
    pub fn lasting(mut self, lifetime: Duration) -> Sessions {
        self.lifetime = lifetime;
        self
    }

    pub fn launch_token(&self) -> &str {
        &self.launch_token
    }

    /// Trades an unspent launch token (this process's, or another replica's of the same
    /// store) for a new session. Works once per token.
    pub async fn exchange(&self, token: &str) -> Result<Session, LaunchTokenError> {
        let session = Session {
            id: random_token(),
            csrf: random_token(),
        };
        let outcome = self
            .store
            .exchange(
                &self.key(token),
                &self.key(&session.id),
                &session.csrf,
                self.lifetime,
            )
            .await?;
        match outcome {
            LaunchExchange::Started => Ok(session),
            LaunchExchange::AlreadyUsed => Err(LaunchTokenError::AlreadyUsed),
            LaunchExchange::Unknown => Err(LaunchTokenError::Wrong),
        }
    }

    /// The live session whose id the cookie carries. Lookups are by the id's hash, so their
    /// timing says nothing about how much of a guess matched.
    pub async fn find(&self, id: &str) -> Result<Option<Session>, StateError> {
        Ok(self.store.find(&self.key(id)).await?.map(|csrf| Session {
            id: id.to_string(),
            csrf,
        }))
    }

    /// Ends the session `id` (on every replica sharing the store).
    pub async fn end(&self, id: &str) -> Result<(), StateError> {
        self.store.end(&self.key(id)).await
    }

    /// Withdraws this process's launch link unless it was used, as a process stopping
    /// does: with a shared store, a link printed by a replica otherwise outlives it.
    pub async fn withdraw_launch_token(&self) -> Result<(), StateError> {
        self.store
            .withdraw_launch_token(&self.key(&self.launch_token))
            .await
    }
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

// The `Set-Cookie` value that starts a session is the mount's (`UiMount::set_cookie` in
// ui/state.rs): each tenant's UI has its own cookie name and path.

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_launch_token_works_once() {
        let sessions = Sessions::with_launch_token("t0ken");
        let wrong = sessions.exchange("nope").await.unwrap_err();
        assert!(matches!(wrong, LaunchTokenError::Wrong), "{wrong}");
        let session = sessions.exchange("t0ken").await.unwrap();
        assert_eq!(
            sessions.find(&session.id).await.unwrap(),
            Some(session.clone())
        );
        let again = sessions.exchange("t0ken").await.unwrap_err();
        assert!(matches!(again, LaunchTokenError::AlreadyUsed), "{again}");
        sessions.end(&session.id).await.unwrap();
        assert_eq!(sessions.find(&session.id).await.unwrap(), None);
    }

    /// Two replicas' sessions sharing `store`: each prints its own link; either link signs
    /// in at either replica, once; a session is known to both until it ends at either.
    async fn two_replicas_share_sign_ins(store: Arc<dyn SessionStore>) {
        let a = Sessions::new(store.clone(), "maria").await.unwrap();
        let b = Sessions::new(store.clone(), "maria").await.unwrap();
        // Another approver's UI on the same store knows none of maria's links or sessions.
        let jo = Sessions::new(store, "jo").await.unwrap();
        let err = a.exchange(jo.launch_token()).await.unwrap_err();
        assert!(matches!(err, LaunchTokenError::Wrong), "{err}");
        assert_ne!(a.launch_token(), b.launch_token());
        let session = b.exchange(a.launch_token()).await.unwrap();
        let again = a.exchange(a.launch_token()).await.unwrap_err();
        assert!(matches!(again, LaunchTokenError::AlreadyUsed), "{again}");
        assert_eq!(a.find(&session.id).await.unwrap(), Some(session.clone()));
        let other = a.exchange(b.launch_token()).await.unwrap();
        a.end(&session.id).await.unwrap();
        assert_eq!(b.find(&session.id).await.unwrap(), None);
        assert_eq!(b.find(&other.id).await.unwrap(), Some(other.clone()));
        assert_eq!(jo.find(&other.id).await.unwrap(), None);
        let err = jo.exchange(b.launch_token()).await.unwrap_err();
        assert!(matches!(err, LaunchTokenError::Wrong), "{err}");
        assert_eq!(b.find("forged").await.unwrap(), None);
    }

    #[tokio::test]
    async fn replicas_share_sign_ins_in_memory_and_in_the_database() {
        two_replicas_share_sign_ins(Arc::new(MemorySessions::default())).await;
        let Some(db) = toolhost_state::testing::fresh_database().await else {
            return;
        };
        two_replicas_share_sign_ins(Arc::new(PgUiSessions::new(db, "acme"))).await;
    }

    /// A stopping replica withdraws its unused link: no replica of the store takes it any
    /// more; a link already used keeps its session.
    async fn a_stopping_replica_withdraws_its_unused_link(store: Arc<dyn SessionStore>) {
        let stopping = Sessions::new(store.clone(), "maria").await.unwrap();
        let used = Sessions::new(store.clone(), "maria").await.unwrap();
        let other = Sessions::new(store.clone(), "maria").await.unwrap();
        let session = other.exchange(used.launch_token()).await.unwrap();
        stopping.withdraw_launch_token().await.unwrap();
        used.withdraw_launch_token().await.unwrap();
        let err = other.exchange(stopping.launch_token()).await.unwrap_err();
        assert!(matches!(err, LaunchTokenError::Wrong), "{err}");
        assert!(other.find(&session.id).await.unwrap().is_some());
        let again = other.exchange(used.launch_token()).await.unwrap_err();
        assert!(matches!(again, LaunchTokenError::AlreadyUsed), "{again}");
    }

    #[tokio::test]
    async fn a_stopping_replicas_link_is_withdrawn_in_memory_and_in_the_database() {
        a_stopping_replica_withdraws_its_unused_link(Arc::new(MemorySessions::default())).await;
        let Some(db) = toolhost_state::testing::fresh_database().await else {
            return;
        };
        a_stopping_replica_withdraws_its_unused_link(Arc::new(PgUiSessions::new(db, "acme"))).await;
    }

    #[tokio::test]
    async fn a_session_expires_after_its_lifetime() {
        let sessions = Sessions::with_launch_token("t0ken").lasting(Duration::ZERO);
        let session = sessions.exchange("t0ken").await.unwrap();
        assert_eq!(sessions.find(&session.id).await.unwrap(), None);
        assert_eq!(SESSION_LIFETIME, Duration::from_secs(12 * 3600));
    }

    #[tokio::test]
    async fn stores_see_hashes_only() {
        let store = Arc::new(MemorySessions::default());
        let sessions = Sessions::new(store.clone(), "maria").await.unwrap();
        let token = sessions.launch_token().to_string();
        let session = sessions.exchange(&token).await.unwrap();
        let state = store.lock();
        assert!(state.launch_tokens.contains_key(&sessions.key(&token)));
        assert!(!state.launch_tokens.contains_key(&token));
        assert!(state.sessions.contains_key(&sessions.key(&session.id)));
        assert!(!state.sessions.contains_key(&session.id));
        assert_eq!(token_sha256("abc").len(), 64);
    }

    #[tokio::test]
    async fn tokens_are_long_random_and_distinct() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        let sessions = Sessions::for_backend(&StateBackend::Embedded, "maria")
            .await
            .unwrap();
        let s = sessions.exchange(sessions.launch_token()).await.unwrap();
        assert_ne!(s.id, s.csrf);
        assert!(!format!("{sessions:?}").contains(sessions.launch_token()));
    }

    #[test]
    fn cookies_are_parsed_strictly() {
        let header = "a=1; toolhost_session=abc; b=2";
        assert_eq!(cookie_value(header, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie_value("x_toolhost_session=z", SESSION_COOKIE), None);
    }

    #[test]
    fn constant_time_eq_compares_exactly() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
