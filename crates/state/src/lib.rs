//! The state a host shares with its replicas: see the crate description.
#![warn(missing_docs)]

mod approvals;
mod audit;
mod database;
mod database_tls;
mod error;
mod migrations;
pub use approvals::PgApprovals;
pub use audit::PgAudit;
pub use database::Database;
pub use database_tls::{DatabaseTrust, DATABASE_CA_FILE_ENV};
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub use error::StateError;

mod clients;
mod mcp_state;
pub use clients::PgClients;
pub use mcp_state::{McpStateError, PgRequestStates};

mod connections;
pub use connections::{ConnectionStoreError, PgConnections, StoredConnection};

mod sealing;
pub use sealing::{
    OpenError, SealError, SealingKey, SealingKeyError, STATE_KEY_ENV, STATE_KEY_FILE_ENV,
};

mod tokens;
pub use tokens::PgTokens;

mod grants;
pub use grants::PgGrants;

mod passkeys;
mod ui_sessions;
pub use passkeys::{PgCeremonies, PgPasskeys, StoredPasskeys};
pub use ui_sessions::{LaunchExchange, PgUiSessions, SessionStore};

mod catalogs;
pub use catalogs::{CatalogKey, CatalogRefresh, PgCatalogs, StoredCatalog};
