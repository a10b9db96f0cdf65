//! Client secrets at rest: sealed with AES-256-GCM under a key the operator provides
//! (`TOOLHOST_STATE_KEY`, or a file named by `TOOLHOST_STATE_KEY_FILE`), so the database
//! never holds a secret in clear and a copy of it is useless without the key.
//!
//! A sealed value is `version (1 byte) || nonce (12 random bytes) || ciphertext || tag`. The
//! associated data is the version byte and the row's label (for example
//! `tenant/default/client-secret`): a sealed value copied into another tenant's row does not
//! open there.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use std::fmt;
use std::path::{Path, PathBuf};
use toolhost_base::SecretString;

/// The key itself, base64 of 32 bytes.
pub const STATE_KEY_ENV: &str = "TOOLHOST_STATE_KEY";
/// A file holding the key's base64 (a mounted Kubernetes Secret).
pub const STATE_KEY_FILE_ENV: &str = "TOOLHOST_STATE_KEY_FILE";

/// How to make a key, in every error that asks for one.
const MAKE_A_KEY: &str = "make one with `openssl rand -base64 32`";
/// The format of what [`SealingKey::seal`] writes; a later format gets a new byte.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const KEY_LEN: usize = 32;

/// Why no sealing key could be loaded. Never carries the key or any part of it.
#[derive(Debug, thiserror::Error)]
pub enum SealingKeyError {
    /// Neither variable is set.
    #[error(
        "no sealing key for client secrets at rest: set {STATE_KEY_ENV} to the base64 of 32 random bytes, or {STATE_KEY_FILE_ENV} to a file holding it ({MAKE_A_KEY}); the host does not store secrets in clear"
    )]
    Missing,
    /// Both variables are set.
    #[error(
        "both {STATE_KEY_ENV} and {STATE_KEY_FILE_ENV} are set: keep one, so it is clear which key seals the secrets"
    )]
    Both,
    /// The value is not base64.
    #[error(
        "{origin} is not valid base64: the sealing key is the base64 of 32 bytes ({MAKE_A_KEY})"
    )]
    NotBase64 {
        /// Where the value came from: the variable, and the file if any.
        origin: String,
    },
    /// The value decodes to the wrong number of bytes.
    #[error("{origin} decodes to {len} bytes; the sealing key is exactly 32 bytes ({MAKE_A_KEY})")]
    WrongLength {
        /// Where the value came from: the variable, and the file if any.
        origin: String,
        /// How many bytes it decoded to.
        len: usize,
    },
    /// The key file cannot be read.
    #[error("cannot read the sealing key file {path} ({STATE_KEY_FILE_ENV}): {source}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The key file can be read by other users.
    #[error(
        "the sealing key file {path} ({STATE_KEY_FILE_ENV}) has mode {mode:o} and can be read by other users: run `chmod 600 {path}` (a group may read it only when root owns the file, as with a Kubernetes Secret mounted with fsGroup)"
    )]
    TooOpen {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
}

/// Why sealing failed: the system's random source did not answer.
#[derive(Debug, thiserror::Error)]
#[error("cannot seal {associated}: the system's random number source failed ({cause})")]
pub struct SealError {
    associated: String,
    cause: String,
}

/// Why a sealed value did not open. Never carries the value, sealed or open.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Too short or of a format this host does not know.
    #[error(
        "the sealed value of {associated} is malformed ({why}); it was not written by this host"
    )]
    Malformed {
        /// The row's label.
        associated: String,
        /// What is wrong with its shape.
        why: &'static str,
    },
    /// Authentication failed: another key, another row, or altered bytes.
    #[error(
        "the sealed value of {associated} does not open: it was sealed with another key ({STATE_KEY_ENV}), for another row, or altered"
    )]
    Refused {
        /// The row's label.
        associated: String,
    },
    /// It opened, but a secret was expected and it is not UTF-8.
    #[error("the sealed value of {associated} opened but is not text")]
    NotText {
        /// The row's label.
        associated: String,
    },
}

