//! Tenants: one vendor connection (region, client id, secret, grant) with its own policy,
//! roles, clients, approvals, audit, catalog and token. Every command, MCP client and UI
//! session acts in exactly one tenant.
//!
//! In the embedded (file) backend a tenant's state lives in its own directory: the default
//! tenant's is the home itself (so a home from before tenants keeps working unchanged), a
//! named tenant's is `<home>/tenants/<name>/`. Nothing in one tenant's directory is read on
//! behalf of another; the compiled-plugin cache, which holds no tenant data, stays shared.

use crate::connection;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The directory under the home that holds the named tenants.
pub const TENANTS_DIR: &str = "tenants";

/// The longest tenant name (a DNS label's length, so a name fits in host names and labels).
const MAX_LEN: usize = 63;

/// A tenant's name: 1 to 63 of `a-z`, `0-9` and `-`, not starting with `-`
/// (`[a-z0-9][a-z0-9-]{0,62}`). It names a directory and a URL path segment, so nothing
/// else is accepted: no `..`, no `/`, no upper case that could alias on another file system.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct TenantName(String);

/// Why a tenant name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--tenant (TOOLHOST_TENANT) `{shown}` is not a tenant name: use 1 to 63 lowercase letters a-z, digits and hyphens, starting with a letter or digit (for example `acme` or `msp-2`)")]
pub struct TenantNameError {
    /// The refused name, with anything unprintable escaped (it may come from anywhere).
    shown: String,
}

impl TenantName {
    /// The name of the default tenant: the one a single-MSP user never has to name.
    pub const DEFAULT: &'static str = "default";

    /// Checks `name` against `[a-z0-9][a-z0-9-]{0,62}`.
    pub fn parse(name: &str) -> Result<TenantName, TenantNameError> {
        let valid = !name.is_empty()
            && name.len() <= MAX_LEN
            && !name.starts_with('-')
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if valid {
            Ok(TenantName(name.to_string()))
        } else {
            Err(TenantNameError {
                shown: name.escape_default().take(80).collect(),
            })
        }
    }

    /// The default tenant.
    pub fn default_tenant() -> TenantName {
        TenantName(TenantName::DEFAULT.to_string())
    }

    /// Whether this is the default tenant.
    pub fn is_default(&self) -> bool {
        self.0 == TenantName::DEFAULT
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Where this tenant's state lives under the root `home`: the home itself for the
    /// default tenant, `<home>/tenants/<name>/` for any other.
    pub fn home_in(&self, home: &Path) -> PathBuf {
        if self.is_default() {
            home.to_path_buf()
        } else {
            home.join(TENANTS_DIR).join(&self.0)
        }
    }

    /// Whether this tenant exists in `home`: the default always does; a named one once its
    /// directory was created (by connecting it).
    pub fn exists_in(&self, home: &Path) -> bool {
        self.is_default() || self.home_in(home).is_dir()
    }
}

impl Default for TenantName {
    fn default() -> TenantName {
        TenantName::default_tenant()
    }
}

impl fmt::Display for TenantName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for TenantName {
    type Err = TenantNameError;

