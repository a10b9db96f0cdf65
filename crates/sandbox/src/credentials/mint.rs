//! One OAuth2 client-credentials token request: what is sent, and how the answer is read.
//! Whether a request is made at all (caching, single flight, lock-out) is decided by the
//! [`TokenProvider`](super::oauth2::TokenProvider); this module only performs it.

use super::error::CredentialError;
use crate::outbound::origin::Origin;
use crate::outbound::routes::UpstreamRoutes;
use crate::outbound::transport::{self, Timeouts};
use bytes::Bytes;
use std::time::Duration;
use toolhost_base::{scrub, SecretString};

const MAX_TOKEN_RESPONSE_BYTES: u64 = 64 * 1024;
/// Without a Retry-After, a locked key is left alone this long before the next mint.
const DEFAULT_LOCK_BACKOFF: Duration = Duration::from_secs(60);

/// How the token request's body is encoded; the plugin declares which its API expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyEncoding {
    /// `application/json`.
    Json,
    /// `application/x-www-form-urlencoded`, the OAuth2 default.
    Form,
}

impl BodyEncoding {
    /// Reads the plugin's declared encoding (`json` or `form`).
    pub fn parse(text: &str) -> Option<BodyEncoding> {
        match text {
            "json" => Some(BodyEncoding::Json),
            "form" => Some(BodyEncoding::Form),
            _ => None,
        }
    }
}

/// Where and how to mint.
#[derive(Debug, Clone)]
pub struct TokenEndpoint {
    /// The origin the token is minted at (the real one; routes apply as for the plugin).
    pub origin: Origin,
    /// The token path, e.g. `/v1/token`.
    pub path: String,
    /// How the request body is encoded.
    pub encoding: BodyEncoding,
    /// Scopes to request, sent space-separated.
    pub scopes: Vec<String>,
    /// The `User-Agent` of the token request.
    pub user_agent: String,
}

/// The OAuth2 client id and secret the host holds on the plugin's behalf.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    /// The client id (not a secret; it appears in audit records).
    pub client_id: String,
    /// The client secret; redacted wherever it is printed.
    pub client_secret: SecretString,
}

/// Requests one token; returns it with its lifetime.
pub(crate) async fn mint(
    endpoint: &TokenEndpoint,
    credentials: &ClientCredentials,
    routes: &UpstreamRoutes,
    timeouts: Timeouts,
) -> Result<(SecretString, Duration), CredentialError> {
    let request = token_request(endpoint, credentials);
    let target = routes.resolve(&endpoint.origin);
    let options = timeouts.tightened_by(None);
    let response = transport::fetch(request, target, options, MAX_TOKEN_RESPONSE_BYTES)
        .await
        .map_err(|err| CredentialError::Unreachable {
            origin: endpoint.origin.url(),
            detail: err.to_string(),
        })?;
    let body = scrub(
        &String::from_utf8_lossy(&response.body),
        &[&credentials.client_secret],
    );
    let status = response.status.as_u16();
    if status == 423 {
        let retry_after = retry_after(&response.headers).unwrap_or(DEFAULT_LOCK_BACKOFF);
        return Err(CredentialError::Locked { retry_after });
    }
    if !response.status.is_success() {
        let (code, message) = oauth_error(&body);
        return Err(match (status, code.as_deref()) {
            (_, Some("invalid_client")) | (401, _) => CredentialError::InvalidClient { message },
            (_, Some("invalid_scope")) => CredentialError::InvalidScope { message },
            _ => CredentialError::Rejected { status, message },
        });
    }
    parse_token(&body)
}

