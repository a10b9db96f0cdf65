//! OAuth2 client credentials, performed by the host on the plugin's behalf.
//!
//! The Asio API locks a key that mints more than five tokens in ten seconds (HTTP 423), so
//! a token is minted once per connection and store, not once per process or per request:
//! - it is cached in memory and, when the provider is [shared](TokenProvider::shared_in),
//!   in a [`TokenStore`] (the home's file, or a database every replica shares), and reused
//!   until shortly before it expires;
//! - a refresh is single-flight: one mint however many calls (an async mutex) and
//!   processes (the store's lock: an OS file lock, or a database lock) are waiting;
//! - after a 401, a token that someone already replaced is replaced by the newer one, not
//!   by a mint; a token minted *because of* a 401 is not replaced again after another 401
//!   until the API has accepted it or a grace period has passed, so an endpoint that
//!   answers 401 whatever the token cannot make the host mint once per request;
//! - a 423 lock-out deadline is shared too: nobody mints before it.

use super::error::CredentialError;
use super::mint::{self, refresh_margin, ClientCredentials, TokenEndpoint};
use super::token_store::{SharedToken, StoreError, StoredToken, TokenBinding, TokenStore};
use crate::outbound::routes::UpstreamRoutes;
use crate::outbound::transport::Timeouts;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};
use toolhost_base::SecretString;

/// How long a token minted after a 401 may itself be answered 401 without a new mint
/// (unless the API accepted it meanwhile): at most one such mint per token in this time,
/// far below the lock-out rate.
const UNPROVEN_GRACE: Duration = Duration::from_secs(30);
/// Beyond the longest token request, how long to wait for another process's mint.
const LOCK_PATIENCE_MARGIN: Duration = Duration::from_secs(5);

/// A minted access token, as handed to the gate for one request.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// The bearer token itself.
    pub value: SecretString,
}

#[cfg(test)]
impl AccessToken {
    /// A token that no provider minted, for tests of what the gate does with one.
    pub(crate) fn for_tests(value: &str) -> AccessToken {
        AccessToken {
            value: SecretString::new(value),
        }
    }
}

impl StoredToken {
    fn access(&self) -> AccessToken {
        AccessToken {
            value: self.value.clone(),
        }
    }
}

/// Mints and caches the access token of one connection; shared by every call through it
/// and, once [shared](TokenProvider::shared_in), by every process of the home.
pub struct TokenProvider {
    endpoint: TokenEndpoint,
    credentials: ClientCredentials,
    routes: UpstreamRoutes,
    timeouts: Timeouts,
    shared: Option<(TokenStore, TokenBinding)>,
    /// Held while the record is consulted and a token maybe minted: the in-process flight.
    flight: tokio::sync::Mutex<()>,
    /// The last record seen or written: the fast path, which never waits for a mint.
    memory: Mutex<SharedToken>,
    mints: AtomicU64,
}

impl TokenProvider {
    /// A provider that mints at `endpoint` (through `routes`) once a token is first needed,
    /// and keeps the token in memory only.
    pub fn new(
        endpoint: TokenEndpoint,
        credentials: ClientCredentials,
        routes: UpstreamRoutes,
        timeouts: Timeouts,
    ) -> TokenProvider {
        TokenProvider {
            endpoint,
            credentials,
            routes,
            timeouts,
            shared: None,
            flight: tokio::sync::Mutex::new(()),
            memory: Mutex::new(SharedToken::default()),
            mints: AtomicU64::new(0),
        }
    }

    /// The same provider, sharing its token and lock-out with every process that uses
    /// `store` for the same connection.
    pub fn shared_in(mut self, store: TokenStore) -> TokenProvider {
        let token_url = format!("{}{}", self.endpoint.origin.url(), self.endpoint.path);
        let binding = TokenBinding::new(
            &token_url,
            &self.routes.resolve(&self.endpoint.origin).url(),
            &self.credentials.client_id,
            &self.endpoint.scopes,
            &self.credentials.client_secret,
        );
        self.shared = Some((store, binding));
        self
    }

    /// Where this provider mints: the gate keeps plugins away from it.
    pub fn endpoint(&self) -> &TokenEndpoint {
        &self.endpoint
    }

    /// How many tokens this provider has minted.
    pub fn mint_count(&self) -> u64 {
        self.mints.load(Ordering::Relaxed)
    }

    /// The secrets this provider holds, for scrubbing them from logs and audit records.
    pub fn secrets(&self) -> Vec<SecretString> {
        vec![self.credentials.client_secret.clone()]
    }

    /// A valid token, minting one only when neither this process nor another sharing the
    /// store has one that is not about to expire.
    pub async fn token(&self) -> Result<AccessToken, CredentialError> {
        let current = |record: &SharedToken, now| record.usable(now).map(StoredToken::access);
        if let Some(token) = current(&self.remembered(), SystemTime::now()) {
            return Ok(token);
        }
        self.obtain(current, |token| token, None).await
    }

