//! The admin UI behind a load balancer without stickiness: two `toolhost serve` replicas on
//! one database keep no UI state of their own. A launch link printed by one replica signs in
//! at the other (once, across both); a session made at one works at the other (listing and
//! approving) until it is logged out anywhere; a passkey enrolled through one replica is
//! offered and verified at the other (in a browser, tests/ui/ui_replicas.mjs). The database
//! holds hashes of launch tokens and session ids, never the values.

use crate::serve::{serve, Mcp, Served};
use crate::ui::{browser_kit_or_skip, run_script};
use e2e::postgres::fresh_database;
use e2e::ui_session::{sign_in, UiSession};
use e2e::*;
use serde_json::Value;
use simulator::{Simulator, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use std::time::Duration;

/// A sealing key for the test database only (32 bytes, base64): never a real one.
const TEST_STATE_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const APPROVER: &str = "maria";

/// The launch token in the link `served` printed.
fn printed_token(served: &Served) -> String {
    let output = served.output();
    output
        .split("?token=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no UI link printed:\n{output}"))
        .to_string()
}

/// `GET /api/approvals` at `base` with `cookie`: the status and the pending approvals' ids.
async fn pending(base: &str, cookie: &str) -> (u16, Vec<String>) {
    let response = http_client()
        .get(format!("{base}/api/approvals"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or_default();
    let ids = body["approvals"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter(|a| a["status"] == "pending")
                .map(|a| a["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    (status, ids)
}

async fn post(base: &str, path: &str, session: &UiSession) -> (u16, Value) {
    let response = http_client()
        .post(format!("{base}{path}"))
        .header("cookie", &session.cookie)
        .header("x-toolhost-csrf", &session.csrf)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// The whole table `table` as text, for what it must not contain.
async fn table_text(database_url: &str, table: &str) -> String {
    let (client, connection) = tokio_postgres::connect(database_url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let rows = client
        .query(&format!("SELECT t::text FROM {table} t"), &[])
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.get::<_, String>(0))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The signature counters stored for `approver`'s passkeys.
async fn stored_counters(database_url: &str, approver: &str) -> Vec<u64> {
    let (client, connection) = tokio_postgres::connect(database_url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let text: String = client
        .query_one(
            "SELECT passkeys::text FROM ui_passkeys WHERE approver = $1",
            &[&approver],
        )
        .await
        .unwrap()
        .get(0);
    let passkeys: Value = serde_json::from_str(&text).unwrap();
    passkeys
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p["passkey"]["cred"]["counter"]
                .as_u64()
                .unwrap_or_else(|| panic!("no counter in {p}"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_sessions_and_passkeys_work_across_replicas() {
    let Some(database_url) = fresh_database().await else {
        return;
    };
    let sim = Simulator::start(sim_config()).await.unwrap();
    let operator = Cli::new().await;
    let secret_file = operator.home.path().join("mounted-secret");
    std::fs::write(&secret_file, format!("{DEMO_CLIENT_SECRET}\n")).unwrap();
    let secret_file = secret_file.display().to_string();
    let upstream = sim.base_url();
    let envs = [
        ("TOOLHOST_DATABASE_URL", database_url.as_str()),
        ("TOOLHOST_STATE_KEY", TEST_STATE_KEY),
        ("TOOLHOST_CLIENT_ID", DEMO_CLIENT_ID),
        ("TOOLHOST_CLIENT_SECRET_FILE", secret_file.as_str()),
        ("TOOLHOST_UPSTREAM", upstream.as_str()),
    ];
    let out = operator
        .run(
            &["clients", "add", "agent", "--role", "Technician", "--json"],
            &envs,
        )
        .await;
    assert!(out.success(), "{}", out.all());
    let agent = out.json()["token"].as_str().unwrap().to_string();

    // Two replicas, each with an empty home of its own.
    let (home_a, home_b) = (Cli::new().await, Cli::new().await);
    let a = serve(&home_a, &["--approver", APPROVER], &envs).await;
    let b = serve(&home_b, &["--approver", APPROVER], &envs).await;

    // Three calls held for a person, through replica A.
    let mut mcp = Mcp::new(&a.base, Some(&agent));
    mcp.initialize().await;
    for i in 0..3 {
        let held = mcp
            .request(
                10 + i,
                "tools/call",
                json!({"name": "connectwise_rmm__cw-rmm-run-task",
                       "arguments": {"templateId": seed::DISK_CLEANUP_SCRIPT_ID,
                                     "targets": [seed::MARIA_LAPTOP_ID],
                                     "parameters": {"drive": "C:"}}}),
            )
            .await;
        assert_eq!(held["isError"], true, "not held: {held}");
    }

    // A's link signs in at B, once across both replicas.
    let token_a = printed_token(&a);
    let (status, session) = sign_in(&b.base, "/", &token_a).await;
    assert_eq!(status, 200, "A's link at B");
    let session = session.expect("a session cookie");
    let (status, _) = sign_in(&a.base, "/", &token_a).await;
    assert_eq!(status, 401, "A's link spent at B, used again at A");
    let (status, _) = sign_in(&b.base, "/", "0".repeat(64).as_str()).await;
    assert_eq!(status, 401, "a token no replica printed");

    // The session made at B works at A: listing and approving.
    let (status, ids_at_a) = pending(&a.base, &session.cookie).await;
    assert_eq!(status, 200);
    let (_, ids_at_b) = pending(&b.base, &session.cookie).await;
    assert_eq!(ids_at_a.len(), 3, "{ids_at_a:?}");
    assert_eq!(ids_at_a, ids_at_b);
    let (status, body) = post(
        &a.base,
        &format!("/api/approvals/{}/approve", ids_at_a[0]),
        &session,
    )
    .await;
    assert_eq!(status, 200, "approve at A with B's session: {body}");
    assert_eq!(write_requests(&sim).len(), 1);

    // The cookie and launch token are nowhere in the database: only their hashes.
    let sessions_table = table_text(&database_url, "ui_sessions").await;
    let cookie_value = session.id();
    assert!(!sessions_table.is_empty());
    assert!(!sessions_table.contains(cookie_value), "{sessions_table}");
    let tokens_table = table_text(&database_url, "ui_launch_tokens").await;
    assert!(!tokens_table.contains(&token_a), "{tokens_table}");

    // Logging out at A ends the session at B too.
    let (status, _) = post(&a.base, "/api/logout", &session).await;
    assert_eq!(status, 200);
    let (status, _) = pending(&b.base, &session.cookie).await;
    assert_eq!(status, 401, "the session ended at A is unknown at B");

    // A passkey enrolled through A is offered and verified at B (in a browser).
    if let Some(kit) = browser_kit_or_skip("ui replicas passkey test") {
        let origin = |served: &Served| served.base.replace("127.0.0.1", "localhost");
        let link = format!("{}/?token={}", origin(&a), printed_token(&b));
        let mut script = kit.script("ui_replicas.mjs", &link);
        script
            .env("OTHER_ORIGIN", origin(&b))
            .env("APPROVER", APPROVER)
            .env("APPROVAL", &ids_at_a[1]);
        run_script(script, Duration::from_secs(200)).await;
        assert_eq!(
            write_requests(&sim).len(),
            2,
            "the signed approval ran once"
        );
        // The signature counter B checked and wrote back is the database's.
        let list = operator
            .run(&["approvals", "list", "--all", "--json"], &envs)
            .await
            .json();
        let signed = list
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == ids_at_a[1].as_str())
            .unwrap_or_else(|| panic!("{list}"));
        let counter = signed["passkey"]["counter"].as_u64().expect("evidence");
        assert!(counter > 0, "{signed}");
        assert_eq!(stored_counters(&database_url, APPROVER).await, [counter]);
    }
    // No replica keeps UI state in its home.
    for home in [&home_a, &home_b] {
        assert!(!home.home.path().join("passkeys.json").exists());
    }
    let (status, ids) = pending(&a.base, "toolhost_session=forged").await;
    assert_eq!((status, ids.len()), (401, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_replicas_unused_link_no_longer_signs_in_anywhere() {
    // Without a database a link dies with its process; with one, the other replicas kept
    // accepting the link of a replica long gone.
    let Some(database_url) = fresh_database().await else {
        return;
    };
    let sim = Simulator::start(sim_config()).await.unwrap();
    let upstream = sim.base_url();
    let envs = [
        ("TOOLHOST_DATABASE_URL", database_url.as_str()),
        ("TOOLHOST_STATE_KEY", TEST_STATE_KEY),
        ("TOOLHOST_CLIENT_ID", DEMO_CLIENT_ID),
        ("TOOLHOST_CLIENT_SECRET", DEMO_CLIENT_SECRET),
        ("TOOLHOST_UPSTREAM", upstream.as_str()),
    ];
    let (home_a, home_b) = (Cli::new().await, Cli::new().await);
    let mut a = serve(&home_a, &["--approver", APPROVER], &envs).await;
    let b = serve(&home_b, &["--approver", APPROVER], &envs).await;
    // The links follow the "listening" line the helper waits for.
    for served in [&a, &b] {
        for _ in 0..100 {
            if served.output().contains("?token=") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let (token_a, token_b) = (printed_token(&a), printed_token(&b));

    a.sigterm();
    let status = tokio::time::timeout(Duration::from_secs(60), a.child.wait())
        .await
        .expect("A stops within a minute")
        .unwrap();
    assert!(status.success(), "{status:?}\n{}", a.output());
    let (status, _) = sign_in(&b.base, "/", &token_a).await;
    assert_eq!(
        status, 401,
        "the link of stopped replica A still signs in at B"
    );
    let (status, _) = sign_in(&b.base, "/", &token_b).await;
    assert_eq!(status, 200, "B's own link");
}
