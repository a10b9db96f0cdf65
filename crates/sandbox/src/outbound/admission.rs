//! Admission: whether a plugin's request may leave at all, decided before anything is
//! sent. Each refusal is a typed [`GateFailure`], because the guest only sees
//! `HttpRequestDenied` and the host must still say which rule stopped the request.

use super::failure::GateFailure;
use super::ledger::CallLedger;
use super::origin::Origin;
use super::policy::OutboundPolicy;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error as HttpError, WasiBody};

/// The origin `uri` targets, if the policy's allowlist names it exactly and the call is
/// still within its request cap.
///
/// The origin is checked first so that denied requests do not use up the cap: a plugin
/// probing forbidden origins must not lock itself out of its own API.
pub(crate) fn admit(
    policy: &OutboundPolicy,
    ledger: &CallLedger,
    uri: &http::Uri,
) -> Result<Origin, GateFailure> {
    let origin = Origin::of_uri(uri).map_err(|err| GateFailure::Malformed {
        reason: err.to_string(),
    })?;
    if !policy.allowed.allows(&origin) {
        return Err(GateFailure::OriginDenied {
            origin: origin.to_string(),
            allowed: policy.allowed.describe(),
        });
    }
    let limit = policy.max_requests_per_call;
    if ledger.count_request() > limit {
        return Err(GateFailure::RequestLimit { limit });
    }
    Ok(origin)
}

