//! The open passkey ceremonies: enrolments under way and approval challenges.
//!
//! Where they live is a [`CeremonyStore`]: this process's memory ([`MemoryCeremonies`], the
//! embedded backend) or the state database ([`PgCeremonies`]), so that a ceremony begun on one
//! replica finishes on whichever replica the browser's next request reaches. Either way a
//! ceremony is taken out exactly once, and its age is measured by the store.
//!
//! Approval challenges: at most one per approval, each usable once, by the session and
//! approver it was issued to, for the approval exactly as it was when issued. Taking a
//! challenge removes it whatever happens next, so an assertion can be presented once: a
//! replay finds nothing to answer. An assertion made for another approval fails here or on
//! its challenge (see `ceremony`), because each approval's challenge is derived from its own
//! digest.

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use toolhost_state::{PgCeremonies, StateError};

/// How long an approver has to touch their authenticator.
pub const CHALLENGE_TTL: Duration = Duration::from_secs(300);

/// The store's kind for approval challenges (keyed by approval id).
pub const APPROVAL: &str = "approval";
/// The store's kind for enrolments (keyed by the session id's SHA-256).
pub const REGISTRATION: &str = "registration";

/// Where open ceremonies live, as JSON documents under a kind and a key.
#[async_trait]
pub trait CeremonyStore: Send + Sync {
    /// Opens `state` as ceremony `kind`/`key`, voiding an earlier one under the same key;
    /// ceremonies of `kind` older than `ttl` may be dropped meanwhile.
    async fn put(
        &self,
        kind: &str,
        key: &str,
        state: &Value,
        ttl: Duration,
    ) -> Result<(), StateError>;

    /// Takes out (closes) ceremony `kind`/`key`: its state and age, `None` when none is open.
    async fn take(&self, kind: &str, key: &str) -> Result<Option<(Value, Duration)>, StateError>;
}

/// This process's open ceremonies (the embedded backend).
#[derive(Debug, Default)]
pub struct MemoryCeremonies {
    open: Mutex<HashMap<(String, String), (Value, Instant)>>,
}

#[async_trait]
impl CeremonyStore for MemoryCeremonies {
    async fn put(
        &self,
        kind: &str,
        key: &str,
        state: &Value,
        ttl: Duration,
    ) -> Result<(), StateError> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.retain(|(k, _), (_, issued)| k != kind || issued.elapsed() < ttl);
        open.insert(
            (kind.to_string(), key.to_string()),
            (state.clone(), Instant::now()),
        );
        Ok(())
    }

    async fn take(&self, kind: &str, key: &str) -> Result<Option<(Value, Duration)>, StateError> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        Ok(open
            .remove(&(kind.to_string(), key.to_string()))
            .map(|(state, issued)| (state, issued.elapsed())))
    }
}

#[async_trait]
impl CeremonyStore for PgCeremonies {
    async fn put(
        &self,
        kind: &str,
        key: &str,
        state: &Value,
        ttl: Duration,
    ) -> Result<(), StateError> {
        PgCeremonies::put(self, kind, key, state, ttl).await
    }

    async fn take(&self, kind: &str, key: &str) -> Result<Option<(Value, Duration)>, StateError> {
        PgCeremonies::take(self, kind, key).await
    }
}

/// A challenge issued for one approval.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Issued<S> {
    /// The SHA-256 of the session it was issued to (a store never holds a session id).
    pub session_sha256: String,
    pub approver: String,
    /// `Approval::digest()` when it was issued.
    pub approval_digest: String,
    pub nonce: Vec<u8>,
    /// What the verifier needs (webauthn-rs' authentication state).
    pub state: S,
}

#[derive(Debug, thiserror::Error)]
pub enum ChallengeError {
    #[error("no passkey challenge is open for approval {0}: it was already used (an assertion counts once) or never asked for. Press Approve again to sign a new one")]
    NotOpen(String),
    #[error("the passkey challenge for approval {0} expired: press Approve again")]
    Expired(String),
    #[error("the passkey challenge for approval {0} was issued to another session or approver")]
    OtherApprover(String),
    #[error("approval {0} changed since its passkey challenge was issued: nothing was run. Reload and review it again")]
    ApprovalChanged(String),
    #[error(
        "the passkey challenge for approval {0} in the store is damaged ({1}): press Approve again"
    )]
    Damaged(String, String),
    #[error(transparent)]
    Store(#[from] StateError),
}

/// Open approval challenges, by approval id, in a ceremony store.
pub struct ApprovalChallenges<S> {
    store: Arc<dyn CeremonyStore>,
    ttl: Duration,
    state: PhantomData<fn() -> S>,
}

