//! Why the gate stopped a request. The guest only ever sees a WASI error code; this is what
//! the host reports instead, so every variant names what an operator needs to act on.

use crate::credentials::oauth2::CredentialError;

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
    /// The call already used up its per-call request budget.
    #[error(
        "outbound request denied: this call already made {limit} requests, the per-call limit"
    )]
    RequestLimit {
        /// The per-call request cap.
        limit: u32,
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
