//! The access token every process of one home shares (`toolhost call`, `mcp`, `ui`).
//!
//! The Asio API locks a key that mints more than a handful of tokens in seconds, so a token
//! must outlive the process that minted it. `<home>/token.json` (0600, replaced atomically)
//! holds one record per connection; `<home>/token.lock` is an OS file lock that makes a
//! refresh single-flight across processes: the holder reads the record, mints only if the
//! record has no usable token, writes it back, and lets go. A process that dies holding the
//! lock loses it with its file descriptors.
//!
//! A record is bound to its connection ([`TokenBinding`]: token endpoint, where it is really
//! sent, client id, scopes and a hash of the secret), so a changed connection never picks
//! up another's token or lock-out. Times are wall-clock (Unix milliseconds) because
//! monotonic clocks do not cross processes.

use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use toolhost_base::{create_private_dir, write_private, SecretString};

/// The token file's name in the home directory.
pub const TOKEN_FILE: &str = "token.json";
/// The lock file's name in the home directory.
pub const TOKEN_LOCK_FILE: &str = "token.lock";
const FORMAT_VERSION: u32 = 1;
const LONGEST_POLL: Duration = Duration::from_millis(50);

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
        let digest = Sha256::digest(secret.expose().as_bytes());
        TokenBinding {
            token_url: token_url.to_string(),
            sent_to: sent_to.to_string(),
            client_id: client_id.to_string(),
            scopes,
            secret_sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

/// What the processes of a home know about one connection's token.
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

    /// Whether the record still says anything at `now` (a usable token or a lock-out).
    fn is_live(&self, now: SystemTime) -> bool {
        self.usable(now).is_some() || self.locked_until.is_some_and(|until| now < until)
    }
}

/// Why the store could not be used.
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
    #[error("{} stayed locked for {} s", path.display(), waited.as_secs())]
    Busy {
        /// The lock file.
        path: PathBuf,
        /// How long the caller waited.
        waited: Duration,
    },
}

/// The token file and its lock in one home directory.
#[derive(Debug, Clone)]
pub struct TokenStore {
    file: PathBuf,
    lock: PathBuf,
}

impl TokenStore {
    /// The store of the home directory `home` (nothing is touched until it is locked).
    pub fn in_home(home: &Path) -> TokenStore {
        TokenStore {
            file: home.join(TOKEN_FILE),
            lock: home.join(TOKEN_LOCK_FILE),
        }
    }

    /// The token file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Takes the lock every process of the home takes before reading or writing the token,
    /// waiting at most `patience` for another holder (polled, so no thread blocks).
    // `File::try_lock`/`unlock` are std since Rust 1.89, newer than the workspace's declared
    // `rust-version` (1.88): that declaration has to move to 1.89 with this module.
    #[allow(clippy::incompatible_msrv)]
    pub(crate) async fn lock(&self, patience: Duration) -> Result<StoreGuard<'_>, StoreError> {
        let io = |source| StoreError::Io {
            path: self.lock.clone(),
            source,
        };
        if let Some(dir) = self.lock.parent() {
            create_private_dir(dir).map_err(io)?;
        }
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(&self.lock).map_err(io)?;
        let started = Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(StoreGuard { store: self, file }),
                Err(TryLockError::WouldBlock) if started.elapsed() < patience => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(LONGEST_POLL);
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(StoreError::Busy {
                        path: self.lock.clone(),
                        waited: started.elapsed(),
                    })
                }
                Err(TryLockError::Error(source)) => return Err(io(source)),
            }
        }
    }
}

/// The store's lock, held: read and write the record of a binding. Dropping it unlocks.
pub struct StoreGuard<'a> {
    store: &'a TokenStore,
    file: File,
}