impl<S: Serialize + DeserializeOwned> ApprovalChallenges<S> {
    pub fn new(store: Arc<dyn CeremonyStore>, ttl: Duration) -> ApprovalChallenges<S> {
        ApprovalChallenges {
            store,
            ttl,
            state: PhantomData,
        }
    }

    /// Opens `issued` for `approval_id`; an earlier challenge for it is void from now on.
    pub async fn issue(&self, approval_id: &str, issued: &Issued<S>) -> Result<(), ChallengeError> {
        let document = serde_json::to_value(issued)
            .map_err(|e| ChallengeError::Damaged(approval_id.to_string(), e.to_string()))?;
        self.store
            .put(APPROVAL, approval_id, &document, self.ttl)
            .await?;
        Ok(())
    }

    /// Takes (and so closes) the challenge of `approval_id`, checking who answers it (the
    /// session by its SHA-256) and that the approval still has the digest it was issued for.
    pub async fn take(
        &self,
        approval_id: &str,
        session_sha256: &str,
        approver: &str,
        current_digest: &str,
    ) -> Result<Issued<S>, ChallengeError> {
        let id = || approval_id.to_string();
        let (document, age) = self
            .store
            .take(APPROVAL, approval_id)
            .await?
            .ok_or_else(|| ChallengeError::NotOpen(id()))?;
        if age >= self.ttl {
            return Err(ChallengeError::Expired(id()));
        }
        let issued: Issued<S> = serde_json::from_value(document)
            .map_err(|e| ChallengeError::Damaged(id(), e.to_string()))?;
        if issued.session_sha256 != session_sha256 || issued.approver != approver {
            return Err(ChallengeError::OtherApprover(id()));
        }
        if issued.approval_digest != current_digest {
            return Err(ChallengeError::ApprovalChanged(id()));
        }
        Ok(issued)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issued(digest: &str) -> Issued<u32> {
        Issued {
            session_sha256: "s1".into(),
            approver: "maria".into(),
            approval_digest: digest.into(),
            nonce: vec![7; 32],
            state: 1,
        }
    }

    fn open(ttl: Duration) -> ApprovalChallenges<u32> {
        ApprovalChallenges::new(Arc::new(MemoryCeremonies::default()), ttl)
    }

    #[tokio::test]
    async fn a_challenge_is_taken_once() {
        let open = open(CHALLENGE_TTL);
        open.issue("a", &issued("da")).await.unwrap();
        assert!(open.take("a", "s1", "maria", "da").await.is_ok());
        let err = open.take("a", "s1", "maria", "da").await.unwrap_err();
        assert!(
            matches!(err, ChallengeError::NotOpen(ref a) if a == "a"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_challenge_answers_only_its_approval_session_approver_and_digest() {
        let open = open(CHALLENGE_TTL);
        open.issue("a", &issued("da")).await.unwrap();
        let err = open.take("b", "s1", "maria", "da").await.unwrap_err();
        assert!(
            matches!(err, ChallengeError::NotOpen(ref b) if b == "b"),
            "{err}"
        );
        let err = open.take("a", "s2", "maria", "da").await.unwrap_err();
        assert!(matches!(err, ChallengeError::OtherApprover(_)), "{err}");
        // A failed answer closes it too: no second try against the same challenge.
        let err = open.take("a", "s1", "maria", "da").await.unwrap_err();
        assert!(matches!(err, ChallengeError::NotOpen(_)), "{err}");
        open.issue("a", &issued("da")).await.unwrap();
        let err = open.take("a", "s1", "jo", "da").await.unwrap_err();
        assert!(matches!(err, ChallengeError::OtherApprover(_)), "{err}");
        open.issue("a", &issued("da")).await.unwrap();
        let err = open.take("a", "s1", "maria", "changed").await.unwrap_err();
        assert!(matches!(err, ChallengeError::ApprovalChanged(_)), "{err}");
    }

    #[tokio::test]
    async fn a_new_challenge_voids_the_old_one_and_old_ones_expire() {
        let open = open(CHALLENGE_TTL);
        open.issue("a", &issued("da")).await.unwrap();
        let mut second = issued("da");
        second.state = 2;
        open.issue("a", &second).await.unwrap();
        assert_eq!(open.take("a", "s1", "maria", "da").await.unwrap().state, 2);
        let short = self::open(Duration::ZERO);
        short.issue("a", &issued("da")).await.unwrap();
        let err = short.take("a", "s1", "maria", "da").await.unwrap_err();
        assert!(matches!(err, ChallengeError::Expired(_)), "{err}");
    }
}
