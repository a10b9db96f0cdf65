//! Hostile plugins: the `hostile` fixture attacks each per-call limit on purpose, the `probe`
//! fixture tries URL and header tricks, and `fs-importer` tries to reach the filesystem.
//! Every attack must fail cleanly with the right typed error, and the next call on the same
//! `ToolHost` must work (including its network access).
//!
//! Lines starting with `FIGURE` are the observed numbers docs/RELIABILITY.md quotes; see
//! them with `cargo test -p e2e --test hostile -- --nocapture`.

use e2e::*;
use serde_json::Value;
use std::time::{Duration, Instant};
use toolhost_host::conformance::{self, Backend, Status};
use toolhost_host::{HostConfig, HostError};
use toolhost_sandbox::CallFailure;
use toolhost_sandbox::GateFailure;

const API: &str = "https://openapi.service.auplatform.connectwise.com";
const COMPANIES: &str = "/api/platform/v1/company/companies";

/// Small limits so each attack trips quickly.
const DEADLINE: Duration = Duration::from_millis(1500);
const MEMORY: usize = 16 << 20;
const OUTPUT: usize = 256 << 10;
const REQUESTS: u32 = 5;
const REQUEST_BODY: u64 = 1024;

/// Attacks on host memory outside the guest (handles, header maps), with their RSS figures.
mod host_memory;

fn tight(config: &mut HostConfig) {
    config.limits.deadline = DEADLINE;
    config.limits.max_memory_bytes = MEMORY;
    config.limits.max_output_bytes = OUTPUT;
    config.outbound.max_requests_per_call = REQUESTS;
    config.outbound.max_request_body_bytes = REQUEST_BODY;
}

async fn hostile() -> TestEnv {
    TestEnv::configured(&hostile_wasm(), sim_config(), tight).await
}

/// The call failed with a `CallFailure` for which `check` holds.
#[track_caller]
fn expect_failure(
    what: &str,
    result: Result<Value, HostError>,
    check: impl FnOnce(&CallFailure) -> bool,
) -> HostError {
    match result {
        Err(err) => {
            let failure = call_failure(&err)
                .unwrap_or_else(|| panic!("{what}: expected a call failure, got {err:?}"));
            assert!(check(failure), "{what}: unexpected failure {failure:?}");
            err
        }
        Ok(value) => panic!("{what}: expected a failure, got a result: {value}"),
    }
}

