//! `clients.json`: read on every use (so a revocation applies to the next request), written
//! owner-only and atomically, changed under an OS lock.

use super::error::ClientError;
use super::record::{ClientRecord, ClientsFile, CLIENTS_FILE};
use super::store::ClientStore;
use super::token::same;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

const FORMAT_VERSION: u32 = 1;

/// The clients of one home. Holds only the file's path: every operation reads the file.
#[derive(Debug, Clone)]
pub struct FileClients {
    path: PathBuf,
}

impl FileClients {
    /// The registry in `home` (`<home>/clients.json`).
    pub fn in_home(home: &Path) -> FileClients {
        FileClients {
            path: home.join(CLIENTS_FILE),
        }
    }

    /// Where the registry is stored.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn update(
        &self,
        name: &str,
        change: impl FnOnce(&mut ClientRecord),
    ) -> Result<ClientRecord, ClientError> {
        let _lock = self.lock()?;
        let mut file = self.load()?;
        let client = file
            .clients
            .iter_mut()
            .find(|c| c.name == name)
            .ok_or_else(|| ClientError::Unknown(name.to_string()))?;
        change(client);
        let updated = client.clone();
        self.save(&file)?;
        Ok(updated)
    }

    /// Holds an OS lock on `clients.lock` next to the registry until dropped: a change reads,
    /// edits and writes the whole file, so two at once (a revoke racing an add, in two
    /// processes) would otherwise lose one, and a lost revocation leaves a token working.
    fn lock(&self) -> Result<std::fs::File, ClientError> {
        let path = self.path.with_extension("lock");
        let failed = |source| ClientError::Write {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            toolhost_base::create_private_dir(dir).map_err(failed)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(&path).map_err(failed)?;
        // Released when the file is closed, on every path out of the change.
        file.lock().map_err(failed)?;
        Ok(file)
    }

    fn load(&self) -> Result<ClientsFile, ClientError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(ClientsFile {
                    version: FORMAT_VERSION,
                    clients: Vec::new(),
                })
            }
            Err(source) => {
                return Err(ClientError::Read {
                    path: self.path.clone(),
                    source,
                })
            }
        };
        let file: ClientsFile = serde_json::from_str(&text).map_err(|e| ClientError::Parse {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        if file.version != FORMAT_VERSION {
            return Err(ClientError::Parse {
                path: self.path.clone(),
                message: format!("format version {}, expected {FORMAT_VERSION}", file.version),
            });
        }
        Ok(file)
    }

    fn save(&self, file: &ClientsFile) -> Result<(), ClientError> {
        let mut bytes = serde_json::to_vec_pretty(file).map_err(|e| ClientError::Write {
            path: self.path.clone(),
            source: std::io::Error::other(e),
        })?;
        bytes.push(b'\n');
        toolhost_base::write_private(&self.path, &bytes).map_err(|source| ClientError::Write {
            path: self.path.clone(),
            source,
        })
    }
}

// The file is small and local: each operation reads (and at most rewrites) it in one go,
// without awaiting, as the synchronous registry always did.
#[async_trait]
impl ClientStore for FileClients {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    async fn list(&self) -> Result<Vec<ClientRecord>, ClientError> {
        Ok(self.load()?.clients)
    }

    async fn get(&self, name: &str) -> Result<ClientRecord, ClientError> {
        self.load()?
            .clients
            .into_iter()
            .find(|c| c.name == name)
            .ok_or_else(|| ClientError::Unknown(name.to_string()))
    }

    async fn insert(&self, record: &ClientRecord) -> Result<(), ClientError> {
        let _lock = self.lock()?;
        let mut file = self.load()?;
        if file.clients.iter().any(|c| c.name == record.name) {
            return Err(ClientError::Duplicate(record.name.clone()));
        }
        file.clients.push(record.clone());
        self.save(&file)
    }

    async fn revoke(&self, name: &str, at: DateTime<Utc>) -> Result<ClientRecord, ClientError> {
        self.update(name, |c| {
            c.revoked.get_or_insert(at);
        })
    }

    async fn set_elicitation_approvals(
        &self,
        name: &str,
        allow: bool,
    ) -> Result<ClientRecord, ClientError> {
        self.update(name, |c| c.elicitation_approvals = allow)
    }

    async fn find_active(&self, token_sha256: &str) -> Result<Option<ClientRecord>, ClientError> {
        let mut found = None;
        // Every record is compared, without stopping at a match, in constant time each.
        for client in self.load()?.clients {
            if same(&client.token_sha256, token_sha256) && client.is_active() {
                found = Some(client);
            }
        }
        Ok(found)
    }
}
