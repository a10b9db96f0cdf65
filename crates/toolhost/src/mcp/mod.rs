//! `toolhost mcp`: the plugin's tools for any MCP client, over stdio or streamable HTTP,
//! through the same call path as the CLI (roles, policy, approvals, audit, limits).
//!
//! - [`names`]: host names (`plugin:tool`) <-> MCP names (`plugin__tool`), in one place.
//! - [`server`]: the rmcp `ServerHandler` (tools/list, tools/call, list_changed).
//! - [`approver`]: approvals asked through MCP elicitation.
//! - [`http`]: the streamable HTTP transport and its Host/Origin guard.
//! - [`auth`]: bearer authentication of HTTP requests against the client registry.
//! - [`identity`]: who a call runs as (a named client in its role, or nobody identified).

mod approver;
mod auth;
pub mod http;
mod identity;
mod names;
mod server;

pub use http::HttpOptions;
pub use identity::Identity;
pub use server::{McpOptions, McpServer};

use rmcp::ServiceExt;
use std::sync::Arc;
use toolhost_host::ToolHost;

/// Serves MCP on stdin/stdout until the client closes the stream.
pub async fn serve_stdio(host: Arc<ToolHost>, options: McpOptions) -> anyhow::Result<()> {
    let server = McpServer::new(host, options);
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| anyhow::anyhow!("the MCP handshake on stdio failed: {e}"))?;
    running.waiting().await?;
    Ok(())
}