/// The host still serves: a plain call and a call that goes upstream both work.
async fn still_serves(env: &TestEnv) {
    assert_eq!(env.ok("hostile:ok", json!({})).await["ok"], true);
    let answer = env.ok("hostile:ok", json!({"fetch": true})).await;
    assert_eq!(answer["status"], 200, "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_infinite_loop_hits_the_deadline_and_the_host_keeps_serving() {
    let env = hostile().await;
    let started = Instant::now();
    let err = expect_failure(
        "spin",
        env.call("hostile:spin", json!({})).await,
        |f| matches!(f, CallFailure::Deadline { deadline_ms } if *deadline_ms == 1500),
    );
    let took = started.elapsed();
    eprintln!("FIGURE spin: {err} after {} ms", took.as_millis());
    assert!(err.to_string().contains("deadline of 1500 ms"), "{err}");
    assert!(
        took >= DEADLINE && took < DEADLINE + Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(err.kind(), "plugin-failure");
    still_serves(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_bomb_hits_the_memory_cap_and_the_host_keeps_serving() {
    let env = hostile().await;
    let started = Instant::now();
    let err = expect_failure(
        "memory-bomb",
        env.call("hostile:memory-bomb", json!({})).await,
        |f| matches!(f, CallFailure::MemoryLimit { limit_bytes } if *limit_bytes == MEMORY),
    );
    eprintln!(
        "FIGURE memory-bomb: {err} after {} ms",
        started.elapsed().as_millis()
    );
    still_serves(&env).await;

    // Growing memory by hand, the plugin sees `memory.grow` refused at the cap and never
    // holds more than the cap.
    let probe = env.ok("hostile:memory-probe", json!({})).await;
    eprintln!("FIGURE memory-probe: {probe}");
    let reached = probe["reachedBytes"].as_u64().unwrap() as usize;
    assert!(reached <= MEMORY, "{probe}");
    assert!(reached > MEMORY - (2 << 20), "{probe}");
    assert!(!probe["refusedAtBytes"].is_null(), "{probe}");
    still_serves(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_a_trap_and_the_host_keeps_serving() {
    let env = hostile().await;
    let err = expect_failure("trap", env.call("hostile:trap", json!({})).await, |f| {
        matches!(f, CallFailure::Trap { .. })
    });
    eprintln!("FIGURE trap: {err}");
    assert!(err.to_string().contains("crashed (trap)"), "{err}");
    still_serves(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_or_invalid_output_is_refused_and_the_host_keeps_serving() {
    let env = hostile().await;
    let err = expect_failure(
        "huge-output",
        env.call("hostile:huge-output", json!({"bytes": 1 << 20}))
            .await,
        |f| matches!(f, CallFailure::OutputTooLarge { size, limit } if *size == 1 << 20 && *limit == OUTPUT),
    );
    eprintln!("FIGURE huge-output: {err}");
    still_serves(&env).await;

    // Just under the cap is fine.
    let fits = env
        .ok("hostile:huge-output", json!({"bytes": OUTPUT}))
        .await;
    assert_eq!(fits.as_str().unwrap().len(), OUTPUT - 2);

    let err = expect_failure(
        "not-json",
        env.call("hostile:not-json", json!({})).await,
        |f| matches!(f, CallFailure::InvalidOutput { .. }),
    );
    eprintln!("FIGURE not-json: {err}");
    still_serves(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_flood_stops_at_the_per_call_cap_and_the_host_keeps_serving() {
    let env = hostile().await;
    let err = expect_failure(
        "flood",
        env.call("hostile:flood", json!({"count": 1000})).await,
        |f| matches!(f, CallFailure::Gate(GateFailure::RequestLimit { limit }) if *limit == REQUESTS),
    );
    eprintln!("FIGURE flood: {err}");
    // Exactly the cap reached upstream; the rest never left the sandbox.
    assert_eq!(env.requests_to("GET", COMPANIES).len(), REQUESTS as usize);
    // The cap is per call: the next call gets its own budget.
    still_serves(&env).await;
    let within = env.ok("hostile:flood", json!({"count": REQUESTS})).await;
    assert_eq!(within["sent"], REQUESTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_shows_no_environment_arguments_directory_or_stdin() {
    // The test process itself has an environment; none of it may leak in.
    assert!(std::env::vars().count() > 0);
    let env = hostile().await;
    let seen = env.ok("hostile:sandbox-peek", json!({})).await;
    eprintln!("FIGURE sandbox-peek: {seen}");
    assert_eq!(seen["env"], json!([]), "{seen}");
    assert_eq!(seen["stdEnv"], json!([]), "{seen}");
    assert_eq!(seen["args"], json!([]), "{seen}");
    assert_eq!(seen["cwd"], Value::Null, "{seen}");
    let stdin = seen["stdin"].as_str().unwrap();
    assert!(
        stdin == "closed" || stdin == "read 0 bytes",
        "stdin gave the plugin something: {stdin}"
    );
    still_serves(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_and_forwarding_header_tricks_do_not_redirect_requests() {
    let env = hostile().await;
    let answer = env
        .ok(
            "hostile:host-header",
            json!({"headers": {
                "host": "evil.example.com",
                "Host": "127.0.0.1",
                "x-forwarded-host": "evil.example.com",
                "forwarded": "host=evil.example.com;proto=http",
                "x-forwarded-for": "10.0.0.1",
                "connection": "upgrade",
                "upgrade": "h2c",
                "transfer-encoding": "chunked",
                "proxy-authorization": "Basic Zm9vOmJhcg==",
                "authorization": "Bearer forged",
            }}),
        )
        .await;
    eprintln!("FIGURE host-header: {answer}");
    let refused: Vec<String> = answer["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_ascii_lowercase())
        .collect();
    for name in [
        "host",
        "connection",
        "upgrade",
        "transfer-encoding",
        "proxy-authorization",
        "authorization",
    ] {
        assert!(
            refused.contains(&name.to_string()),
            "`{name}` was accepted: {answer}"
        );
    }
    // The request still went to the declared origin's route, with the real Host, and with
    // the host's own token rather than a forged one.
    assert_eq!(answer["status"], 200, "{answer}");
    let seen = env.requests_to("GET", COMPANIES);
    assert_eq!(seen.len(), 1);
    let header = |name: &str| {
        seen[0]
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        header("host"),
        vec!["openapi.service.auplatform.connectwise.com".to_string()]
    );
    assert!(seen[0].had_bearer_token);
    assert!(header("authorization")
        .iter()
        .all(|v| !v.contains("forged")));
    still_serves(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_tricks_never_leave_the_sandbox() {
    let env = TestEnv::configured(&probe_wasm(), sim_config(), tight).await;
    let port = env.sim.addr().port();
    let before = env.sim.requests().len();
    let tricks = [
        // Userinfo that looks like the allowed host.
        "https://openapi.service.auplatform.connectwise.com@evil.example.com/steal".to_string(),
        // The allowed host as a subdomain of another.
        "https://openapi.service.auplatform.connectwise.com.evil.example.com/steal".to_string(),
        // A suffix match.
        "https://evilopenapi.service.auplatform.connectwise.com/steal".to_string(),
        // Loopback and the simulator's own address, by IP literal, v4 and v6.
        format!("http://127.0.0.1:{port}{COMPANIES}"),
        format!("http://[::1]:{port}{COMPANIES}"),
        format!("http://localhost:{port}{COMPANIES}"),
        // Cloud metadata.
        "http://169.254.169.254/latest/meta-data/".to_string(),
        // Other schemes.
        format!("ftp://openapi.service.auplatform.connectwise.com{COMPANIES}"),
        "file:///etc/passwd".to_string(),
    ];
    for url in &tricks {
        let result = env.call("probe:fetch", json!({"url": url})).await;
        let err = match result {
            Err(err) => err,
            Ok(value) => panic!("{url} got out: {value}"),
        };
        eprintln!("FIGURE url-trick {url}: {}", err.kind());
        // Either the gate denied it, or the request could not even be formed.
        let denied = matches!(
            gate_failure(&err),
            Some(GateFailure::OriginDenied { .. } | GateFailure::Malformed { .. })
        );
        assert!(
            denied || tool_error(&err).is_some(),
            "{url}: unexpected error {err:?}"
        );
    }
    assert_eq!(env.sim.requests().len(), before, "a trick reached upstream");

    // A request body over the cap is stopped before it leaves.
    let err = env
        .call(
            "probe:fetch",
            json!({"url": format!("{API}{COMPANIES}"), "method": "POST", "body": "x".repeat(4096)}),
        )
        .await
        .expect_err("an oversized request body got out");
    assert!(
        matches!(
            gate_failure(&err),
            Some(GateFailure::RequestBodyTooLarge { limit }) if *limit == REQUEST_BODY
        ),
        "{err:?}"
    );
    eprintln!("FIGURE request-body: {err}");
    assert_eq!(env.sim.requests().len(), before);

    // And the host still serves.
    let answer = env
        .ok("probe:fetch", json!({"url": format!("{API}{COMPANIES}")}))
        .await;
    assert_eq!(answer["status"], 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_attack_in_a_row_on_one_host_then_a_normal_call() {
    let env = hostile().await;
    let attacks = [
        ("spin", json!({})),
        ("memory-bomb", json!({})),
        ("trap", json!({})),
        ("huge-output", json!({"bytes": 1 << 20})),
        ("not-json", json!({})),
        ("flood", json!({"count": 100})),
        ("header-hoard", json!({})),
    ];
    for (tool, args) in attacks {
        let err = env
            .call(&format!("hostile:{tool}"), args)
            .await
            .expect_err(tool);
        assert!(call_failure(&err).is_some(), "{tool}: {err:?}");
        still_serves(&env).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_are_capped_and_queued() {
    const SLOTS: usize = 2;
    const SPIN: Duration = Duration::from_millis(600);
    let env = TestEnv::configured(&hostile_wasm(), sim_config(), |c| {
        tight(c);
        c.limits.deadline = SPIN;
        c.limits.max_concurrent_calls = SLOTS;
    })
    .await;
    let started = Instant::now();
    let calls = (0..2 * SLOTS).map(|_| env.call("hostile:spin", json!({})));
    let results = futures_join_all(calls).await;
    let took = started.elapsed();
    eprintln!(
        "FIGURE concurrency: {} spins with {SLOTS} slots and a {} ms deadline took {} ms",
        2 * SLOTS,
        SPIN.as_millis(),
        took.as_millis()
    );
    for result in results {
        expect_failure("spin", result, |f| {
            matches!(f, CallFailure::Deadline { .. })
        });
    }
    // Two waves: the second pair waited for a slot before its deadline started.
    assert!(took >= 2 * SPIN, "{took:?}");
    still_serves(&env).await;
}

/// Runs futures concurrently on this task (no extra dependency).
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let handles: Vec<_> = futures.map(Box::pin).collect();
    let mut slots: Vec<Option<F::Output>> = handles.iter().map(|_| None).collect();
    let mut pending = handles
        .into_iter()
        .enumerate()
        .map(|(i, f)| (i, Some(f)))
        .collect::<Vec<_>>();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (i, fut) in pending.iter_mut() {
            if let Some(f) = fut {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        slots[*i] = Some(v);
                        *fut = None;
                    }
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    slots.into_iter().map(|v| v.unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_importing_the_filesystem_is_refused_at_link_time() {
    let home = TempDir::new("fs-importer");
    let config = host_config(home.path(), &fs_importer_wasm());
    let err = match toolhost_host::ToolHost::open(config).await {
        Err(err) => err,
        Ok(_) => panic!("a component importing wasi:filesystem was loaded"),
    };
    eprintln!("FIGURE fs-importer load: {err}");
    assert!(
        matches!(
            &err,
            HostError::Load(toolhost_sandbox::LoadError::Link { .. })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("wasi:filesystem"), "{err}");

    let report = conformance::run(&fs_importer_wasm(), Backend::None, None).await;
    let imports = report.check("world.imports").expect("world.imports ran");
    assert_eq!(imports.status, Status::Fail, "{imports:?}");
    assert!(
        imports
            .findings
            .iter()
            .any(|f| f.contains("wasi:filesystem/types") || f.contains("wasi:filesystem/preopens")),
        "{imports:?}"
    );
    eprintln!("FIGURE fs-importer conformance: {:?}", imports.findings);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_rejects_bad_declarations_by_finding_id() {
    let report = conformance::run(&hostile_bad_declarations_wasm(), Backend::None, None).await;
    let failed = |id: &str| {
        let check = report
            .check(id)
            .unwrap_or_else(|| panic!("`{id}` did not run:\n{}", report.to_text()));
        assert_eq!(check.status, Status::Fail, "{id}: {check:?}");
        eprintln!("FIGURE conformance {id}: {:?}", check.findings);
        check.findings.join("\n")
    };
    assert!(failed("tools.names").contains("ok"));
    assert!(failed("tools.schemas").contains("bad-schema"));
    assert!(failed("tools.annotations").contains("destroy"));
    assert!(failed("behaviour.invalid-arguments").contains("accepted"));

    // The well-behaved build passes every one of those checks.
    let good = conformance::run(&hostile_wasm(), Backend::None, None).await;
    for id in [
        "world.imports",
        "tools.names",
        "tools.schemas",
        "tools.annotations",
        "behaviour.invalid-arguments",
    ] {
        let check = good.check(id).unwrap();
        assert_eq!(check.status, Status::Pass, "{id}: {check:?}");
    }
}
