//! The outbound gate: every request a plugin makes passes through here, and only here.

pub(crate) mod admission;
pub(crate) mod allowed_origins;
pub(crate) mod body_hooks;
pub(crate) mod classify;
pub(crate) mod failure;
pub(crate) mod gate;
pub(crate) mod in_flight;
pub(crate) mod ledger;
pub(crate) mod origin;
pub(crate) mod policy;
pub(crate) mod pool;
pub(crate) mod response_body;
pub(crate) mod response_facts;
pub(crate) mod retry;
pub(crate) mod routes;
pub(crate) mod tls;
pub(crate) mod token_endpoint;
pub(crate) mod tool_routes;
pub(crate) mod transport;
pub(crate) mod upstream_request;

pub use allowed_origins::AllowedOrigins;
pub use failure::GateFailure;
pub use gate::OutboundGate;
pub use ledger::{CallLedger, ExchangeObserver, Observed, UpstreamExchange};
pub use origin::{Origin, OriginError, Scheme};
pub use policy::OutboundPolicy;
pub use response_facts::{ResponseFacts, TaskCounts};
pub use retry::RetryPolicy;
pub use routes::UpstreamRoutes;
pub use transport::Timeouts;
