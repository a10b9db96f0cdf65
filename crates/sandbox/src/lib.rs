//! The sandbox: runs untrusted WebAssembly tool plugins of the `toolhost:plugin` world.
//!
//! - The runtime (wasmtime): a component compiled once (and cached on disk), a fresh Store per
//!   call from one pooled `InstancePre`, memory, time and output caps, a linker that offers the
//!   world's imports and nothing else ([`PluginRuntime`], [`LinkedPlugin`]).
//! - The outbound gate: every HTTP request a plugin makes crosses it, and only it. The gate
//!   decides whether the request may leave (exact origins, counts, sizes, timeouts), where it
//!   goes (upstream routes) and what it carries (the bearer token the plugin never sees)
//!   ([`OutboundPolicy`], [`GateFailure`]).
//! - Credentials: OAuth2 client credentials minted and cached by the host, one token per
//!   connection shared by every process of a home, or by every replica through another
//!   [`TokenBackend`] ([`TokenProvider`], [`TokenStore`]).
//!
//! This is the only toolhost crate that depends on wasmtime.

#![warn(missing_docs)]
// Errors carry the details an operator needs; they travel on the cold path only.
#![allow(clippy::result_large_err)]

mod credentials;
mod outbound;
mod runtime;

pub use credentials::{
    AccessToken, BodyEncoding, ClientCredentials, CredentialError, SharedToken, StoreError,
    StoreGuard, StoredToken, TokenBackend, TokenBinding, TokenEndpoint, TokenLock, TokenProvider,
    TokenStore, TOKEN_FILE, TOKEN_LOCK_FILE,
};
pub use outbound::{
    AllowedOrigins, CallLedger, GateFailure, Origin, OriginError, OutboundGate, OutboundPolicy,
    RetryPolicy, Scheme, Timeouts, UpstreamExchange, UpstreamRoutes,
};
pub use runtime::{
    is_valid_tool_name, is_world_import, Annotations, CallContext, CallFailure, CallLimits,
    CallOutcome, CompileReport, CompiledPlugin, ConfigKey, CredentialKind, DeclarationError,
    LinkedPlugin, LoadError, Occupancy, PluginMetadata, PluginPreview, PluginRuntime, PolicyHint,
    Region, RoleTemplate, RuntimeOptions, ToolDescriptor, ToolError,
};

pub use outbound::tool_routes::{Access, RouteError, ToolRoute, ToolRoutes};
pub use outbound::{ExchangeObserver, Observed, ResponseFacts, TaskCounts};

/// The raw types of the plugin world as the guest returns them, before the host checks them
/// (what `toolhost conformance` judges).
pub mod wit {
    pub use crate::runtime::bindings::wit::*;
}

/// The plain HTTP client the gate sends through, for a native baseline beside the sandbox
/// (benchmarks): no allowlist, no credentials.
pub mod native {
    pub use crate::outbound::transport::{fetch, BufferedResponse};
}

/// The process's TLS trust: the webpki roots, plus (only in builds with the `test-trust`
/// feature, which test and bench targets enable) roots that test code adds for a simulator
/// serving a certificate generated at test time.
pub mod tls {
    #[cfg(feature = "test-trust")]
    pub use crate::outbound::tls::trust_root_for_tests;
    pub use crate::outbound::tls::RootError;
}