impl StoreGuard<'_> {
    /// The record of `binding`; empty when there is none (or the file is unreadable
    /// garbage, which the next write replaces).
    pub fn read(&self, binding: &TokenBinding) -> SharedToken {
        self.entries()
            .into_iter()
            .find(|e| &e.binding == binding)
            .map(Entry::shared)
            .unwrap_or_default()
    }

    /// Replaces the record of `binding`, dropping every record that no longer says anything
    /// (so neither an old connection's token nor a failed connection's binding lingers on
    /// disk; with nothing left and no file yet, nothing is written).
    pub fn write(&self, binding: &TokenBinding, shared: &SharedToken) -> Result<(), StoreError> {
        let now = SystemTime::now();
        let mut entries: Vec<Entry> = self
            .entries()
            .into_iter()
            .filter(|e| &e.binding != binding && e.is_live(now))
            .collect();
        let entry = Entry::new(binding, shared);
        if entry.is_live(now) {
            entries.push(entry);
        }
        if entries.is_empty() && !self.store.file.exists() {
            return Ok(());
        }
        let file = TokenFile {
            version: FORMAT_VERSION,
            entries,
        };
        let io = |source| StoreError::Io {
            path: self.store.file.clone(),
            source,
        };
        let text = serde_json::to_vec_pretty(&file).map_err(|e| io(std::io::Error::other(e)))?;
        write_private(&self.store.file, &text).map_err(io)
    }

    fn entries(&self) -> Vec<Entry> {
        let bytes = match std::fs::read(&self.store.file) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
            Err(err) => {
                tracing::warn!(path = %self.store.file.display(), %err, "token file unreadable; a new token will be requested");
                return Vec::new();
            }
        };
        match serde_json::from_slice::<TokenFile>(&bytes) {
            Ok(file) if file.version == FORMAT_VERSION => file.entries,
            _ => {
                tracing::warn!(path = %self.store.file.display(), "token file not understood; it will be replaced");
                Vec::new()
            }
        }
    }
}

impl Drop for StoreGuard<'_> {
    #[allow(clippy::incompatible_msrv)] // see `TokenStore::lock`
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first makes it immediate.
        let _ = self.file.unlock();
    }
}

/// The on-disk form.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenFile {
    version: u32,
    entries: Vec<Entry>,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    binding: TokenBinding,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<EntryToken>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    locked_until_ms: Option<u64>,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntryToken {
    access_token: String,
    refresh_at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unproven_until_ms: Option<u64>,
}

impl Entry {
    fn new(binding: &TokenBinding, shared: &SharedToken) -> Entry {
        Entry {
            binding: binding.clone(),
            token: shared.token.as_ref().map(|t| EntryToken {
                access_token: t.value.expose().to_string(),
                refresh_at_ms: to_ms(t.refresh_at),
                unproven_until_ms: t.unproven_until.map(to_ms),
            }),
            locked_until_ms: shared.locked_until.map(to_ms),
        }
    }

    fn is_live(&self, now: SystemTime) -> bool {
        self.clone().shared().is_live(now)
    }

    fn shared(self) -> SharedToken {
        SharedToken {
            token: self.token.map(|t| StoredToken {
                value: SecretString::new(t.access_token),
                refresh_at: from_ms(t.refresh_at_ms),
                unproven_until: t.unproven_until_ms.map(from_ms),
            }),
            locked_until: self.locked_until_ms.map(from_ms),
        }
    }
}

