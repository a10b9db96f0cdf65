//! How the gate reads the end of one attempt: a response or a transport error becomes
//! either input to the replay/retry decision or a reason to stop, and a stop becomes the
//! `GateFailure` the host reports.
//!
//! The line that matters is whether upstream may have acted on the request: a read can
//! always be asked again, but a write that may have landed must not be sent twice, and the
//! caller must be told its outcome is unknown rather than that it failed.

use super::failure::GateFailure;
use super::origin::Origin;
use super::retry::{is_idempotent, AttemptResult};
use wasmtime_wasi_http::Error as HttpError;

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

/// What one attempt means for the gate's next step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A response, or a failure that is safe to send again: the replay and retry rules decide.
    Attempted(AttemptResult),
    /// No answer, and sending again is not safe or not useful: stop here.
    GiveUp {
        /// Upstream may have received (and acted on) the request.
        maybe_processed: bool,
        /// The transport error, for the report.
        detail: String,
    },
}

/// Reads one attempt's result. `D` is whatever travels with the response (the connection
/// driver); only the status and `Retry-After` matter here.
pub(crate) fn classify<B, D>(
    method: &http::Method,
    sent: &Result<(http::Response<B>, D), HttpError>,
) -> Verdict {
    match sent {
        Ok((response, _)) => Verdict::Attempted(AttemptResult::Status(
            response.status().as_u16(),
            crate::credentials::mint::retry_after(response.headers()),
        )),
        Err(err) if connection_failed(err) => Verdict::Attempted(AttemptResult::ConnectFailed),
        // A read whose connection dropped mid-exchange is safe to send again.
        Err(err) if is_idempotent(method) && connection_dropped(err) => {
            Verdict::Attempted(AttemptResult::ConnectFailed)
        }
        Err(err) => Verdict::GiveUp {
            maybe_processed: sent_unanswered(err),
            detail: err.to_string(),
        },
    }
}

/// Whether to ask for a newer token and send the request once more. A 401 proves the
/// request was not processed, so this is safe even for writes; but only once per plugin
/// request (`replayed`: a replay already happened, even if a retry followed it), or a
/// revoked key would mint tokens in a loop (and the Asio API locks keys that mint too
/// often). The caller also needs a credential and the token that was rejected.
pub(crate) fn replays_after_401(result: AttemptResult, replayed: bool) -> bool {
    matches!(result, AttemptResult::Status(401, _)) && !replayed
}