/// Reads a guest request body, failing once it passes `limit` bytes. The whole body is
/// buffered so a 401 replay or a retry can send exactly the same bytes again.
pub(crate) async fn read_bounded(mut body: WasiBody, limit: u64) -> Result<Bytes, HttpError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::AllowedOrigins;
    use std::collections::VecDeque;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    fn o(s: &str) -> Origin {
        Origin::parse(s).unwrap()
    }

    fn policy(allowed: &[&str], max_requests: u32) -> OutboundPolicy {
        OutboundPolicy {
            allowed: AllowedOrigins::new(allowed.iter().map(|s| o(s))),
            max_requests_per_call: max_requests,
            ..OutboundPolicy::deny_all()
        }
    }

    fn admit_uri(
        policy: &OutboundPolicy,
        ledger: &CallLedger,
        uri: &str,
    ) -> Result<Origin, GateFailure> {
        admit(policy, ledger, &uri.parse().unwrap())
    }

    #[test]
    fn admits_an_allowlisted_origin() {
        let p = policy(&["https://api.example.com"], 10);
        let got = admit_uri(
            &p,
            &CallLedger::default(),
            "https://API.example.com/v1/x?y=1",
        );
        assert_eq!(got, Ok(o("https://api.example.com:443")));
    }

    #[test]
    fn refuses_an_origin_off_the_allowlist_naming_both() {
        let p = policy(
            &["https://api.example.com", "https://login.example.com"],
            10,
        );
        let err =
            admit_uri(&p, &CallLedger::default(), "https://evil.example.net/steal").unwrap_err();
        assert_eq!(
            err,
            GateFailure::OriginDenied {
                origin: "https://evil.example.net:443".into(),
                allowed: "https://api.example.com:443, https://login.example.com:443".into(),
            }
        );
        let message = err.to_string();
        assert!(
            message.contains("https://evil.example.net:443"),
            "{message}"
        );
        assert!(message.contains("https://api.example.com:443"), "{message}");
    }

    #[test]
    fn refuses_a_scheme_mismatch() {
        let p = policy(&["https://api.example.com"], 10);
        let err = admit_uri(&p, &CallLedger::default(), "http://api.example.com/v1").unwrap_err();
        assert!(
            matches!(&err, GateFailure::OriginDenied { origin, .. } if origin == "http://api.example.com:80"),
            "{err:?}"
        );
        let p = policy(&["http://127.0.0.1:4000"], 10);
        assert!(matches!(
            admit_uri(&p, &CallLedger::default(), "https://127.0.0.1:4000/"),
            Err(GateFailure::OriginDenied { .. })
        ));
    }

    #[test]
    fn refuses_a_port_mismatch() {
        let p = policy(&["https://api.example.com"], 10);
        let err = admit_uri(
            &p,
            &CallLedger::default(),
            "https://api.example.com:8443/v1",
        )
        .unwrap_err();
        assert!(
            matches!(&err, GateFailure::OriginDenied { origin, .. } if origin == "https://api.example.com:8443"),
            "{err:?}"
        );
        // The scheme's default port written out is the same origin.
        assert!(admit_uri(&p, &CallLedger::default(), "https://api.example.com:443/v1").is_ok());
    }

    #[test]
    fn refuses_lookalike_hosts() {
        let p = policy(&["https://api.example.com"], 10);
        for uri in [
            "https://api.example.com.evil.net/",
            "https://evil.api.example.com/",
            "https://127.0.0.1/",
        ] {
            assert!(
                matches!(
                    admit_uri(&p, &CallLedger::default(), uri),
                    Err(GateFailure::OriginDenied { .. })
                ),
                "{uri}"
            );
        }
    }

    #[test]
    fn refuses_what_has_no_usable_origin() {
        let p = policy(&["https://api.example.com"], 10);
        for uri in ["/v1/relative", "ftp://api.example.com/x"] {
            assert!(
                matches!(
                    admit_uri(&p, &CallLedger::default(), uri),
                    Err(GateFailure::Malformed { .. })
                ),
                "{uri}"
            );
        }
    }

    #[test]
    fn deny_all_admits_nothing_and_says_so() {
        let err = admit_uri(
            &OutboundPolicy::deny_all(),
            &CallLedger::default(),
            "https://api.example.com/",
        )
        .unwrap_err();
        assert!(err.to_string().contains("no origin"), "{err}");
    }

    #[test]
    fn the_request_cap_trips_at_max_plus_one() {
        let p = policy(&["https://api.example.com"], 3);
        let ledger = CallLedger::default();
        for _ in 0..3 {
            assert!(admit_uri(&p, &ledger, "https://api.example.com/").is_ok());
        }
        for _ in 0..2 {
            assert_eq!(
                admit_uri(&p, &ledger, "https://api.example.com/"),
                Err(GateFailure::RequestLimit { limit: 3 })
            );
        }
        let zero = policy(&["https://api.example.com"], 0);
        assert_eq!(
            admit_uri(&zero, &CallLedger::default(), "https://api.example.com/"),
            Err(GateFailure::RequestLimit { limit: 0 })
        );
    }

    #[test]
    fn denied_requests_do_not_use_up_the_cap() {
        let p = policy(&["https://api.example.com"], 1);
        let ledger = CallLedger::default();
        for uri in ["https://evil.example.net/", "/relative"] {
            assert!(admit_uri(&p, &ledger, uri).is_err());
        }
        assert!(admit_uri(&p, &ledger, "https://api.example.com/").is_ok());
    }

    /// A body delivered in the given chunks, as a guest streams it.
    struct Chunks(VecDeque<Bytes>);

    impl http_body::Body for Chunks {
        type Data = Bytes;
        type Error = HttpError;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<http_body::Frame<Bytes>, HttpError>>> {
            Poll::Ready(self.0.pop_front().map(|c| Ok(http_body::Frame::data(c))))
        }
    }

    fn body(chunks: &[&[u8]]) -> WasiBody {
        Chunks(chunks.iter().map(|c| Bytes::copy_from_slice(c)).collect()).boxed_unsync()
    }

    #[tokio::test]
    async fn a_body_up_to_the_cap_is_buffered_whole() {
        let got = read_bounded(body(&[b"abc", b"defg"]), 7).await.unwrap();
        assert_eq!(&got[..], b"abcdefg");
        assert!(read_bounded(body(&[]), 0).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_body_past_the_cap_is_refused_even_across_chunks() {
        let err = read_bounded(body(&[b"abcd", b"efgh"]), 7)
            .await
            .unwrap_err();
        assert!(
            matches!(err, HttpError::HttpRequestBodySize(Some(7))),
            "{err:?}"
        );
        let err = read_bounded(body(&[b"x"]), 0).await.unwrap_err();
        assert!(
            matches!(err, HttpError::HttpRequestBodySize(Some(0))),
            "{err:?}"
        );
    }
}
