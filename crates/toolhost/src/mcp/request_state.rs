//! The `requestState` of a 2026-07-28 approval round: which pending approval a retried
//! `tools/call` is about, signed by the host (HMAC-SHA256, rmcp's `RequestStateCodec`) and
//! bound to the tool, a digest of the arguments and the client, so that the agent can neither
//! forge one, point one at another approval, nor reuse one for other arguments or as another
//! client. It is single-use once it has delivered its call's outcome: a replay is refused.
//!
//! The key and the marks of used states are per tenant and shared by its replicas: in the
//! home (`<home>/mcp-request-state.key`, 0600, and `<home>/mcp-redeemed/`) on one machine, in
//! the database when replicas share PostgreSQL. So a restarted server or another replica
//! verifies what one signed, and an outcome is delivered once across all of them.

use rmcp::model::{RequestStateCodec, RequestStateError, SealOptions};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toolhost_host::{StateBackend, ToolHost};
use toolhost_state::{McpStateError, PgRequestStates};

/// The key file in the home directory.
pub const KEY_FILE: &str = "mcp-request-state.key";
/// Where redeemed states are marked (one empty file per approval id).
const REDEEMED_DIR: &str = "mcp-redeemed";
/// Bytes of key material (HMAC-SHA256 wants at least 32).
const KEY_BYTES: usize = 48;

/// Why a `requestState` was refused, or the key could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Forged, altered, expired, or sealed for another tool, arguments or client. One error
    /// for all of these: the agent learns nothing about which check failed.
    #[error("requestState was not issued by this server for this call (altered, expired, or for another tool, arguments or client); call the tool again without it")]
    Invalid,
    /// Its outcome was already delivered once.
    #[error("requestState for approval {0} was already used: its outcome is delivered once. Call the tool again for a new approval")]
    Replayed(String),
    /// The key file or the redeemed marks cannot be read or written.
    #[error("the request-state key or its records in {path} cannot be used: {source}. Check the home directory's permissions")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The key file holds too little key material.
    #[error("the request-state key {0} is damaged: delete it (pending 2026-07-28 approval rounds then restart) and start the server again")]
    BadKey(PathBuf),
    /// The shared key or marks in the database cannot be used.
    #[error(transparent)]
    Shared(#[from] McpStateError),
}

/// What a state is bound to besides the approval: the call as retried.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    /// The host's tool name.
    pub tool: &'a str,
    /// The arguments as sent (JSON text).
    pub arguments: &'a str,
    /// Who calls (the audit caller).
    pub client: &'a str,
}

impl Binding<'_> {
    /// The associated data of the seal: not stored in the token, so a mismatch is simply an
    /// integrity failure.
    fn associated_data(&self) -> Vec<u8> {
        let arguments = hex::encode(Sha256::digest(
            canonical_arguments(self.arguments).as_bytes(),
        ));
        format!(
            "toolhost/mcp/approval-round/v1\n{}\n{arguments}\n{}",
            self.tool, self.client
        )
        .into_bytes()
    }
}

/// The arguments' JSON re-serialized (object keys sorted by serde_json's map), so that the
/// same call with its keys in another order or other spacing still matches.
fn canonical_arguments(arguments: &str) -> String {
    serde_json::from_str::<serde_json::Value>(arguments)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| arguments.to_string())
}

/// The sealed payload: readable by anyone (signed, not encrypted), so it holds no secret.
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    approval: String,
    /// `form`: the answer may come back as an elicitation response; `url`: only an operator
    /// approves, whatever the client sends.
    elicit: bool,
}

/// What an opened state says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The pending approval.
    pub approval: String,
    /// Whether the round asked by form elicitation (the client may approve by answering).
    pub elicit: bool,
}

/// Where the marks of used states are kept.
enum Redeemed {
    /// One empty file per approval id in this directory of the home.
    Home(PathBuf),
    /// A row per approval id in the shared database.
    Shared(PgRequestStates),
}

/// Seals and opens approval-round states for one tenant.
pub struct ApprovalStates {
    codec: RequestStateCodec,
    redeemed: Redeemed,
    ttl: Duration,
}

impl ApprovalStates {
    /// The home's key (created on first use); states expire after `ttl` (the approvals' TTL).
    pub fn open(home: &Path, ttl: Duration) -> Result<ApprovalStates, StateError> {
        let path = home.join(KEY_FILE);
        let key = load_or_create_key(&path)?;
        let codec = RequestStateCodec::try_new(key).map_err(|_| StateError::BadKey(path))?;
        Ok(ApprovalStates {
            codec,
            redeemed: Redeemed::Home(home.join(REDEEMED_DIR)),
            ttl,
        })
    }