    /// A token minted now (unless the key is locked out), shared from then on: what
    /// `toolhost connect` uses to prove the credentials work today.
    pub async fn fresh_token(&self) -> Result<AccessToken, CredentialError> {
        self.obtain(|_, _| None, |token| token, None).await
    }

    /// Called after upstream answered 401 to `rejected`. `Some`: the token to replay the
    /// request with, newer than `rejected` (someone else's replacement, else a new mint).
    /// `None`: `rejected` was itself minted after a 401 and has not been accepted yet, so
    /// the 401 is not about the token's age and minting again would only burn the key.
    pub async fn token_after_rejection(
        &self,
        rejected: &AccessToken,
    ) -> Result<Option<AccessToken>, CredentialError> {
        let replacement = |record: &SharedToken, now| replacement(record, rejected, now);
        if let Some(answer) = replacement(&self.remembered(), SystemTime::now()) {
            return Ok(answer);
        }
        self.obtain(replacement, Some, Some(rejected)).await
    }

    /// Called when upstream accepted `token` (a success answer): a token minted after a 401
    /// is trusted again from now on, by every process of the home.
    pub async fn accepted(&self, token: &AccessToken) {
        let on_probation = |record: &SharedToken| {
            record
                .token
                .as_ref()
                .is_some_and(|t| t.value == token.value && t.unproven_until.is_some())
        };
        if !on_probation(&self.remembered()) {
            return;
        }
        let _flight = self.flight.lock().await;
        let result = self
            .with_record(|record| {
                if on_probation(record) {
                    if let Some(t) = record.token.as_mut() {
                        t.unproven_until = None;
                    }
                    return true;
                }
                false
            })
            .await;
        if let Err(err) = result {
            tracing::warn!(%err, "could not record that the API accepted the new token");
        }
    }

    /// Under the flight: what the record already answers (`reuse`), else a mint (unless
    /// the key is locked out), recorded for everyone. With `rejected` (a token upstream
    /// answered 401 to), that token leaves the record and the new one starts unproven.
    async fn obtain<R>(
        &self,
        reuse: impl Fn(&SharedToken, SystemTime) -> Option<R>,
        wrap: fn(AccessToken) -> R,
        rejected: Option<&AccessToken>,
    ) -> Result<R, CredentialError> {
        let _flight = self.flight.lock().await;
        // Another call of this process may have done the work while this one waited.
        if let Some(answer) = reuse(&self.remembered(), SystemTime::now()) {
            return Ok(answer);
        }
        let mut guard = match &self.shared {
            Some((store, binding)) => Some(store.lock(binding, self.lock_patience()).await?),
            None => None,
        };
        let mut record = match &mut guard {
            Some(guard) => guard.read().await?,
            None => self.remembered(),
        };
        let now = SystemTime::now();
        if let Some(answer) = reuse(&record, now) {
            self.remember(&record);
            return Ok(answer);
        }
        // A refused token is dead for everyone: no process should send it again, even if
        // no new one can be had (a lock-out then fails calls before they go upstream).
        if let (Some(rejected), Some(current)) = (rejected, &record.token) {
            if current.value == rejected.value {
                record.token = None;
            }
        }
        let result = match record.locked_until.filter(|until| now < *until) {
            Some(until) => Err(CredentialError::Locked {
                retry_after: until.duration_since(now).unwrap_or_default(),
            }),
            None => self.mint_into(&mut record, rejected.is_some()).await,
        };
        if let Some(guard) = &mut guard {
            // A token in hand is good either way; failing to share it only costs other
            // processes a mint of their own.
            if let Err(err) = guard.write(&record).await {
                tracing::warn!(%err, "could not share the token with the home's other processes");
            }
        }
        self.remember(&record);
        result.map(wrap)
    }

    /// Mints, and puts the outcome in `record`: the new token, or the lock-out deadline.
    async fn mint_into(
        &self,
        record: &mut SharedToken,
        after_rejection: bool,
    ) -> Result<AccessToken, CredentialError> {
        let minted = mint::mint(
            &self.endpoint,
            &self.credentials,
            &self.routes,
            self.timeouts,
        )
        .await;
        let now = SystemTime::now();
        match minted {
            Ok((value, lifetime)) => {
                self.mints.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(after_rejection, "minted an access token");
                let stored = StoredToken {
                    value,
                    refresh_at: now + refresh_margin(lifetime),
                    unproven_until: after_rejection.then_some(now + UNPROVEN_GRACE),
                };
                let token = stored.access();
                record.token = Some(stored);
                record.locked_until = None;
                Ok(token)
            }
            Err(CredentialError::Locked { retry_after }) => {
                record.locked_until = Some(now + retry_after);
                Err(CredentialError::Locked { retry_after })
            }
            Err(other) => Err(other),
        }
    }

