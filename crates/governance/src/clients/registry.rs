//! The client registry: a cheap handle over the store the clients live in. It checks names,
//! resolves roles and draws tokens; the store only keeps records, and is read on every use
//! (so a revocation applies to the next request, through any replica).

use super::error::ClientError;
use super::file_store::FileClients;
use super::record::ClientRecord;
use super::store::ClientStore;
use super::token::{token_sha256, ClientToken};
use crate::roles::RoleTable;
use chrono::Utc;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// The clients of one tenant, wherever they are stored.
#[derive(Clone)]
pub struct ClientRegistry {
    store: Arc<dyn ClientStore>,
}

impl fmt::Debug for ClientRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientRegistry")
            .field("location", &self.store.location())
            .finish()
    }
}

impl ClientRegistry {
    /// The registry in `home` (`<home>/clients.json`).
    pub fn in_home(home: &Path) -> ClientRegistry {
        ClientRegistry::new(Arc::new(FileClients::in_home(home)))
    }

    /// The registry kept in `store`.
    pub fn new(store: Arc<dyn ClientStore>) -> ClientRegistry {
        ClientRegistry { store }
    }

    /// Where the registry is stored, for messages.
    pub fn location(&self) -> String {
        self.store.location()
    }

    /// Every client, revoked ones included, in creation order. None stored: none.
    pub async fn list(&self) -> Result<Vec<ClientRecord>, ClientError> {
        self.store.list().await
    }

    /// The client named `name`, revoked or not.
    pub async fn get(&self, name: &str) -> Result<ClientRecord, ClientError> {
        self.store.get(name).await
    }

    /// The client named `name`, refused when revoked.
    pub async fn active(&self, name: &str) -> Result<ClientRecord, ClientError> {
        let client = self.get(name).await?;
        if client.is_active() {
            Ok(client)
        } else {
            Err(ClientError::Revoked(client.name))
        }
    }

    /// Creates a client in `role` (looked up in `roles`, stored in its spelling) and returns
    /// it with its token: the only time the token exists outside the client.
    pub async fn add(
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
        let token = ClientToken::generate()?;
        let record = ClientRecord {
            name: name.to_string(),
            role,
            token_sha256: token_sha256(token.expose()),
            created: Utc::now(),
            revoked: None,
            elicitation_approvals,
        };
        self.store.insert(&record).await?;
        Ok((record, token))
    }

    /// Revokes `name`: its token stops working. Revoking twice keeps the first time.
    pub async fn revoke(&self, name: &str) -> Result<ClientRecord, ClientError> {
        self.store.revoke(name, Utc::now()).await
    }

    /// Allows or forbids approvals through elicitation for `name`.
    pub async fn set_elicitation_approvals(
        &self,
        name: &str,
        allow: bool,
    ) -> Result<ClientRecord, ClientError> {
        self.store.set_elicitation_approvals(name, allow).await
    }

    /// The active client whose token is `token`; `None` for an unknown or revoked token
    /// (callers must not tell the two apart to whoever presented it).
    pub async fn authenticate(&self, token: &str) -> Result<Option<ClientRecord>, ClientError> {
        self.store.find_active(&token_sha256(token)).await
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
    use crate::clients::CLIENTS_FILE;
    use crate::roles::Role;

    fn roles() -> RoleTable {
        RoleTable::from_roles(vec![Role::builtin()])
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_changes_are_never_lost() {
        let dir = tempfile::tempdir().unwrap();
        let registry = ClientRegistry::in_home(dir.path());
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let registry = registry.clone();
                tokio::spawn(async move {
                    registry
                        .add(&format!("agent-{i}"), "operator", &roles(), false)
                        .await
                        .unwrap();
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(registry.list().await.unwrap().len(), 16);
    }

    #[tokio::test]
    async fn add_authenticate_revoke() {
        let dir = tempfile::tempdir().unwrap();
        let registry = ClientRegistry::in_home(dir.path());
        let role = roles().names()[0].to_string();
        let (record, token) = registry
            .add("agent-1", &role.to_uppercase(), &roles(), false)
            .await
            .unwrap();
        assert_eq!(record.role, role, "stored in the table's spelling");
        let text = std::fs::read_to_string(dir.path().join(CLIENTS_FILE)).unwrap();
        assert!(!text.contains(token.expose()));
        assert!(text.contains(&token_sha256(token.expose())));
        assert_eq!(
            registry
                .authenticate(token.expose())
                .await
                .unwrap()
                .unwrap()
                .name,
            "agent-1"
        );
        assert!(registry.authenticate("thc_wrong").await.unwrap().is_none());
        assert!(matches!(
            registry.add("agent-1", &role, &roles(), false).await,
            Err(ClientError::Duplicate(_))
        ));
        assert!(matches!(
            registry.add("bad name", &role, &roles(), false).await,
            Err(ClientError::InvalidName(_))
        ));
        assert!(matches!(
            registry
                .add("agent-2", "No Such Role", &roles(), false)
                .await,
            Err(ClientError::UnknownRole { .. })
        ));
        let revoked = registry.revoke("agent-1").await.unwrap().revoked;
        assert!(registry
            .authenticate(token.expose())
            .await
            .unwrap()
            .is_none());
        assert!(matches!(
            registry.active("agent-1").await,
            Err(ClientError::Revoked(_))
        ));
        assert_eq!(
            registry.revoke("agent-1").await.unwrap().revoked,
            revoked,
            "revoking twice keeps the first time"
        );
        assert!(
            registry
                .set_elicitation_approvals("agent-1", true)
                .await
                .unwrap()
                .elicitation_approvals
        );
    }
}
