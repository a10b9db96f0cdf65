//! MCP clients: the agents an operator has named, each with a role and a bearer token.
//!
//! A client is created by an operator (`toolhost clients add`), which prints its token once;
//! only the token's SHA-256 is kept: in `<home>/clients.json` (0600) on one machine, or in the
//! shared database when several replicas serve the same clients ([`ClientStore`]). A request
//! that presents the token runs as that client, in the role its record names: the role is
//! never taken from the request. Revoking keeps the record (the audit log still names it) but
//! its token stops working at once, because the store is read on every authentication.

mod error;
mod file_store;
mod record;
mod registry;
mod store;
mod token;

pub use error::ClientError;
pub use file_store::FileClients;
pub use record::{ClientRecord, CLIENTS_FILE};
pub use registry::ClientRegistry;
pub use store::ClientStore;
pub use token::{ClientToken, TOKEN_PREFIX};
