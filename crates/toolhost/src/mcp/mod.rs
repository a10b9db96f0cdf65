//! `toolhost mcp`: the plugin's tools for any MCP client, over stdio or streamable HTTP,
//! through the same call path as the CLI (roles, policy, approvals, audit, limits).
//!
//! - [`names`]: host names (`plugin:tool`) <-> MCP names (`plugin__tool`), in one place.
//! - [`server`]: the rmcp `ServerHandler` (tools/list, tools/call, list_changed), serving
//!   2025-11-25 (sessions) and 2026-07-28 (stateless) to whichever client arrives.
//! - [`approver`]: approvals asked through MCP elicitation (2025-11-25 sessions).
//! - [`approval_round`]: approvals on 2026-07-28, as input-required results.
//! - [`call_result`]: a tool's result as a `CallToolResult` (direct or approved calls).
//! - [`request_state`]: the signed, bound, single-use `requestState` of those rounds.
//! - [`http`]: the streamable HTTP transport and its Host/Origin guard.
//! - [`auth`]: bearer authentication of HTTP requests against the client registry.
//! - [`identity`]: who a call runs as (a named client in its role, or nobody identified).

mod approval_round;
mod approver;
mod auth;
mod call_result;
pub mod http;
mod identity;
mod names;
mod request_state;
mod server;

pub use http::HttpOptions;
pub use identity::Identity;
pub use server::{command_flags, McpOptions, McpServer};

use rmcp::ServiceExt;
use std::sync::Arc;
use toolhost_host::ToolHost;

/// Serves MCP on stdin/stdout until the client closes the stream.
pub async fn serve_stdio(host: Arc<ToolHost>, options: McpOptions) -> anyhow::Result<()> {
    let server = McpServer::new(host, options).await;
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| anyhow::anyhow!("the MCP handshake on stdio failed: {e}"))?;
    running.waiting().await?;
    Ok(())
}