/// The operator's key for sealing secrets at rest. Debug prints no part of it.
#[derive(Clone)]
pub struct SealingKey {
    // Shared: the key schedule is large, and every store of every tenant holds a copy.
    cipher: std::sync::Arc<Aes256Gcm>,
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealingKey([redacted])")
    }
}

impl SealingKey {
    /// The key from `TOOLHOST_STATE_KEY` or the file `TOOLHOST_STATE_KEY_FILE` names; exactly
    /// one must be set (an empty variable counts as unset).
    pub fn from_env() -> Result<SealingKey, SealingKeyError> {
        let value = std::env::var(STATE_KEY_ENV).ok().filter(|v| !v.is_empty());
        let file = std::env::var_os(STATE_KEY_FILE_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        SealingKey::from_sources(value, file.as_deref())
    }

    /// The key from a value (as `TOOLHOST_STATE_KEY` holds it) or a file; exactly one.
    pub fn from_sources(
        value: Option<String>,
        file: Option<&Path>,
    ) -> Result<SealingKey, SealingKeyError> {
        match (value, file) {
            (Some(_), Some(_)) => Err(SealingKeyError::Both),
            (None, None) => Err(SealingKeyError::Missing),
            (Some(value), None) => SealingKey::from_base64(&value, STATE_KEY_ENV.to_string()),
            (None, Some(path)) => {
                check_file_is_private(path)?;
                let text = std::fs::read_to_string(path).map_err(|source| {
                    SealingKeyError::Unreadable {
                        path: path.to_path_buf(),
                        source,
                    }
                })?;
                let origin = format!("{STATE_KEY_FILE_ENV} ({})", path.display());
                SealingKey::from_base64(&text, origin)
            }
        }
    }

    /// The key from its base64 (surrounding whitespace, such as a file's trailing line
    /// break, is ignored). `origin` names where it came from, for the error.
    fn from_base64(text: &str, origin: String) -> Result<SealingKey, SealingKeyError> {
        // The decoder's own error quotes the offending byte: a piece of the key. Not used.
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| SealingKeyError::NotBase64 {
                origin: origin.clone(),
            })?;
        let key: [u8; KEY_LEN] =
            bytes
                .as_slice()
                .try_into()
                .map_err(|_| SealingKeyError::WrongLength {
                    origin,
                    len: bytes.len(),
                })?;
        Ok(SealingKey::from_bytes(key))
    }

    /// The key from its 32 bytes.
    pub fn from_bytes(key: [u8; KEY_LEN]) -> SealingKey {
        SealingKey {
            cipher: std::sync::Arc::new(Aes256Gcm::new(&Key::<Aes256Gcm>::from(key))),
        }
    }

    /// `plaintext` sealed for the row labelled `associated`; it opens only with this key and
    /// the same label.
    pub fn seal(&self, plaintext: &[u8], associated: &str) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| SealError {
            associated: associated.to_string(),
            cause: e.to_string(),
        })?;
        let aad = associated_data(associated);
        let ciphertext = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            // Only a plaintext over 64 GiB fails here; secrets are a few bytes.
            .map_err(|_| SealError {
                associated: associated.to_string(),
                cause: "the value is too long to seal".to_string(),
            })?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// A secret sealed for the row labelled `associated`.
    pub fn seal_secret(
        &self,
        secret: &SecretString,
        associated: &str,
    ) -> Result<Vec<u8>, SealError> {
        self.seal(secret.expose().as_bytes(), associated)
    }

    /// What [`SealingKey::seal`] sealed for the same `associated` label.
    pub fn open(&self, sealed: &[u8], associated: &str) -> Result<Vec<u8>, OpenError> {
        let malformed = |why| OpenError::Malformed {
            associated: associated.to_string(),
            why,
        };
        let (&version, rest) = sealed.split_first().ok_or_else(|| malformed("empty"))?;
        if version != VERSION {
            return Err(malformed("unknown format version"));
        }
        if rest.len() < NONCE_LEN + TAG_LEN {
            return Err(malformed("too short"));
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| malformed("too short"))?;
        let aad = associated_data(associated);
        self.cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| OpenError::Refused {
                associated: associated.to_string(),
            })
    }

    /// A secret [`SealingKey::seal_secret`] sealed for the same `associated` label.
    pub fn open_secret(&self, sealed: &[u8], associated: &str) -> Result<SecretString, OpenError> {
        let bytes = self.open(sealed, associated)?;
        String::from_utf8(bytes)
            .map(SecretString::new)
            .map_err(|_| OpenError::NotText {
                associated: associated.to_string(),
            })
    }
}

