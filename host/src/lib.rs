//! toolhost: runs sandboxed WebAssembly tool plugins for AI agents.
//!
//! - [`runtime`]: wasmtime, the component, a fresh Store per call, limits.
//! - [`outbound`]: the gate every plugin request crosses (allowlist, routes, credentials).
//! - [`credentials`]: OAuth2 client credentials held by the host, never by the plugin.
//! - [`host`]: the front door shared by the CLI, the MCP server and the web UI.

// Host errors carry the details an operator needs (paths, line numbers, upstream
// statuses); they travel on the cold path only, so their size does not matter.
#![allow(clippy::result_large_err)]

pub mod approvals;
pub mod arguments;
pub mod audit;
pub mod calls;
pub mod catalog;
pub mod conformance;
pub mod connection;
pub mod credentials;
pub mod error;
pub mod host;
pub mod mcp;
pub mod outbound;
pub mod policy;
pub mod roles;
pub mod runtime;
pub mod settings;
pub mod ui;

pub use calls::{ApprovalAnswer, Approver, Caller, DeferApprovals, StaticApprover};
pub use error::HostError;
pub use host::{CallReport, HostConfig, ToolEntry, ToolHost};
