//! The grant of a home, kept owner-only next to its connection.

use super::model::Grant;
use std::path::{Path, PathBuf};
use toolhost_base::write_private;

const GRANT_FILE: &str = "grant.json";

/// Where the grant of a home lives.
pub fn grant_path(home: &Path) -> PathBuf {
    home.join(GRANT_FILE)
}

/// The recorded grant; `Ok(None)` when there is none, an error naming the file when it is
/// unreadable or damaged (never read as "no grant needed").
pub fn load(home: &Path) -> Result<Option<Grant>, String> {
    let path = grant_path(home);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| format!("{} is damaged ({e})", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// Records `grant` (0600, atomically).
pub fn save(home: &Path, grant: &Grant) -> std::io::Result<PathBuf> {
    let path = grant_path(home);
    let text = serde_json::to_vec_pretty(grant).map_err(std::io::Error::other)?;
    write_private(&path, &text)?;
    Ok(path)
}
