//! The host's view of its MCP clients: the registry in its home, and the role table a
//! client's role is checked against when it is created.

use crate::error::HostError;
use crate::host::ToolHost;
use toolhost_governance::{ClientRegistry, RoleTable};

impl ToolHost {
    /// The role table calls are admitted with right now: the plugin's permission matrix,
    /// changed by `roles.toml` (read now, so an operator's edit counts).
    pub fn roles(&self) -> Result<RoleTable, HostError> {
        Ok(self
            .default_roles
            .clone()
            .with_roles_file(&self.config.roles_file)?)
    }

    /// The MCP clients of this home (`<home>/clients.json`).
    pub fn clients(&self) -> ClientRegistry {
        ClientRegistry::in_home(&self.config.home)
    }
}
