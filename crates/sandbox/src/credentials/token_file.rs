//! The token store of one home directory, shared by its processes (`toolhost call`, `mcp`,
//! `ui`): `<home>/token.json` (0600, replaced atomically) holds one record per connection;
//! `<home>/token.lock` is an OS file lock over the whole file (every write replaces it), so a
//! refresh is single-flight across processes. A process that dies holding the lock loses it
//! with its file descriptors. Times are stored as Unix milliseconds.

use super::token_store::{
    SharedToken, StoreError, StoredToken, TokenBackend, TokenBinding, TokenLock, TokenStore,
};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use toolhost_base::{create_private_dir, write_private, SecretString};

/// The token file's name in the home directory.
pub const TOKEN_FILE: &str = "token.json";
/// The lock file's name in the home directory.
pub const TOKEN_LOCK_FILE: &str = "token.lock";
const FORMAT_VERSION: u32 = 1;
const LONGEST_POLL: Duration = Duration::from_millis(50);

impl TokenStore {
    /// The store of the home directory `home`: `<home>/token.json` (0600, replaced
    /// atomically) under the OS file lock `<home>/token.lock`, which a process that dies
    /// holding it loses with its file descriptors. Nothing is touched until it is locked.
    pub fn in_home(home: &Path) -> TokenStore {
        TokenStore::new(Arc::new(HomeTokenFile::new(home)))
    }
}

/// The token file and its lock in one home directory.
#[derive(Debug, Clone)]
struct HomeTokenFile {
    file: PathBuf,
    lock: PathBuf,
}

impl HomeTokenFile {
    /// The store of the home directory `home` (nothing is touched until it is locked).
    fn new(home: &Path) -> HomeTokenFile {
        HomeTokenFile {
            file: home.join(TOKEN_FILE),
            lock: home.join(TOKEN_LOCK_FILE),
        }
    }
}

#[async_trait::async_trait]
impl TokenBackend for HomeTokenFile {
    /// Takes the home's lock (one for every binding: a write replaces the whole file),
    /// polled so no thread blocks.
    // `File::try_lock`/`unlock` are std since Rust 1.89, the workspace's `rust-version`.
    async fn lock(
        &self,
        binding: &TokenBinding,
        patience: Duration,
    ) -> Result<Box<dyn TokenLock>, StoreError> {
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
                Ok(()) => {
                    return Ok(Box::new(HomeFileLock {
                        token_file: self.file.clone(),
                        binding: binding.clone(),
                        file,
                    }))
                }
                Err(TryLockError::WouldBlock) if started.elapsed() < patience => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(LONGEST_POLL);
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(StoreError::Busy {
                        lock: self.lock.display().to_string(),
                        waited: started.elapsed(),
                    })
                }
                Err(TryLockError::Error(source)) => return Err(io(source)),
            }
        }
    }

    fn describe(&self) -> String {
        self.file.display().to_string()
    }
}

/// The home's lock, held for one binding's record. Dropping it unlocks.
struct HomeFileLock {
    token_file: PathBuf,
    binding: TokenBinding,
    file: File,
}

#[async_trait::async_trait]
impl TokenLock for HomeFileLock {
    /// The record of the binding; empty when there is none (or the file is unreadable
    /// garbage, which the next write replaces).
    async fn read(&mut self) -> Result<SharedToken, StoreError> {
        Ok(self
            .entries()
            .into_iter()
            .find(|e| e.binding == self.binding)
            .map(Entry::shared)
            .unwrap_or_default())
    }

