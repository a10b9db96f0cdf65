//! The outbound gate: wasmtime-wasi-http's `WasiHttpHooks`, the one seam every plugin
//! request crosses. In order, it:
//! 1. denies any origin not on the allowlist (scheme, host and port exactly), and any
//!    request past the per-call request cap;
//! 2. buffers the request body (bounded) so a request can be replayed once;
//! 3. injects `Authorization: Bearer` (only toward the credential's own API origin),
//!    `Origin`, `User-Agent` and a fresh `X-Request-ID`;
//! 4. sends it to the origin's upstream route with the host's timeouts and a response cap;
//! 5. on a 401, refreshes the token once and replays the request.
//!
//! What happened is written to the call's `CallLedger`, so the host can explain a failure
//! precisely even though the guest only sees a WASI error code.

use super::retry::{is_idempotent, jitter, AttemptResult, RetryPolicy};
use super::transport::{self, ConnectionDriver, Timeouts};
use super::{AllowedOrigins, Origin, UpstreamRoutes};
use crate::credentials::{AccessToken, CredentialError, TokenProvider};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasmtime_wasi_http::{
    Error as HttpError, ForbiddenHeaderFilter, RequestOptions, WasiBody, WasiHttpHooks,
};

/// Headers a plugin may never set: wasi-http's defaults plus credentials of any kind.
const PLUGIN_FORBIDDEN_HEADERS: [&str; 4] = [
    "authorization",
    "cookie",
    "proxy-authorization",
    "x-api-key",
];

/// What one connection allows, shared by all calls made through it.
pub struct OutboundPolicy {
    pub allowed: AllowedOrigins,
    pub routes: UpstreamRoutes,
    /// Mints the bearer token and the origins it may be sent to.
    pub credentials: Option<(Arc<TokenProvider>, Vec<Origin>)>,
    pub timeouts: Timeouts,
    pub retry: RetryPolicy,
    pub max_requests_per_call: u32,
    pub max_request_body_bytes: u64,
    pub max_response_body_bytes: u64,
    pub user_agent: String,
}

impl OutboundPolicy {
    /// A policy that lets nothing out: for `metadata` and `list-tools`, which must not use
    /// the network.
    pub fn deny_all() -> OutboundPolicy {
        OutboundPolicy {
            allowed: AllowedOrigins::none(),
            routes: UpstreamRoutes::new(),
            credentials: None,
            timeouts: Timeouts::default(),
            retry: RetryPolicy::none(),
            max_requests_per_call: 0,
            max_request_body_bytes: 0,
            max_response_body_bytes: 0,
            user_agent: String::new(),
        }
    }
}

/// Why the gate stopped a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateFailure {
    #[error("outbound request to {origin} denied: not on the allowlist (allowed: {allowed})")]
    OriginDenied { origin: String, allowed: String },
    #[error("outbound request denied: {reason}")]
    Malformed { reason: String },
    #[error(
        "outbound request denied: this call already made {limit} requests, the per-call limit"
    )]
    RequestLimit { limit: u32 },
    #[error("outbound request denied: the request body exceeds {limit} bytes")]
    RequestBodyTooLarge { limit: u64 },
    #[error("{0}")]
    Credentials(CredentialError),
    #[error("could not reach {origin}: {detail}")]
    Transport { origin: String, detail: String },
    #[error("outcome unknown: {method} {path} on {origin} got no answer ({detail}); it may or may not have taken effect, so check (for example list the tasks or tickets) before trying again. The host did not retry it")]
    WriteOutcomeUnknown {
        method: String,
        origin: String,
        path: String,
        detail: String,
    },
}

/// One request as it went upstream (for audit and tests).
#[derive(Debug, Clone, serde::Serialize)]
pub struct UpstreamExchange {
    pub method: String,
    pub origin: String,
    pub path: String,
    pub status: Option<u16>,
    pub elapsed_ms: u64,
    pub replayed_after_401: bool,
    /// 0 for the first attempt, n for the n-th retry.
    pub retry: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    First,
    ReplayAfter401,
    Retry(u32),
}

/// The connection failed before the request could have been processed.
fn connection_failed(err: &HttpError) -> bool {
    matches!(
        err,
        HttpError::Connect(_)
            | HttpError::ConnectionRefused
            | HttpError::ConnectionTimeout
            | HttpError::DnsTimeout
            | HttpError::DnsError { .. }
            | HttpError::DestinationNotFound
            | HttpError::DestinationUnavailable
    )
}

/// The connection broke after the request may have been sent (not a timeout: a slow
/// upstream is not made faster by asking again).
fn connection_dropped(err: &HttpError) -> bool {
    matches!(
        err,
        HttpError::ConnectionTerminated | HttpError::HttpResponseIncomplete | HttpError::Hyper(_)
    )
}