fn to_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn from_ms(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
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

    fn token(value: &str, valid_for: Duration) -> SharedToken {
        SharedToken {
            token: Some(StoredToken {
                value: SecretString::new(value),
                refresh_at: SystemTime::now() + valid_for,
                unproven_until: None,
            }),
            locked_until: None,
        }
    }

    const HOUR: Duration = Duration::from_secs(3600);
    const WAIT: Duration = Duration::from_secs(5);

    #[tokio::test]
    async fn a_written_record_is_read_back_by_its_binding_only() {
        let home = tempfile::tempdir().unwrap();
        let store = TokenStore::in_home(home.path());
        let mine = binding("secret-1", &["b", "a"]);
        let guard = store.lock(WAIT).await.unwrap();
        assert!(guard.read(&mine).token.is_none());
        let mut shared = token("tok-1", HOUR);
        shared.token.as_mut().unwrap().unproven_until = Some(SystemTime::now() + WAIT);
        guard.write(&mine, &shared).unwrap();

        let read = guard.read(&binding("secret-1", &["a", "b", "a"]));
        let stored = read.usable(SystemTime::now()).expect("a usable token");
        assert_eq!(stored.value.expose(), "tok-1");
        assert!(stored.unproven_until.is_some());
        // Another secret, scope set, client or route is another connection.
        assert!(guard
            .read(&binding("secret-2", &["a", "b"]))
            .token
            .is_none());
        assert!(guard.read(&binding("secret-1", &["a"])).token.is_none());
        let other_route = TokenBinding::new(
            "https://api.example.com/v1/token",
            "http://127.0.0.1:10",
            "client",
            &["a".into(), "b".into()],
            &SecretString::new("secret-1"),
        );
        assert!(guard.read(&other_route).token.is_none());
        // The secret is never stored, only its hash.
        let text = std::fs::read_to_string(store.file()).unwrap();
        assert!(!text.contains("secret-1"), "{text}");
        assert!(text.contains(&format!("{:x}", Sha256::digest(b"secret-1"))));
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn both_files_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::tempdir().unwrap();
        let store = TokenStore::in_home(&home.path().join("new-home"));
        let guard = store.lock(WAIT).await.unwrap();
        guard.write(&binding("s", &[]), &token("t", HOUR)).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(store.file()), 0o600);
        assert_eq!(
            mode(&home.path().join("new-home").join(TOKEN_LOCK_FILE)),
            0o600
        );
        assert_eq!(mode(&home.path().join("new-home")), 0o700);
    }

    #[tokio::test]
    async fn the_lock_is_exclusive_until_dropped() {
        let home = tempfile::tempdir().unwrap();
        // Two stores over one home, as two processes would have: each opens its own file
        // description, and an OS lock on one excludes the other.
        let first = TokenStore::in_home(home.path());
        let second = TokenStore::in_home(home.path());
        let held = first.lock(WAIT).await.unwrap();
        let started = Instant::now();
        let busy = second.lock(Duration::from_millis(120)).await.err().unwrap();
        assert!(matches!(busy, StoreError::Busy { .. }), "{busy}");
        assert!(started.elapsed() >= Duration::from_millis(120));
        drop(held);
        let again = second.lock(WAIT).await.unwrap();
        // A waiter gets the lock as soon as the holder lets go.
        let waiter = tokio::spawn(async move {
            let store = TokenStore::in_home(first.file().parent().unwrap());
            let started = Instant::now();
            let _guard = store.lock(WAIT).await.unwrap();
            started.elapsed()
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(again);
        let waited = waiter.await.unwrap();
        assert!(waited >= Duration::from_millis(100), "{waited:?}");
        assert!(waited < Duration::from_secs(2), "{waited:?}");
    }

    #[tokio::test]
    async fn dead_records_of_other_connections_are_dropped_on_write() {
        let home = tempfile::tempdir().unwrap();
        let store = TokenStore::in_home(home.path());
        let guard = store.lock(WAIT).await.unwrap();
        let (old, locked, live, mine) = (
            binding("old", &[]),
            binding("locked", &[]),
            binding("live", &[]),
            binding("mine", &[]),
        );
        guard
            .write(&old, &token("expired", Duration::ZERO))
            .unwrap();
        let lock_out = SharedToken {
            token: None,
            locked_until: Some(SystemTime::now() + HOUR),
        };
        guard.write(&locked, &lock_out).unwrap();
        guard.write(&live, &token("live-token", HOUR)).unwrap();
        guard.write(&mine, &token("mine-token", HOUR)).unwrap();
        let text = std::fs::read_to_string(store.file()).unwrap();
        assert!(!text.contains("expired"), "{text}");
        assert!(guard.read(&locked).locked_until.is_some());
        assert!(guard.read(&live).token.is_some());
        assert!(guard.read(&mine).token.is_some());
    }

    #[tokio::test]
    async fn a_record_with_nothing_to_say_is_not_written() {
        let home = tempfile::tempdir().unwrap();
        let store = TokenStore::in_home(home.path());
        let guard = store.lock(WAIT).await.unwrap();
        // A connection whose first mint failed: no token, no lock-out, no file.
        guard
            .write(&binding("wrong", &[]), &SharedToken::default())
            .unwrap();
        assert!(!store.file().exists());
        // A token dropped after a 401 leaves the file, not a stale copy of itself.
        let mine = binding("mine", &[]);
        guard.write(&mine, &token("dead-token", HOUR)).unwrap();
        guard.write(&mine, &SharedToken::default()).unwrap();
        let text = std::fs::read_to_string(store.file()).unwrap();
        assert!(!text.contains("dead-token"), "{text}");
        assert!(guard.read(&mine).token.is_none());
    }

    #[tokio::test]
    async fn a_damaged_file_reads_as_empty_and_is_replaced() {
        let home = tempfile::tempdir().unwrap();
        let store = TokenStore::in_home(home.path());
        std::fs::write(store.file(), "{not json").unwrap();
        let guard = store.lock(WAIT).await.unwrap();
        let mine = binding("s", &[]);
        assert!(guard.read(&mine).token.is_none());
        guard.write(&mine, &token("fresh", HOUR)).unwrap();
        assert!(guard.read(&mine).token.is_some());
    }

    #[test]
    fn a_record_says_nothing_once_its_token_and_lock_have_passed() {
        let now = SystemTime::now();
        assert!(!SharedToken::default().is_live(now));
        assert!(token("t", HOUR).is_live(now));
        let expired = token("t", Duration::ZERO);
        assert!(!expired.is_live(SystemTime::now()));
        let lock_out = SharedToken {
            token: None,
            locked_until: Some(now + WAIT),
        };
        assert!(lock_out.is_live(now));
        assert!(!lock_out.is_live(now + WAIT));
    }
}
