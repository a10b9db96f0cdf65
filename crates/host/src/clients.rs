//! The host's view of its MCP clients: the registry in its home, and the role table a
//! client's role is checked against when it is created.

use crate::error::HostError;
use crate::host::ToolHost;
use crate::state::StateBackend;
use std::sync::Arc;
use toolhost_governance::{ClientRegistry, RoleTable};
use toolhost_state::PgClients;

impl ToolHost {
    /// The role table calls are admitted with right now: the plugin's permission matrix,
    /// changed by `roles.toml` (read now, so an operator's edit counts).
    pub fn roles(&self) -> Result<RoleTable, HostError> {
        Ok(self
            .default_roles
            .clone()
            .with_roles_file(&self.config.roles_file)?)
    }

    /// The MCP clients of this tenant: `<home>/clients.json`, or the shared database's rows
    /// of the tenant, so every replica on it knows the same clients and revocations.
    pub fn clients(&self) -> ClientRegistry {
        match &self.config.state {
            StateBackend::Embedded => ClientRegistry::in_home(&self.config.home),
            StateBackend::Postgres { db, tenant, .. } => {
                ClientRegistry::new(Arc::new(PgClients::new(db.clone(), tenant.clone())))
            }
        }
    }
}
