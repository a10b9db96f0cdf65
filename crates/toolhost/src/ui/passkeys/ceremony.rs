//! The WebAuthn ceremonies, with webauthn-rs: enrolling an approver's passkey, and signing
//! one approval.
//!
//! Approvals sign a challenge derived from the approval's digest
//! ([`toolhost_governance::passkey_challenge`]), not the library's bare random one, so the
//! signed client data itself names the approval. webauthn-rs has no option for a chosen
//! challenge; its authentication state (kept in memory only, never sent anywhere) is
//! serialised, given our challenge, and read back: the library then checks the browser's
//! client data against exactly that challenge.
//!
//! The ceremony states (an enrolment's, an approval challenge's) and the enrolled passkeys
//! live where the host's other state does ([`Passkeys::for_host`]): in this process and its
//! home, or in the state database, where any replica can finish what another began.

use super::challenges::{
    ApprovalChallenges, CeremonyStore, ChallengeError, Issued, MemoryCeremonies, CHALLENGE_TTL,
    REGISTRATION,
};
use super::credentials::{CredentialsError, FilePasskeys, PasskeyStore};
use super::db_store::DbPasskeys;
use crate::ui::sessions::token_sha256;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use toolhost_governance::{passkey_challenge, Approval, PasskeyEvidence, CHALLENGE_NONCE_BYTES};
use toolhost_host::{HostConfig, StateBackend};
use toolhost_state::{PgCeremonies, PgPasskeys, StateError};
use webauthn_rs::prelude::{
    PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    Url, Uuid, WebauthnError,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};

/// The relying party: passkeys are bound to `localhost` (a browser treats
/// `http://localhost` as a secure context; an IP address cannot be a WebAuthn RP id).
pub const RP_ID: &str = "localhost";

#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    #[error("cannot set up passkeys for http://{RP_ID}:{port}: {source}")]
    Setup { port: u16, source: WebauthnError },
    #[error("no passkey is enrolled for approver `{0}`: enrol one on the Approvals page first")]
    NotEnrolled(String),
    #[error("no passkey enrolment is under way in this session: press Enrol again")]
    NoRegistration,
    #[error("the passkey enrolment failed: {0}")]
    Registration(WebauthnError),
    #[error("the passkey assertion is malformed ({0}): nothing was run")]
    Malformed(String),
    #[error("this passkey assertion was made for another approval or an older challenge: nothing was run")]
    WrongChallenge,
    #[error("the passkey assertion did not verify ({0}): nothing was run")]
    Rejected(WebauthnError),
    #[error(
        "the authenticator did not verify the person (PIN or biometrics required): nothing was run"
    )]
    NotUserVerified,
    #[error("approval {0} is not pending: only a pending approval can be signed")]
    NotPending(String),
    #[error(transparent)]
    Challenge(#[from] ChallengeError),
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    #[error(transparent)]
    Store(#[from] StateError),
}

impl PasskeyError {
    pub fn kind(&self) -> &'static str {
        match self {
            PasskeyError::Setup { .. } | PasskeyError::Credentials(_) => "passkey-setup",
            PasskeyError::Store(_) | PasskeyError::Challenge(ChallengeError::Store(_)) => {
                "passkey-store"
            }
            PasskeyError::NotEnrolled(_) => "passkey-not-enrolled",
            _ => "passkey",
        }
    }
}

/// An enrolment under way (kept by the session id's SHA-256).
#[derive(serde::Serialize, serde::Deserialize)]
struct Registration {
    approver: String,
    user_id: Uuid,
    state: PasskeyRegistration,
}

/// Passkeys for one running UI server.
pub struct Passkeys {
    webauthn: Webauthn,
    credentials: Arc<dyn PasskeyStore>,
    /// Enrolments under way (kind [`REGISTRATION`]) and approval challenges.
    ceremonies: Arc<dyn CeremonyStore>,
    challenges: ApprovalChallenges<PasskeyAuthentication>,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// 32 bytes from the OS RNG (two v4 UUIDs carry 244 random bits).
fn nonce() -> Vec<u8> {
    let mut out = Vec::with_capacity(CHALLENGE_NONCE_BYTES);
    out.extend_from_slice(Uuid::new_v4().as_bytes());
    out.extend_from_slice(Uuid::new_v4().as_bytes());
    out
}

impl Passkeys {
    /// Passkeys for the UI at `http://localhost:<port>`, kept in `<home>/passkeys.json`,
    /// ceremonies in this process.
    pub fn new(home: &Path, port: u16) -> Result<Passkeys, PasskeyError> {
        Passkeys::with_stores(
            port,
            Arc::new(FilePasskeys::new(home)),
            Arc::new(MemoryCeremonies::default()),
        )
    }

