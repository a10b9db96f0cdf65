//! Where a command's shared state lives: the embedded files of the home (the default), or the
//! PostgreSQL database `--database-url` names, which several `toolhost serve` replicas share.
//!
//! With a database the operator's sealing key is required before anything is opened: client
//! secrets, tokens and MCP keys are sealed at rest with it, and a host without it refuses to
//! start rather than store them in clear.

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::OnceCell;
use toolhost_host::{tenants_in, StateBackend, TenantName};
use toolhost_state::{
    Database, DatabaseTrust, PgConnections, SealingKey, STATE_KEY_ENV, STATE_KEY_FILE_ENV,
};

/// The environment variable naming a file that holds the database URL (as Kubernetes mounts
/// a Secret), instead of the URL itself.
pub const DATABASE_URL_FILE_ENV: &str = "TOOLHOST_DATABASE_URL_FILE";

/// The database a process uses, connected (and migrated) once however many tenants it opens.
#[derive(Debug, Clone, Default)]
pub struct StateTarget {
    database: Option<Arc<DatabaseTarget>>,
}

struct DatabaseTarget {
    url: String,
    key: SealingKey,
    /// The CA a server's certificate must chain to (`TOOLHOST_DATABASE_CA_FILE`, else the
    /// public roots) when the URL's sslmode checks it.
    trust: DatabaseTrust,
    connected: OnceCell<Database>,
}

impl StateTarget {
    /// From `--database-url` (or `TOOLHOST_DATABASE_URL`) or the file
    /// `TOOLHOST_DATABASE_URL_FILE` names; neither: the embedded files.
    pub fn from_flags(url: Option<String>) -> anyhow::Result<StateTarget> {
        let file = std::env::var_os(DATABASE_URL_FILE_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let url = match (url.filter(|u| !u.is_empty()), file) {
            (Some(_), Some(_)) => anyhow::bail!(
                "both --database-url (TOOLHOST_DATABASE_URL) and {DATABASE_URL_FILE_ENV} are set: keep one"
            ),
            (Some(url), None) => url,
            (None, Some(path)) => std::fs::read_to_string(&path)
                .with_context(|| format!("{DATABASE_URL_FILE_ENV} ({})", path.display()))?
                .trim()
                .to_string(),
            (None, None) => return Ok(StateTarget::default()),
        };
        let key = SealingKey::from_env().with_context(|| {
            format!(
                "the state database needs the operator's sealing key in {STATE_KEY_ENV} or \
                 {STATE_KEY_FILE_ENV} (every replica the same; make one with \
                 `openssl rand -base64 32`): client secrets and tokens are never stored in clear"
            )
        })?;
        // Read at start, so a wrong path stops the host before it serves anything.
        let trust = DatabaseTrust::from_env()?;
        Ok(StateTarget {
            database: Some(Arc::new(DatabaseTarget {
                url,
                key,
                trust,
                connected: OnceCell::new(),
            })),
        })
    }

    /// Whether state lives in a database.
    pub fn is_database(&self) -> bool {
        self.database.is_some()
    }

    /// The backend `tenant`'s host uses: connects (once per process) when it is a database.
    pub async fn backend(&self, tenant: &TenantName) -> anyhow::Result<StateBackend> {
        let Some(target) = &self.database else {
            return Ok(StateBackend::Embedded);
        };
        Ok(StateBackend::Postgres {
            db: target.database().await?,
            tenant: tenant.as_str().to_string(),
            key: target.key.clone(),
        })
    }

    /// Every tenant (the default first): the home's tenant directories, or the tenants with a
    /// connection in the database.
    pub async fn tenants(&self, home: &Path) -> anyhow::Result<Vec<TenantName>> {
        let Some(target) = &self.database else {
            return tenants_in(home)
                .with_context(|| format!("listing the tenants of {}", home.display()));
        };
        let db = target.database().await?;
        let mut all = vec![TenantName::default_tenant()];
        for name in PgConnections::new(&db, target.key.clone())
            .tenants()
            .await?
        {
            match TenantName::parse(&name) {
                Ok(tenant) if !tenant.is_default() => all.push(tenant),
                Ok(_) => {}
                Err(err) => tracing::warn!("the state database holds a bad tenant row: {err}"),
            }
        }
        Ok(all)
    }

    /// Whether `tenant` exists (the default always does).
    pub async fn tenant_exists(&self, home: &Path, tenant: &TenantName) -> anyhow::Result<bool> {
        Ok(tenant.is_default() || self.tenants(home).await?.contains(tenant))
    }
}

// By hand: the URL carries the password, so it is never printed.
impl std::fmt::Debug for DatabaseTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseTarget")
            .field("trust", &self.trust)
            .field("connected", &self.connected.get())
            .finish_non_exhaustive()
    }
}

impl DatabaseTarget {
    async fn database(&self) -> anyhow::Result<Database> {
        Ok(self
            .connected
            .get_or_try_init(|| Database::connect_trusting(&self.url, &self.trust))
            .await?
            .clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_database_password() {
        let target = StateTarget {
            database: Some(Arc::new(DatabaseTarget {
                url: "postgres://toolhost:hunter2-secret@db:5432/toolhost".into(),
                key: SealingKey::from_bytes([7; 32]),
                trust: DatabaseTrust::public(),
                connected: OnceCell::new(),
            })),
        };
        let text = format!("{target:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("DatabaseTarget"), "{text}");
    }
}
