//! What one connection lets its plugin do on the network, shared by every call through it.

use super::allowed_origins::AllowedOrigins;
use super::origin::Origin;
use super::retry::RetryPolicy;
use super::routes::UpstreamRoutes;
use super::transport::Timeouts;
use crate::credentials::oauth2::TokenProvider;
use std::sync::Arc;

/// What one connection allows, shared by all calls made through it.
pub struct OutboundPolicy {
    /// The exact origins a plugin may address; everything else is denied.
    pub allowed: AllowedOrigins,
    /// Where the host really connects for an allowed origin (e.g. a simulator or proxy).
    pub routes: UpstreamRoutes,
    /// Mints the bearer token and the origins it may be sent to.
    pub credentials: Option<(Arc<TokenProvider>, Vec<Origin>)>,
    /// The host's network timeouts; a plugin may only tighten them.
    pub timeouts: Timeouts,
    /// When idempotent requests are sent again after a transient failure.
    pub retry: RetryPolicy,
    /// Requests one tool call may send upstream, retries and 401 replays included; the
    /// next one is denied.
    pub max_requests_per_call: u32,
    /// Requests one tool call may have in flight at once (sent, answer not yet read).
    pub max_in_flight_per_call: u32,
    /// Largest request body a plugin may send.
    pub max_request_body_bytes: u64,
    /// Largest response body handed back to the plugin.
    pub max_response_body_bytes: u64,
    /// The `User-Agent` every upstream request carries, whatever the plugin set.
    pub user_agent: String,
}

impl OutboundPolicy {
    /// A policy that lets nothing out: for `metadata` and `list-tools`, which must not use
    /// the network.
    pub(crate) fn deny_all() -> OutboundPolicy {
        OutboundPolicy {
            allowed: AllowedOrigins::none(),
            routes: UpstreamRoutes::new(),
            credentials: None,
            timeouts: Timeouts::default(),
            retry: RetryPolicy::none(),
            max_requests_per_call: 0,
            max_in_flight_per_call: 0,
            max_request_body_bytes: 0,
            max_response_body_bytes: 0,
            user_agent: String::new(),
        }
    }
}
