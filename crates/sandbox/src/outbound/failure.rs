//! Why the gate stopped a request. The guest only ever sees a WASI error code; this is what
//! the host reports instead, so every variant names what an operator needs to act on.

use crate::credentials::error::CredentialError;

/// Why the gate stopped a request, recorded in the call's [`CallLedger`](super::CallLedger).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateFailure {
    /// The request's origin is not on the allowlist (scheme, host and port must all match).
    #[error("outbound request to {origin} denied: not on the allowlist (allowed: {allowed})")]
    OriginDenied {
        /// The origin the plugin asked for, with its port made explicit.
        origin: String,
        /// The allowlist, as [`AllowedOrigins::describe`](super::AllowedOrigins::describe) puts it.
        allowed: String,
    },
    /// The request URI has no usable origin (no scheme, a scheme other than http(s), user info).
    #[error("outbound request denied: {reason}")]
    Malformed {
        /// What is wrong with the URI.
        reason: String,
    },
    /// The call already used up its per-call request budget. Every request sent upstream
    /// counts: retries and the replay after a 401 too.
    #[error(
        "outbound request denied: this call already made {limit} requests (retries and 401 replays included), the per-call limit; raise `outbound.max_requests_per_call` in toolhost.toml if the tool needs more"
    )]
    RequestLimit {
        /// The per-call request cap.
        limit: u32,
    },
    /// The call already has as many requests in flight as it may (sent and not yet fully
    /// answered): a plugin may not open requests faster than it reads their answers.
    #[error(
        "outbound request denied: this call already has {limit} requests in flight, the per-call limit; await earlier responses first, or raise `outbound.max_in_flight_per_call` in toolhost.toml"
    )]
    InFlightLimit {
        /// The per-call in-flight cap.
        limit: u32,
    },
    /// The plugin addressed the credential's token endpoint. Only the host requests tokens:
    /// a plugin that could would see or burn the host's credentials (the API locks a key
    /// that mints too often).
    #[error("outbound request denied: {method} {path} is the token endpoint of the host's credential; only the host requests tokens, the plugin gets them injected")]
    TokenEndpoint {
        /// The HTTP method the plugin used.
        method: String,
        /// The path the plugin asked for, as it asked (without the query).
        path: String,
    },
    /// The request is not one of the routes the tool being called declared (a read-only tool
    /// trying to write, a tool reaching an endpoint it never declared).
    #[error("outbound request denied: `{tool}` may not send {method} {path}: it is not one of the routes the tool declared")]
    NotARoute {
        /// The tool being called (`(unscoped call)` when none was).
        tool: String,
        /// The HTTP method of the request.
        method: String,
        /// The path asked for (without the query).
        path: String,
    },
    /// The request body is larger than the host lets a plugin send.
    #[error("outbound request denied: the request body exceeds {limit} bytes")]
    RequestBodyTooLarge {
        /// The request-body cap in bytes.
        limit: u64,
    },
    /// No bearer token could be obtained for a credentialed origin.
    #[error("{0}")]
    Credentials(CredentialError),
    /// Upstream could not be reached, or a request that was safe to lose got no answer.
    #[error("could not reach {origin}: {detail}")]
    Transport {
        /// The origin the plugin addressed (not the route it was sent to).
        origin: String,
        /// The transport error.
        detail: String,
    },
    /// A write may have reached upstream but no answer came back: it may or may not have
    /// taken effect, so it is neither retried nor reported as a plain failure.
    #[error("outcome unknown: {method} {path} on {origin} got no answer ({detail}); it may or may not have taken effect, so check (for example list the tasks or tickets) before trying again. The host did not retry it")]
    WriteOutcomeUnknown {
        /// The HTTP method of the write.
        method: String,
        /// The origin the plugin addressed.
        origin: String,
        /// The request path (without the query).
        path: String,
        /// The transport error.
        detail: String,
    },
}
