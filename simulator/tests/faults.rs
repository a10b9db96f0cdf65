//! Fault injection, observed by real clients over loopback: reqwest and a raw TCP socket.

#[path = "faults/harness.rs"]
mod harness;

use harness::{error_chain, mint, Harness};
use reqwest::StatusCode;
use serde_json::Value;
use simulator::{Fault, FaultAction, PathMatch};
use std::time::Duration;

const COMPANIES: &str = "/api/platform/v1/company/companies";
const SITES: &str = "/api/platform/v1/company/sites";

#[tokio::test]
async fn status_with_retry_after_disarms_after_times() {
    let h = Harness::start().await;
    let id = h.sim.inject(
        Fault::on_path(
            PathMatch::Exact(COMPANIES.into()),
            FaultAction::status_retry_after(429, "2"),
        )
        .times(2),
    );
    for _ in 0..2 {
        let r = h.get(COMPANIES).await.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()["retry-after"], "2");
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            body["description"], "injected fault",
            "legacy area shape: {body}"
        );
    }
    assert_eq!(h.status(COMPANIES).await, StatusCode::OK);
    assert_eq!(h.sim.fault_hits(id), 2);
    assert_eq!(h.recorded(COMPANIES), vec![429, 429, 200]);
}

#[tokio::test]
async fn status_with_custom_body_and_without_retry_after() {
    let h = Harness::start().await;
    h.sim.inject(
        Fault::on_path(
            PathMatch::Prefix(SITES.into()),
            FaultAction::Status {
                status: 503,
                body: Some("upstream maintenance".into()),
                retry_after: None,
            },
        )
        .once(),
    );
    h.sim.inject(
        Fault::on_path(
            PathMatch::Prefix(SITES.into()),
            FaultAction::Status {
                status: 502,
                body: Some(r#"{"oops":true}"#.into()),
                retry_after: None,
            },
        )
        .once(),
    );
    h.sim
        .inject(Fault::on_path(PathMatch::Prefix(SITES.into()), FaultAction::status(42)).once());
    let r = h.get(SITES).await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().get("retry-after").is_none());
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert_eq!(r.text().await.unwrap(), "upstream maintenance");
    let r = h.get(SITES).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(r.headers()["content-type"], "application/json");
    // An unusable status is answered as 500 rather than panicking.
    assert_eq!(h.status(SITES).await, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(h.status(SITES).await, StatusCode::OK);
}

#[tokio::test]
async fn faults_apply_to_token_minting() {
    let h = Harness::start().await;
    let base = h.sim.base_url();
    let id = h.sim.inject(
        Fault::on_path(
            PathMatch::Exact("/v1/token".into()),
            FaultAction::status(423),
        )
        .once(),
    );
    let err = mint(&h.http, &base).await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::LOCKED));
    h.sim.inject(
        Fault::on_path(
            PathMatch::Exact("/v1/token".into()),
            FaultAction::status(500),
        )
        .once(),
    );
    let err = mint(&h.http, &base).await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert!(mint(&h.http, &base).await.is_ok());
    assert_eq!(h.sim.fault_hits(id), 1);
    assert_eq!(h.recorded("/v1/token"), vec![200, 423, 500, 200]);
    assert_eq!(h.sim.token_mints(), 2);
}