    /// The tenant's key and marks in the database, shared with every replica of the tenant
    /// (the key is created by the first replica that asks).
    pub async fn shared(
        records: PgRequestStates,
        ttl: Duration,
    ) -> Result<ApprovalStates, StateError> {
        let key = records.key().await?;
        let codec = RequestStateCodec::try_new(key)
            .map_err(|_| McpStateError::BadKey(records.tenant().to_string()))?;
        Ok(ApprovalStates {
            codec,
            redeemed: Redeemed::Shared(records),
            ttl,
        })
    }

    /// The states of `host`'s tenant, wherever its state is kept: its home, or the database
    /// its replicas share.
    pub async fn for_host(host: &ToolHost) -> Result<ApprovalStates, StateError> {
        let ttl = host.config().approval_ttl;
        match &host.config().state {
            StateBackend::Embedded => ApprovalStates::open(host.home(), ttl),
            StateBackend::Postgres { db, tenant, key } => {
                // The signing key is a secret: in the database only sealed with the
                // operator's key, never in clear.
                let records =
                    PgRequestStates::new(db.clone(), tenant.clone()).sealed_with(key.clone());
                ApprovalStates::shared(records, ttl).await
            }
        }
    }

    /// The `requestState` for `approval`, bound to `binding`.
    pub fn seal(&self, approval: &str, elicit: bool, binding: Binding<'_>) -> String {
        let payload = Payload {
            approval: approval.to_string(),
            elicit,
        };
        let bytes = serde_json::to_vec(&payload).unwrap_or_default();
        let aad = binding.associated_data();
        self.codec.seal_with(
            &bytes,
            &SealOptions::new().associated_data(&aad).ttl(self.ttl),
        )
    }

    /// Verifies `state` against the call as retried.
    pub fn open_state(&self, state: &str, binding: Binding<'_>) -> Result<Opened, StateError> {
        let aad = binding.associated_data();
        let payload: Payload = self.codec.open_json_with(state, &aad).map_err(|err| {
            // The detail is for the operator's log; the client gets the one error.
            log_refusal(&err);
            StateError::Invalid
        })?;
        if !is_approval_id(&payload.approval) {
            return Err(StateError::Invalid);
        }
        Ok(Opened {
            approval: payload.approval,
            elicit: payload.elicit,
        })
    }

    /// Marks the state of `approval` as used; `Err(Replayed)` when it already was (in this
    /// process, another one on the same home, or another replica on the same database).
    pub async fn redeem(&self, approval: &str) -> Result<(), StateError> {
        if !is_approval_id(approval) {
            return Err(StateError::Invalid);
        }
        let first = match &self.redeemed {
            Redeemed::Home(dir) => redeem_in(dir, approval)?,
            Redeemed::Shared(records) => records.redeem(approval).await?,
        };
        if first {
            Ok(())
        } else {
            Err(StateError::Replayed(approval.to_string()))
        }
    }
}

/// Marks `approval` in `dir` with a file only one creator can make: `true` for the first.
fn redeem_in(dir: &Path, approval: &str) -> Result<bool, StateError> {
    let io = |source| StateError::Io {
        path: dir.to_path_buf(),
        source,
    };
    toolhost_base::create_private_dir(dir).map_err(io)?;
    match toolhost_base::create_new_private(&dir.join(approval)) {
        Ok(_) => Ok(true),
        Err(err) if err.kind() == ErrorKind::AlreadyExists => Ok(false),
        Err(err) => Err(io(err)),
    }
}

fn log_refusal(err: &RequestStateError) {
    tracing::warn!("refused a requestState: {err}");
}

/// Approval ids are UUIDs; anything else never names a file.
fn is_approval_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

fn load_or_create_key(path: &Path) -> Result<Vec<u8>, StateError> {
    let io = |source| StateError::Io {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::read(path) {
        Ok(key) if key.len() >= RequestStateCodec::MIN_KEY_LENGTH => return Ok(key),
        Ok(_) => return Err(StateError::BadKey(path.to_path_buf())),
        Err(err) if err.kind() == ErrorKind::NotFound => {}
        Err(err) => return Err(io(err)),
    }
    let key = fresh_key();
    // Written whole under a private temporary name, then linked into place: the link fails
    // if another server got there first, and nobody ever reads a half-written key.
    let tmp = path.with_file_name(format!(".{KEY_FILE}.{}", uuid::Uuid::new_v4()));
    toolhost_base::write_private(&tmp, &key).map_err(io)?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(key),
        Err(err) if err.kind() == ErrorKind::AlreadyExists => {
            let key = std::fs::read(path).map_err(io)?;
            if key.len() < RequestStateCodec::MIN_KEY_LENGTH {
                return Err(StateError::BadKey(path.to_path_buf()));
            }
            Ok(key)
        }
        Err(err) => Err(io(err)),
    }
}