    /// Replaces the record of the binding, dropping every record that no longer says
    /// anything (so neither an old connection's token nor a failed connection's binding
    /// lingers on disk; with nothing left and no file yet, nothing is written).
    async fn write(&mut self, shared: &SharedToken) -> Result<(), StoreError> {
        let now = SystemTime::now();
        let mut entries: Vec<Entry> = self
            .entries()
            .into_iter()
            .filter(|e| e.binding != self.binding && e.is_live(now))
            .collect();
        let entry = Entry::new(&self.binding, shared);
        if entry.is_live(now) {
            entries.push(entry);
        }
        if entries.is_empty() && !self.token_file.exists() {
            return Ok(());
        }
        let file = TokenFile {
            version: FORMAT_VERSION,
            entries,
        };
        let io = |source| StoreError::Io {
            path: self.token_file.clone(),
            source,
        };
        let text = serde_json::to_vec_pretty(&file).map_err(|e| io(std::io::Error::other(e)))?;
        write_private(&self.token_file, &text).map_err(io)
    }
}

impl HomeFileLock {
    fn entries(&self) -> Vec<Entry> {
        let bytes = match std::fs::read(&self.token_file) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
            Err(err) => {
                tracing::warn!(path = %self.token_file.display(), %err, "token file unreadable; a new token will be requested");
                return Vec::new();
            }
        };
        match serde_json::from_slice::<TokenFile>(&bytes) {
            Ok(file) if file.version == FORMAT_VERSION => file.entries,
            _ => {
                tracing::warn!(path = %self.token_file.display(), "token file not understood; it will be replaced");
                Vec::new()
            }
        }
    }
}

impl Drop for HomeFileLock {
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
    use sha2::{Digest, Sha256};

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

    /// The record of `binding`, read under its lock.
    async fn read(store: &TokenStore, binding: &TokenBinding) -> SharedToken {
        let mut guard = store.lock(binding, WAIT).await.unwrap();
        guard.read().await.unwrap()
    }

    /// Writes the record of `binding` under its lock.
    async fn write(store: &TokenStore, binding: &TokenBinding, shared: &SharedToken) {
        let mut guard = store.lock(binding, WAIT).await.unwrap();
        guard.write(shared).await.unwrap();
    }