    /// Passkeys for the UI of the host configured by `config`, where its state lives: the
    /// home and this process (embedded), or the tenant's rows in the state database (a home's
    /// `passkeys.json` imported once).
    pub async fn for_host(config: &HostConfig, port: u16) -> Result<Passkeys, PasskeyError> {
        match &config.state {
            StateBackend::Embedded => Passkeys::new(&config.home, port),
            StateBackend::Postgres { db, tenant, .. } => {
                let rows = PgPasskeys::new(db.clone(), tenant.clone());
                Passkeys::with_stores(
                    port,
                    Arc::new(DbPasskeys::open(rows, &config.home).await?),
                    Arc::new(PgCeremonies::new(db.clone(), tenant.clone())),
                )
            }
        }
    }

    fn with_stores(
        port: u16,
        credentials: Arc<dyn PasskeyStore>,
        ceremonies: Arc<dyn CeremonyStore>,
    ) -> Result<Passkeys, PasskeyError> {
        let setup = |source| PasskeyError::Setup { port, source };
        let origin = Url::parse(&format!("http://{RP_ID}:{port}"))
            .map_err(|_| setup(WebauthnError::Configuration))?;
        let webauthn = WebauthnBuilder::new(RP_ID, &origin)
            .map_err(setup)?
            .rp_name("toolhost")
            .timeout(CHALLENGE_TTL)
            .build()
            .map_err(setup)?;
        Ok(Passkeys {
            webauthn,
            credentials,
            challenges: ApprovalChallenges::new(ceremonies.clone(), CHALLENGE_TTL),
            ceremonies,
        })
    }

    /// The ids (base64url) and enrolment times of `approver`'s passkeys.
    pub async fn enrolled(&self, approver: &str) -> Result<Value, PasskeyError> {
        let mine = self.credentials.of(approver).await?;
        Ok(Value::Array(
            mine.passkeys
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "id": b64(p.passkey.cred_id()),
                        "addedAt": p.added_at,
                    })
                })
                .collect(),
        ))
    }

    /// Starts enrolling a passkey for `approver`: the options for
    /// `navigator.credentials.create` (user verification required).
    pub async fn start_registration(
        &self,
        session: &str,
        approver: &str,
    ) -> Result<Value, PasskeyError> {
        let mine = self.credentials.of(approver).await?;
        let exclude = mine
            .passkeys
            .iter()
            .map(|p| p.passkey.cred_id().clone())
            .collect();
        let (options, state) = self
            .webauthn
            .start_passkey_registration(mine.user_id, approver, approver, Some(exclude))
            .map_err(PasskeyError::Registration)?;
        let registration = Registration {
            approver: approver.to_string(),
            user_id: mine.user_id,
            state,
        };
        let registration = serde_json::to_value(registration)
            .map_err(|e| PasskeyError::Malformed(e.to_string()))?;
        self.ceremonies
            .put(
                REGISTRATION,
                &token_sha256(session),
                &registration,
                CHALLENGE_TTL,
            )
            .await?;
        serde_json::to_value(options).map_err(|e| PasskeyError::Malformed(e.to_string()))
    }

    /// Verifies the browser's new credential and keeps it; returns how many passkeys
    /// `approver` now has.
    pub async fn finish_registration(
        &self,
        session: &str,
        approver: &str,
        credential: Value,
    ) -> Result<usize, PasskeyError> {
        let registration: Registration = self
            .ceremonies
            .take(REGISTRATION, &token_sha256(session))
            .await?
            .filter(|(_, age)| *age < CHALLENGE_TTL)
            .and_then(|(state, _)| serde_json::from_value(state).ok())
            .filter(|r: &Registration| r.approver == approver)
            .ok_or(PasskeyError::NoRegistration)?;
        let credential: RegisterPublicKeyCredential = serde_json::from_value(credential)
            .map_err(|e| PasskeyError::Malformed(e.to_string()))?;
        let passkey = self
            .webauthn
            .finish_passkey_registration(&credential, &registration.state)
            .map_err(PasskeyError::Registration)?;
        Ok(self
            .credentials
            .add(approver, registration.user_id, passkey)
            .await?)
    }

    /// A challenge for `approver` to sign `approval` with: the options for
    /// `navigator.credentials.get`. Issuing it voids any earlier one for this approval.
    pub async fn challenge_for(
        &self,
        session: &str,
        approver: &str,
        approval: &Approval,
    ) -> Result<Value, PasskeyError> {
        if approval.status(chrono::Utc::now()) != toolhost_governance::ApprovalStatus::Pending {
            return Err(PasskeyError::NotPending(approval.id.clone()));
        }
        let mine = self.credentials.of(approver).await?;
        if mine.passkeys.is_empty() {
            return Err(PasskeyError::NotEnrolled(approver.to_string()));
        }
        let passkeys: Vec<_> = mine.passkeys.into_iter().map(|p| p.passkey).collect();
        let (options, state) = self
            .webauthn
            .start_passkey_authentication(&passkeys)
            .map_err(PasskeyError::Rejected)?;
        let digest = approval.digest();
        let nonce = nonce();
        let challenge = b64(&passkey_challenge(&digest, &nonce));
        let (options, state) = with_challenge(options, state, &challenge)?;
        let issued = Issued {
            session_sha256: token_sha256(session),
            approver: approver.to_string(),
            approval_digest: digest,
            nonce,
            state,
        };
        self.challenges.issue(&approval.id, &issued).await?;
        Ok(options)
    }

    /// Verifies `assertion` against the open challenge of `approval` (closing it): the
    /// challenge must be this approval's, the signature valid, the person verified. Returns
    /// the evidence to keep with the approval.
    pub async fn verify(
        &self,
        session: &str,
        approver: &str,
        approval: &Approval,
        assertion: Value,
    ) -> Result<PasskeyEvidence, PasskeyError> {
        let issued = self
            .challenges
            .take(
                &approval.id,
                &token_sha256(session),
                approver,
                &approval.digest(),
            )
            .await?;
        let credential: PublicKeyCredential = serde_json::from_value(assertion)
            .map_err(|e| PasskeyError::Malformed(e.to_string()))?;
        let expected = b64(&passkey_challenge(&issued.approval_digest, &issued.nonce));
        if signed_challenge(&credential.response.client_data_json)? != expected {
            return Err(PasskeyError::WrongChallenge);
        }
        let result = self
            .webauthn
            .finish_passkey_authentication(&credential, &issued.state)
            .map_err(PasskeyError::Rejected)?;
        if !result.user_verified() {
            return Err(PasskeyError::NotUserVerified);
        }
        self.credentials.record_use(approver, &result).await?;
        Ok(PasskeyEvidence {
            approver: approver.to_string(),
            credential_id: b64(&credential.raw_id),
            authenticator_data: b64(&credential.response.authenticator_data),
            client_data_json: b64(&credential.response.client_data_json),
            signature: b64(&credential.response.signature),
            challenge_nonce: b64(&issued.nonce),
            approval_digest: issued.approval_digest,
            user_verified: true,
            counter: result.counter(),
        })
    }
}

