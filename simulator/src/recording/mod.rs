//! What the simulator remembers of each request, for tests to inspect. The middleware that
//! fills it is [`layer`].

pub(crate) mod layer;

/// One request as the simulator received it. The `Authorization` header value and any
/// `client_secret` in a token request body are redacted.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    pub had_bearer_token: bool,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// The response body as sent (lossy UTF-8), when the simulator knew it in full: `None`
    /// for an empty body, a body larger than [`MAX_RECORDED_RESPONSE_BYTES`], a streamed one
    /// (fault bodies) or a cut connection. An `access_token` in a token response is redacted.
    pub response_body: Option<String>,
    /// The response `Content-Type`, if any.
    pub response_content_type: Option<String>,
}

/// Response bodies larger than this are not kept in [`RecordedRequest::response_body`].
pub const MAX_RECORDED_RESPONSE_BYTES: usize = 1024 * 1024;
