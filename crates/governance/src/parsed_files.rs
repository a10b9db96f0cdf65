//! Operator files (`policy.toml`, `roles.toml`) parsed once per change, not once per call.
//!
//! Every call still looks at the file, so an operator's edit in another process applies to
//! the next call; but it only stats it, and reads and parses it again only when its
//! identity (length, modification time, inode and device) differs from the one it was
//! parsed at. The host writes these files atomically (a new inode each time), so its own
//! writes always show; an editor rewriting in place changes the modification time. A file
//! that fails to parse is never remembered: it is read again (and refused again) each time.
//!
//! Modification times tick coarsely (a few milliseconds on Linux, seconds elsewhere), so
//! two same-length writes in place within one tick look identical. As git does with its
//! index, a file modified within the last [`SETTLE`] is never served from memory: it is
//! read every time until it has been left alone that long.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// How long a file must be left unchanged before its parsed form is trusted.
const SETTLE: Duration = Duration::from_secs(3);

/// What tells one version of a file from another without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileIdentity {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
    device: u64,
}

impl FileIdentity {
    /// The identity of the file at `path`; `None` when there is no such file.
    pub(crate) fn of(path: &Path) -> io::Result<Option<FileIdentity>> {
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        #[cfg(unix)]
        let (inode, device) = {
            use std::os::unix::fs::MetadataExt;
            (meta.ino(), meta.dev())
        };
        #[cfg(not(unix))]
        let (inode, device) = (0, 0);
        Ok(Some(FileIdentity {
            len: meta.len(),
            modified: meta.modified().ok(),
            inode,
            device,
        }))
    }
}

impl FileIdentity {
    /// Whether the file has been left alone long enough that a later write in place must
    /// show in its modification time.
    fn settled(&self) -> bool {
        self.modified
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .is_some_and(|age| age >= SETTLE)
    }
}

/// Parsed values by path, each with the identity of the file it was parsed from.
pub(crate) struct ParsedFiles<V> {
    entries: Mutex<HashMap<PathBuf, (FileIdentity, V)>>,
}

impl<V: Clone> ParsedFiles<V> {
    pub(crate) fn new() -> ParsedFiles<V> {
        ParsedFiles {
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The value parsed from `path` when the file was exactly `identity`.
    pub(crate) fn get(&self, path: &Path, identity: FileIdentity) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(path)
            .filter(|(seen, _)| *seen == identity && identity.settled())
            .map(|(_, value)| value.clone())
    }

    /// Remembers `value` as parsed from `path` at `identity`. The identity must have been
    /// taken before the file was read: if the file changed in between, the next look sees
    /// a newer identity and parses again, so a stale value is never served.
    pub(crate) fn put(&self, path: &Path, identity: FileIdentity, value: V) {
        if !identity.settled() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.insert(path.to_path_buf(), (identity, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewrite_changes_the_identity_and_a_missing_file_has_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.toml");
        assert_eq!(FileIdentity::of(&path).unwrap(), None);
        std::fs::write(&path, "a = 1\n").unwrap();
        let first = FileIdentity::of(&path).unwrap().unwrap();
        assert_eq!(FileIdentity::of(&path).unwrap(), Some(first));
        // An atomic replace (what the host does): same length, a new inode.
        let next = dir.path().join("policy.toml.new");
        std::fs::write(&next, "a = 2\n").unwrap();
        std::fs::rename(&next, &path).unwrap();
        let second = FileIdentity::of(&path).unwrap().unwrap();
        assert_ne!(first, second);

        // Just written: never served from memory, so a same-length rewrite in the same
        // tick cannot be missed.
        assert!(!second.settled());
        let cache = ParsedFiles::new();
        cache.put(&path, second, 2);
        assert_eq!(cache.get(&path, second), None);

        let old = SystemTime::now() - 2 * SETTLE;
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let settled = FileIdentity::of(&path).unwrap().unwrap();
        assert!(settled.settled());
        cache.put(&path, settled, 3);
        assert_eq!(cache.get(&path, settled), Some(3));
        assert_eq!(cache.get(&path, second), None);
        assert_eq!(cache.get(&dir.path().join("other.toml"), settled), None);
    }
}
