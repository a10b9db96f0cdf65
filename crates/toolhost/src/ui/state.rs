//! What every handler of the admin UI shares.

use super::guard::AllowedHosts;
use super::sessions::Sessions;
use std::sync::Arc;
use tokio::sync::RwLock;
use toolhost_host::ToolHost;

/// What every handler shares.
pub struct UiState {
    pub host: Arc<RwLock<ToolHost>>,
    pub sessions: Sessions,
    pub allowed: AllowedHosts,
    pub operator: String,
    pub upstream: Option<String>,
}

impl UiState {
    /// The name calls and approvals from this UI carry.
    pub fn actor(&self) -> String {
        format!("ui:{}", self.operator)
    }
}
