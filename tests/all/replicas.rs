//! The scale scenario of a server deployment: two `toolhost serve` replicas with no local
//! state, on one PostgreSQL database, 200 concurrent MCP clients over HTTP spread over both,
//! 10,000 mixed calls against the simulator, then every held call approved at the same moment
//! through both replicas. What must hold: 0 duplicated writes, 0 lost audit records, 1 token
//! for the tenant. The figures it prints (calls/s, p50/p99, RSS per replica) are the ones in
//! docs/PERFORMANCE.md (`cargo test -p e2e --test all replicas -- --nocapture`).

use crate::serve::{serve, Mcp, Served};
use e2e::postgres::fresh_database;
use e2e::*;
use serde_json::Value;
use simulator::{Simulator, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// A sealing key for the test database only (32 bytes, base64): never a real one.
const TEST_STATE_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const CLIENTS: usize = 200;
const CALLS_PER_CLIENT: usize = 50;
/// MCP tokens shared by the 200 connections (a platform runs a few agents, many sessions).
const AGENTS: usize = 8;
/// The write a script run sends (the simulator's schedule-task route).
const RUN_TASK: &str = "/schedule-tasks";

/// Everything a replica is configured with, as a container gets it: the environment.
struct Deployment {
    database_url: String,
    secret_file: String,
    upstream: String,
}

impl Deployment {
    fn envs(&self) -> Vec<(&str, &str)> {
        vec![
            ("TOOLHOST_DATABASE_URL", self.database_url.as_str()),
            ("TOOLHOST_STATE_KEY", TEST_STATE_KEY),
            ("TOOLHOST_CLIENT_ID", DEMO_CLIENT_ID),
            ("TOOLHOST_CLIENT_SECRET_FILE", self.secret_file.as_str()),
            ("TOOLHOST_UPSTREAM", self.upstream.as_str()),
        ]
    }
}

/// The one-time admin UI link a replica printed, exchanged for a session cookie.
async fn ui_session(served: &Served) -> (String, String) {
    let output = served.output();
    let token = output
        .split("?token=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no UI link printed:\n{output}"))
        .to_string();
    let session = http_client()
        .post(format!("{}/api/session", served.base))
        .header("x-toolhost-csrf", "launch")
        .json(&json!({"token": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(session.status(), 200);
    let cookie = session.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_string();
    let body: Value = session.json().await.unwrap();
    let csrf = body["csrf"].as_str().expect("a CSRF token").to_string();
    (cookie, csrf)
}

/// Peak resident memory of a process, in MiB (VmHWM).
fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// One agent session: `CALLS_PER_CLIENT` calls, the first a script run that waits for a
/// person, the rest reads. Returns each call's latency.
async fn session(base: String, token: String) -> Vec<Duration> {
    let mut mcp = Mcp::new(&base, Some(&token));
    mcp.initialize().await;
    let mut latencies = Vec::with_capacity(CALLS_PER_CLIENT);
    for j in 0..CALLS_PER_CLIENT {
        let (name, arguments) = match j {
            0 => (
                "connectwise_rmm__cw-rmm-run-task",
                json!({"templateId": seed::DISK_CLEANUP_SCRIPT_ID,
                       "targets": [seed::MARIA_LAPTOP_ID],
                       "parameters": {"drive": "C:"}}),
            ),
            j if j % 2 == 0 => (
                "connectwise_rmm__cw-rmm-get-device",
                json!({"endpointId": seed::DC01_ID}),
            ),
            _ => (
                "connectwise_rmm__cw-rmm-list-devices",
                json!({"name": "DC01"}),
            ),
        };
        let started = Instant::now();
        let result = mcp
            .request(
                10 + j as u64,
                "tools/call",
                json!({"name": name, "arguments": arguments}),
            )
            .await;
        latencies.push(started.elapsed());
        if j == 0 {
            assert_eq!(result["isError"], true, "the run was not held: {result}");
        } else {
            assert_ne!(result["isError"], true, "{name}: {result}");
        }
    }
    latencies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_one_database_duplicate_no_write_and_lose_no_record() {
    let Some(database_url) = fresh_database().await else {
        return;
    };
    let sim = Simulator::start(sim_config()).await.unwrap();
    let operator = Cli::new().await;
    let secret_file = operator.home.path().join("mounted-secret");
    std::fs::write(&secret_file, format!("{DEMO_CLIENT_SECRET}\n")).unwrap();
    let deployment = Deployment {
        database_url,
        secret_file: secret_file.display().to_string(),
        upstream: sim.base_url(),
    };

    // The agents' tokens, made once by the operator; both replicas read them from the database.
    let mut tokens = Vec::new();
    for i in 0..AGENTS {
        let name = format!("agent-{i}");
        let out = operator
            .run(
                &["clients", "add", &name, "--role", "Technician", "--json"],
                &deployment.envs(),
            )
            .await;
        assert!(out.success(), "{}", out.all());
        tokens.push(out.json()["token"].as_str().unwrap().to_string());
    }

    // Two replicas, each with an empty home of its own: nothing they share is on disk.
    let (home_a, home_b) = (Cli::new().await, Cli::new().await);
    let approver = ["--approver", "night-shift"];
    let a = serve(&home_a, &approver, &deployment.envs()).await;
    let b = serve(&home_b, &approver, &deployment.envs()).await;
    let bases = [a.base.clone(), b.base.clone()];

    // 200 sessions spread over both replicas, all at once.
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|n| {
            let base = bases[n % 2].clone();
            let token = tokens[n % AGENTS].clone();
            tokio::spawn(session(base, token))
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("a session failed"));
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let calls = latencies.len();
    assert_eq!(calls, CLIENTS * CALLS_PER_CLIENT);
    assert!(
        write_requests(&sim).is_empty(),
        "nothing was approved, yet something was written: {:?}",
        write_requests(&sim)
    );

    // Every held call approved at the same moment through both replicas' admin UIs.
    let sessions = [ui_session(&a).await, ui_session(&b).await];
    let http = http_client();
    let pending: Value = http
        .get(format!("{}/api/approvals", a.base))
        .header("cookie", &sessions[0].0)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<String> = pending["approvals"]
        .as_array()
        .unwrap_or_else(|| panic!("approvals: {pending}"))
        .iter()
        .filter(|a| a["status"] == "pending")
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), CLIENTS, "{pending}");
    let limit = Arc::new(Semaphore::new(16));
    let mut races = Vec::new();
    for id in &ids {
        for (base, (cookie, csrf)) in bases.iter().zip(sessions.iter()) {
            let (http, limit) = (http.clone(), limit.clone());
            let url = format!("{base}/api/approvals/{id}/approve");
            let (cookie, csrf) = (cookie.clone(), csrf.clone());
            races.push(tokio::spawn(async move {
                let _slot = limit.acquire_owned().await.unwrap();
                http.post(url)
                    .header("cookie", cookie)
                    .header("x-toolhost-csrf", csrf)
                    .json(&json!({}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }));
        }
    }
    let mut statuses = Vec::new();
    for race in races {
        statuses.push(race.await.unwrap());
    }
    let approved = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(approved, CLIENTS, "one approval wins per id: {statuses:?}");

    // 0 duplicated writes: exactly one script run per approval.
    let runs: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.contains(RUN_TASK))
        .collect();
    assert_eq!(
        runs.len(),
        CLIENTS,
        "script runs upstream, one per approval"
    );
    // 1 token for the tenant, minted by whichever replica came first.
    assert_eq!(sim.token_mints(), 1, "tokens minted across both replicas");

    // 0 lost audit records: every call and every approval's run, from both replicas.
    let audit = operator
        .run(
            &["audit", "--json", "--limit", "1000000"],
            &deployment.envs(),
        )
        .await;
    assert!(audit.success(), "{}", audit.all());
    let records = audit.json();
    let records = records.as_array().expect("audit records");
    let count = |outcome: &str| records.iter().filter(|r| r["outcome"] == outcome).count();
    assert_eq!(count("pending-approval"), CLIENTS, "held calls audited");
    assert_eq!(
        count("ok"),
        calls - CLIENTS + CLIENTS,
        "reads and approved runs audited"
    );
    let (rss_a, rss_b) = (
        peak_rss_mib(a.child.id().unwrap()),
        peak_rss_mib(b.child.id().unwrap()),
    );
    eprintln!(
        "replicas: {calls} calls by {CLIENTS} clients over 2 replicas in {:.2} s = {:.0} calls/s; \
         p50 {:.1} ms, p99 {:.1} ms; {CLIENTS} approvals raced through both: {approved} ran; \
         peak RSS {rss_a:.0} MiB and {rss_b:.0} MiB",
        elapsed.as_secs_f64(),
        calls as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
    );
}

/// With the database, a machine's home holds no state: a tenant connected from one machine is
/// used, checked against its grant and audited from another whose home is empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_on_another_machine_uses_the_shared_connection_grant_and_token() {
    let Some(database_url) = fresh_database().await else {
        return;
    };
    let sim = Simulator::start(sim_config()).await.unwrap();
    let envs = [
        ("TOOLHOST_DATABASE_URL", database_url.as_str()),
        ("TOOLHOST_STATE_KEY", TEST_STATE_KEY),
    ];
    let first = Cli::new().await;
    let upstream = sim.base_url();
    let connected = first.connect_in(None, &upstream, &envs).await;
    assert!(connected.success(), "{}", connected.all());
    assert!(
        connected.stdout.contains("state database"),
        "{}",
        connected.all()
    );
    for file in ["connection.json", "grant.json", "token.json"] {
        assert!(
            !first.home.path().join(file).exists(),
            "{file} written with a database"
        );
    }

    let second = Cli::new().await;
    let call = second
        .run(
            &[
                "call",
                "cw-rmm-get-device",
                "--args",
                &json!({"endpointId": seed::DC01_ID}).to_string(),
                "--json",
            ],
            &envs,
        )
        .await;
    assert!(call.success(), "{}", call.all());
    assert_eq!(
        sim.token_mints(),
        1,
        "the second machine used the shared token"
    );
    let audit = second.run(&["audit", "--json"], &envs).await;
    assert!(audit.success(), "{}", audit.all());
    let records = audit.json();
    assert!(
        records
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["tool"] == "connectwise_rmm:cw-rmm-get-device"),
        "{records}"
    );
    // Without the key the database's secrets are not readable: the host refuses to start.
    let keyless = second
        .run(
            &["tools"],
            &[("TOOLHOST_DATABASE_URL", database_url.as_str())],
        )
        .await;
    assert!(!keyless.success());
    assert!(
        keyless.stderr.contains("TOOLHOST_STATE_KEY"),
        "{}",
        keyless.all()
    );
    assert!(!keyless.all().contains(DEMO_CLIENT_SECRET));
}
