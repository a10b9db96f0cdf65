//! `toolhost mcp`: serve the plugin's tools to MCP clients (stdio, or streamable HTTP).

use crate::mcp::{self, HttpOptions, Identity, McpOptions, McpServer};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use toolhost_host::ToolHost;

#[derive(clap::Args, Debug)]
pub struct McpArgs {
    /// Serve streamable HTTP on this address (e.g. 127.0.0.1:8765; port 0 picks one) at
    /// /mcp, instead of stdio.
    #[arg(long, value_name = "ADDR", value_parser = parse_addr)]
    http: Option<SocketAddr>,
    /// stdio: run every call as this client (`toolhost clients add`), in its role.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["http", "role"])]
    client: Option<String>,
    /// The role of calls that identify no client (stdio without --client, or --no-auth):
    /// default your operator role (`[operator] role` in toolhost.toml); --as may only lower
    /// it. A client's role is its own.
    #[arg(long = "as", value_name = "ROLE")]
    role: Option<String>,
    /// --http without authentication, for local testing: loopback only; every request runs
    /// in the --as role with no client identity.
    #[arg(long, requires = "http")]
    no_auth: bool,
    /// Allow --http to bind a non-loopback address (every request still needs a client token).
    #[arg(long, requires = "http")]
    allow_remote: bool,
    /// Also accept this Host header (`name` or `name:port`); repeatable.
    #[arg(long = "allow-host", value_name = "HOST", requires = "http")]
    allow_hosts: Vec<String>,
    /// Also accept this Origin header (`https://app.example.com`); repeatable.
    #[arg(long = "allow-origin", value_name = "ORIGIN", requires = "http")]
    allow_origins: Vec<String>,
    /// The admin UI's address (what `toolhost ui` serves, e.g. http://127.0.0.1:8766): a
    /// 2026-07-28 client that may not approve is sent to the UI's page of the pending approval.
    #[arg(long, value_name = "URL", value_parser = parse_approvals_url)]
    approvals_url: Option<String>,
}

fn parse_approvals_url(text: &str) -> Result<String, String> {
    let url = text.trim().trim_end_matches('/');
    let parsed: http::Uri = url.parse().map_err(|e| {
        format!("`{text}` is not a URL ({e}): use http://HOST:PORT of `toolhost ui`")
    })?;
    match (parsed.scheme_str(), parsed.authority()) {
        (Some("http" | "https"), Some(_)) if parsed.query().is_none() => Ok(url.to_string()),
        _ => Err(format!(
            "`{text}` is not the admin UI's address: use http://HOST:PORT (or https://...) of `toolhost ui`, without a query"
        )),
    }
}

fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    if let Some(port) = text.strip_prefix("localhost:") {
        let port: u16 = port.parse().map_err(|e| format!("port `{port}`: {e}"))?;
        return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    }
    if let Ok(port) = text.trim_start_matches(':').parse::<u16>() {
        return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    }
    Err(format!(
        "`{text}` is not an address: use IP:PORT such as 127.0.0.1:8765"
    ))
}

/// Why `--as` was refused: with authentication on, each client's role is its record's.
#[derive(Debug, thiserror::Error)]
#[error("--as does not apply to `toolhost mcp --http`: each request runs in the role of the client whose token it carries. Change a client's role by adding a client with `toolhost clients add NAME --role ROLE`, or use --no-auth for local testing")]
struct RoleWithAuth;

pub async fn run(
    host: ToolHost,
    args: McpArgs,
    command_flags: Option<String>,
) -> anyhow::Result<()> {
    let identity = match (&args.http, &args.client, args.no_auth) {
        (None, None, _) => Identity::StdioAnonymous,
        (None, Some(name), _) => {
            // Refuse an unknown or revoked client now, not at its first call.
            host.clients().active(name).await?;
            Identity::StdioClient(name.clone())
        }
        (Some(_), _, true) => Identity::NoAuth,
        (Some(_), _, false) => Identity::Bearer,
    };
    if matches!(identity, Identity::Bearer) && args.role.is_some() {
        return Err(RoleWithAuth.into());
    }
    // Calls that identify no client run in the operator's role: `--as` may only lower it,
    // exactly as for `toolhost call`, so a command line cannot claim more than the
    // operator's settings grant.
    let role = match &identity {
        Identity::StdioAnonymous | Identity::NoAuth => {
            host.operator_call_role(args.role.as_deref())?
        }
        _ => args.role,
    };
    let auth = matches!(identity, Identity::Bearer).then(|| host.clients());
    let options = McpOptions {
        identity,
        role,
        command_flags,
        approvals_url: args.approvals_url,
    };
    let host = Arc::new(host);
    let Some(bind) = args.http else {
        return mcp::serve_stdio(host, options).await;
    };
    let http = HttpOptions {
        bind,
        allow_remote: args.allow_remote,
        allowed_hosts: args.allow_hosts,
        allowed_origins: args.allow_origins,
        auth: auth.clone(),
    };
    let (listener, guard) = mcp::http::bind(&http).await?;
    let bound = listener.local_addr()?;
    if auth.is_none() {
        eprintln!(
            "warning: --no-auth: every request to this server calls tools without a client identity, in the server's role (local testing only)"
        );
    } else if !bound.ip().is_loopback() {
        eprintln!(
            "warning: serving MCP on {bound}, reachable beyond this machine (every request still needs a client token)"
        );
    }
    eprintln!(
        "toolhost MCP server listening on http://{bound}{} (Ctrl-C stops it)",
        mcp::http::MCP_PATH
    );
    let server = McpServer::new(host, options).await;
    mcp::http::serve(server, listener, guard, auth, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::parse_approvals_url;

    #[test]
    fn the_approvals_url_is_the_ui_address() {
        assert_eq!(
            parse_approvals_url("http://127.0.0.1:8766/").unwrap(),
            "http://127.0.0.1:8766"
        );
        assert!(parse_approvals_url("https://ui.example.com").is_ok());
        for bad in ["127.0.0.1:8766", "ftp://x", "http://x/?a=1", "not a url"] {
            let err = parse_approvals_url(bad).unwrap_err();
            assert!(err.contains("toolhost ui"), "{bad}: {err}");
        }
    }
}