    fn from_str(name: &str) -> Result<TenantName, TenantNameError> {
        TenantName::parse(name)
    }
}

impl AsRef<str> for TenantName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The tenants of a home: the default, then every directory under `<home>/tenants/` whose
/// name is a valid tenant name, sorted. Anything else there (a file, `Bad Name`) is not a
/// tenant and is skipped. A missing `tenants/` directory is a home with the default only.
pub fn tenants_in(home: &Path) -> std::io::Result<Vec<TenantName>> {
    let mut named = Vec::new();
    match std::fs::read_dir(home.join(TENANTS_DIR)) {
        Ok(entries) => {
            for entry in entries {
                let entry = entry?;
                // A directory, or a link to one (as `--tenant` itself follows links).
                if !entry.path().is_dir() {
                    continue;
                }
                let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                    continue;
                };
                match TenantName::parse(&name) {
                    // `tenants/default/` would shadow nothing: the default lives in the home.
                    Ok(tenant) if !tenant.is_default() => named.push(tenant),
                    _ => tracing::debug!("{}: not a tenant directory", entry.path().display()),
                }
            }
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    named.sort();
    let mut all = vec![TenantName::default_tenant()];
    all.extend(named);
    Ok(all)
}

/// What `toolhost tenants` shows of one tenant: never its secret.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantSummary {
    /// The tenant.
    pub name: TenantName,
    /// Its state directory.
    pub home: PathBuf,
    /// The connected region, if connected.
    pub region: Option<String>,
    /// The connected API client id, if connected.
    pub client_id: Option<String>,
    /// Why its connection file cannot be read, if it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// [`tenants_in`], each with its connection's region and client id.
pub fn tenant_summaries(home: &Path) -> std::io::Result<Vec<TenantSummary>> {
    Ok(tenants_in(home)?
        .into_iter()
        .map(|name| {
            let tenant_home = name.home_in(home);
            let (region, client_id, error) = match connection::load(&tenant_home) {
                Ok(Some(settings)) => (Some(settings.region), Some(settings.client_id), None),
                Ok(None) => (None, None, None),
                Err(err) => (None, None, Some(err.to_string())),
            };
            TenantSummary {
                name,
                home: tenant_home,
                region,
                client_id,
                error,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names() {
        for name in ["default", "a", "acme", "msp-2", "0", "a-", &"a".repeat(63)] {
            assert_eq!(TenantName::parse(name).unwrap().as_str(), name);
        }
    }

    #[test]
    fn invalid_names_are_refused_naming_the_flag_and_the_rule() {
        for name in [
            "",
            "-a",
            "A",
            "Acme",
            "a b",
            "A B",
            "../x",
            "..",
            ".",
            "a/b",
            "a_b",
            "a.b",
            "é",
            "a\n",
            &"a".repeat(64),
        ] {
            let err = TenantName::parse(name).unwrap_err().to_string();
            assert!(err.contains("--tenant"), "{name:?}: {err}");
            assert!(err.contains("lowercase letters"), "{name:?}: {err}");
        }
        let err = TenantName::parse("a\u{1b}[31m").unwrap_err().to_string();
        assert!(!err.contains('\u{1b}'), "{err}");
    }

    #[test]
    fn homes() {
        let home = Path::new("/h");
        assert_eq!(TenantName::default().home_in(home), Path::new("/h"));
        assert!(TenantName::default().is_default());
        let acme = TenantName::parse("acme").unwrap();
        assert_eq!(acme.home_in(home), Path::new("/h/tenants/acme"));
        assert!(!acme.is_default());
    }

    #[test]
    fn tenants_of_a_home() {
        let home = std::env::temp_dir().join(format!("toolhost-tenants-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home).unwrap();
        // A home from before tenants: the default only.
        assert_eq!(tenants_in(&home).unwrap(), [TenantName::default()]);
        let dir = home.join(TENANTS_DIR);
        for name in ["zeta", "acme", "Bad Name", "default"] {
            std::fs::create_dir_all(dir.join(name)).unwrap();
        }
        std::fs::write(dir.join("file"), "").unwrap();
        let names: Vec<String> = tenants_in(&home)
            .unwrap()
            .iter()
            .map(|t| t.to_string())
            .collect();
        assert_eq!(names, ["default", "acme", "zeta"]);
        assert!(TenantName::parse("acme").unwrap().exists_in(&home));
        assert!(!TenantName::parse("nope").unwrap().exists_in(&home));
        let summaries = tenant_summaries(&home).unwrap();
        assert_eq!(summaries.len(), 3);
        assert!(summaries
            .iter()
            .all(|s| s.region.is_none() && s.error.is_none()));
        std::fs::remove_dir_all(&home).unwrap();
    }
}
