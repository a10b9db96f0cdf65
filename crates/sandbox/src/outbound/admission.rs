//! Admission: whether a plugin's request may leave at all, decided before anything is
//! sent. Each refusal is a typed [`GateFailure`], because the guest only sees
//! `HttpRequestDenied` and the host must still say which rule stopped the request.

use super::failure::GateFailure;
use super::in_flight::InFlight;
use super::ledger::CallLedger;
use super::origin::Origin;
use super::policy::OutboundPolicy;
use super::token_endpoint::is_token_endpoint;
use super::tool_routes::ToolRoutes;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use std::sync::Arc;
use wasmtime_wasi_http::{Error as HttpError, WasiBody};

/// A request the gate lets go: where it goes, and the in-flight slot it holds until its
/// answer has been read.
pub(crate) struct Admitted {
    pub origin: Origin,
    pub slot: InFlight,
}

/// Admits a request when its origin is on the allowlist exactly, it is not addressed to
/// the credential's token endpoint, it matches a route of the tool being called, and the
/// call is within its in-flight and request caps.
///
/// The caps are checked last so that denied requests do not use them up: a plugin probing
/// forbidden origins must not lock itself out of its own API.
pub(crate) fn admit(
    policy: &OutboundPolicy,
    routes: &ToolRoutes,
    ledger: &Arc<CallLedger>,
    method: &http::Method,
    uri: &http::Uri,
) -> Result<Admitted, GateFailure> {
    let origin = Origin::of_uri(uri).map_err(|err| GateFailure::Malformed {
        reason: err.to_string(),
    })?;
    if !policy.allowed.allows(&origin) {
        return Err(GateFailure::OriginDenied {
            origin: origin.to_string(),
            allowed: policy.allowed.describe(),
        });
    }
    if let Some((provider, _)) = &policy.credentials {
        if is_token_endpoint(provider.endpoint(), &policy.routes, &origin, uri.path()) {
            return Err(GateFailure::TokenEndpoint {
                method: method.to_string(),
                path: uri.path().to_string(),
            });
        }
    }
    if routes.find(method.as_str(), uri.path()).is_none() {
        return Err(GateFailure::NotARoute {
            tool: routes.tool.clone(),
            method: method.to_string(),
            path: uri.path().to_string(),
        });
    }
    let limit = policy.max_in_flight_per_call;
    let slot = InFlight::enter(ledger, limit).ok_or(GateFailure::InFlightLimit { limit })?;
    spend(policy, ledger)?;
    Ok(Admitted { origin, slot })
}

