//! `toolhost clients`: the named agents that may use `toolhost mcp`, each with a role and a
//! bearer token that is printed once and stored only as a hash.

use super::display::escape;
use super::output::print_json;
use clap::Subcommand;
use toolhost_governance::ClientRecord;
use toolhost_host::ToolHost;

#[derive(Subcommand, Debug)]
pub enum ClientsCommand {
    /// Create a client and print its token (once: only its hash is kept).
    Add {
        /// Unique: letters, digits, `.`, `_`, `-`. The audit log records calls under it.
        name: String,
        /// The role every call of this client runs as (a role of the role table).
        #[arg(long)]
        role: String,
        /// Let this client's user approve calls through MCP elicitation.
        #[arg(long)]
        allow_elicitation: bool,
    },
    /// Every client: name, role, created, revoked (never a token).
    List,
    /// Revoke a client: its token stops working at the next request.
    Revoke { name: String },
    /// Change a client's flags.
    Set {
        name: String,
        /// Whether this client's user may approve calls through MCP elicitation.
        #[arg(long, value_name = "true|false", action = clap::ArgAction::Set)]
        allow_elicitation: bool,
    },
}

/// A client as listed: everything but the token's hash (not secret, but of no use to a reader).
fn summary(client: &ClientRecord) -> serde_json::Value {
    serde_json::json!({
        "name": client.name,
        "role": client.role,
        "created": client.created,
        "revoked": client.revoked,
        "elicitationApprovals": client.elicitation_approvals,
    })
}

pub async fn run(host: ToolHost, command: ClientsCommand, json: bool) -> anyhow::Result<()> {
    let registry = host.clients();
    match command {
        ClientsCommand::Add {
            name,
            role,
            allow_elicitation,
        } => {
            let roles = host.roles()?;
            let (client, token) = registry
                .add(&name, &role, &roles, allow_elicitation)
                .await?;
            if json {
                let mut shown = summary(&client);
                shown["token"] = serde_json::json!(token.expose());
                print_json(&shown);
            } else {
                println!(
                    "client `{}` created with role {}. Its token (shown only now; store it in the agent's MCP configuration as `Authorization: Bearer <token>`):\n{}",
                    escape(&client.name),
                    escape(&client.role),
                    token.expose()
                );
            }
        }
        ClientsCommand::List => {
            let clients = registry.list().await?;
            if json {
                print_json(&clients.iter().map(summary).collect::<Vec<_>>());
                return Ok(());
            }
            println!(
                "{:24}  {:20}  {:20}  {:20}  ELICITATION",
                "NAME", "ROLE", "CREATED", "REVOKED"
            );
            for c in &clients {
                let when =
                    |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S").to_string();
                println!(
                    "{:24}  {:20}  {:20}  {:20}  {}",
                    escape(&c.name),
                    escape(&c.role),
                    when(c.created),
                    c.revoked.map_or_else(|| "-".to_string(), when),
                    if c.elicitation_approvals {
                        "allowed"
                    } else {
                        "-"
                    }
                );
            }
        }
        ClientsCommand::Revoke { name } => {
            let client = registry.revoke(&name).await?;
            if json {
                print_json(&summary(&client));
            } else {
                println!(
                    "client `{}` revoked: its token no longer works",
                    escape(&client.name)
                );
            }
        }
        ClientsCommand::Set {
            name,
            allow_elicitation,
        } => {
            let client = registry
                .set_elicitation_approvals(&name, allow_elicitation)
                .await?;
            if json {
                print_json(&summary(&client));
            } else {
                println!(
                    "client `{}`: approvals through elicitation {}",
                    escape(&client.name),
                    if client.elicitation_approvals {
                        "allowed"
                    } else {
                        "not allowed"
                    }
                );
            }
        }
    }
    Ok(())
}