/// Key material from the operating system's CSPRNG (uuid's v4 draws on it: 122 random bits
/// per id, so three ids carry 366).
fn fresh_key() -> Vec<u8> {
    let mut key = Vec::with_capacity(KEY_BYTES);
    while key.len() < KEY_BYTES {
        key.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    key.truncate(KEY_BYTES);
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use toolhost_state::testing::fresh_database;

    const ID: &str = "0b7c6a3e-8f1d-4c2b-9a55-2f6f0f1e9d10";

    fn binding(arguments: &str) -> Binding<'_> {
        Binding {
            tool: "connectwise_rmm:cw-rmm-run-task",
            arguments,
            client: "mcp:agent",
        }
    }

    fn states(home: &Path) -> ApprovalStates {
        ApprovalStates::open(home, Duration::from_secs(600)).unwrap()
    }

    #[test]
    fn a_state_opens_for_the_same_call_only() {
        let home = tempfile::tempdir().unwrap();
        let s = states(home.path());
        let state = s.seal(ID, false, binding(r#"{"a":1,"b":2}"#));
        let opened = s
            .open_state(&state, binding(r#"{ "b": 2, "a": 1 }"#))
            .unwrap();
        assert_eq!(opened.approval, ID);
        assert!(!opened.elicit);
        assert!(matches!(
            s.open_state(&state, binding(r#"{"a":1,"b":3}"#)),
            Err(StateError::Invalid)
        ));
        let other_client = Binding {
            client: "mcp:other",
            ..binding(r#"{"a":1,"b":2}"#)
        };
        assert!(matches!(
            s.open_state(&state, other_client),
            Err(StateError::Invalid)
        ));
    }

    #[test]
    fn a_tampered_state_is_refused() {
        let home = tempfile::tempdir().unwrap();
        let s = states(home.path());
        let state = s.seal(ID, false, binding("{}"));
        // Flip one character of the body (between the version prefix and the tag).
        let mut bytes = state.clone().into_bytes();
        let i = bytes.len() / 2;
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert_ne!(tampered, state);
        assert!(matches!(
            s.open_state(&tampered, binding("{}")),
            Err(StateError::Invalid)
        ));
        assert!(matches!(
            s.open_state("not-a-state", binding("{}")),
            Err(StateError::Invalid)
        ));
    }

    #[test]
    fn the_key_is_per_home_private_and_survives_a_restart() {
        let home = tempfile::tempdir().unwrap();
        let state = states(home.path()).seal(ID, true, binding("{}"));
        let reopened = states(home.path());
        assert_eq!(
            reopened.open_state(&state, binding("{}")).unwrap().approval,
            ID
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(home.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let elsewhere = tempfile::tempdir().unwrap();
        assert!(states(elsewhere.path())
            .open_state(&state, binding("{}"))
            .is_err());
    }

    #[tokio::test]
    async fn replicas_on_one_database_open_each_others_states_and_redeem_once() {
        let Some(db) = fresh_database().await else {
            return;
        };
        let sealing = toolhost_state::SealingKey::from_bytes([3; 32]);
        let replica = |tenant: &str| {
            let records = PgRequestStates::new(db.clone(), tenant).sealed_with(sealing.clone());
            ApprovalStates::shared(records, Duration::from_secs(600))
        };
        let (one, two) = (
            replica("acme").await.unwrap(),
            replica("acme").await.unwrap(),
        );
        let state = one.seal(ID, true, binding("{}"));
        let opened = two.open_state(&state, binding("{}")).unwrap();
        assert_eq!((opened.approval.as_str(), opened.elicit), (ID, true));
        two.redeem(ID).await.unwrap();
        assert!(matches!(one.redeem(ID).await, Err(StateError::Replayed(_))));
        // Another tenant's replica has another key.
        let globex = replica("globex").await.unwrap();
        assert!(matches!(
            globex.open_state(&state, binding("{}")),
            Err(StateError::Invalid)
        ));
    }

    #[tokio::test]
    async fn a_state_is_redeemed_once() {
        let home = tempfile::tempdir().unwrap();
        let s = states(home.path());
        s.redeem(ID).await.unwrap();
        assert!(matches!(s.redeem(ID).await, Err(StateError::Replayed(_))));
        assert!(matches!(s.redeem("../x").await, Err(StateError::Invalid)));
        // Another server on the same home sees the mark.
        assert!(matches!(
            states(home.path()).redeem(ID).await,
            Err(StateError::Replayed(_))
        ));
    }
}