/// The `challenge` the browser put in the client data it had signed.
fn signed_challenge(client_data_json: &[u8]) -> Result<String, PasskeyError> {
    let data: Value = serde_json::from_slice(client_data_json)
        .map_err(|e| PasskeyError::Malformed(format!("client data: {e}")))?;
    data["challenge"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| PasskeyError::Malformed("client data without a challenge".into()))
}

/// Replaces the library's random challenge with `challenge` (base64url) in both the options
/// for the browser and the state the verifier checks against.
fn with_challenge(
    options: impl serde::Serialize,
    state: PasskeyAuthentication,
    challenge: &str,
) -> Result<(Value, PasskeyAuthentication), PasskeyError> {
    let internal =
        |what: &str| PasskeyError::Malformed(format!("webauthn-rs {what} changed shape"));
    let mut options = serde_json::to_value(options).map_err(|_| internal("options"))?;
    let mut state = serde_json::to_value(state).map_err(|_| internal("state"))?;
    let slot = options
        .pointer_mut("/publicKey/challenge")
        .ok_or_else(|| internal("options"))?;
    *slot = Value::String(challenge.to_string());
    let slot = state
        .pointer_mut("/ast/challenge")
        .ok_or_else(|| internal("state"))?;
    *slot = Value::String(challenge.to_string());
    let state = serde_json::from_value(state).map_err(|_| internal("state"))?;
    Ok((options, state))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a store call to its end (these tests are synchronous).
    pub(super) fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    fn approval(tool: &str) -> Approval {
        let dir = tempfile::tempdir().unwrap();
        let store = toolhost_governance::ApprovalStore::open(dir.path().join("a")).unwrap();
        block_on(store.create(tool, &serde_json::json!({"x": 1}), "agent", "Technician")).unwrap()
    }

    #[test]
    fn the_challenge_reaches_both_the_browser_options_and_the_verifier_state() {
        let dir = tempfile::tempdir().unwrap();
        let passkeys = Passkeys::new(dir.path(), 8080).unwrap();
        // The library's own options and state (no credential needed to build them).
        let (options, state) = passkeys.webauthn.start_passkey_authentication(&[]).unwrap();
        let a = approval("t:run");
        let challenge = b64(&passkey_challenge(&a.digest(), &[1; 32]));
        let (options, state) = with_challenge(options, state, &challenge).unwrap();
        assert_eq!(options["publicKey"]["challenge"], challenge.as_str());
        assert_eq!(options["publicKey"]["userVerification"], "required");
        let state = serde_json::to_value(state).unwrap();
        assert_eq!(state["ast"]["challenge"], challenge.as_str());
    }

    #[test]
    fn approving_needs_an_enrolled_passkey_and_a_pending_approval() {
        let dir = tempfile::tempdir().unwrap();
        let passkeys = Passkeys::new(dir.path(), 8080).unwrap();
        let a = approval("t:run");
        let err = block_on(passkeys.challenge_for("s", "maria", &a)).unwrap_err();
        assert!(matches!(err, PasskeyError::NotEnrolled(_)), "{err}");
        assert!(err.to_string().contains("enrol one"));
        let err = block_on(passkeys.verify("s", "maria", &a, serde_json::json!({}))).unwrap_err();
        assert!(
            matches!(err, PasskeyError::Challenge(ChallengeError::NotOpen(_))),
            "{err}"
        );
    }

    #[test]
    fn the_signed_challenge_is_read_from_the_client_data() {
        let data = br#"{"type":"webauthn.get","challenge":"abc","origin":"http://localhost:1"}"#;
        assert_eq!(signed_challenge(data).unwrap(), "abc");
        assert!(signed_challenge(b"{}").is_err());
        assert!(signed_challenge(b"not json").is_err());
    }
}

