//! What every handler of the admin UI shares.

use super::guard::AllowedHosts;
use super::passkeys::Passkeys;
use super::sessions::Sessions;
use std::sync::Arc;
use tokio::sync::RwLock;
use toolhost_governance::ApproverName;
use toolhost_host::ToolHost;

/// What every handler shares.
pub struct UiState {
    pub host: Arc<RwLock<ToolHost>>,
    pub sessions: Sessions,
    pub allowed: AllowedHosts,
    /// The person the one-time link signs in (`toolhost ui --approver NAME`).
    pub approver: ApproverName,
    pub upstream: Option<String>,
    pub passkeys: Passkeys,
}

impl UiState {
    /// The name calls and approvals from this UI carry.
    pub fn actor(&self) -> String {
        format!("ui:{}", self.approver)
    }
}
