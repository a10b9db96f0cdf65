//! Who a tools/call runs as. A named client's role comes from its record, read on every call
//! (so a revocation or a changed flag applies at once), never from the request or `--as`.
//! Without a client identity the server's role (`--as`, else the default) applies and the
//! audit caller says that nobody was identified.

use toolhost_governance::ClientRecord;
use toolhost_host::ToolHost;

/// How a server identifies the callers of its tools.
#[derive(Debug, Clone, Default)]
pub enum Identity {
    /// stdio without `--client`: the server's role, recorded as unidentified.
    #[default]
    StdioAnonymous,
    /// stdio with `--client NAME`: every call runs as that client.
    StdioClient(String),
    /// `--http`: each request carries a client's bearer token ([`super::auth`]).
    Bearer,
    /// `--http --no-auth` (loopback only): the server's role, recorded as unidentified.
    NoAuth,
}

/// Put into a request's extensions by the HTTP authentication layer: the client whose token
/// the request carried.
#[derive(Debug, Clone)]
pub struct AuthenticatedClient(pub ClientRecord);

/// What one call runs as.
pub struct CallIdentity {
    /// The audit log's caller.
    pub caller: String,
    /// `None`: the server's default role.
    pub role: Option<String>,
    /// Whether approval may be asked through elicitation.
    pub elicitation_approvals: bool,
}

impl CallIdentity {
    fn of(client: ClientRecord) -> CallIdentity {
        CallIdentity {
            caller: client.name,
            role: Some(client.role),
            elicitation_approvals: client.elicitation_approvals,
        }
    }
}

/// The identity of a call. `peer_name` is the name the MCP client gave itself (unverified,
/// so it only ever labels an unidentified caller); `authenticated` is what the HTTP layer
/// established. `Err` is the message to return instead of running anything.
pub async fn resolve(
    identity: &Identity,
    host: &ToolHost,
    server_role: Option<&str>,
    peer_name: &str,
    authenticated: Option<&AuthenticatedClient>,
) -> Result<CallIdentity, String> {
    let anonymous = |how: &str| CallIdentity {
        caller: format!("mcp:{peer_name} ({how})"),
        role: server_role.map(str::to_string),
        // Approving is a permission an operator grants to a named client; nobody is named here.
        elicitation_approvals: false,
    };
    match identity {
        Identity::StdioAnonymous => Ok(anonymous("stdio without --client")),
        Identity::NoAuth => Ok(anonymous("--no-auth")),
        Identity::StdioClient(name) => host
            .clients()
            .active(name)
            .await
            .map(CallIdentity::of)
            .map_err(|e| e.to_string()),
        // The HTTP layer refuses a request without a valid token before it reaches here;
        // this is the second lock on the same door.
        Identity::Bearer => authenticated
            .map(|a| CallIdentity::of(a.0.clone()))
            .ok_or_else(|| "this request carries no client identity".to_string()),
    }
}
