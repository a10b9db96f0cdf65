//! The enrolled passkeys: per approver a stable WebAuthn user handle and the public
//! credentials (no secret ever leaves the authenticator). Signature counters are written
//! back after each use, so a cloned authenticator shows up.
//!
//! Where they live is a [`PasskeyStore`]: `<home>/passkeys.json` (0600, [`FilePasskeys`],
//! the embedded backend) or the state database (`super::db_store::DbPasskeys`).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use toolhost_base::{read_optional, write_private};
use toolhost_state::StateError;
use webauthn_rs::prelude::{AuthenticationResult, Passkey, Uuid};

/// The file's name in the home directory.
pub const PASSKEYS_FILE: &str = "passkeys.json";

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("cannot read or write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a valid passkeys file ({reason}): restore it, or move it away and enrol again", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("the passkeys of approver `{approver}` in {location} are damaged ({reason}): delete their row in `ui_passkeys` and enrol again")]
    DamagedRow {
        approver: String,
        location: String,
        reason: String,
    },
    #[error(transparent)]
    Store(#[from] StateError),
}

/// Where the enrolled passkeys of one tenant live.
#[async_trait]
pub trait PasskeyStore: Send + Sync {
    /// `approver`'s passkeys (none enrolled: an empty list and a fresh user handle).
    async fn of(&self, approver: &str) -> Result<ApproverPasskeys, CredentialsError>;

    /// Adds `passkey` for `approver`, under `user_id` (the handle it was registered with,
    /// unless the approver has one already); returns how many they have now.
    async fn add(
        &self,
        approver: &str,
        user_id: Uuid,
        passkey: Passkey,
    ) -> Result<usize, CredentialsError>;

    /// Records a successful use: the new signature counter (and backup state).
    async fn record_use(
        &self,
        approver: &str,
        result: &AuthenticationResult,
    ) -> Result<(), CredentialsError>;
}

/// A fresh approver: no passkeys, a random handle.
pub fn unenrolled() -> ApproverPasskeys {
    ApproverPasskeys {
        user_id: Uuid::new_v4(),
        passkeys: Vec::new(),
    }
}

/// Appends `passkey` (now) to `entry`; returns the new count.
pub fn push(entry: &mut ApproverPasskeys, passkey: Passkey) -> usize {
    entry.passkeys.push(EnrolledPasskey {
        passkey,
        added_at: chrono::Utc::now(),
    });
    entry.passkeys.len()
}

/// Writes `result`'s counter (and backup state) to the matching credential of `entry`.
pub fn note_use(entry: &mut ApproverPasskeys, result: &AuthenticationResult) {
    for enrolled in &mut entry.passkeys {
        enrolled.passkey.update_credential(result);
    }
}

/// One approver's passkeys.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApproverPasskeys {
    /// The WebAuthn user handle: random, so it reveals nothing about the name.
    pub user_id: Uuid,
    pub passkeys: Vec<EnrolledPasskey>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnrolledPasskey {
    pub passkey: Passkey,
    pub added_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct File {
    #[serde(default)]
    pub(super) approvers: BTreeMap<String, ApproverPasskeys>,
}

/// The passkeys file; changes are read-modify-write under one lock per process.
#[derive(Debug)]
pub struct FilePasskeys {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FilePasskeys {
    pub fn new(home: &Path) -> FilePasskeys {
        FilePasskeys {
            path: home.join(PASSKEYS_FILE),
            lock: Mutex::new(()),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The whole file (none: empty).
    pub(super) fn read(&self) -> Result<File, CredentialsError> {
        let text = read_optional(&self.path).map_err(|source| CredentialsError::Io {
            path: self.path.clone(),
            source,
        })?;
        match text {
            None => Ok(File::default()),
            Some(text) => serde_json::from_str(&text).map_err(|e| CredentialsError::Corrupt {
                path: self.path.clone(),
                reason: e.to_string(),
            }),
        }
    }

    fn write(&self, file: &File) -> Result<(), CredentialsError> {
        let mut bytes = serde_json::to_vec_pretty(file).map_err(|e| CredentialsError::Corrupt {
            path: self.path.clone(),
            reason: e.to_string(),
        })?;
        bytes.push(b'\n');
        write_private(&self.path, &bytes).map_err(|source| CredentialsError::Io {
            path: self.path.clone(),
            source,
        })
    }

    fn change<T>(&self, f: impl FnOnce(&mut File) -> T) -> Result<T, CredentialsError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut file = self.read()?;
        let out = f(&mut file);
        self.write(&file)?;
        Ok(out)
    }
}

#[async_trait]
impl PasskeyStore for FilePasskeys {
    async fn of(&self, approver: &str) -> Result<ApproverPasskeys, CredentialsError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        Ok(self
            .read()?
            .approvers
            .get(approver)
            .cloned()
            .unwrap_or_else(unenrolled))
    }

    async fn add(
        &self,
        approver: &str,
        user_id: Uuid,
        passkey: Passkey,
    ) -> Result<usize, CredentialsError> {
        self.change(|file| {
            let entry = file
                .approvers
                .entry(approver.to_string())
                .or_insert_with(|| ApproverPasskeys {
                    user_id,
                    passkeys: Vec::new(),
                });
            push(entry, passkey)
        })
    }

    async fn record_use(
        &self,
        approver: &str,
        result: &AuthenticationResult,
    ) -> Result<(), CredentialsError> {
        self.change(|file| {
            if let Some(entry) = file.approvers.get_mut(approver) {
                note_use(entry, result);
            }
        })
    }
}