#[tokio::test]
async fn method_filter_and_path_matching() {
    let h = Harness::start().await;
    let post_only = h.sim.inject(
        Fault::on_path(PathMatch::Prefix("/api/".into()), FaultAction::status(503)).method("post"),
    );
    assert_eq!(h.status(COMPANIES).await, StatusCode::OK);
    assert_eq!(h.sim.fault_hits(post_only), 0);
    h.sim.remove_fault(post_only);

    let exact = h.sim.inject(
        Fault::on_path(PathMatch::Exact(COMPANIES.into()), FaultAction::status(504)).method("GET"),
    );
    // The query is not part of the matched path; a longer path does not match `Exact`.
    assert_eq!(
        h.status(&format!("{COMPANIES}?limit=1")).await,
        StatusCode::GATEWAY_TIMEOUT
    );
    assert_eq!(
        h.status(&format!("{COMPANIES}/x")).await,
        StatusCode::NOT_FOUND
    );
    h.sim.remove_fault(exact);

    let contains = h.sim.inject(Fault::on_path(
        PathMatch::Contains("/sites".into()),
        FaultAction::status(502),
    ));
    assert_eq!(h.status(SITES).await, StatusCode::BAD_GATEWAY);
    assert_eq!(
        h.status(&format!("{SITES}/abc")).await,
        StatusCode::BAD_GATEWAY
    );
    assert_eq!(h.status(COMPANIES).await, StatusCode::OK);
    assert_eq!(h.sim.fault_hits(contains), 2);
    assert_eq!(h.sim.fault_hits(exact), 1);
}

#[tokio::test]
async fn first_armed_match_wins_and_remove_clear_restore_service() {
    let h = Harness::start().await;
    let first = h.sim.inject(Fault::on_path(
        PathMatch::Prefix("/api/".into()),
        FaultAction::status(502),
    ));
    let second = h.sim.inject(Fault::on_path(
        PathMatch::Exact(COMPANIES.into()),
        FaultAction::status(503),
    ));
    let never = h
        .sim
        .inject(Fault::on_path(PathMatch::Prefix("/".into()), FaultAction::status(500)).times(0));
    assert_eq!(h.status(COMPANIES).await, StatusCode::BAD_GATEWAY);
    h.sim.remove_fault(first);
    assert_eq!(h.status(COMPANIES).await, StatusCode::SERVICE_UNAVAILABLE);
    h.sim.clear_faults();
    assert_eq!(h.status(COMPANIES).await, StatusCode::OK);
    assert_eq!(
        (
            h.sim.fault_hits(first),
            h.sim.fault_hits(second),
            h.sim.fault_hits(never)
        ),
        (1, 1, 0)
    );
}

#[tokio::test]
async fn latency_trips_a_first_byte_timeout_then_serves() {
    let h = Harness::start().await;
    let id = h.sim.inject(
        Fault::on_path(
            PathMatch::Exact(COMPANIES.into()),
            FaultAction::Latency(Duration::from_millis(600)),
        )
        .times(2),
    );
    let err = h
        .http
        .get(h.url(COMPANIES))
        .bearer_auth(&h.token)
        .timeout(Duration::from_millis(150))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    let started = std::time::Instant::now();
    assert_eq!(h.status(COMPANIES).await, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(600));
    assert_eq!(h.sim.fault_hits(id), 2);
}

#[tokio::test]
async fn malformed_json_is_a_200_that_does_not_parse() {
    let h = Harness::start().await;
    h.sim.inject(
        Fault::on_path(
            PathMatch::Exact(COMPANIES.into()),
            FaultAction::MalformedJson,
        )
        .once(),
    );
    let r = h.get(COMPANIES).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/json");
    let text = r.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    assert!(h
        .get(COMPANIES)
        .await
        .unwrap()
        .json::<Value>()
        .await
        .is_ok());
}

#[tokio::test]
async fn oversized_body_is_streamed_valid_json_of_the_requested_size() {
    let h = Harness::start().await;
    let bytes = 3 * 1024 * 1024 + 7;
    h.sim.inject(
        Fault::on_path(
            PathMatch::Exact(COMPANIES.into()),
            FaultAction::OversizedBody { bytes },
        )
        .once(),
    );
    let r = h.get(COMPANIES).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get("content-length").is_none());
    assert_eq!(r.headers()["transfer-encoding"], "chunked");
    let body = r.bytes().await.unwrap();
    assert_eq!(body.len(), bytes);
    let value: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(value["data"].as_str().unwrap().len(), bytes - 11);
    // Tiny sizes still give valid JSON.
    h.sim.inject(
        Fault::on_path(
            PathMatch::Exact(COMPANIES.into()),
            FaultAction::OversizedBody { bytes: 0 },
        )
        .once(),
    );
    assert_eq!(
        h.get(COMPANIES)
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()["data"],
        ""
    );
    assert_eq!(h.recorded(COMPANIES), vec![200, 200]);
}