fn token_request(
    endpoint: &TokenEndpoint,
    credentials: &ClientCredentials,
) -> http::Request<Bytes> {
    let scope = endpoint.scopes.join(" ");
    let (content_type, body) = match endpoint.encoding {
        BodyEncoding::Json => (
            "application/json",
            serde_json::json!({
                "grant_type": "client_credentials",
                "client_id": credentials.client_id,
                "client_secret": credentials.client_secret.expose(),
                "scope": scope,
            })
            .to_string(),
        ),
        BodyEncoding::Form => (
            "application/x-www-form-urlencoded",
            serde_urlencoded::to_string([
                ("grant_type", "client_credentials"),
                ("client_id", credentials.client_id.as_str()),
                ("client_secret", credentials.client_secret.expose()),
                ("scope", scope.as_str()),
            ])
            .unwrap_or_default(),
        ),
    };
    let uri = format!("{}{}", endpoint.origin.url(), endpoint.path);
    let mut request = http::Request::new(Bytes::from(body));
    *request.method_mut() = http::Method::POST;
    *request.uri_mut() = uri.parse().unwrap_or_default();
    let headers = request.headers_mut();
    let host = endpoint.origin.url();
    let host = host.split("://").nth(1).unwrap_or_default();
    for (name, value) in [
        ("host", host),
        ("content-type", content_type),
        ("accept", "application/json"),
        ("user-agent", endpoint.user_agent.as_str()),
    ] {
        if let Ok(value) = http::HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    request
}

/// Refresh a minute early, or at half-life for short-lived tokens.
pub(crate) fn refresh_margin(lifetime: Duration) -> Duration {
    if lifetime > Duration::from_secs(120) {
        lifetime - Duration::from_secs(60)
    } else {
        lifetime / 2
    }
}

/// A `Retry-After` given in seconds (an HTTP date is not understood: treated as absent).
pub(crate) fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let value = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn oauth_error(body: &str) -> (Option<String>, String) {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get(name))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let code = field("error");
    let message = field("error_description")
        .or_else(|| field("message"))
        .or_else(|| code.clone())
        .unwrap_or_else(|| body.chars().take(200).collect());
    (code, message)
}

fn parse_token(body: &str) -> Result<(SecretString, Duration), CredentialError> {
    #[derive(serde::Deserialize)]
    struct TokenResponse {
        access_token: String,
        expires_in: Option<u64>,
    }
    let parsed: TokenResponse =
        serde_json::from_str(body).map_err(|err| CredentialError::MalformedResponse {
            detail: format!("expected {{access_token, expires_in}}: {err}"),
        })?;
    if parsed.access_token.is_empty() {
        return Err(CredentialError::MalformedResponse {
            detail: "access_token is empty".into(),
        });
    }
    // The spec's example lifetime is 3599 s; without one, assume the documented hour.
    let lifetime = Duration::from_secs(parsed.expires_in.unwrap_or(3599).max(1));
    Ok((SecretString::new(parsed.access_token), lifetime))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshes_before_expiry() {
        assert_eq!(
            refresh_margin(Duration::from_secs(3599)),
            Duration::from_secs(3539)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(60)),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn reads_oauth_errors_of_any_shape() {
        let (code, msg) = oauth_error(r#"{"error":"invalid_client","error_description":"bad id"}"#);
        assert_eq!(
            (code.as_deref(), msg.as_str()),
            (Some("invalid_client"), "bad id")
        );
        let (code, msg) = oauth_error("Locked");
        assert_eq!((code, msg.as_str()), (None, "Locked"));
    }

    #[test]
    fn parses_the_token_response() {
        let (token, life) =
            parse_token(r#"{"access_token":"abc","token_type":"Bearer","expires_in":3599}"#)
                .unwrap();
        assert_eq!((token.expose(), life.as_secs()), ("abc", 3599));
        assert!(parse_token("<html>").is_err());
        assert!(parse_token(r#"{"access_token":""}"#).is_err());
    }

    #[test]
    fn the_token_request_carries_the_credentials_to_the_real_origin() {
        let endpoint = TokenEndpoint {
            origin: Origin::parse("https://api.example.com").unwrap(),
            path: "/v1/token".into(),
            encoding: BodyEncoding::Form,
            scopes: vec!["a.read".into(), "b.read".into()],
            user_agent: "ua/1".into(),
        };
        let credentials = ClientCredentials {
            client_id: "id".into(),
            client_secret: SecretString::new("s3cret"),
        };
        let request = token_request(&endpoint, &credentials);
        assert_eq!(request.method(), http::Method::POST);
        assert_eq!(request.uri(), "https://api.example.com/v1/token");
        assert_eq!(request.headers()["host"], "api.example.com");
        let body = String::from_utf8_lossy(request.body()).to_string();
        assert!(body.contains("client_secret=s3cret"), "{body}");
        assert!(body.contains("scope=a.read+b.read"), "{body}");
    }
}
