//! One token per connection and home, however many processes and requests need it. The
//! Asio API locks a key that mints more than five tokens in ten seconds (HTTP 423), so:
//! consecutive and concurrent `toolhost` processes share the token minted at connect; a 401
//! mints at most once per token; a lock-out one process saw is honoured by the next; the
//! plugin can never reach the token endpoint; and retries, replays and requests in flight
//! all count against the call's limits.
//!
//! Lines starting with `FIGURE` are the observed numbers docs/RELIABILITY.md quotes; see them
//! with `cargo test -p e2e --test all -- tokens:: --nocapture`.

use e2e::*;
use serde_json::Value;
use simulator::DEMO_CLIENT_SECRET;
use simulator::{Fault, FaultAction, Gathering, MintLimit, PathMatch, Simulator, SimulatorConfig};
use std::process::Stdio;
use std::time::{Duration, Instant};
use toolhost_host::HostError;
use toolhost_sandbox::{CredentialError, GateFailure, RetryPolicy, TOKEN_FILE, TOKEN_LOCK_FILE};

const TOKEN: &str = "/v1/token";
const API: &str = "https://openapi.service.auplatform.connectwise.com";
const COMPANIES: &str = "/api/platform/v1/company/companies";
const LIST_COMPANIES: [&str; 3] = ["call", "cw-rmm-list-companies", "--json"];

/// The real API's lock-out: a sixth token request within ten seconds is answered 423.
fn like_the_real_api() -> SimulatorConfig {
    SimulatorConfig {
        mint_limit: MintLimit {
            max_mints: 5,
            window: Duration::from_secs(10),
        },
        ..sim_config()
    }
}

/// Every token request the simulator received, whatever it answered.
fn token_requests(sim: &Simulator) -> usize {
    sim.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == TOKEN)
        .count()
}

/// Asserts no output carries an access token the simulator minted.
#[track_caller]
fn no_token_in(sim: &Simulator, what: &str, text: &str) {
    for token in sim.issued_tokens() {
        assert!(
            !text.contains(&token),
            "{what} printed an access token:\n{text}"
        );
    }
}

async fn connected_cli(sim: &Simulator) -> Cli {
    let cli = Cli::new().await;
    let out = cli.connect(DEMO_CLIENT_SECRET, &sim.base_url(), &[]).await;
    assert!(out.success(), "connect failed:\n{}", out.all());
    cli
}

async fn probe_fetch(env: &TestEnv, args: Value) -> Result<Value, HostError> {
    env.call("probe:fetch", args).await
}