/// The version byte and the row's label: both authenticated, neither stored in the value.
fn associated_data(associated: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(1 + associated.len());
    aad.push(VERSION);
    aad.extend_from_slice(associated.as_bytes());
    aad
}

/// A key file others can read is refused. A group may read it only when root owns the file:
/// what the kubelet makes of a Secret mounted for a non-root pod with `fsGroup` (the rule
/// PostgreSQL applies to its own key files).
#[cfg(unix)]
fn check_file_is_private(path: &Path) -> Result<(), SealingKeyError> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).map_err(|source| SealingKeyError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    let mode = meta.mode() & 0o777;
    let others = mode & 0o007 != 0;
    let group = mode & 0o070 != 0 && meta.uid() != 0;
    if others || group {
        return Err(SealingKeyError::TooOpen {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_file_is_private(_path: &Path) -> Result<(), SealingKeyError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_B64: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const LABEL: &str = "tenant/default/client-secret";

    fn key() -> SealingKey {
        SealingKey::from_sources(Some(KEY_B64.to_string()), None).unwrap()
    }

    fn other_key() -> SealingKey {
        SealingKey::from_bytes([7u8; 32])
    }

    #[test]
    fn a_sealed_value_opens_with_the_same_key_and_row() {
        let key = key();
        let sealed = key.seal(b"s3cr3t-client-value", LABEL).unwrap();
        assert_eq!(sealed[0], VERSION);
        assert_eq!(sealed.len(), 1 + NONCE_LEN + 19 + TAG_LEN);
        assert!(!sealed
            .windows(b"s3cr3t".len())
            .any(|w| w == b"s3cr3t".as_slice()));
        assert_eq!(key.open(&sealed, LABEL).unwrap(), b"s3cr3t-client-value");
        let secret = SecretString::new("another-secret");
        let sealed = key.seal_secret(&secret, LABEL).unwrap();
        assert_eq!(key.open_secret(&sealed, LABEL).unwrap(), secret);
    }

    #[test]
    fn each_seal_uses_a_fresh_nonce() {
        let key = key();
        let a = key.seal(b"same", LABEL).unwrap();
        let b = key.seal(b"same", LABEL).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn another_key_does_not_open_it() {
        let sealed = key().seal(b"s3cr3t", LABEL).unwrap();
        let err = other_key().open(&sealed, LABEL).unwrap_err();
        assert!(matches!(err, OpenError::Refused { .. }), "{err}");
        assert!(err.to_string().contains("another key"), "{err}");
    }

    #[test]
    fn a_value_moved_to_another_row_does_not_open() {
        let key = key();
        let sealed = key.seal(b"s3cr3t", "tenant/acme/client-secret").unwrap();
        let err = key
            .open(&sealed, "tenant/globex/client-secret")
            .unwrap_err();
        assert!(matches!(err, OpenError::Refused { .. }), "{err}");
        assert!(
            err.to_string().contains("tenant/globex/client-secret"),
            "{err}"
        );
    }

    #[test]
    fn any_altered_byte_is_refused() {
        let key = key();
        let sealed = key.seal(b"s3cr3t", LABEL).unwrap();
        for at in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[at] ^= 0x01;
            assert!(key.open(&tampered, LABEL).is_err(), "byte {at} altered");
        }
        assert!(matches!(
            key.open(&sealed[..sealed.len() - 1], LABEL),
            Err(OpenError::Refused { .. })
        ));
        assert!(matches!(
            key.open(&sealed[..10], LABEL),
            Err(OpenError::Malformed { .. })
        ));
        assert!(matches!(
            key.open(&[], LABEL),
            Err(OpenError::Malformed { .. })
        ));
    }

    #[test]
    fn bad_keys_are_refused_naming_the_variable_and_how_to_make_one() {
        let not_base64 = SealingKey::from_sources(Some("not base64 at all!".into()), None)
            .unwrap_err()
            .to_string();
        assert!(not_base64.contains(STATE_KEY_ENV), "{not_base64}");
        assert!(
            not_base64.contains("openssl rand -base64 32"),
            "{not_base64}"
        );
        assert!(!not_base64.contains("not base64 at all"), "{not_base64}");

        // 16 bytes: an AES-128 key is not accepted.
        let short = SealingKey::from_sources(Some("AAECAwQFBgcICQoLDA0ODw==".into()), None)
            .unwrap_err()
            .to_string();
        assert!(short.contains(STATE_KEY_ENV), "{short}");
        assert!(short.contains("16 bytes"), "{short}");
        assert!(short.contains("openssl rand -base64 32"), "{short}");

        let missing = SealingKey::from_sources(None, None)
            .unwrap_err()
            .to_string();
        assert!(missing.contains(STATE_KEY_ENV), "{missing}");
        assert!(missing.contains(STATE_KEY_FILE_ENV), "{missing}");
        assert!(missing.contains("openssl rand -base64 32"), "{missing}");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state-key");
        std::fs::write(&path, KEY_B64).unwrap();
        let both = SealingKey::from_sources(Some(KEY_B64.into()), Some(&path)).unwrap_err();
        assert!(matches!(both, SealingKeyError::Both));
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_with_a_trailing_newline_loads_and_an_open_one_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state-key");
        std::fs::write(&path, format!("{KEY_B64}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let from_file = SealingKey::from_sources(None, Some(&path)).unwrap();
        let sealed = key().seal(b"s3cr3t", LABEL).unwrap();
        assert_eq!(from_file.open(&sealed, LABEL).unwrap(), b"s3cr3t");

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let open = SealingKey::from_sources(None, Some(&path))
            .unwrap_err()
            .to_string();
        assert!(open.contains("chmod 600"), "{open}");
        assert!(open.contains(STATE_KEY_FILE_ENV), "{open}");
        assert!(!open.contains(KEY_B64), "{open}");

        // Group-readable: only as a root-owned file (a Secret mounted with fsGroup).
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let group_readable = SealingKey::from_sources(None, Some(&path));
        let root_owned =
            std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&path).unwrap()) == 0;
        assert_eq!(group_readable.is_ok(), root_owned);

        std::fs::write(&path, "AAAA\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let short = SealingKey::from_sources(None, Some(&path))
            .unwrap_err()
            .to_string();
        assert!(short.contains(STATE_KEY_FILE_ENV), "{short}");
        assert!(short.contains(&path.display().to_string()), "{short}");

        let missing = dir.path().join("absent");
        let unreadable = SealingKey::from_sources(None, Some(&missing))
            .unwrap_err()
            .to_string();
        assert!(unreadable.contains(STATE_KEY_FILE_ENV), "{unreadable}");
    }

    #[test]
    fn debug_never_shows_the_key() {
        let shown = format!("{:?} {:#?}", key(), key());
        assert!(shown.contains("redacted"), "{shown}");
        assert!(!shown.contains(KEY_B64), "{shown}");
        assert!(!shown.contains("AAECAwQF"), "{shown}");
        // Not the raw bytes either, in any of Debug's spellings.
        assert!(!shown.contains("0, 1, 2, 3"), "{shown}");
        assert!(!shown.contains("[0, 1"), "{shown}");
    }
}
