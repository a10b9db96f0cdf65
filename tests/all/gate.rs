//! The outbound gate, exercised by the `probe` fixture: a plugin that requests whatever it
//! is told to. Only the declared origin (scheme, host and port exactly) gets out; the host
//! injects the token and tracing headers; the plugin can never set credentials itself.

use e2e::*;
use serde_json::Value;
use simulator::DEMO_CLIENT_SECRET;
use toolhost_host::HostError;
use toolhost_sandbox::CallFailure;
use toolhost_sandbox::GateFailure;

const API: &str = "https://openapi.service.auplatform.connectwise.com";
const COMPANIES: &str = "/api/platform/v1/company/companies";

async fn fetch(env: &TestEnv, args: Value) -> Result<Value, HostError> {
    env.call("probe:fetch", args).await
}

/// Asserts the gate denied the origin and returns the origin it named.
#[track_caller]
fn expect_denied(result: Result<Value, HostError>) -> String {
    match result {
        Err(HostError::Call {
            failure: CallFailure::Gate(GateFailure::OriginDenied { origin, allowed }),
            ..
        }) => {
            assert!(
                allowed.contains("openapi.service.auplatform.connectwise.com"),
                "{allowed}"
            );
            origin
        }
        other => panic!("expected OriginDenied, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_list_origins_are_denied_and_never_reached() {
    let env = TestEnv::probe().await;
    let port = env.sim.addr().port();
    let before = env.sim.requests().len();

    let origin = expect_denied(fetch(&env, json!({"url": "https://evil.example.com/steal"})).await);
    assert!(origin.contains("evil.example.com"), "{origin}");

    // The simulator's own address, as an IP literal: the allowlist names origins, not routes.
    let origin = expect_denied(
        fetch(
            &env,
            json!({"url": format!("http://127.0.0.1:{port}{COMPANIES}")}),
        )
        .await,
    );
    assert!(origin.contains("127.0.0.1"), "{origin}");

    // The right host on another port.
    let origin = expect_denied(
        fetch(
            &env,
            json!({"url": format!("https://openapi.service.auplatform.connectwise.com:8443{COMPANIES}")}),
        )
        .await,
    );
    assert!(origin.contains("8443"), "{origin}");

    // The right host over plain http, on its default port and on 443.
    for url in [
        format!("http://openapi.service.auplatform.connectwise.com{COMPANIES}"),
        format!("http://openapi.service.auplatform.connectwise.com:443{COMPANIES}"),
    ] {
        let origin = expect_denied(fetch(&env, json!({"url": url})).await);
        assert!(origin.starts_with("http://"), "{origin}");
    }

    // Another region's real origin is not this connection's origin either.
    expect_denied(
        fetch(
            &env,
            json!({"url": format!("https://openapi.service.itsupport247.net{COMPANIES}")}),
        )
        .await,
    );

    // None of it reached the simulator, and no token was minted for it.
    assert_eq!(env.sim.requests().len(), before);
    assert_eq!(env.sim.token_mints(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_allowed_origin_gets_the_token_and_tracing_headers() {
    let env = TestEnv::probe().await;
    let answer = fetch(&env, json!({"url": format!("{API}{COMPANIES}")}))
        .await
        .expect("the allowed origin is reachable");
    assert_eq!(answer["status"], 200, "{answer}");
    assert!(
        answer["body"]
            .as_str()
            .unwrap()
            .contains(seed::CONTOSO_NAME),
        "{answer}"
    );

    let seen = env.requests_to("GET", COMPANIES);
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert!(
        request.had_bearer_token,
        "the host did not inject the token"
    );
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header("origin").as_deref(), Some(API));
    assert!(header("user-agent").unwrap().contains("probe"));
    let request_id = header("x-request-id").expect("x-request-id");
    assert_eq!(request_id.len(), 36, "{request_id}");
    assert_eq!(
        header("host").as_deref(),
        Some("openapi.service.auplatform.connectwise.com")
    );

    // A second request gets a fresh request id and the same (cached) token.
    fetch(&env, json!({"url": format!("{API}{COMPANIES}")}))
        .await
        .unwrap();
    let seen = env.requests_to("GET", COMPANIES);
    let second_id = seen[1]
        .headers
        .iter()
        .find(|(n, _)| n == "x-request-id")
        .map(|(_, v)| v.clone())
        .unwrap();
    assert_ne!(second_id, request_id);
    assert_eq!(env.sim.token_mints(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plugin_cannot_set_credentials_itself() {
    let env = TestEnv::probe().await;
    let before = env.sim.requests().len();
    for header in ["authorization", "Authorization", "cookie", "x-api-key"] {
        let result = fetch(
            &env,
            json!({"url": format!("{API}{COMPANIES}"), "headers": {header: "Bearer stolen-or-forged"}}),
        )
        .await;
        let err = result.expect_err(&format!("`{header}` was accepted from the plugin"));
        assert!(
            err.to_string().to_lowercase().contains("forbidden"),
            "{header}: {err}"
        );
    }
    // The forged headers never left the sandbox.
    assert_eq!(env.sim.requests().len(), before);

    // Even via the token endpoint the plugin gets nothing the host holds.
    let config = env.call("probe:echo-config", json!({})).await.unwrap();
    assert_eq!(config["region"], "au");
    assert!(!config.to_string().contains(DEMO_CLIENT_SECRET), "{config}");
}