#[tokio::test]
async fn connection_reset_sends_nothing_and_the_server_keeps_serving() {
    let h = Harness::start().await;
    let id = h.sim.inject(
        Fault::on_path(
            PathMatch::Exact(COMPANIES.into()),
            FaultAction::ConnectionReset,
        )
        .times(2),
    );
    let err = h.get(COMPANIES).await.unwrap_err();
    let chain = error_chain(&err);
    assert!(err.is_request(), "{err:?}");
    assert!(
        chain.contains("connection closed before message completed"),
        "{chain}"
    );
    let (raw, orderly) = h.raw_get(COMPANIES).await;
    assert!(raw.is_empty(), "no byte of response");
    assert!(orderly, "a FIN, not an RST");
    assert_eq!(h.status(COMPANIES).await, StatusCode::OK);
    assert_eq!(h.sim.fault_hits(id), 2);
    assert_eq!(h.recorded(COMPANIES), vec![0, 0, 200]);
}

#[tokio::test]
async fn reset_after_handling_performs_the_write_but_never_answers() {
    let h = Harness::start().await;
    let base = h.sim.base_url();
    h.sim.inject(
        Fault::on_path(
            PathMatch::Exact("/v1/token".into()),
            FaultAction::ResetAfterHandling,
        )
        .method("POST")
        .once(),
    );
    assert_eq!(h.sim.token_mints(), 1);
    let err = mint(&h.http, &base).await.unwrap_err();
    assert!(err.is_request(), "{err:?}");
    assert_eq!(h.sim.token_mints(), 2, "the mint happened all the same");
    assert!(mint(&h.http, &base).await.is_ok());
    assert_eq!(h.recorded("/v1/token"), vec![200, 0, 200]);
}

#[tokio::test]
async fn truncated_body_promises_more_than_it_sends() {
    let h = Harness::start().await;
    h.sim.inject(
        Fault::on_path(
            PathMatch::Exact(COMPANIES.into()),
            FaultAction::TruncatedBody,
        )
        .times(2),
    );
    let r = h.get(COMPANIES).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the head arrives intact");
    let promised: usize = r.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let err = r.bytes().await.unwrap_err();
    let chain = error_chain(&err);
    assert!(err.is_decode(), "{err:?}");
    assert!(
        chain.contains("end of file before message length reached"),
        "{chain}"
    );

    let (raw, orderly) = h.raw_get(COMPANIES).await;
    assert!(orderly, "a FIN, not an RST");
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete head");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head
        .to_ascii_lowercase()
        .contains(&format!("content-length: {promised}")));
    assert_eq!(body.len(), promised / 2, "half the body, then the cut");

    let full = h.get(COMPANIES).await.unwrap().bytes().await.unwrap();
    assert_eq!(full.len(), promised);
    assert_eq!(h.recorded(COMPANIES), vec![0, 0, 200]);
}

#[tokio::test]
async fn expire_tokens_first_gives_401_until_a_fresh_token() {
    let mut h = Harness::start().await;
    let id = h.sim.inject(
        Fault::on_path(
            PathMatch::Prefix("/api/".into()),
            FaultAction::ExpireTokensFirst,
        )
        .once(),
    );
    assert_eq!(h.status(COMPANIES).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        h.status(COMPANIES).await,
        StatusCode::UNAUTHORIZED,
        "the old token stays dead"
    );
    h.token = mint(&h.http, &h.sim.base_url()).await.unwrap();
    assert_eq!(h.status(COMPANIES).await, StatusCode::OK);
    assert_eq!(h.sim.fault_hits(id), 1);
    assert_eq!(h.recorded(COMPANIES), vec![401, 401, 200]);
}
