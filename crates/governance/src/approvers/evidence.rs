//! The passkey evidence an approval keeps: the WebAuthn assertion its approver made, and
//! what it was made over.
//!
//! The challenge the authenticator signs is not a bare random number: it is
//! `SHA-256("toolhost-passkey-approval-v1" || approval digest || nonce)`, where the approval
//! digest ([`crate::Approval::digest`]) covers the tool, the exact arguments text, the
//! script identity and the requester. The signed client data therefore names this one
//! approval: anyone holding the record, the nonce and the credential's public key can check
//! afterwards that the approver saw and signed exactly this call.

use sha2::{Digest, Sha256};

/// How many random bytes each challenge mixes in (so no two challenges repeat).
pub const CHALLENGE_NONCE_BYTES: usize = 32;

const CHALLENGE_DOMAIN: &[u8] = b"toolhost-passkey-approval-v1";

/// The challenge an approver's authenticator signs for the approval whose digest is
/// `approval_digest` (lowercase hex), with a fresh random `nonce`.
pub fn passkey_challenge(approval_digest: &str, nonce: &[u8]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(CHALLENGE_DOMAIN);
    hash.update((approval_digest.len() as u64).to_be_bytes());
    hash.update(approval_digest.as_bytes());
    hash.update(nonce);
    hash.finalize().into()
}

/// A verified passkey assertion, kept with the approval it approved. Binary fields are
/// base64url without padding, exactly as the browser sent them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyEvidence {
    /// The approver the credential is enrolled for (the `<name>` of `ui:<name>`).
    pub approver: String,
    /// The credential that signed.
    pub credential_id: String,
    /// The authenticator data (flags: user present and verified; the signature counter).
    pub authenticator_data: String,
    /// The client data JSON: its `challenge` is [`passkey_challenge`] of the digest below.
    pub client_data_json: String,
    /// The signature over the authenticator data and the client data's hash.
    pub signature: String,
    /// The random nonce mixed into the challenge (base64url).
    pub challenge_nonce: String,
    /// [`crate::Approval::digest`] of the approval when the challenge was issued.
    pub approval_digest: String,
    /// The authenticator verified the person (PIN, biometrics): always true when kept.
    pub user_verified: bool,
    /// The signature counter the authenticator reported.
    pub counter: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_depends_on_the_digest_and_the_nonce() {
        let a = passkey_challenge("aa", &[1; CHALLENGE_NONCE_BYTES]);
        assert_eq!(a, passkey_challenge("aa", &[1; CHALLENGE_NONCE_BYTES]));
        assert_ne!(a, passkey_challenge("ab", &[1; CHALLENGE_NONCE_BYTES]));
        assert_ne!(a, passkey_challenge("aa", &[2; CHALLENGE_NONCE_BYTES]));
    }
}

#[cfg(test)]
mod store_tests {
    use super::*;
    use crate::{ApprovalState, ApprovalStore};

    fn evidence(digest: String) -> PasskeyEvidence {
        PasskeyEvidence {
            approver: "maria".into(),
            credential_id: "Y3JlZA".into(),
            authenticator_data: "YXV0aA".into(),
            client_data_json: "Y2xpZW50".into(),
            signature: "c2ln".into(),
            challenge_nonce: "bm9uY2U".into(),
            approval_digest: digest,
            user_verified: true,
            counter: 1,
        }
    }

    #[tokio::test]
    async fn a_claim_keeps_the_passkey_evidence_through_completion() {
        let dir = tempfile::tempdir().unwrap();
        let store = ApprovalStore::open(dir.path().join("approvals")).unwrap();
        let args = serde_json::json!({"x": 1});
        let a = store
            .create("t:tool", &args, "agent", "Technician")
            .await
            .unwrap();
        let kept = evidence(a.digest());
        let claimed = store
            .claim_with_passkey(&a.id, "ui:maria", Some(kept.clone()))
            .await
            .unwrap();
        assert_eq!(claimed.passkey.as_ref(), Some(&kept));
        let done = store.complete(&a.id, "ok").await.unwrap();
        assert!(matches!(done.state, ApprovalState::Executed { .. }));
        let read = store.get(&a.id).await.unwrap();
        assert_eq!(read.passkey, Some(kept));
        assert_eq!(read.digest(), a.digest());
        // An approval without a passkey keeps none, and its JSON has no such key.
        let b = store
            .create("t:tool", &args, "agent", "Technician")
            .await
            .unwrap();
        store.claim(&b.id, "cli:ops").await.unwrap();
        let json = serde_json::to_value(store.get(&b.id).await.unwrap()).unwrap();
        assert!(json.get("passkey").is_none(), "{json}");
    }
}
