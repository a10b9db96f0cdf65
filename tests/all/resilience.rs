//! Resilience: the real ConnectWise RMM plugin against a simulator that fails on purpose.
//! Reads are retried (bounded, with backoff, honouring Retry-After); writes are never
//! retried blindly (only replayed after a 401), and a write that got no answer is reported
//! as "outcome unknown". After every fault the next call works.
//!
//! Lines starting with `FIGURE` are the observed numbers docs/RELIABILITY.md quotes; see
//! them with `cargo test -p e2e --test resilience -- --nocapture`.

use e2e::*;
use serde_json::Value;
use simulator::{Fault, FaultAction, PathMatch, Simulator};
use std::time::{Duration, Instant};
use toolhost_host::HostConfig;
use toolhost_sandbox::CallFailure;
use toolhost_sandbox::CredentialError;
use toolhost_sandbox::{GateFailure, RetryPolicy};

const COMPANIES: &str = "/api/platform/v1/company/companies";
const TOKEN: &str = "/v1/token";
const MAX_RETRIES: u32 = 3;
const FIRST_BYTE: Duration = Duration::from_millis(400);

/// Fast retries and short timeouts, so every fault resolves in well under a second.
fn fast(config: &mut HostConfig) {
    config.outbound.retry = RetryPolicy {
        max_retries: MAX_RETRIES,
        base_delay: Duration::from_millis(40),
        max_delay: Duration::from_millis(1500),
        max_elapsed: Duration::from_secs(5),
    };
    config.outbound.timeouts.first_byte = FIRST_BYTE;
    config.outbound.timeouts.between_bytes = FIRST_BYTE;
    config.outbound.timeouts.connect = Duration::from_millis(500);
}

async fn env() -> TestEnv {
    TestEnv::configured(&plugin_wasm(), sim_config(), fast).await
}

fn companies_path() -> PathMatch {
    PathMatch::Exact(COMPANIES.into())
}

/// The next call works: a read, end to end.
async fn next_call_works(env: &TestEnv) {
    let all = env.ok("cw-rmm-list-companies", json!({})).await;
    assert!(all.to_string().contains(seed::CONTOSO_NAME), "{all}");
}

fn gets(env: &TestEnv) -> usize {
    env.requests_to("GET", COMPANIES).len()
}

fn ticket_args(summary: &str) -> Value {
    json!({"summary": summary, "description": "resilience", "board": "Service Desk", "source": "API"})
}

fn task_args() -> Value {
    json!({
        "templateId": seed::DISK_CLEANUP_SCRIPT_ID,
        "targets": [seed::MARIA_LAPTOP_ID],
        "parameters": {"drive": "C:", "minFileAgeDays": 7},
        "name": "resilience disk cleanup"
    })
}

fn ticket_posts(env: &TestEnv) -> usize {
    env.sim
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/tickets"))
        .count()
}

