//! One tool catalog for every replica: hosts on one PostgreSQL database serve the discovered
//! half of the tenant's catalog from the database, so a refresh through one replica is what
//! the others list and call at once (no TTL wait, no discovery of their own), and replicas
//! missing the same new tool together discover it once. Real parts: the simulator (which
//! records every script listing), the component, the hosts, and a real database per test
//! (`TOOLHOST_TEST_DATABASE_URL`).
//!
//! Each replica has its own home holding only what an operator deploys to it (the saved
//! connection and grant, copied from a home that connected once, with that home's
//! `catalog.json`, which a database host does not serve from).

use e2e::replicas::{database, replica};
use e2e::*;
use simulator::{Fault, FaultAction, PathMatch, Simulator};
use std::time::Duration;
use toolhost_host::{DeferApprovals, HostError, ToolHost, ToolKind};
use toolhost_state::Database;

const SHELL_SCRIPTS: &str = "/api/platform/v1/automation/shellScripts";
const CHECK_DISK_SPACE: &str = "cw-rmm-script-check-disk-space";
const DISK_CLEANUP: &str = "cw-rmm-script-disk-cleanup";
/// A script tool's run reads the listing itself (the plugin finds the active script behind
/// the tool): a discovery is any listing beyond those.
const LISTINGS_PER_SCRIPT_RUN: usize = 1;

/// Script listings the simulator answered: one per discovery.
fn listings(sim: &Simulator) -> usize {
    sim.requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == SHELL_SCRIPTS)
        .count()
}

async fn script_tools(host: &ToolHost) -> Vec<String> {
    host.tools()
        .await
        .expect("listing tools")
        .into_iter()
        .filter(|t| t.kind == ToolKind::Discovered)
        .map(|t| t.name)
        .collect()
}

fn named(tools: &[String], bare: &str) -> bool {
    tools.iter().any(|t| t.ends_with(&format!(":{bare}")))
}

/// The template id of a seeded script, by name.
async fn template_id(host: &ToolHost, name: &str) -> String {
    let listed = call_on(
        host,
        "cw-rmm-list-shell-scripts",
        json!({"includeInactive": true}),
        None,
        &DeferApprovals,
    )
    .await
    .expect("listing the scripts")
    .result;
    listed["scripts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no script `{name}` in {listed}"))["templateId"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Two replicas and a home that connected with every seeded script active (so every
/// script's tool is granted), then `Check Disk Space` switched off upstream.
struct Replicas {
    sim: Simulator,
    a: ToolHost,
    b: ToolHost,
    check_disk_space: String,
    _homes: [TempDir; 3],
}

async fn replicas(db: &Database) -> Replicas {
    let sim = Simulator::start(sim_config()).await.unwrap();
    let connected = TempDir::new("catalog-connected");
    let mut host = open_host(host_config(connected.path(), &plugin_wasm())).await;
    let settings = demo_settings(&host, &sim);
    host.connect(settings).await.expect("connecting");
    let check_disk_space = template_id(&host, seed::CHECK_DISK_SPACE_SCRIPT_NAME).await;
    assert!(sim.set_script_state(&check_disk_space, false));
    let (a, a_home) = replica(connected.path(), db, "acme").await;
    let (b, b_home) = replica(connected.path(), db, "acme").await;
    Replicas {
        sim,
        a,
        b,
        check_disk_space,
        _homes: [connected, a_home, b_home],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_through_one_replica_is_served_by_the_other_at_once() {
    let Some(db) = database().await else {
        return;
    };
    let r = replicas(&db).await;
    // Replica A discovers; B lists what A saved, without a discovery of its own (its home's
    // catalog.json, copied from the connected home, still names Check Disk Space).
    let listed_by_a = {
        r.a.refresh_tools().await.expect("refreshing through A");
        script_tools(&r.a).await
    };
    let before = listings(&r.sim);
    assert_eq!(script_tools(&r.b).await, listed_by_a);
    assert!(!named(&listed_by_a, CHECK_DISK_SPACE), "{listed_by_a:?}");
    assert_eq!(
        listings(&r.sim),
        before,
        "B discovered instead of reading A's catalog"
    );

    // Upstream, a script is added and another removed; the tenant's catalog is refreshed
    // through A.
    assert!(r.sim.set_script_state(&r.check_disk_space, true));
    assert!(r.sim.set_script_state(seed::DISK_CLEANUP_SCRIPT_ID, false));
    r.a.refresh_tools().await.expect("refreshing through A");
    let refreshed = listings(&r.sim);
    assert_eq!(refreshed, before + 1);

    // B calls the new script's tool at once: its own copy lacks it, the shared one has it.
    let report = call_on(
        &r.b,
        CHECK_DISK_SPACE,
        json!({"targets": [seed::DC01_ID], "parameters": {}}),
        None,
        &DeferApprovals,
    )
    .await
    .unwrap_or_else(|err| panic!("B refused the tool A's refresh added: {err}"));
    assert_ne!(report.result, serde_json::Value::Null);
    // ...and no longer offers the removed one.
    let listed_by_b = script_tools(&r.b).await;
    assert!(named(&listed_by_b, CHECK_DISK_SPACE), "{listed_by_b:?}");
    assert!(!named(&listed_by_b, DISK_CLEANUP), "{listed_by_b:?}");
    assert_eq!(listed_by_b, script_tools(&r.a).await);
    assert_eq!(
        listings(&r.sim),
        refreshed + LISTINGS_PER_SCRIPT_RUN,
        "B discovered on its own"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_missing_a_new_tool_together_discover_it_once() {
    let Some(db) = database().await else {
        return;
    };
    let r = replicas(&db).await;
    r.a.refresh_tools().await.expect("refreshing through A");
    assert!(!named(&script_tools(&r.b).await, CHECK_DISK_SPACE));
    // The script appears upstream, nobody refreshes; the listing is slow, so both replicas'
    // misses are in flight together.
    assert!(r.sim.set_script_state(&r.check_disk_space, true));
    r.sim.inject(
        Fault::on_path(
            PathMatch::Exact(SHELL_SCRIPTS.into()),
            FaultAction::Latency(Duration::from_millis(600)),
        )
        .method("GET"),
    );
    let before = listings(&r.sim);
    let args = json!({"targets": [seed::DC01_ID], "parameters": {}});
    let call = |host| call_on(host, CHECK_DISK_SPACE, args.clone(), None, &DeferApprovals);
    let (on_a, on_b) = tokio::join!(call(&r.a), call(&r.b));
    for (replica, result) in [("A", on_a), ("B", on_b)] {
        if let Err(err) = result {
            assert!(
                !matches!(err, HostError::UnknownTool { .. }),
                "{replica} refused the new tool: {err}"
            );
            panic!("{replica}: {err}");
        }
    }
    assert_eq!(
        listings(&r.sim),
        before + 1 + 2 * LISTINGS_PER_SCRIPT_RUN,
        "each replica discovered on its own"
    );
}
