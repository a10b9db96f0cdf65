//! One client as stored: its name, role, the hash of its token and its flags.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The registry's file name in the home directory.
pub const CLIENTS_FILE: &str = "clients.json";

/// A named client. The token itself is never stored: only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRecord {
    /// Unique; what the audit log records as the caller.
    pub name: String,
    /// The role every call of this client runs as, in the role table's spelling.
    pub role: String,
    /// Lowercase hex SHA-256 of the token.
    pub token_sha256: String,
    /// When the operator created it.
    pub created: DateTime<Utc>,
    /// When it was revoked; a revoked client cannot authenticate.
    #[serde(default)]
    pub revoked: Option<DateTime<Utc>>,
    /// Whether the MCP server may ask this client's user to approve a call through
    /// elicitation. Off by default: a person at the client is not the operator, so approving
    /// there is a permission the operator grants per client.
    #[serde(default)]
    pub elicitation_approvals: bool,
}

impl ClientRecord {
    /// Not revoked.
    pub fn is_active(&self) -> bool {
        self.revoked.is_none()
    }
}

/// The file's layout: versioned so a later format can be told apart.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct ClientsFile {
    pub version: u32,
    #[serde(default)]
    pub clients: Vec<ClientRecord>,
}
