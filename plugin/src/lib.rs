//! ConnectWise RMM (Asio) tools as a sandboxed WASI 0.2 component of the `toolhost:plugin` world.
//!
//! Everything except [`component`] is plain Rust so the logic is unit-tested natively; the
//! component module only binds the WIT exports and the wasip2 transport to it.

pub use cw_rmm_alloc as alloc;
pub mod args;
pub mod catalog;
pub mod errors;
pub mod http;
pub mod preview;
pub use cw_rmm_pruned as pruned;
pub mod region;
pub mod roles;
pub mod routes;
pub mod schedule;
pub mod script_tools;
pub mod shape;
pub mod time;
pub mod tools;

#[cfg(target_arch = "wasm32")]
mod component;
#[cfg(target_arch = "wasm32")]
mod wasi_http;

pub const PLUGIN_ID: &str = "connectwise_rmm";
pub const PLUGIN_NAME: &str = "ConnectWise RMM";
pub const PLUGIN_DESCRIPTION: &str = "ConnectWise RMM (Asio platform): companies, sites, devices and their live health and patches, device groups, scripts and scheduled tasks with their results, and service tickets. Each active shell script is also offered as its own tool.";
pub const TOKEN_PATH: &str = "/v1/token";
/// The Asio token endpoint takes a JSON body (asio-api.md §1.2).
pub const TOKEN_BODY_ENCODING: &str = "json";
/// The read and create scopes the tools need.
pub const SCOPES: &[&str] = &[
    "platform.companies.read",
    "platform.sites.read",
    "platform.devices.read",
    "platform.asset.read",
    "platform.deviceGroups.read",
    "platform.automation.read",
    "platform.automation.create",
    "platform.patching.read",
    "platform.tickets.read",
    "platform.tickets.create",
];
