//! `toolhost mcp`: serve the plugin's tools to MCP clients (stdio, or streamable HTTP).

use crate::mcp::{self, HttpOptions, McpOptions, McpServer};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use toolhost_host::ToolHost;

#[derive(clap::Args, Debug)]
pub struct McpArgs {
    /// Serve streamable HTTP on this address (e.g. 127.0.0.1:8765; port 0 picks one) at
    /// /mcp, instead of stdio.
    #[arg(long, value_name = "ADDR", value_parser = parse_addr)]
    http: Option<SocketAddr>,
    /// The role every call runs as (default: the policy file's default_role, else Technician).
    #[arg(long = "as", value_name = "ROLE")]
    role: Option<String>,
    /// Allow --http to bind a non-loopback address (anyone who reaches it can call the tools).
    #[arg(long, requires = "http")]
    allow_remote: bool,
    /// Also accept this Host header (`name` or `name:port`); repeatable.
    #[arg(long = "allow-host", value_name = "HOST", requires = "http")]
    allow_hosts: Vec<String>,
    /// Also accept this Origin header (`https://app.example.com`); repeatable.
    #[arg(long = "allow-origin", value_name = "ORIGIN", requires = "http")]
    allow_origins: Vec<String>,
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

pub async fn run(host: ToolHost, args: McpArgs, home_flag: Option<String>) -> anyhow::Result<()> {
    let options = McpOptions {
        role: args.role,
        home_flag,
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
    };
    let (listener, guard) = mcp::http::bind(&http).await?;
    let bound = listener.local_addr()?;
    if !bound.ip().is_loopback() {
        eprintln!(
            "warning: serving MCP on {bound}, reachable beyond this machine: every client that reaches it calls tools as the server's role"
        );
    }
    eprintln!(
        "toolhost MCP server listening on http://{bound}{} (Ctrl-C stops it)",
        mcp::http::MCP_PATH
    );
    let server = McpServer::new(host, options);
    mcp::http::serve(server, listener, guard, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
