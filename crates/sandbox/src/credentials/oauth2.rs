//! OAuth2 client credentials, performed by the host on the plugin's behalf.
//!
//! The Asio API locks a key that mints tokens too often (HTTP 423), so a token is minted
//! once, cached until shortly before it expires, refreshed single-flight (one mint however
//! many calls are waiting), and re-minted after a 401 only if nobody has done so already.

use crate::outbound::origin::Origin;
use crate::outbound::routes::UpstreamRoutes;
use crate::outbound::transport::{self, Timeouts};
use bytes::Bytes;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
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

/// A minted access token. `generation` tells a refresh after a 401 whether someone else
/// has already replaced the rejected token.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// The bearer token itself.
    pub value: SecretString,
    generation: u64,
}

#[cfg(test)]
impl AccessToken {
    /// A token that no provider minted, for tests of what the gate does with one.
    pub(crate) fn for_tests(value: &str) -> AccessToken {
        AccessToken {
            value: SecretString::new(value),
            generation: 0,
        }
    }
}

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
}

struct CachedToken {
    token: AccessToken,
    refresh_at: Instant,
}

#[derive(Default)]
struct TokenState {
    cached: Option<CachedToken>,
    locked_until: Option<Instant>,
    generation: u64,
}

/// Mints and caches the access token of one connection; shared by every call through it.
pub struct TokenProvider {
    endpoint: TokenEndpoint,
    credentials: ClientCredentials,
    routes: UpstreamRoutes,
    timeouts: Timeouts,
    state: Mutex<TokenState>,
    mints: AtomicU64,
}

impl TokenProvider {
    /// A provider that mints at `endpoint` (through `routes`) once a token is first needed.
    pub fn new(
        endpoint: TokenEndpoint,
        credentials: ClientCredentials,
        routes: UpstreamRoutes,
        timeouts: Timeouts,
    ) -> TokenProvider {
        TokenProvider {
            endpoint,
            credentials,
            routes,
            timeouts,
            state: Mutex::new(TokenState::default()),
            mints: AtomicU64::new(0),
        }
    }

    /// How many tokens this provider has minted.
    pub fn mint_count(&self) -> u64 {
        self.mints.load(Ordering::Relaxed)
    }

    /// The secrets this provider holds, for scrubbing them from logs and audit records.
    pub fn secrets(&self) -> Vec<SecretString> {
        vec![self.credentials.client_secret.clone()]
    }

    /// A valid token, minting one only when there is none or it is about to expire.
    pub async fn token(&self) -> Result<AccessToken, CredentialError> {
        let mut state = self.state.lock().await;
        if let Some(cached) = &state.cached {
            if Instant::now() < cached.refresh_at {
                return Ok(cached.token.clone());
            }
        }
        self.mint_locked(&mut state).await
    }

    /// Called after upstream answered 401 to `rejected`: mints a new token unless another
    /// caller already replaced it.
    pub async fn token_after_rejection(
        &self,
        rejected: &AccessToken,
    ) -> Result<AccessToken, CredentialError> {
        let mut state = self.state.lock().await;
        if let Some(cached) = &state.cached {
            if cached.token.generation != rejected.generation {
                return Ok(cached.token.clone());
            }
        }
        state.cached = None;
        self.mint_locked(&mut state).await
    }

    async fn mint_locked(&self, state: &mut TokenState) -> Result<AccessToken, CredentialError> {
        if let Some(until) = state.locked_until {
            let now = Instant::now();
            if now < until {
                return Err(CredentialError::Locked {
                    retry_after: until - now,
                });
            }
            state.locked_until = None;
        }
        match self.mint().await {
            Ok((value, lifetime)) => {
                self.mints.fetch_add(1, Ordering::Relaxed);
                state.generation += 1;
                let token = AccessToken {
                    value,
                    generation: state.generation,
                };
                state.cached = Some(CachedToken {
                    token: token.clone(),
                    refresh_at: Instant::now() + refresh_margin(lifetime),
                });
                Ok(token)
            }
            Err(CredentialError::Locked { retry_after }) => {
                state.locked_until = Some(Instant::now() + retry_after);
                Err(CredentialError::Locked { retry_after })
            }
            Err(other) => Err(other),
        }
    }

    async fn mint(&self) -> Result<(SecretString, Duration), CredentialError> {
        let request = self.token_request();
        let target = self.routes.resolve(&self.endpoint.origin);
        let options = self.timeouts.tightened_by(None);
        let response = transport::fetch(request, target, options, MAX_TOKEN_RESPONSE_BYTES)
            .await
            .map_err(|err| CredentialError::Unreachable {
                origin: self.endpoint.origin.url(),
                detail: err.to_string(),
            })?;
        let secret = &self.credentials.client_secret;
        let body = scrub(&String::from_utf8_lossy(&response.body), &[secret]);
        let status = response.status.as_u16();
        if status == 423 {
            let retry_after = retry_after(&response.headers).unwrap_or(DEFAULT_LOCK_BACKOFF);
            return Err(CredentialError::Locked { retry_after });
        }
        if !response.status.is_success() {
            let (code, message) = oauth_error(&body);
            return Err(match (status, code.as_deref()) {
                (_, Some("invalid_client")) | (401, _) => {
                    CredentialError::InvalidClient { message }
                }
                (_, Some("invalid_scope")) => CredentialError::InvalidScope { message },
                _ => CredentialError::Rejected { status, message },
            });
        }
        parse_token(&body)
    }

    fn token_request(&self) -> http::Request<Bytes> {
        let scope = self.endpoint.scopes.join(" ");
        let (content_type, body) = match self.endpoint.encoding {
            BodyEncoding::Json => (
                "application/json",
                serde_json::json!({
                    "grant_type": "client_credentials",
                    "client_id": self.credentials.client_id,
                    "client_secret": self.credentials.client_secret.expose(),
                    "scope": scope,
                })
                .to_string(),
            ),
            BodyEncoding::Form => (
                "application/x-www-form-urlencoded",
                serde_urlencoded::to_string([
                    ("grant_type", "client_credentials"),
                    ("client_id", self.credentials.client_id.as_str()),
                    ("client_secret", self.credentials.client_secret.expose()),
                    ("scope", scope.as_str()),
                ])
                .unwrap_or_default(),
            ),
        };
        let uri = format!("{}{}", self.endpoint.origin.url(), self.endpoint.path);
        let mut request = http::Request::new(Bytes::from(body));
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = uri.parse().unwrap_or_default();
        let headers = request.headers_mut();
        let host = self.endpoint.origin.url();
        let host = host.split("://").nth(1).unwrap_or_default();
        for (name, value) in [
            ("host", host),
            ("content-type", content_type),
            ("accept", "application/json"),
            ("user-agent", self.endpoint.user_agent.as_str()),
        ] {
            if let Ok(value) = http::HeaderValue::from_str(value) {
                headers.insert(name, value);
            }
        }
        request
    }
}

/// Refresh a minute early, or at half-life for short-lived tokens.
fn refresh_margin(lifetime: Duration) -> Duration {
    if lifetime > Duration::from_secs(120) {
        lifetime - Duration::from_secs(60)
    } else {
        lifetime / 2
    }
}

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
}
