//! Why no access token could be had. Each message says what the operator can do about it.

use std::time::Duration;

/// Why no access token could be had. Each message says what the operator can do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// The client id or secret is wrong (`invalid_client`, or a 401 from the token endpoint).
    #[error("the API rejected the client id or secret ({message}); run `toolhost connect` with the correct credentials")]
    InvalidClient {
        /// The endpoint's own explanation, with the secret scrubbed.
        message: String,
    },
    /// The key may not have the requested scopes (`invalid_scope`).
    #[error("the API refused the requested scopes ({message}); grant them to the API key in the Asio portal or request fewer with `toolhost connect --scopes`")]
    InvalidScope {
        /// The endpoint's own explanation, with the secret scrubbed.
        message: String,
    },
    /// The key is locked for minting too often (HTTP 423); no mint is tried until it lifts.
    #[error("the API has locked this API key after too many token requests (HTTP 423); wait {} s before trying again", retry_after.as_secs())]
    Locked {
        /// How long until the next mint may be tried.
        retry_after: Duration,
    },
    /// The token endpoint could not be reached.
    #[error(
        "could not reach the token endpoint {origin}: {detail}; check the region and the network"
    )]
    Unreachable {
        /// The token endpoint's origin.
        origin: String,
        /// The transport error.
        detail: String,
    },
    /// Any other non-success answer from the token endpoint.
    #[error("the token endpoint answered HTTP {status}: {message}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The endpoint's explanation, with the secret scrubbed.
        message: String,
    },
    /// A success answer without a usable `access_token`.
    #[error("the token endpoint returned an unusable answer: {detail}")]
    MalformedResponse {
        /// What was wrong with it.
        detail: String,
    },
    /// The token file the home's processes share could not be used.
    #[error("cannot use the shared token file {path}: {detail}; make the toolhost home directory writable by this user")]
    Store {
        /// The file (the token file or its lock file).
        path: String,
        /// The I/O error.
        detail: String,
    },
    /// The shared token store (a database several replicas share, say) failed: the call
    /// cannot know whether another replica holds a token, so it does not mint one.
    #[error("cannot use the shared token store ({store}): {detail}")]
    StoreUnavailable {
        /// What the store is (never a password).
        store: String,
        /// What failed, and what to do about it.
        detail: String,
    },
    /// Another process held the token lock for longer than any token request can take.
    #[error("another toolhost process has held {path} for {} s while requesting a token; wait for it, or end that process if it hangs", waited.as_secs())]
    StoreBusy {
        /// The lock file.
        path: String,
        /// How long this process waited.
        waited: Duration,
    },
}