/// Why a request got no answer. A write that may have reached upstream is "outcome
/// unknown": the caller must check before trying again.
pub(crate) fn unanswered(
    method: &http::Method,
    origin: &Origin,
    path: &str,
    detail: String,
    maybe_processed: bool,
) -> GateFailure {
    if maybe_processed && !is_idempotent(method) {
        GateFailure::WriteOutcomeUnknown {
            method: method.to_string(),
            origin: origin.to_string(),
            path: path.to_string(),
            detail,
        }
    } else {
        GateFailure::Transport {
            origin: origin.to_string(),
            detail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::RetryPolicy;
    use http::Method;
    use std::time::Duration;

    type Sent = Result<(http::Response<()>, ()), HttpError>;

    fn answered(status: u16, retry_after: Option<&str>) -> Sent {
        let mut response = http::Response::builder().status(status);
        if let Some(after) = retry_after {
            response = response.header("retry-after", after);
        }
        Ok((response.body(()).unwrap(), ()))
    }

    fn attempted(method: &Method, sent: &Sent) -> AttemptResult {
        match classify(method, sent) {
            Verdict::Attempted(result) => result,
            other => panic!("expected an attempt, got {other:?}"),
        }
    }

    /// The delay before the first retry, with the jitter fixed.
    fn first_retry(method: &Method, sent: &Sent) -> Option<Duration> {
        let result = attempted(method, sent);
        RetryPolicy::default().next_delay(method, result, 1, Duration::ZERO, 0.0)
    }

    #[test]
    fn a_response_carries_its_status_and_retry_after() {
        assert_eq!(
            attempted(&Method::GET, &answered(429, Some(" 7 "))),
            AttemptResult::Status(429, Some(Duration::from_secs(7)))
        );
        // An HTTP-date Retry-After is not understood: treated as absent.
        assert_eq!(
            attempted(
                &Method::GET,
                &answered(503, Some("Wed, 21 Oct 2015 07:28:00 GMT"))
            ),
            AttemptResult::Status(503, None)
        );
    }

    #[test]
    fn a_401_is_replayed_once_and_never_retried() {
        let result = attempted(&Method::POST, &answered(401, None));
        assert!(replays_after_401(result, false));
        // Once replayed, never again: not even on a retry that follows the replay.
        assert!(!replays_after_401(result, true));
        assert_eq!(first_retry(&Method::GET, &answered(401, None)), None);
        for status in [200, 403, 423, 429] {
            let result = attempted(&Method::GET, &answered(status, None));
            assert!(!replays_after_401(result, false), "{status}");
        }
    }

    #[test]
    fn a_423_from_the_api_goes_back_to_the_plugin_untouched() {
        // A locked key must be left alone: neither a fresh token nor a retry.
        let result = attempted(&Method::GET, &answered(423, Some("60")));
        assert!(!replays_after_401(result, false));
        assert_eq!(first_retry(&Method::GET, &answered(423, Some("60"))), None);
    }

    #[test]
    fn reads_retry_429_and_gateway_errors_but_not_500() {
        for status in [429, 502, 503, 504] {
            assert!(
                first_retry(&Method::GET, &answered(status, None)).is_some(),
                "{status}"
            );
            assert_eq!(
                first_retry(&Method::POST, &answered(status, None)),
                None,
                "{status}"
            );
        }
        for status in [200, 400, 404, 500] {
            assert_eq!(
                first_retry(&Method::GET, &answered(status, None)),
                None,
                "{status}"
            );
        }
        assert_eq!(
            first_retry(&Method::GET, &answered(429, Some("2"))),
            Some(Duration::from_secs(2))
        );
    }

    #[test]
    fn connect_errors_are_safe_to_retry_for_reads() {
        for err in [
            HttpError::ConnectionRefused,
            HttpError::ConnectionTimeout,
            HttpError::DnsTimeout,
            HttpError::DestinationNotFound,
            HttpError::DestinationUnavailable,
            HttpError::Connect(std::io::Error::other("refused")),
        ] {
            let sent: Sent = Err(err);
            for method in [Method::GET, Method::POST] {
                assert_eq!(attempted(&method, &sent), AttemptResult::ConnectFailed);
            }
            assert!(first_retry(&Method::GET, &sent).is_some());
            // A write is never retried, even though it never left.
            assert_eq!(first_retry(&Method::POST, &sent), None);
        }
    }

    #[test]
    fn a_dropped_connection_is_retried_for_reads_only() {
        for err in [
            HttpError::ConnectionTerminated,
            HttpError::HttpResponseIncomplete,
        ] {
            let sent: Sent = Err(err);
            assert_eq!(attempted(&Method::GET, &sent), AttemptResult::ConnectFailed);
            assert!(matches!(
                classify(&Method::POST, &sent),
                Verdict::GiveUp {
                    maybe_processed: true,
                    ..
                }
            ));
        }
    }

    #[test]
    fn a_timeout_after_sending_is_never_retried() {
        for err in [
            HttpError::ConnectionReadTimeout,
            HttpError::HttpResponseTimeout,
        ] {
            let sent: Sent = Err(err);
            for method in [Method::GET, Method::POST] {
                assert!(matches!(
                    classify(&method, &sent),
                    Verdict::GiveUp {
                        maybe_processed: true,
                        ..
                    }
                ));
            }
        }
    }

    #[test]
    fn other_transport_errors_stop_as_not_processed() {
        let sent: Sent = Err(HttpError::Tls(std::io::Error::other("bad certificate")));
        match classify(&Method::POST, &sent) {
            Verdict::GiveUp {
                maybe_processed,
                detail,
            } => {
                assert!(!maybe_processed);
                assert!(!detail.is_empty());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_a_write_that_may_have_landed_is_outcome_unknown() {
        let origin = Origin::parse("https://api.example.com").unwrap();
        let unknown = unanswered(
            &Method::POST,
            &origin,
            "/v1/tasks",
            "read timeout".into(),
            true,
        );
        assert_eq!(
            unknown,
            GateFailure::WriteOutcomeUnknown {
                method: "POST".into(),
                origin: "https://api.example.com:443".into(),
                path: "/v1/tasks".into(),
                detail: "read timeout".into(),
            }
        );
        assert!(unknown.to_string().contains("did not retry"));
        let transport = GateFailure::Transport {
            origin: "https://api.example.com:443".into(),
            detail: "refused".into(),
        };
        assert_eq!(
            unanswered(&Method::POST, &origin, "/v1/tasks", "refused".into(), false),
            transport
        );
        assert_eq!(
            unanswered(&Method::GET, &origin, "/v1/tasks", "refused".into(), true),
            transport
        );
    }
}