/// The request may have reached upstream, but no (complete) answer came back.
fn sent_unanswered(err: &HttpError) -> bool {
    matches!(
        err,
        HttpError::ConnectionReadTimeout
            | HttpError::HttpResponseTimeout
            | HttpError::ConnectionTerminated
            | HttpError::HttpResponseIncomplete
            | HttpError::Hyper(_)
    )
}

/// What the gate saw during one tool call.
#[derive(Default)]
pub struct CallLedger {
    inner: Mutex<LedgerEntries>,
}

#[derive(Default, Clone)]
struct LedgerEntries {
    requests: u32,
    failures: Vec<GateFailure>,
    exchanges: Vec<UpstreamExchange>,
}

impl CallLedger {
    fn with<R>(&self, f: impl FnOnce(&mut LedgerEntries) -> R) -> R {
        // A poisoned ledger only means a panic elsewhere; the record itself stays usable.
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    pub fn failures(&self) -> Vec<GateFailure> {
        self.with(|e| e.failures.clone())
    }

    pub fn exchanges(&self) -> Vec<UpstreamExchange> {
        self.with(|e| e.exchanges.clone())
    }

    fn fail(&self, failure: GateFailure) -> GateFailure {
        tracing::warn!(%failure, "outbound gate");
        self.with(|e| e.failures.push(failure.clone()));
        failure
    }
}

/// The per-call hook object handed to wasmtime-wasi-http.
pub struct OutboundGate {
    policy: Arc<OutboundPolicy>,
    ledger: Arc<CallLedger>,
}

impl OutboundGate {
    pub fn new(policy: Arc<OutboundPolicy>, ledger: Arc<CallLedger>) -> OutboundGate {
        OutboundGate { policy, ledger }
    }

    /// Checks that happen before anything leaves: origin and request count.
    fn admit(&self, request: &http::Request<WasiBody>) -> Result<Origin, GateFailure> {
        let origin = Origin::of_uri(request.uri()).map_err(|err| GateFailure::Malformed {
            reason: err.to_string(),
        })?;
        if !self.policy.allowed.allows(&origin) {
            return Err(GateFailure::OriginDenied {
                origin: origin.to_string(),
                allowed: self.policy.allowed.describe(),
            });
        }
        let limit = self.policy.max_requests_per_call;
        let over = self.ledger.with(|e| {
            e.requests += 1;
            e.requests > limit
        });
        if over {
            return Err(GateFailure::RequestLimit { limit });
        }
        Ok(origin)
    }
}

impl WasiHttpHooks for OutboundGate {
    fn forbidden_header_filter(&mut self) -> ForbiddenHeaderFilter {
        Arc::new(|name| {
            wasmtime_wasi_http::DEFAULT_FORBIDDEN_HEADERS.contains(name)
                || PLUGIN_FORBIDDEN_HEADERS.contains(&name.as_str())
        })
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _body_sent: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<
        dyn Future<Output = Result<(http::Response<WasiBody>, ConnectionDriver), HttpError>> + Send,
    > {
        let origin = match self.admit(&request) {
            Ok(origin) => origin,
            Err(failure) => {
                self.ledger.fail(failure);
                return Box::new(async { Err(HttpError::HttpRequestDenied) });
            }
        };
        let policy = self.policy.clone();
        let ledger = self.ledger.clone();
        Box::new(async move {
            let forward = Forward {
                policy,
                ledger,
                origin,
            };
            forward.run(request, options).await
        })
    }
}

/// One admitted request on its way upstream.
struct Forward {
    policy: Arc<OutboundPolicy>,
    ledger: Arc<CallLedger>,
    origin: Origin,
}

impl Forward {
    async fn run(
        self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
    ) -> Result<(http::Response<WasiBody>, ConnectionDriver), HttpError> {
        let (parts, body) = request.into_parts();
        let body = match read_bounded(body, self.policy.max_request_body_bytes).await {
            Ok(body) => body,
            Err(limit_hit) => {
                let limit = self.policy.max_request_body_bytes;
                self.ledger.fail(GateFailure::RequestBodyTooLarge { limit });
                return Err(limit_hit);
            }
        };
        let options = self.policy.timeouts.tightened_by(options);
        let provider = self.token_provider();
        let mut token = match provider {
            Some(p) => Some(p.token().await.map_err(|e| self.credential_failure(e))?),
            None => None,
        };
        let first_attempt = Instant::now();
        let mut attempt = Attempt::First;
        let mut retries = 0;
        loop {
            let started = Instant::now();
            let upstream = self.upstream_request(&parts, &body, token.as_ref());
            let target = self.policy.routes.resolve(&self.origin);
            let sent = transport::send(
                upstream,
                target,
                options,
                self.policy.max_response_body_bytes,
            )
            .await;
            let status = sent.as_ref().ok().map(|(r, _)| r.status().as_u16());
            self.record(&parts, status, started.elapsed(), attempt);
            let result = match &sent {
                Ok((response, _)) => AttemptResult::Status(
                    response.status().as_u16(),
                    crate::credentials::oauth2::retry_after(response.headers()),
                ),
                Err(err) if connection_failed(err) => AttemptResult::ConnectFailed,
                // A read whose connection dropped mid-exchange is safe to send again.
                Err(err) if is_idempotent(&parts.method) && connection_dropped(err) => {
                    AttemptResult::ConnectFailed
                }
                Err(err) => {
                    return Err(self.unanswered(&parts, err.to_string(), sent_unanswered(err)))
                }
            };
            if let (AttemptResult::Status(401, _), Some(p), Some(rejected), false) = (
                result,
                provider,
                token.as_ref(),
                attempt == Attempt::ReplayAfter401,
            ) {
                // The request was not processed: replaying it once with a fresh token is
                // safe even for writes.
                token = Some(
                    p.token_after_rejection(rejected)
                        .await
                        .map_err(|e| self.credential_failure(e))?,
                );
                attempt = Attempt::ReplayAfter401;
                continue;
            }
            let delay = self.policy.retry.next_delay(
                &parts.method,
                result,
                retries + 1,
                first_attempt.elapsed(),
                jitter(),
            );
            match (sent, delay) {
                (_, Some(delay)) => {
                    retries += 1;
                    attempt = Attempt::Retry(retries);
                    tracing::debug!(path = %parts.uri.path(), ?delay, "retrying upstream request");
                    tokio::time::sleep(delay).await;
                }
                (Ok(answered), None) => return Ok(answered),
                (Err(err), None) => return Err(self.unanswered(&parts, err.to_string(), false)),
            }
        }
    }