    /// Reads the shared record (or memory), lets `change` edit it, and writes it back when
    /// `change` says it changed anything. The caller holds the flight.
    async fn with_record(
        &self,
        change: impl FnOnce(&mut SharedToken) -> bool,
    ) -> Result<(), CredentialError> {
        match &self.shared {
            Some((store, binding)) => {
                let mut guard = store.lock(binding, self.lock_patience()).await?;
                let mut record = guard.read().await?;
                if change(&mut record) {
                    guard.write(&record).await?;
                }
                self.remember(&record);
            }
            None => {
                let mut record = self.remembered();
                change(&mut record);
                self.remember(&record);
            }
        }
        Ok(())
    }

    fn remembered(&self) -> SharedToken {
        // A poisoned lock only means a panic elsewhere; the record itself stays usable.
        self.memory
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn remember(&self, record: &SharedToken) {
        *self.memory.lock().unwrap_or_else(|p| p.into_inner()) = record.clone();
    }

    /// Long enough for another process's token request to finish however slow it is.
    fn lock_patience(&self) -> Duration {
        let t = self.timeouts;
        t.connect + t.first_byte + t.between_bytes + LOCK_PATIENCE_MARGIN
    }
}

/// What a record answers after a 401 to `rejected`: a newer usable token (replay with it),
/// "do not replay" for an unproven token within its grace, or nothing (mint).
fn replacement(
    record: &SharedToken,
    rejected: &AccessToken,
    now: SystemTime,
) -> Option<Option<AccessToken>> {
    let current = record.usable(now)?;
    if current.value != rejected.value {
        return Some(Some(current.access()));
    }
    current
        .unproven_until
        .is_some_and(|until| now < until)
        .then_some(None)
}

impl From<StoreError> for CredentialError {
    fn from(err: StoreError) -> CredentialError {
        match err {
            StoreError::Io { path, source } => CredentialError::Store {
                path: path.display().to_string(),
                detail: source.to_string(),
            },
            StoreError::Busy { lock, waited } => CredentialError::StoreBusy { path: lock, waited },
            StoreError::Backend { store, detail } => {
                CredentialError::StoreUnavailable { store, detail }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(value: &str, unproven_for: Option<Duration>) -> SharedToken {
        let now = SystemTime::now();
        SharedToken {
            token: Some(StoredToken {
                value: SecretString::new(value),
                refresh_at: now + Duration::from_secs(3600),
                unproven_until: unproven_for.map(|d| now + d),
            }),
            locked_until: None,
        }
    }

    fn answer(record: &SharedToken, rejected: &str) -> Option<Option<String>> {
        replacement(record, &AccessToken::for_tests(rejected), SystemTime::now())
            .map(|t| t.map(|t| t.value.expose().to_string()))
    }

    #[test]
    fn a_401_to_a_replaced_token_replays_with_the_newer_one() {
        assert_eq!(
            answer(&stored("new", None), "old"),
            Some(Some("new".into()))
        );
        // Even when the newer one is itself unproven: it was not the one refused.
        let unproven = stored("new", Some(UNPROVEN_GRACE));
        assert_eq!(answer(&unproven, "old"), Some(Some("new".into())));
    }

    #[test]
    fn a_401_to_the_current_token_mints_unless_it_is_an_unproven_replacement() {
        assert_eq!(answer(&stored("cur", None), "cur"), None);
        assert_eq!(answer(&SharedToken::default(), "cur"), None);
        assert_eq!(
            answer(&stored("cur", Some(UNPROVEN_GRACE)), "cur"),
            Some(None)
        );
        // Once the grace has passed, the token may be replaced again.
        assert_eq!(answer(&stored("cur", Some(Duration::ZERO)), "cur"), None);
    }

    #[test]
    fn store_errors_name_the_file() {
        let err: CredentialError = StoreError::Busy {
            lock: "/h/token.lock".into(),
            waited: Duration::from_secs(75),
        }
        .into();
        assert!(err.to_string().contains("/h/token.lock"), "{err}");
        assert!(err.to_string().contains("75 s"), "{err}");
        let err: CredentialError = StoreError::Io {
            path: "/h/token.json".into(),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        }
        .into();
        assert!(err.to_string().contains("writable"), "{err}");
        let err: CredentialError = StoreError::Backend {
            store: "PostgreSQL (tenant acme)".into(),
            detail: "connection refused".into(),
        }
        .into();
        let text = err.to_string();
        assert!(text.contains("PostgreSQL (tenant acme)"), "{text}");
        assert!(text.contains("connection refused"), "{text}");
        assert!(!text.contains("file"), "{text}");
    }
}