/// Counts one more send upstream against the call's request cap: a plugin request's first
/// send, and each retry and 401 replay of it, so the cap bounds what upstream sees.
pub(crate) fn spend(policy: &OutboundPolicy, ledger: &CallLedger) -> Result<(), GateFailure> {
    let limit = policy.max_requests_per_call;
    if ledger.count_request() > limit {
        return Err(GateFailure::RequestLimit { limit });
    }
    Ok(())
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
            max_in_flight_per_call: 8,
            ..OutboundPolicy::deny_all()
        }
    }

    /// The routes these tests' requests use, for GET and POST.
    fn routes() -> ToolRoutes {
        use super::super::tool_routes::{Access, ToolRoute};
        let paths = ["/", "/v1", "/v1/x", "/v1/tokens", "/steal"];
        ToolRoutes {
            tool: "p:t".into(),
            routes: paths
                .iter()
                .flat_map(|p| ["GET", "POST"].map(|m| ToolRoute::new(m, p, Access::Read).unwrap()))
                .collect(),
        }
    }

    fn admit_uri(
        policy: &OutboundPolicy,
        ledger: &Arc<CallLedger>,
        uri: &str,
    ) -> Result<Origin, GateFailure> {
        admit(
            policy,
            &routes(),
            ledger,
            &http::Method::GET,
            &uri.parse().unwrap(),
        )
        .map(|a| a.origin)
    }

    #[test]
    fn a_request_outside_the_tools_routes_is_refused_without_using_the_cap() {
        let p = policy(&["https://api.example.com"], 1);
        let ledger = new_ledger();
        let uri: http::Uri = "https://api.example.com/v2/schedule-tasks".parse().unwrap();
        let err = admit(&p, &routes(), &ledger, &http::Method::POST, &uri)
            .err()
            .unwrap();
        assert_eq!(
            err,
            GateFailure::NotARoute {
                tool: "p:t".into(),
                method: "POST".into(),
                path: "/v2/schedule-tasks".into(),
            }
        );
        assert!(err
            .to_string()
            .contains("`p:t` may not send POST /v2/schedule-tasks"));
        // Off-origin stays an origin denial, whatever its path.
        let off: http::Uri = "https://evil.example.net/v2/schedule-tasks"
            .parse()
            .unwrap();
        assert!(matches!(
            admit(&p, &routes(), &ledger, &http::Method::POST, &off),
            Err(GateFailure::OriginDenied { .. })
        ));
        // The one request the cap allows is still there.
        assert!(admit_uri(&p, &ledger, "https://api.example.com/v1").is_ok());
    }

    fn new_ledger() -> Arc<CallLedger> {
        Arc::new(CallLedger::default())
    }

    #[test]
    fn admits_an_allowlisted_origin() {
        let p = policy(&["https://api.example.com"], 10);
        let got = admit_uri(&p, &new_ledger(), "https://API.example.com/v1/x?y=1");
        assert_eq!(got, Ok(o("https://api.example.com:443")));
    }

    #[test]
    fn refuses_an_origin_off_the_allowlist_naming_both() {
        let p = policy(
            &["https://api.example.com", "https://login.example.com"],
            10,
        );
        let err = admit_uri(&p, &new_ledger(), "https://evil.example.net/steal").unwrap_err();
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
        let err = admit_uri(&p, &new_ledger(), "http://api.example.com/v1").unwrap_err();
        assert!(
            matches!(&err, GateFailure::OriginDenied { origin, .. } if origin == "http://api.example.com:80"),
            "{err:?}"
        );
        let p = policy(&["http://127.0.0.1:4000"], 10);
        assert!(matches!(
            admit_uri(&p, &new_ledger(), "https://127.0.0.1:4000/"),
            Err(GateFailure::OriginDenied { .. })
        ));
    }

    #[test]
    fn refuses_a_port_mismatch() {
        let p = policy(&["https://api.example.com"], 10);
        let err = admit_uri(&p, &new_ledger(), "https://api.example.com:8443/v1").unwrap_err();
        assert!(
            matches!(&err, GateFailure::OriginDenied { origin, .. } if origin == "https://api.example.com:8443"),
            "{err:?}"
        );
        // The scheme's default port written out is the same origin.
        assert!(admit_uri(&p, &new_ledger(), "https://api.example.com:443/v1").is_ok());
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
                    admit_uri(&p, &new_ledger(), uri),
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
                    admit_uri(&p, &new_ledger(), uri),
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
            &new_ledger(),
            "https://api.example.com/",
        )
        .unwrap_err();
        assert!(err.to_string().contains("no origin"), "{err}");
    }

    #[test]
    fn the_request_cap_trips_at_max_plus_one() {
        let p = policy(&["https://api.example.com"], 3);
        let ledger = new_ledger();
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
            admit_uri(&zero, &new_ledger(), "https://api.example.com/"),
            Err(GateFailure::RequestLimit { limit: 0 })
        );
    }

    fn with_credential(mut p: OutboundPolicy) -> OutboundPolicy {
        use crate::credentials::{BodyEncoding, ClientCredentials, TokenEndpoint, TokenProvider};
        let api = o("https://api.example.com");
        let provider = TokenProvider::new(
            TokenEndpoint {
                origin: api.clone(),
                path: "/v1/token".into(),
                encoding: BodyEncoding::Json,
                scopes: vec![],
                user_agent: "ua".into(),
            },
            ClientCredentials {
                client_id: "id".into(),
                client_secret: toolhost_base::SecretString::new("secret"),
            },
            crate::outbound::UpstreamRoutes::new(),
            crate::outbound::Timeouts::default(),
        );
        p.credentials = Some((Arc::new(provider), vec![api]));
        p
    }

    #[test]
    fn the_token_endpoint_is_refused_naming_method_and_path() {
        let p = with_credential(policy(&["https://api.example.com"], 10));
        let ledger = new_ledger();
        let uri = "https://api.example.com/V1//token/?grant_type=x"
            .parse()
            .unwrap();
        let err = admit(&p, &routes(), &ledger, &http::Method::POST, &uri)
            .err()
            .unwrap();
        assert_eq!(
            err,
            GateFailure::TokenEndpoint {
                method: "POST".into(),
                path: "/V1//token/".into(),
            }
        );
        assert!(err.to_string().contains("POST /V1//token/"), "{err}");
        // Refused before the caps: it used up neither.
        assert_eq!(ledger.count_request(), 1);
        assert!(admit_uri(&p, &ledger, "https://api.example.com/v1/tokens").is_ok());
    }

    #[test]
    fn the_in_flight_cap_trips_and_frees_with_its_slots() {
        let mut p = policy(&["https://api.example.com"], 10);
        p.max_in_flight_per_call = 2;
        let ledger = new_ledger();
        let get = |ledger| {
            admit(
                &p,
                &routes(),
                ledger,
                &http::Method::GET,
                &"https://api.example.com/".parse().unwrap(),
            )
        };
        let first = get(&ledger).ok().unwrap();
        let _second = get(&ledger).ok().unwrap();
        assert_eq!(
            get(&ledger).err(),
            Some(GateFailure::InFlightLimit { limit: 2 })
        );
        drop(first);
        assert!(get(&ledger).is_ok());
        // The refused one was not counted against the request cap: 3 admitted, 1 refused.
        assert_eq!(ledger.count_request(), 4);
    }

    #[test]
    fn denied_requests_do_not_use_up_the_cap() {
        let p = policy(&["https://api.example.com"], 1);
        let ledger = new_ledger();
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