async fn ticket_total(env: &TestEnv) -> u64 {
    env.ok("cw-rmm-list-tickets", json!({"limit": 1})).await["totalCount"]
        .as_u64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_retried_on_transient_statuses() {
    let env = env().await;
    for status in [502u16, 503, 504, 429] {
        let before = gets(&env);
        let fault = env.sim.inject(
            Fault::on_path(companies_path(), FaultAction::status(status))
                .method("GET")
                .times(2),
        );
        let started = Instant::now();
        let report = env
            .report("cw-rmm-list-companies", json!({}), false)
            .await
            .unwrap_or_else(|e| panic!("{status}: {e}"));
        let took = started.elapsed();
        assert_eq!(env.sim.fault_hits(fault), 2);
        // Two failures, then the answer: three attempts upstream.
        assert_eq!(gets(&env) - before, 3, "{status}");
        let retries: Vec<u32> = report.upstream.iter().map(|e| e.retry).collect();
        let statuses: Vec<Option<u16>> = report.upstream.iter().map(|e| e.status).collect();
        assert_eq!(retries, vec![0, 1, 2], "{status}");
        assert_eq!(
            statuses,
            vec![Some(status), Some(status), Some(200)],
            "{status}"
        );
        eprintln!(
            "FIGURE retry {status} x2: ok after {} attempts in {} ms",
            report.upstream.len(),
            took.as_millis()
        );
    }
    next_call_works(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_whose_connection_drops_is_sent_again() {
    let env = env().await;
    let before = gets(&env);
    let fault = env.sim.inject(
        Fault::on_path(companies_path(), FaultAction::ConnectionReset)
            .method("GET")
            .once(),
    );
    let report = env
        .report("cw-rmm-list-companies", json!({}), false)
        .await
        .expect("the retried read succeeds");
    assert_eq!(env.sim.fault_hits(fault), 1);
    assert_eq!(gets(&env) - before, 2, "the dropped read and its retry");
    let retries: Vec<u32> = report.upstream.iter().map(|e| e.retry).collect();
    assert_eq!(retries, vec![0, 1]);
    next_call_works(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_and_an_excessive_one_is_not_waited_for() {
    let env = env().await;
    // Retry-After: 1 (seconds) -> the retry waits about a second.
    env.sim.inject(
        Fault::on_path(companies_path(), FaultAction::status_retry_after(429, "1"))
            .method("GET")
            .once(),
    );
    let started = Instant::now();
    let before = gets(&env);
    env.ok("cw-rmm-list-companies", json!({})).await;
    let took = started.elapsed();
    eprintln!(
        "FIGURE retry-after 1 s: ok after 2 attempts in {} ms",
        took.as_millis()
    );
    assert_eq!(gets(&env) - before, 2);
    assert!(took >= Duration::from_secs(1), "{took:?}");

    // Retry-After longer than the policy's max delay: no retry, the 429 surfaces at once.
    env.sim.inject(
        Fault::on_path(
            companies_path(),
            FaultAction::status_retry_after(429, "120"),
        )
        .method("GET")
        .once(),
    );
    let started = Instant::now();
    let before = gets(&env);
    let err = env
        .call("cw-rmm-list-companies", json!({}))
        .await
        .expect_err("a 429 with Retry-After: 120 was not surfaced");
    let took = started.elapsed();
    eprintln!(
        "FIGURE retry-after 120 s: {err} ({} attempt, {} ms)",
        gets(&env) - before,
        took.as_millis()
    );
    assert_eq!(gets(&env) - before, 1);
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(err.upstream_statuses(), Some(vec![429]));
    assert!(!matches!(
        call_failure(&err),
        Some(CallFailure::Trap { .. })
    ));
    next_call_works(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persistent_503_gives_up_after_the_retry_budget() {
    let env = env().await;
    let fault = env
        .sim
        .inject(Fault::on_path(companies_path(), FaultAction::status(503)).method("GET"));
    let before = gets(&env);
    let started = Instant::now();
    let err = env
        .call("cw-rmm-list-companies", json!({}))
        .await
        .expect_err("a persistent 503 succeeded");
    let took = started.elapsed();
    let attempts = gets(&env) - before;
    eprintln!(
        "FIGURE persistent 503: {err} after {attempts} attempts in {} ms",
        took.as_millis()
    );
    assert_eq!(attempts, 1 + MAX_RETRIES as usize);
    assert_eq!(
        err.upstream_statuses(),
        Some(vec![503; 1 + MAX_RETRIES as usize])
    );
    assert!(tool_error(&err).is_some(), "{err:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    env.sim.remove_fault(fault);
    next_call_works(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_are_never_retried_on_503_or_a_cut_connection() {
    let env = env().await;
    let tickets = ticket_total(&env).await;

    // 503 on the ticket POST: exactly one POST, no ticket, a clear upstream error.
    env.sim.inject(
        Fault::on_path(
            PathMatch::Contains("/tickets".into()),
            FaultAction::status(503),
        )
        .method("POST"),
    );
    let err = env
        .call_approved("cw-rmm-create-ticket", ticket_args("503"))
        .await
        .expect_err("a 503 on a write succeeded");
    eprintln!("FIGURE write 503: {err}");
    assert_eq!(ticket_posts(&env), 1);
    assert_eq!(err.upstream_statuses().unwrap().last(), Some(&503));
    env.sim.clear_faults();
    assert_eq!(ticket_total(&env).await, tickets);

    // 503 on schedule-tasks: exactly one POST.
    env.sim.inject(
        Fault::on_path(
            PathMatch::Contains("/schedule-tasks".into()),
            FaultAction::status(503),
        )
        .method("POST"),
    );
    let err = env
        .call_approved("cw-rmm-run-task", task_args())
        .await
        .expect_err("a 503 on a write succeeded");
    eprintln!("FIGURE schedule 503: {err}");
    assert_eq!(env.requests_to("POST", "/schedule-tasks").len(), 1);
    env.sim.clear_faults();

    // The connection is cut before any answer: the host cannot know whether the write
    // happened, so it says so and does not retry.
    env.sim.inject(
        Fault::on_path(
            PathMatch::Contains("/schedule-tasks".into()),
            FaultAction::ConnectionReset,
        )
        .method("POST"),
    );
    let err = env
        .call_approved("cw-rmm-run-task", task_args())
        .await
        .expect_err("a cut write succeeded");
    eprintln!("FIGURE schedule reset: {err}");
    assert!(
        matches!(gate_failure(&err), Some(GateFailure::WriteOutcomeUnknown { method, .. }) if method == "POST"),
        "{err:?}"
    );
    assert_eq!(env.requests_to("POST", "/schedule-tasks").len(), 2);
    env.sim.clear_faults();

    // After all that, a write goes through exactly once.
    env.ok_approved("cw-rmm-create-ticket", ticket_args("after"))
        .await;
    assert_eq!(ticket_total(&env).await, tickets + 1);
    next_call_works(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_cut_after_it_was_handled_is_outcome_unknown_and_happens_once() {
    let env = env().await;
    let tickets = ticket_total(&env).await;
    env.sim.inject(
        Fault::on_path(
            PathMatch::Contains("/tickets".into()),
            FaultAction::ResetAfterHandling,
        )
        .method("POST")
        .once(),
    );
    let err = env
        .call_approved("cw-rmm-create-ticket", ticket_args("cut after handling"))
        .await
        .expect_err("a write with no answer succeeded");
    eprintln!("FIGURE write reset-after-handling: {err}");
    match gate_failure(&err) {
        Some(GateFailure::WriteOutcomeUnknown { method, path, .. }) => {
            assert_eq!(method, "POST");
            assert!(path.ends_with("/tickets"), "{path}");
        }
        other => panic!("expected outcome unknown, got {other:?} ({err})"),
    }
    let text = err.to_string();
    assert!(text.contains("outcome unknown"), "{text}");
    assert!(text.contains("check"), "{text}");
    assert!(text.contains("did not retry"), "{text}");
    // Exactly one write reached upstream, and it took effect exactly once.
    assert_eq!(ticket_posts(&env), 1);
    assert_eq!(ticket_total(&env).await, tickets + 1);
    next_call_works(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_expiring_mid_run_is_refreshed_once_and_replayed() {
    let env = env().await;
    assert_eq!(env.sim.token_mints(), 1);

    // A read.
    env.sim.inject(
        Fault::on_path(companies_path(), FaultAction::ExpireTokensFirst)
            .method("GET")
            .once(),
    );
    let before = gets(&env);
    let report = env
        .report("cw-rmm-list-companies", json!({}), false)
        .await
        .expect("a read across a token expiry");
    assert_eq!(env.sim.token_mints(), 2);
    assert_eq!(gets(&env) - before, 2);
    let statuses: Vec<Option<u16>> = report.upstream.iter().map(|e| e.status).collect();
    assert_eq!(statuses, vec![Some(401), Some(200)]);
    assert!(report.upstream[1].replayed_after_401);

    // A write: the 401 proves it was not processed, so exactly one replay, one task.
    env.sim.inject(
        Fault::on_path(
            PathMatch::Contains("/schedule-tasks".into()),
            FaultAction::ExpireTokensFirst,
        )
        .method("POST")
        .once(),
    );
    let report = env
        .report("cw-rmm-run-task", task_args(), true)
        .await
        .expect("a write across a token expiry");
    let posts: Vec<u16> = env
        .requests_to("POST", "/schedule-tasks")
        .iter()
        .map(|r| r.status)
        .collect();
    eprintln!(
        "FIGURE token expiry: mints {}, schedule POST statuses {posts:?}",
        env.sim.token_mints()
    );
    assert_eq!(env.sim.token_mints(), 3);
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0], 401);
    assert!(report.result["taskId"].is_string());
    next_call_works(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_upstream_hits_the_first_byte_timeout() {
    let env = env().await;
    // A read: a clean timeout, no hang.
    let fault = env.sim.inject(
        Fault::on_path(
            companies_path(),
            FaultAction::Latency(Duration::from_secs(3)),
        )
        .method("GET"),
    );
    let started = Instant::now();
    let err = env
        .call("cw-rmm-list-companies", json!({}))
        .await
        .expect_err("a slow read succeeded");
    let took = started.elapsed();
    eprintln!("FIGURE read timeout: {err} in {} ms", took.as_millis());
    assert!(
        matches!(gate_failure(&err), Some(GateFailure::Transport { .. })),
        "{err:?}"
    );
    assert!(
        err.to_string().to_lowercase().contains("timeout")
            || err.to_string().to_lowercase().contains("timed out"),
        "{err}"
    );
    assert!(took < Duration::from_secs(3), "{took:?}");
    env.sim.remove_fault(fault);
    next_call_works(&env).await;

    // A write: it may still happen upstream, so it is "outcome unknown", never retried.
    let tickets = ticket_total(&env).await;
    env.sim.inject(
        Fault::on_path(
            PathMatch::Contains("/tickets".into()),
            FaultAction::Latency(Duration::from_secs(1)),
        )
        .method("POST")
        .once(),
    );
    let err = env
        .call_approved("cw-rmm-create-ticket", ticket_args("slow"))
        .await
        .expect_err("a slow write succeeded");
    eprintln!("FIGURE write timeout: {err}");
    assert!(
        matches!(
            gate_failure(&err),
            Some(GateFailure::WriteOutcomeUnknown { .. })
        ),
        "{err:?}"
    );
    // The host gave up waiting, so the simulator dropped the handler (the cut request never
    // completed); whatever happened upstream, it was sent once and never again.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let total = ticket_total(&env).await;
    eprintln!(
        "FIGURE write timeout: tickets before {tickets}, after {total}, ticket POSTs recorded {}",
        ticket_posts(&env)
    );
    assert!(
        total == tickets || total == tickets + 1,
        "{tickets} -> {total}"
    );
    assert!(ticket_posts(&env) <= 1);
    next_call_works(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_bodies_are_upstream_errors_not_traps() {
    let env = TestEnv::configured(&plugin_wasm(), sim_config(), |c| {
        fast(c);
        c.outbound.max_response_body_bytes = 1 << 20;
    })
    .await;
    let cases = [
        ("truncated body", FaultAction::TruncatedBody),
        ("malformed JSON", FaultAction::MalformedJson),
        (
            "oversized body",
            FaultAction::OversizedBody { bytes: 4 << 20 },
        ),
    ];
    for (what, action) in cases {
        let fault = env.sim.inject(
            Fault::on_path(companies_path(), action)
                .method("GET")
                .once(),
        );
        let err = env
            .call("cw-rmm-list-companies", json!({}))
            .await
            .expect_err(what);
        eprintln!("FIGURE {what}: {err}");
        assert_eq!(env.sim.fault_hits(fault), 1);
        assert!(
            matches!(
                call_failure(&err),
                Some(CallFailure::Tool(_) | CallFailure::Gate(_))
            ),
            "{what}: {err:?}"
        );
        next_call_works(&env).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_token_endpoint_gives_one_clear_error_and_no_hammering() {
    let env = env().await;
    let token_requests = |env: &TestEnv| env.requests_to("POST", TOKEN).len();
    assert_eq!(token_requests(&env), 1);
    env.sim.inject(
        Fault::on_path(
            PathMatch::Exact(TOKEN.into()),
            FaultAction::status_retry_after(423, "2"),
        )
        .method("POST"),
    );
    env.sim.expire_all_tokens();

    // The read gets a 401, the refresh gets a 423: one clear error.
    let err = env
        .call("cw-rmm-list-companies", json!({}))
        .await
        .expect_err("a locked key minted a token");
    eprintln!("FIGURE 423: {err}");
    assert!(
        matches!(
            gate_failure(&err),
            Some(GateFailure::Credentials(CredentialError::Locked { .. }))
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("423"), "{err}");
    assert_eq!(token_requests(&env), 2);

    // More calls while locked fail fast without asking the token endpoint again.
    for _ in 0..5 {
        let err = env
            .call("cw-rmm-list-companies", json!({}))
            .await
            .expect_err("a locked key minted a token");
        assert!(matches!(
            gate_failure(&err),
            Some(GateFailure::Credentials(CredentialError::Locked { .. }))
        ));
    }
    let during_lock = token_requests(&env);
    eprintln!(
        "FIGURE 423: token requests after 6 calls while locked: {during_lock} (1 at connect)"
    );
    assert_eq!(during_lock, 2, "the host hammered a locked token endpoint");

    // Once the lock has passed (and upstream lets go), the next call works.
    env.sim.clear_faults();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    next_call_works(&env).await;
    assert_eq!(token_requests(&env), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_ride_out_an_upstream_that_goes_down_and_comes_back() {
    let sim = Simulator::start(sim_config()).await.unwrap();
    let addr = sim.addr();
    let home = TempDir::new("down-up");
    let mut config = host_config(home.path(), &plugin_wasm());
    fast(&mut config);
    config.outbound.retry.max_retries = 6;
    config.outbound.retry.base_delay = Duration::from_millis(100);
    let mut host = open_host(config).await;
    host.connect(demo_settings(&host, &sim)).await.unwrap();

    // Upstream goes away (connection refused), and comes back on the same address
    // (a fresh simulator: it does not know the old token either) 300 ms later.
    // The port stays dead meanwhile (`DeadPort`), so no other test's server answers there.
    sim.shutdown().await;
    let dead = DeadPort::take(addr)
        .await
        .expect("the stopped simulator's port was taken at once");
    let back = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        dead.free().await;
        Simulator::start_on(addr, sim_config()).await.unwrap()
    });
    let caller = toolhost_host::Caller::new("e2e", None);
    let started = Instant::now();
    let report = host
        .call(
            "cw-rmm-list-companies",
            "{}",
            &caller,
            &toolhost_host::DeferApprovals,
        )
        .await
        .expect("the read rode out the outage");
    let took = started.elapsed();
    let sim = back.await.unwrap();
    let attempts: Vec<(u32, Option<u16>, bool)> = report
        .upstream
        .iter()
        .map(|e| (e.retry, e.status, e.replayed_after_401))
        .collect();
    eprintln!(
        "FIGURE outage: ok in {} ms, attempts (retry, status, replay) {attempts:?}",
        took.as_millis()
    );
    // At least one connection failure (no status), then a 401 from the new server, a
    // token refresh and the replay.
    assert!(report.upstream[0].status.is_none(), "{attempts:?}");
    assert_eq!(report.upstream.last().unwrap().status, Some(200));
    assert!(report.upstream.last().unwrap().replayed_after_401);
    assert_eq!(sim.token_mints(), 1);
}
