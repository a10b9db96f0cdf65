//! `clients.json`: read on every use (so a revocation applies to the next request), written
//! owner-only and atomically.

use super::error::ClientError;
use super::record::{ClientRecord, ClientsFile, CLIENTS_FILE};
use super::token::{same, token_sha256, ClientToken};
use crate::roles::RoleTable;
use chrono::Utc;
use std::path::{Path, PathBuf};

const FORMAT_VERSION: u32 = 1;

/// The clients of one home. Holds only the file's path: every operation reads the file.
#[derive(Debug, Clone)]
pub struct ClientRegistry {
    path: PathBuf,
}

impl ClientRegistry {
    /// The registry in `home` (`<home>/clients.json`).
    pub fn in_home(home: &Path) -> ClientRegistry {
        ClientRegistry {
            path: home.join(CLIENTS_FILE),
        }
    }

    /// Where the registry is stored.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every client, revoked ones included, in creation order. No file: none.
    pub fn list(&self) -> Result<Vec<ClientRecord>, ClientError> {
        Ok(self.load()?.clients)
    }

    /// The client named `name`, revoked or not.
    pub fn get(&self, name: &str) -> Result<ClientRecord, ClientError> {
        self.list()?
            .into_iter()
            .find(|c| c.name == name)
            .ok_or_else(|| ClientError::Unknown(name.to_string()))
    }

    /// The client named `name`, refused when revoked.
    pub fn active(&self, name: &str) -> Result<ClientRecord, ClientError> {
        let client = self.get(name)?;
        if client.is_active() {
            Ok(client)
        } else {
            Err(ClientError::Revoked(client.name))
        }
    }

    /// Creates a client in `role` (looked up in `roles`, stored in its spelling) and returns
    /// it with its token: the only time the token exists outside the client.
    pub fn add(
        &self,
        name: &str,
        role: &str,
        roles: &RoleTable,
        elicitation_approvals: bool,
    ) -> Result<(ClientRecord, ClientToken), ClientError> {
        if !valid_name(name) {
            return Err(ClientError::InvalidName(name.to_string()));
        }
        let role =
            roles
                .get(role)
                .map(|r| r.name.clone())
                .ok_or_else(|| ClientError::UnknownRole {
                    role: role.to_string(),
                    known: roles.names().into_iter().map(str::to_string).collect(),
                })?;
        let _lock = self.lock()?;
        let mut file = self.load()?;
        if file.clients.iter().any(|c| c.name == name) {
            return Err(ClientError::Duplicate(name.to_string()));
        }
        let token = ClientToken::generate()?;
        let record = ClientRecord {
            name: name.to_string(),
            role,
            token_sha256: token_sha256(token.expose()),
            created: Utc::now(),
            revoked: None,
            elicitation_approvals,
        };
        file.clients.push(record.clone());
        self.save(&file)?;
        Ok((record, token))
    }

    /// Revokes `name`: its token stops working. Revoking twice keeps the first time.
    pub fn revoke(&self, name: &str) -> Result<ClientRecord, ClientError> {
        self.update(name, |c| {
            c.revoked.get_or_insert_with(Utc::now);
        })
    }

    /// Allows or forbids approvals through elicitation for `name`.
    pub fn set_elicitation_approvals(
        &self,
        name: &str,
        allow: bool,
    ) -> Result<ClientRecord, ClientError> {
        self.update(name, |c| c.elicitation_approvals = allow)
    }

    /// The active client whose token is `token`; `None` for an unknown or revoked token
    /// (callers must not tell the two apart to whoever presented it).
    pub fn authenticate(&self, token: &str) -> Result<Option<ClientRecord>, ClientError> {
        let presented = token_sha256(token);
        let mut found = None;
        // Every record is compared, without stopping at a match, in constant time each.
        for client in self.list()? {
            if same(&client.token_sha256, &presented) && client.is_active() {
                found = Some(client);
            }
        }
        Ok(found)
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

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roles::Role;

    fn roles() -> RoleTable {
        RoleTable::from_roles(vec![Role::builtin()])
    }

    #[test]
    fn concurrent_changes_are_never_lost() {
        let dir = tempfile::tempdir().unwrap();
        let registry = std::sync::Arc::new(ClientRegistry::in_home(dir.path()));
        let threads: Vec<_> = (0..16)
            .map(|i| {
                let registry = registry.clone();
                std::thread::spawn(move || {
                    registry
                        .add(&format!("agent-{i}"), "operator", &roles(), false)
                        .unwrap();
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(registry.list().unwrap().len(), 16);
    }

    #[test]
    fn add_authenticate_revoke() {
        let dir = tempfile::tempdir().unwrap();
        let registry = ClientRegistry::in_home(dir.path());
        let role = roles().names()[0].to_string();
        let (record, token) = registry
            .add("agent-1", &role.to_uppercase(), &roles(), false)
            .unwrap();
        assert_eq!(record.role, role, "stored in the table's spelling");
        let text = std::fs::read_to_string(registry.path()).unwrap();
        assert!(!text.contains(token.expose()));
        assert!(text.contains(&token_sha256(token.expose())));
        assert_eq!(
            registry.authenticate(token.expose()).unwrap().unwrap().name,
            "agent-1"
        );
        assert!(registry.authenticate("thc_wrong").unwrap().is_none());
        assert!(matches!(
            registry.add("agent-1", &role, &roles(), false),
            Err(ClientError::Duplicate(_))
        ));
        assert!(matches!(
            registry.add("bad name", &role, &roles(), false),
            Err(ClientError::InvalidName(_))
        ));
        assert!(matches!(
            registry.add("agent-2", "No Such Role", &roles(), false),
            Err(ClientError::UnknownRole { .. })
        ));
        registry.revoke("agent-1").unwrap();
        assert!(registry.authenticate(token.expose()).unwrap().is_none());
        assert!(matches!(
            registry.active("agent-1"),
            Err(ClientError::Revoked(_))
        ));
        assert!(
            registry
                .set_elicitation_approvals("agent-1", true)
                .unwrap()
                .elicitation_approvals
        );
    }
}
