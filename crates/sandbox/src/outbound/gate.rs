//! The outbound gate: wasmtime-wasi-http's `WasiHttpHooks`, the one seam every plugin
//! request crosses. In order, it:
//! 1. denies any origin not on the allowlist (scheme, host and port exactly), the
//!    credential's token endpoint, and any request past the per-call in-flight or request
//!    cap ([`admission`](super::admission));
//! 2. buffers the request body (bounded) so a request can be replayed once;
//! 3. injects `Authorization: Bearer` (only toward the credential's own API origin),
//!    `Origin`, `User-Agent` and a fresh `X-Request-ID`
//!    ([`upstream_request`](super::upstream_request));
//! 4. sends it to the origin's upstream route with the host's timeouts and a response cap;
//! 5. on a 401, replays the request once with a newer token (one the provider already has,
//!    else a new mint, unless minting again would not help); retries reads on transient
//!    failures ([`classify`](super::classify), [`retry`](super::retry)). Every replay and
//!    retry counts against the request cap like a new request;
//! 6. holds the request's in-flight slot until its response body has been read
//!    ([`in_flight`](super::in_flight));
//! 7. when a front end watches the call, tells it the response's paging and status numbers
//!    and nothing else ([`response_facts`](super::response_facts)).
//!
//! What happened is written to the call's `CallLedger`, so the host can explain a failure
//! precisely even though the guest only sees a WASI error code. This file only sequences
//! those steps; every rule lives, with its tests, in the module named above.

use super::admission::{admit, read_bounded, spend, Admitted};
use super::classify::{classify, replays_after_401, unanswered, Verdict};
use super::failure::GateFailure;
use super::in_flight::{HeldBody, InFlight};
use super::ledger::{Attempt, CallLedger, UpstreamExchange};
use super::origin::Origin;
use super::policy::OutboundPolicy;
use super::response_facts;
use super::retry::{jitter, AttemptResult};
use super::tool_routes::ToolRoutes;
use super::transport::{self, ConnectionDriver};
use super::upstream_request::{is_forbidden_header, token_provider_for, upstream_request};
use crate::credentials::error::CredentialError;
use crate::credentials::oauth2::TokenProvider;
use http_body_util::BodyExt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime_wasi_http::{
    Error as HttpError, ForbiddenHeaderFilter, RequestOptions, WasiBody, WasiHttpHooks,
};

/// The per-call hook object handed to wasmtime-wasi-http: one per Store, so its ledger
/// describes exactly one tool call.
pub struct OutboundGate {
    policy: Arc<OutboundPolicy>,
    routes: Arc<ToolRoutes>,
    ledger: Arc<CallLedger>,
}

impl OutboundGate {
    pub(crate) fn new(
        policy: Arc<OutboundPolicy>,
        routes: Arc<ToolRoutes>,
        ledger: Arc<CallLedger>,
    ) -> OutboundGate {
        OutboundGate {
            policy,
            routes,
            ledger,
        }
    }
}

impl WasiHttpHooks for OutboundGate {
    fn forbidden_header_filter(&mut self) -> ForbiddenHeaderFilter {
        Arc::new(is_forbidden_header)
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _body_sent: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<
        dyn Future<Output = Result<(http::Response<WasiBody>, ConnectionDriver), HttpError>> + Send,
    > {
        // Decided synchronously, so a denied request never reaches the async machinery.
        let admitted = admit(
            &self.policy,
            &self.routes,
            &self.ledger,
            request.method(),
            request.uri(),
        );
        let Admitted { origin, slot } = match admitted {
            Ok(admitted) => admitted,
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
            forward.run(request, options, slot).await
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
        slot: InFlight,
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
        let mut replayed = false;
        let mut retries = 0;
        loop {
            // The first send was counted at admission; every further one counts too.
            if attempt != Attempt::First {
                spend(&self.policy, &self.ledger).map_err(|f| self.denied(f))?;
            }
            let started = Instant::now();
            let upstream = upstream_request(
                &parts,
                &body,
                &self.origin,
                &self.policy.user_agent,
                token.as_ref(),
            );
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
            let result = match classify(&parts.method, &sent) {
                Verdict::Attempted(result) => result,
                Verdict::GiveUp {
                    maybe_processed,
                    detail,
                } => return Err(self.unanswered(&parts, detail, maybe_processed)),
            };
            if let (Some(p), Some(used), AttemptResult::Status(200..=299, _)) =
                (provider, token.as_ref(), result)
            {
                p.accepted(used).await;
            }
            if let (true, Some(p), Some(rejected)) = (
                replays_after_401(result, replayed),
                provider,
                token.as_ref(),
            ) {
                let newer = p
                    .token_after_rejection(rejected)
                    .await
                    .map_err(|e| self.credential_failure(e))?;
                // None: a new token would not help, so the plugin gets the 401 as it is.
                if let Some(newer) = newer {
                    token = Some(newer);
                    replayed = true;
                    attempt = Attempt::ReplayAfter401;
                    continue;
                }
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
                (Ok((response, driver)), None) => {
                    let response = response.map(|b| HeldBody::new(b, slot).boxed_unsync());
                    let response =
                        response_facts::observe(self.ledger.facts_teller(), &parts, response);
                    return Ok((response, driver));
                }
                (Err(err), None) => return Err(self.unanswered(&parts, err.to_string(), false)),
            }
        }
    }

    /// Records a refusal of a further send; the guest sees its request denied.
    fn denied(&self, failure: GateFailure) -> HttpError {
        self.ledger.fail(failure);
        HttpError::HttpRequestDenied
    }

    /// Records why a request got no answer; the guest gets only the detail text.
    fn unanswered(
        &self,
        parts: &http::request::Parts,
        detail: String,
        maybe_processed: bool,
    ) -> HttpError {
        let failure = unanswered(
            &parts.method,
            &self.origin,
            parts.uri.path(),
            detail.clone(),
            maybe_processed,
        );
        self.ledger.fail(failure);
        HttpError::InternalError(Some(detail))
    }

    fn token_provider(&self) -> Option<&TokenProvider> {
        token_provider_for(&self.policy.credentials, &self.origin)
    }

    fn credential_failure(&self, err: CredentialError) -> HttpError {
        let message = err.to_string();
        self.ledger.fail(GateFailure::Credentials(err));
        HttpError::InternalError(Some(message))
    }

    fn record(
        &self,
        parts: &http::request::Parts,
        status: Option<u16>,
        elapsed: Duration,
        attempt: Attempt,
    ) {
        let exchange = UpstreamExchange::new(parts, &self.origin, status, elapsed, attempt);
        self.ledger.record(exchange);
    }
}