#[cfg(test)]
mod binding_tests {
    use super::*;

    /// An assertion whose client data carries `challenge` (the signature is never reached).
    fn assertion(challenge: &str) -> Value {
        let client_data = serde_json::json!({
            "type": "webauthn.get", "challenge": challenge, "origin": "http://localhost:8080"});
        serde_json::json!({
            "id": b64(b"cred"), "rawId": b64(b"cred"), "type": "public-key",
            "response": {
                "authenticatorData": b64(&[0; 37]),
                "clientDataJSON": b64(client_data.to_string().as_bytes()),
                "signature": b64(b"sig"), "userHandle": null},
            "extensions": {}})
    }

    fn open(passkeys: &Passkeys, approval: &Approval, nonce: &[u8]) {
        let state = serde_json::json!({"ast": {
            "credentials": [], "policy": "required", "challenge": b64(&[0; 32]),
            "appid": null, "allow_backup_eligible_upgrade": true}});
        let issued = Issued {
            session_sha256: token_sha256("s"),
            approver: "maria".into(),
            approval_digest: approval.digest(),
            nonce: nonce.to_vec(),
            state: serde_json::from_value(state).unwrap(),
        };
        super::tests::block_on(passkeys.challenges.issue(&approval.id, &issued)).unwrap();
    }

    #[test]
    fn an_assertion_made_for_another_approval_is_refused_and_closes_the_challenge() {
        let dir = tempfile::tempdir().unwrap();
        let passkeys = Passkeys::new(dir.path(), 8080).unwrap();
        let store = toolhost_governance::ApprovalStore::open(dir.path().join("a")).unwrap();
        let args = serde_json::json!({"x": 1});
        let a =
            super::tests::block_on(store.create("t:run", &args, "agent", "Technician")).unwrap();
        let b =
            super::tests::block_on(store.create("t:run", &args, "agent", "Technician")).unwrap();
        let nonce = [9; 32];
        // Same nonce, other approval: the digests differ, so do the challenges.
        let for_a = b64(&passkey_challenge(&a.digest(), &nonce));
        open(&passkeys, &b, &nonce);
        let err = super::tests::block_on(passkeys.verify("s", "maria", &b, assertion(&for_a)))
            .unwrap_err();
        assert!(matches!(err, PasskeyError::WrongChallenge), "{err}");
        // B's challenge is spent by the failed try: presenting anything again is refused.
        let for_b = b64(&passkey_challenge(&b.digest(), &nonce));
        let err = super::tests::block_on(passkeys.verify("s", "maria", &b, assertion(&for_b)))
            .unwrap_err();
        assert!(
            matches!(err, PasskeyError::Challenge(ChallengeError::NotOpen(_))),
            "{err}"
        );
        // The right challenge gets as far as the signature check (this one is forged).
        open(&passkeys, &b, &nonce);
        let err = super::tests::block_on(passkeys.verify("s", "maria", &b, assertion(&for_b)))
            .unwrap_err();
        assert!(matches!(err, PasskeyError::Rejected(_)), "{err}");
    }
}

#[cfg(test)]
#[path = "ceremony_replica_tests.rs"]
mod replica_tests;
