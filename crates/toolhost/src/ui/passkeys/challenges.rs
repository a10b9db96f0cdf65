//! The open approval challenges: at most one per approval, each usable once, by the session
//! and approver it was issued to, for the approval exactly as it was when issued.
//!
//! Taking a challenge removes it whatever happens next, so an assertion can be presented
//! once: a replay finds nothing to answer. An assertion made for another approval fails
//! here or on its challenge (see `ceremony`), because each approval's challenge is derived
//! from its own digest.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an approver has to touch their authenticator.
pub const CHALLENGE_TTL: Duration = Duration::from_secs(300);

/// A challenge issued for one approval.
#[derive(Debug, Clone)]
pub struct Issued<S> {
    pub session: String,
    pub approver: String,
    /// `Approval::digest()` when it was issued.
    pub approval_digest: String,
    pub nonce: Vec<u8>,
    /// What the verifier needs (webauthn-rs' authentication state).
    pub state: S,
    pub issued_at: Instant,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeError {
    #[error("no passkey challenge is open for approval {0}: it was already used (an assertion counts once) or never asked for. Press Approve again to sign a new one")]
    NotOpen(String),
    #[error("the passkey challenge for approval {0} expired: press Approve again")]
    Expired(String),
    #[error("the passkey challenge for approval {0} was issued to another session or approver")]
    OtherApprover(String),
    #[error("approval {0} changed since its passkey challenge was issued: nothing was run. Reload and review it again")]
    ApprovalChanged(String),
}

/// Open challenges by approval id.
#[derive(Debug)]
pub struct ApprovalChallenges<S> {
    open: Mutex<HashMap<String, Issued<S>>>,
    ttl: Duration,
}

impl<S> ApprovalChallenges<S> {
    pub fn new(ttl: Duration) -> ApprovalChallenges<S> {
        ApprovalChallenges {
            open: Mutex::new(HashMap::new()),
            ttl,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Issued<S>>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens `issued` for `approval_id`; an earlier challenge for it is void from now on.
    pub fn issue(&self, approval_id: &str, issued: Issued<S>) {
        let mut open = self.lock();
        let ttl = self.ttl;
        open.retain(|_, i| i.issued_at.elapsed() < ttl);
        open.insert(approval_id.to_string(), issued);
    }

    /// Takes (and so closes) the challenge of `approval_id`, checking who answers it and
    /// that the approval still has the digest it was issued for.
    pub fn take(
        &self,
        approval_id: &str,
        session: &str,
        approver: &str,
        current_digest: &str,
    ) -> Result<Issued<S>, ChallengeError> {
        let id = || approval_id.to_string();
        let issued = self
            .lock()
            .remove(approval_id)
            .ok_or_else(|| ChallengeError::NotOpen(id()))?;
        if issued.issued_at.elapsed() >= self.ttl {
            return Err(ChallengeError::Expired(id()));
        }
        if issued.session != session || issued.approver != approver {
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
            session: "s1".into(),
            approver: "maria".into(),
            approval_digest: digest.into(),
            nonce: vec![7; 32],
            state: 1,
            issued_at: Instant::now(),
        }
    }

    #[test]
    fn a_challenge_is_taken_once() {
        let open = ApprovalChallenges::new(CHALLENGE_TTL);
        open.issue("a", issued("da"));
        assert!(open.take("a", "s1", "maria", "da").is_ok());
        assert_eq!(
            open.take("a", "s1", "maria", "da").unwrap_err(),
            ChallengeError::NotOpen("a".into())
        );
    }

    #[test]
    fn a_challenge_answers_only_its_approval_session_approver_and_digest() {
        let open = ApprovalChallenges::new(CHALLENGE_TTL);
        open.issue("a", issued("da"));
        assert_eq!(
            open.take("b", "s1", "maria", "da").unwrap_err(),
            ChallengeError::NotOpen("b".into())
        );
        assert_eq!(
            open.take("a", "s2", "maria", "da").unwrap_err(),
            ChallengeError::OtherApprover("a".into())
        );
        // A failed answer closes it too: no second try against the same challenge.
        assert!(matches!(
            open.take("a", "s1", "maria", "da"),
            Err(ChallengeError::NotOpen(_))
        ));
        open.issue("a", issued("da"));
        assert_eq!(
            open.take("a", "s1", "jo", "da").unwrap_err(),
            ChallengeError::OtherApprover("a".into())
        );
        open.issue("a", issued("da"));
        assert_eq!(
            open.take("a", "s1", "maria", "changed").unwrap_err(),
            ChallengeError::ApprovalChanged("a".into())
        );
    }

    #[test]
    fn a_new_challenge_voids_the_old_one_and_old_ones_expire() {
        let open = ApprovalChallenges::new(CHALLENGE_TTL);
        open.issue("a", issued("da"));
        let mut second = issued("da");
        second.state = 2;
        open.issue("a", second);
        assert_eq!(open.take("a", "s1", "maria", "da").unwrap().state, 2);
        let short = ApprovalChallenges::new(Duration::ZERO);
        short.issue("a", issued("da"));
        assert_eq!(
            short.take("a", "s1", "maria", "da").unwrap_err(),
            ChallengeError::Expired("a".into())
        );
    }
}