#[track_caller]
fn expect_gate(result: Result<Value, HostError>) -> GateFailure {
    match result {
        Err(err) => gate_failure(&err)
            .cloned()
            .unwrap_or_else(|| panic!("expected a gate failure, got {err:?}")),
        Ok(value) => panic!("expected a gate failure, got a result: {value}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_cli_calls_in_a_row_make_one_token_request() {
    let sim = Simulator::start(like_the_real_api()).await.unwrap();
    let cli = connected_cli(&sim).await;
    assert_eq!(token_requests(&sim), 1, "connect mints once");

    let started = Instant::now();
    for i in 0..100 {
        let out = cli.run(&LIST_COMPANIES, &[]).await;
        assert!(out.success(), "call {i} failed:\n{}", out.all());
        no_token_in(&sim, "toolhost call", &out.all());
    }
    let took = started.elapsed();
    let requests = sim.requests();
    assert_eq!(token_requests(&sim), 1, "a process minted its own token");
    assert!(
        requests.iter().all(|r| r.status != 401 && r.status != 423),
        "a call was refused: {:?}",
        requests.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    eprintln!(
        "FIGURE 100 consecutive `toolhost call` processes: {} token request (the one at connect), 0 refused, {} ms",
        token_requests(&sim),
        took.as_millis()
    );

    // The token lives only in the home's token file, owner-only; the lock file next to it.
    let home = cli.home.path();
    let stored = std::fs::read_to_string(home.join(TOKEN_FILE)).unwrap();
    assert!(stored.contains(&sim.issued_tokens()[0]));
    assert!(!stored.contains(DEMO_CLIENT_SECRET), "{stored}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in [TOKEN_FILE, TOKEN_LOCK_FILE] {
            let mode = std::fs::metadata(home.join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file} is {mode:o}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plugin_can_never_reach_the_token_endpoint() {
    let env = TestEnv::probe().await;
    assert_eq!(token_requests(&env.sim), 1);
    let forged = r#"{"grant_type":"client_credentials","client_id":"x","client_secret":"y"}"#;
    let spellings = [
        ("POST", "/v1/token"),
        ("POST", "/v1/token/"),
        ("POST", "/V1/Token"),
        ("POST", "/v1//token"),
        ("POST", "/v1/%74oken"),
        ("POST", "/api/../v1/token"),
        ("GET", "/v1/token"),
    ];
    for (method, path) in spellings {
        let result = probe_fetch(
            &env,
            json!({"url": format!("{API}{path}?scope=x"), "method": method, "body": forged}),
        )
        .await;
        let failure = expect_gate(result);
        assert_eq!(
            failure,
            GateFailure::TokenEndpoint {
                method: method.into(),
                path: path.into(),
            }
        );
        assert!(failure.to_string().contains(path), "{failure}");
    }
    // Over and over: still nothing upstream, and no mint.
    for _ in 0..20 {
        let result = probe_fetch(
            &env,
            json!({"url": format!("{API}{TOKEN}"), "method": "POST", "body": forged}),
        )
        .await;
        assert!(matches!(
            expect_gate(result),
            GateFailure::TokenEndpoint { .. }
        ));
    }
    let seen: Vec<String> = env.sim.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(seen, [TOKEN], "a plugin request reached the simulator");
    assert_eq!(env.sim.token_mints(), 1);

    // The plugin's own API still works, with the one token.
    let answer = probe_fetch(&env, json!({"url": format!("{API}{COMPANIES}")}))
        .await
        .unwrap();
    assert_eq!(answer["status"], 200, "{answer}");
    assert_eq!(token_requests(&env.sim), 1);
    eprintln!(
        "FIGURE token endpoint: {} plugin requests to it refused, 0 reached the simulator, 1 token request (connect)",
        spellings.len() + 20
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_401s_mint_once_in_one_call_and_across_processes() {
    // One call, eight requests in flight, all answered 401: one new token, eight replays.
    // The API holds the first eight until all have arrived: otherwise a request the host
    // sends after the re-mint carries the new token, and fewer than eight are refused.
    let env = TestEnv::probe().await;
    env.sim.expire_all_tokens();
    env.sim.inject(
        Fault::on_path(
            PathMatch::Exact(COMPANIES.into()),
            FaultAction::gather(8, CLI_DEADLINE),
        )
        .method("GET")
        .times(8),
    );
    let answer = env
        .call(
            "probe:fetch-many",
            json!({"url": format!("{API}{COMPANIES}"), "count": 8}),
        )
        .await
        .expect("every request was replayed with the new token");
    assert_eq!(answer["statuses"], json!(vec![200; 8]), "{answer}");
    let statuses: Vec<u16> = env
        .requests_to("GET", COMPANIES)
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 8);
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 8);
    assert_eq!(token_requests(&env.sim), 2, "connect + one re-mint");

    // Six processes of one home, all holding the token the API just dropped. The API holds
    // the first six requests until all six have arrived, so every process has read and sent
    // the old token before the first 401, however slowly the processes start.
    let sim = Simulator::start(like_the_real_api()).await.unwrap();
    let cli = connected_cli(&sim).await;
    sim.expire_all_tokens();
    let gathering = Gathering::new(6, CLI_DEADLINE);
    sim.inject(
        Fault::on_path(
            PathMatch::Exact(COMPANIES.into()),
            FaultAction::Gather(gathering.clone()),
        )
        .method("GET")
        .times(6),
    );
    let mut children = Vec::new();
    for _ in 0..6 {
        let mut cmd = cli.command(&LIST_COMPANIES);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        children.push(cmd.spawn().expect("spawning toolhost"));
    }
    for child in children {
        let out = tokio::time::timeout(CLI_DEADLINE, child.wait_with_output())
            .await
            .expect("a concurrent call hung")
            .unwrap();
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{text}");
        assert!(!text.contains(DEMO_CLIENT_SECRET), "{text}");
        no_token_in(&sim, "a concurrent toolhost call", &text);
    }
    assert_eq!(gathering.arrived(), 6, "every process sent its request");
    let refused = sim.requests().iter().filter(|r| r.status == 401).count();
    assert_eq!(refused, 6, "every process sent the old token");
    assert_eq!(token_requests(&sim), 2, "connect + one re-mint for all six");
    eprintln!(
        "FIGURE concurrent 401s: 8 in one call -> 1 re-mint; 6 processes ({refused} x 401) -> {} re-mint",
        token_requests(&sim) - 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_whatever_the_token_mints_once_not_once_per_request() {
    let env = TestEnv::probe().await;
    // An endpoint that answers 401 to any token (as the token endpoint itself did to a
    // plugin posting garbage to it).
    let fault = env.sim.inject(Fault::on_path(
        PathMatch::Exact(COMPANIES.into()),
        FaultAction::status(401),
    ));
    for _ in 0..10 {
        let answer = probe_fetch(&env, json!({"url": format!("{API}{COMPANIES}")}))
            .await
            .expect("the 401 reaches the plugin as an answer");
        assert_eq!(answer["status"], 401, "{answer}");
    }
    // The first 401 replaced the token (and was replayed once); the new token's own 401s
    // did not, so 10 requests cost one mint instead of ten.
    assert_eq!(env.sim.fault_hits(fault), 11);
    assert_eq!(token_requests(&env.sim), 2);

    // Once the API accepts the new token again, everything works without another mint.
    env.sim.clear_faults();
    let answer = probe_fetch(&env, json!({"url": format!("{API}{COMPANIES}")}))
        .await
        .unwrap();
    assert_eq!(answer["status"], 200, "{answer}");
    assert_eq!(token_requests(&env.sim), 2);
    // And accepted, a later expiry is again repaired by one mint.
    env.sim.expire_all_tokens();
    let answer = probe_fetch(&env, json!({"url": format!("{API}{COMPANIES}")}))
        .await
        .unwrap();
    assert_eq!(answer["status"], 200, "{answer}");
    assert_eq!(token_requests(&env.sim), 3);
    eprintln!("FIGURE persistent 401: 10 requests -> 1 re-mint (11 x 401 upstream)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_out_seen_by_one_process_is_honoured_by_the_next() {
    let sim = Simulator::start(sim_config()).await.unwrap();
    let cli = connected_cli(&sim).await;
    sim.inject(
        Fault::on_path(
            PathMatch::Exact(TOKEN.into()),
            FaultAction::status_retry_after(423, "60"),
        )
        .method("POST"),
    );
    sim.expire_all_tokens();

    // The first process: a 401, one token request, a 423.
    let first = cli.run(&LIST_COMPANIES[..2], &[]).await;
    assert!(!first.success(), "{}", first.all());
    assert!(first.stderr.contains("423"), "{}", first.stderr);
    assert_eq!(token_requests(&sim), 2);

    // The next process neither asks the locked key nor sends the token the API refused:
    // it fails before anything goes upstream.
    let api_requests = sim.requests().len() - token_requests(&sim);
    let second = cli.run(&LIST_COMPANIES[..2], &[]).await;
    assert!(!second.success(), "{}", second.all());
    let message = second.stderr.to_lowercase();
    assert!(
        message.contains("locked") && message.contains("wait"),
        "{message}"
    );
    assert_eq!(
        token_requests(&sim),
        2,
        "the second process asked a locked key"
    );
    assert_eq!(sim.requests().len() - token_requests(&sim), api_requests);

    // A long-running front end (`mcp`, `ui`) opened on the same home: the same.
    let host = open_host(host_config(cli.home.path(), &plugin_wasm())).await;
    let err = call_on(
        &host,
        "cw-rmm-list-companies",
        json!({}),
        None,
        &toolhost_host::DeferApprovals,
    )
    .await
    .unwrap_err();
    match gate_failure(&err) {
        Some(GateFailure::Credentials(CredentialError::Locked { retry_after })) => {
            assert!(*retry_after <= Duration::from_secs(60), "{retry_after:?}");
        }
        _ => panic!("expected the shared lock-out, got {err:?}"),
    }
    assert_eq!(token_requests(&sim), 2);
    assert_eq!(sim.requests().len() - token_requests(&sim), api_requests);
    assert_eq!(host.token_mints(), 0);
    eprintln!("FIGURE 423 shared: 2 processes and 1 library host while locked -> 1 token request");
}

/// Fast retries, so a retried request resolves in milliseconds.
fn fast_retries(config: &mut toolhost_host::HostConfig) {
    config.outbound.retry = RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        max_elapsed: Duration::from_secs(5),
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_and_the_401_replay_count_against_the_request_cap() {
    // A read answered 503: the first send and one retry make two requests; the second
    // retry would be the third, over the cap.
    let env = TestEnv::configured(&probe_wasm(), sim_config(), |c| {
        fast_retries(c);
        c.outbound.max_requests_per_call = 2;
    })
    .await;
    env.sim.inject(
        Fault::on_path(PathMatch::Exact(COMPANIES.into()), FaultAction::status(503)).method("GET"),
    );
    let result = probe_fetch(&env, json!({"url": format!("{API}{COMPANIES}")})).await;
    let failure = expect_gate(result);
    assert_eq!(failure, GateFailure::RequestLimit { limit: 2 });
    assert!(failure.to_string().contains("retries"), "{failure}");
    assert_eq!(env.requests_to("GET", COMPANIES).len(), 2);

    // A 401 and its replay are two requests too.
    let env = TestEnv::configured(&probe_wasm(), sim_config(), |c| {
        c.outbound.max_requests_per_call = 1;
    })
    .await;
    env.sim.expire_all_tokens();
    let result = probe_fetch(&env, json!({"url": format!("{API}{COMPANIES}")})).await;
    assert_eq!(expect_gate(result), GateFailure::RequestLimit { limit: 1 });
    let statuses: Vec<u16> = env
        .requests_to("GET", COMPANIES)
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [401]);
    // The new token was kept: the next call needs neither a mint nor a replay.
    let answer = probe_fetch(&env, json!({"url": format!("{API}{COMPANIES}")}))
        .await
        .unwrap();
    assert_eq!(answer["status"], 200, "{answer}");
    assert_eq!(token_requests(&env.sim), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_in_flight_cap_trips_with_its_typed_error() {
    let env = TestEnv::configured(&probe_wasm(), sim_config(), |c| {
        c.outbound.max_in_flight_per_call = 2;
    })
    .await;
    let url = format!("{API}{COMPANIES}");
    let result = env
        .call("probe:fetch-many", json!({"url": url, "count": 3}))
        .await;
    let failure = expect_gate(result);
    assert_eq!(failure, GateFailure::InFlightLimit { limit: 2 });
    assert!(
        failure.to_string().contains("max_in_flight_per_call"),
        "{failure}"
    );
    assert!(env.requests_to("GET", COMPANIES).len() <= 2);

    // Within the cap, and one after another, requests go through.
    let answer = env
        .call("probe:fetch-many", json!({"url": url, "count": 2}))
        .await
        .unwrap();
    assert_eq!(answer["statuses"], json!([200, 200]), "{answer}");
    for _ in 0..3 {
        let answer = probe_fetch(&env, json!({"url": url})).await.unwrap();
        assert_eq!(answer["status"], 200, "{answer}");
    }
    // The default (8) lets the probe's eight-wide fan-out through.
    let env = TestEnv::probe().await;
    let answer = env
        .call("probe:fetch-many", json!({"url": url, "count": 8}))
        .await
        .unwrap();
    assert_eq!(answer["statuses"], json!(vec![200; 8]), "{answer}");
}