    /// Records why a request got no answer. A write that may have reached upstream is
    /// "outcome unknown": the caller must check before trying again.
    fn unanswered(
        &self,
        parts: &http::request::Parts,
        detail: String,
        maybe_processed: bool,
    ) -> HttpError {
        let failure = if maybe_processed && !is_idempotent(&parts.method) {
            GateFailure::WriteOutcomeUnknown {
                method: parts.method.to_string(),
                origin: self.origin.to_string(),
                path: parts.uri.path().to_string(),
                detail: detail.clone(),
            }
        } else {
            GateFailure::Transport {
                origin: self.origin.to_string(),
                detail: detail.clone(),
            }
        };
        self.ledger.fail(failure);
        HttpError::InternalError(Some(detail))
    }

    fn token_provider(&self) -> Option<&TokenProvider> {
        let (provider, audience) = self.policy.credentials.as_ref()?;
        audience.contains(&self.origin).then_some(provider.as_ref())
    }

    fn credential_failure(&self, err: CredentialError) -> HttpError {
        let message = err.to_string();
        self.ledger.fail(GateFailure::Credentials(err));
        HttpError::InternalError(Some(message))
    }

    fn upstream_request(
        &self,
        parts: &http::request::Parts,
        body: &Bytes,
        token: Option<&AccessToken>,
    ) -> http::Request<Bytes> {
        let mut request = http::Request::new(body.clone());
        *request.method_mut() = parts.method.clone();
        *request.uri_mut() = parts.uri.clone();
        let headers = request.headers_mut();
        *headers = parts.headers.clone();
        headers.remove(http::header::AUTHORIZATION);
        let mut set = |name: &'static str, value: &str| {
            if let Ok(value) = http::HeaderValue::from_str(value) {
                headers.insert(name, value);
            }
        };
        if let Some(token) = token {
            set("authorization", &format!("Bearer {}", token.value.expose()));
        }
        set("origin", &self.origin.url());
        set("user-agent", &self.policy.user_agent);
        set("x-request-id", &uuid::Uuid::new_v4().to_string());
        if let Some(auth) = headers.get_mut(http::header::AUTHORIZATION) {
            auth.set_sensitive(true);
        }
        request
    }

    fn record(
        &self,
        parts: &http::request::Parts,
        status: Option<u16>,
        elapsed: Duration,
        attempt: Attempt,
    ) {
        let exchange = UpstreamExchange {
            method: parts.method.to_string(),
            origin: self.origin.to_string(),
            path: parts.uri.path().to_string(),
            status,
            elapsed_ms: elapsed.as_millis() as u64,
            replayed_after_401: attempt == Attempt::ReplayAfter401,
            retry: match attempt {
                Attempt::Retry(n) => n,
                _ => 0,
            },
        };
        tracing::debug!(method = %exchange.method, path = %exchange.path, status = ?status, "upstream");
        self.ledger.with(|e| e.exchanges.push(exchange));
    }
}

/// Reads a guest request body, failing once it passes `limit` bytes.
async fn read_bounded(mut body: WasiBody, limit: u64) -> Result<Bytes, HttpError> {
    let mut buffer = BytesMut::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            if (buffer.len() + data.len()) as u64 > limit {
                return Err(HttpError::HttpRequestBodySize(Some(limit)));
            }
            buffer.extend_from_slice(&data);
        }
    }
    Ok(buffer.freeze())
}