    #[tokio::test]
    async fn a_written_record_is_read_back_by_its_binding_only() {
        let home = tempfile::tempdir().unwrap();
        let store = TokenStore::in_home(home.path());
        let mine = binding("secret-1", &["b", "a"]);
        let mut guard = store.lock(&mine, WAIT).await.unwrap();
        assert!(guard.read().await.unwrap().token.is_none());
        let mut shared = token("tok-1", HOUR);
        shared.token.as_mut().unwrap().unproven_until = Some(SystemTime::now() + WAIT);
        guard.write(&shared).await.unwrap();
        drop(guard);

        let read_back = read(&store, &binding("secret-1", &["a", "b", "a"])).await;
        let stored = read_back.usable(SystemTime::now()).expect("a usable token");
        assert_eq!(stored.value.expose(), "tok-1");
        assert!(stored.unproven_until.is_some());
        // Another secret, scope set, client or route is another connection.
        let other_secret = binding("secret-2", &["a", "b"]);
        assert!(read(&store, &other_secret).await.token.is_none());
        assert!(read(&store, &binding("secret-1", &["a"]))
            .await
            .token
            .is_none());
        let other_route = TokenBinding::new(
            "https://api.example.com/v1/token",
            "http://127.0.0.1:10",
            "client",
            &["a".into(), "b".into()],
            &SecretString::new("secret-1"),
        );
        assert!(read(&store, &other_route).await.token.is_none());
        // The secret is never stored, only its hash.
        let text = std::fs::read_to_string(home.path().join(TOKEN_FILE)).unwrap();
        assert!(!text.contains("secret-1"), "{text}");
        assert!(text.contains(&format!("{:x}", Sha256::digest(b"secret-1"))));
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn both_files_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::tempdir().unwrap();
        let new_home = home.path().join("new-home");
        let store = TokenStore::in_home(&new_home);
        write(&store, &binding("s", &[]), &token("t", HOUR)).await;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&new_home.join(TOKEN_FILE)), 0o600);
        assert_eq!(mode(&new_home.join(TOKEN_LOCK_FILE)), 0o600);
        assert_eq!(mode(&new_home), 0o700);
    }

    #[tokio::test]
    async fn the_lock_is_exclusive_until_dropped() {
        let home = tempfile::tempdir().unwrap();
        // Two stores over one home, as two processes would have: each opens its own file
        // description, and an OS lock on one excludes the other, whatever the binding (a
        // write replaces the whole file).
        let first = TokenStore::in_home(home.path());
        let second = TokenStore::in_home(home.path());
        let held = first.lock(&binding("a", &[]), WAIT).await.unwrap();
        let started = Instant::now();
        let busy = second
            .lock(&binding("b", &[]), Duration::from_millis(120))
            .await
            .err()
            .unwrap();
        assert!(matches!(busy, StoreError::Busy { .. }), "{busy}");
        assert!(busy.to_string().contains(TOKEN_LOCK_FILE), "{busy}");
        assert!(started.elapsed() >= Duration::from_millis(120));
        drop(held);
        let again = second.lock(&binding("b", &[]), WAIT).await.unwrap();
        // A waiter gets the lock as soon as the holder lets go.
        let dir = home.path().to_path_buf();
        let waiter = tokio::spawn(async move {
            let store = TokenStore::in_home(&dir);
            let started = Instant::now();
            let _guard = store.lock(&binding("a", &[]), WAIT).await.unwrap();
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
        let (old, locked, live, mine) = (
            binding("old", &[]),
            binding("locked", &[]),
            binding("live", &[]),
            binding("mine", &[]),
        );
        write(&store, &old, &token("expired", Duration::ZERO)).await;
        let lock_out = SharedToken {
            token: None,
            locked_until: Some(SystemTime::now() + HOUR),
        };
        write(&store, &locked, &lock_out).await;
        write(&store, &live, &token("live-token", HOUR)).await;
        write(&store, &mine, &token("mine-token", HOUR)).await;
        let text = std::fs::read_to_string(home.path().join(TOKEN_FILE)).unwrap();
        assert!(!text.contains("expired"), "{text}");
        assert!(read(&store, &locked).await.locked_until.is_some());
        assert!(read(&store, &live).await.token.is_some());
        assert!(read(&store, &mine).await.token.is_some());
    }

    #[tokio::test]
    async fn a_record_with_nothing_to_say_is_not_written() {
        let home = tempfile::tempdir().unwrap();
        let store = TokenStore::in_home(home.path());
        let file = home.path().join(TOKEN_FILE);
        // A connection whose first mint failed: no token, no lock-out, no file.
        write(&store, &binding("wrong", &[]), &SharedToken::default()).await;
        assert!(!file.exists());
        // A token dropped after a 401 leaves the file, not a stale copy of itself.
        let mine = binding("mine", &[]);
        write(&store, &mine, &token("dead-token", HOUR)).await;
        write(&store, &mine, &SharedToken::default()).await;
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains("dead-token"), "{text}");
        assert!(read(&store, &mine).await.token.is_none());
    }

    #[tokio::test]
    async fn a_damaged_file_reads_as_empty_and_is_replaced() {
        let home = tempfile::tempdir().unwrap();
        let store = TokenStore::in_home(home.path());
        std::fs::write(home.path().join(TOKEN_FILE), "{not json").unwrap();
        let mine = binding("s", &[]);
        let mut guard = store.lock(&mine, WAIT).await.unwrap();
        assert!(guard.read().await.unwrap().token.is_none());
        guard.write(&token("fresh", HOUR)).await.unwrap();
        assert!(guard.read().await.unwrap().token.is_some());
    }

    #[test]
    fn the_store_describes_itself_by_its_file() {
        let home = tempfile::tempdir().unwrap();
        let store = TokenStore::in_home(home.path());
        assert_eq!(
            store.describe(),
            home.path().join(TOKEN_FILE).display().to_string()
        );
    }
}
