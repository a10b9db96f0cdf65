//! The outbound gate: every request a plugin makes passes through here, and only here.

pub mod allowed_origins;
pub mod gate;
pub mod origin;
pub mod retry;
pub mod routes;
pub mod transport;

pub use allowed_origins::AllowedOrigins;
pub use gate::{CallLedger, GateFailure, OutboundGate, OutboundPolicy};
pub use origin::{Origin, OriginError, Scheme};
pub use retry::RetryPolicy;
pub use routes::UpstreamRoutes;
pub use transport::Timeouts;
