//! The seam between the client registry and where its records live: `<home>/clients.json`
//! on one machine ([`super::FileClients`]), a database table when several replicas serve the
//! same clients (toolhost-state's `PgClients`). Every method reads the store as it is now, so
//! a revocation through any replica applies to the next request on every other one.

use super::error::ClientError;
use super::record::ClientRecord;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Where the clients of one tenant are kept. Names are checked, roles resolved and tokens
/// drawn by [`super::ClientRegistry`] before a store sees them; a store only keeps records.
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Where the records are, for the operator's messages (a path, or a database and tenant).
    fn location(&self) -> String;

    /// Every client, revoked ones included, in creation order.
    async fn list(&self) -> Result<Vec<ClientRecord>, ClientError>;

    /// The client named `name`, revoked or not; [`ClientError::Unknown`] when there is none.
    async fn get(&self, name: &str) -> Result<ClientRecord, ClientError>;

    /// Adds `record`; [`ClientError::Duplicate`] when its name is taken (revoked clients
    /// included), decided by the store so that two adds racing each other cannot both win.
    async fn insert(&self, record: &ClientRecord) -> Result<(), ClientError>;

    /// Marks `name` revoked at `at`, keeping an earlier revocation's time.
    async fn revoke(&self, name: &str, at: DateTime<Utc>) -> Result<ClientRecord, ClientError>;

    /// Allows or forbids approvals through elicitation for `name`.
    async fn set_elicitation_approvals(
        &self,
        name: &str,
        allow: bool,
    ) -> Result<ClientRecord, ClientError>;

    /// The active client whose token hashes to `token_sha256` (lowercase hex), if any.
    async fn find_active(&self, token_sha256: &str) -> Result<Option<ClientRecord>, ClientError>;
}
