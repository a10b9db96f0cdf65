//! Script tools and the tool catalog end to end: one tool per active shell script with a
//! stable name, deterministic names for colliding slugs, a catalog listed from disk and
//! refreshed on demand or after its TTL, scripts that disappear stop being callable, and
//! scripts that appear are found on a miss.

use e2e::*;
use serde_json::Value;
use simulator::{Fault, FaultAction, PathMatch, Simulator, DEMO_CLIENT_SECRET};
use std::time::Duration;
use toolhost_governance::Mode;
use toolhost_host::ToolKind;
use toolhost_host::{DeferApprovals, HostError, ToolHost};
use toolhost_sandbox::PolicyHint;

const NS: &str = "connectwise_rmm:";
const SHELL_SCRIPTS: &str = "/api/platform/v1/automation/shellScripts";

/// The script tools of the seeded tenant: its nine active shell scripts. The French
/// "Réinitialiser le spouleur d'impression" keeps its letters: é is transliterated, not dropped.
const SEEDED_SCRIPT_TOOLS: [&str; 9] = [
    "cw-rmm-script-check-disk-space",
    "cw-rmm-script-collect-event-logs",
    "cw-rmm-script-disk-cleanup",
    "cw-rmm-script-flush-dns-cache",
    "cw-rmm-script-linux-disk-usage-report",
    "cw-rmm-script-reboot-endpoint",
    "cw-rmm-script-reinitialiser-le-spouleur-d-impression",
    "cw-rmm-script-restart-print-spooler",
    "cw-rmm-script-uninstall-software",
];

async fn script_tools(host: &ToolHost, refresh: bool) -> Vec<String> {
    let tools = if refresh {
        host.refresh_tools().await
    } else {
        host.tools().await
    }
    .expect("listing tools");
    tools
        .into_iter()
        .filter(|t| t.kind == ToolKind::Discovered)
        .map(|t| t.name.strip_prefix(NS).unwrap().to_string())
        .collect()
}

fn listings(sim: &Simulator) -> usize {
    sim.requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == SHELL_SCRIPTS)
        .count()
}

/// The template id of a seeded script, by name (inactive ones included).
async fn template_id(env: &TestEnv, name: &str) -> String {
    let listed = env
        .ok(
            "cw-rmm-list-shell-scripts",
            json!({"includeInactive": true}),
        )
        .await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tool_per_active_script_with_stable_names() {
    let env = TestEnv::start().await;
    let tools = env.host.tools().await.unwrap();
    assert_eq!(tools.len(), SEEDED_TOOL_COUNT);
    assert_eq!(
        tools.iter().filter(|t| t.kind == ToolKind::Static).count(),
        STATIC_TOOL_COUNT
    );
    assert_eq!(script_tools(&env.host, false).await, SEEDED_SCRIPT_TOOLS);
    // Rediscovery, a new host, and a new connection all give the same names.
    assert_eq!(script_tools(&env.host, true).await, SEEDED_SCRIPT_TOOLS);
    let other = TestEnv::start().await;
    assert_eq!(script_tools(&other.host, true).await, SEEDED_SCRIPT_TOOLS);
    // Inactive scripts are listed by the API, never as tools.
    let listed = env
        .ok(
            "cw-rmm-list-shell-scripts",
            json!({"includeInactive": true}),
        )
        .await;
    let scripts = listed["scripts"].as_array().unwrap();
    assert_eq!(scripts.len(), 11);
    let french = scripts
        .iter()
        .find(|s| s["name"] == seed::FRENCH_SPOOLER_SCRIPT_NAME)
        .expect("the French script is seeded");
    assert_eq!(
        french["toolName"],
        "cw-rmm-script-reinitialiser-le-spouleur-d-impression"
    );
    for s in scripts {
        let active = s["active"] == true;
        assert_eq!(s["toolName"].is_string(), active, "{s}");
        if active {
            assert!(SEEDED_SCRIPT_TOOLS.contains(&s["toolName"].as_str().unwrap()));
        }
    }
    // The plugin has no opinion on a script's mode (hint auto); the host's classifier decides:
    // read-only names are auto, everything else at least approval.
    let read_only = [
        "cw-rmm-script-check-disk-space",
        "cw-rmm-script-collect-event-logs",
        "cw-rmm-script-linux-disk-usage-report",
    ];
    for tool in &tools {
        if tool.kind == ToolKind::Discovered {
            assert_eq!(tool.descriptor.permissions, ["scheduled-task:create"]);
            assert_eq!(
                tool.descriptor.policy_hint,
                PolicyHint::Auto,
                "{}",
                tool.name
            );
            let bare = tool.name.strip_prefix(NS).unwrap();
            if read_only.contains(&bare) {
                assert_eq!(tool.policy, Mode::Auto, "{bare}");
            } else {
                assert!(tool.policy >= Mode::Approval, "{bare}");
            }
        }
    }
}

/// A shell-script listing served in place of the simulator's (via a fault with a body).
fn serve_listing(sim: &Simulator, templates: &[Value]) -> simulator::FaultId {
    let body = json!({"Templates": templates, "count": templates.len()}).to_string();
    sim.inject(
        Fault::on_path(
            PathMatch::Exact(SHELL_SCRIPTS.into()),
            FaultAction::Status {
                status: 200,
                body: Some(body),
                retry_after: None,
            },
        )
        .method("GET"),
    )
}

fn template(id: &str, name: &str, description: &str, state: &str) -> Value {
    json!({
        "templateId": id, "name": name, "description": description, "state": state,
        "jsonSchema": json!({"type": "object", "properties": {}}).to_string(),
        "executorEngine": "powershell", "categories": []
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn colliding_slugs_get_deterministic_names_and_classifier_modes() {
    let mut env = TestEnv::start().await;
    let low = "10000000-0000-4000-8000-000000000001";
    let high = "f0000000-0000-4000-8000-000000000002";
    let templates = [
        template(high, "Disk  Cleanup!", "the high one", "active"),
        template(low, "disk cleanup", "the low one", "active"),
        template(
            "20000000-0000-4000-8000-000000000003",
            "Wipe Laptop",
            "Erases everything.",
            "active",
        ),
        template(
            "30000000-0000-4000-8000-000000000004",
            "Get Logs",
            "Reads logs.",
            "inactive",
        ),
    ];
    let mut seen = Vec::new();
    for order in [
        templates.to_vec(),
        templates.iter().rev().cloned().collect(),
    ] {
        let fault = serve_listing(&env.sim, &order);
        env.host.refresh_tools().await.unwrap();
        // The tenant's scripts changed since the connection was granted: an operator
        // accepts them before they are served.
        env.host.accept_grant("ops").await.unwrap();
        let tools = env.host.tools().await.unwrap();
        env.sim.remove_fault(fault);
        let scripts: Vec<(String, String, Mode)> = tools
            .into_iter()
            .filter(|t| t.kind == ToolKind::Discovered)
            .map(|t| {
                (
                    t.name.strip_prefix(NS).unwrap().to_string(),
                    t.descriptor.description.clone(),
                    t.policy,
                )
            })
            .collect();
        seen.push(scripts);
    }
    assert_eq!(seen[0], seen[1], "names depend on listing order");
    let names: Vec<&str> = seen[0].iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "cw-rmm-script-disk-cleanup",
            "cw-rmm-script-disk-cleanup-2",
            "cw-rmm-script-wipe-laptop"
        ]
    );
    // The lower template id keeps the bare slug.
    assert!(seen[0][0].1.contains("the low one"), "{:?}", seen[0][0]);
    assert!(seen[0][1].1.contains("the high one"), "{:?}", seen[0][1]);
    // Classified: cleanup is destructive (approval); wipe destroys data (never).
    assert_eq!(seen[0][0].2, Mode::Approval);
    assert_eq!(seen[0][2].2, Mode::Never);
    let err = env
        .call_as(
            "cw-rmm-script-wipe-laptop",
            json!({"targets": [seed::MARIA_LAPTOP_ID]}),
            None,
            &approve_as("ops"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, HostError::Refused { .. }), "{err:?}");
    assert!(
        err.to_string().contains("data-destroying verb `wipe`"),
        "{err}"
    );
    assert!(env.writes().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_is_listed_from_disk_and_refreshed_on_demand() {
    let env = TestEnv::start().await;
    let after_connect = listings(&env.sim);
    assert_eq!(after_connect, 1, "connect discovers once");
    for _ in 0..3 {
        assert_eq!(script_tools(&env.host, false).await, SEEDED_SCRIPT_TOOLS);
    }
    // A restarted host lists from the catalog on disk, without asking the tenant.
    let restarted = env.reopen().await;
    let started = std::time::Instant::now();
    assert_eq!(script_tools(&restarted, false).await, SEEDED_SCRIPT_TOOLS);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(listings(&env.sim), after_connect);
    // On demand: exactly one discovery.
    env.sim
        .set_script_state(seed::DISK_CLEANUP_SCRIPT_ID, false);
    assert_eq!(
        script_tools(&restarted, false).await,
        SEEDED_SCRIPT_TOOLS,
        "served from the catalog"
    );
    let refreshed = script_tools(&restarted, true).await;
    assert_eq!(listings(&env.sim), after_connect + 1);
    assert!(!refreshed.contains(&"cw-rmm-script-disk-cleanup".to_string()));
    assert_eq!(refreshed.len(), SEEDED_SCRIPT_TOOLS.len() - 1);
    // The refresh is saved: the first host's next restart sees it too.
    let again = env.reopen().await;
    assert_eq!(script_tools(&again, false).await, refreshed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_is_rediscovered_after_its_ttl() {
    let env = TestEnv::configured(&plugin_wasm(), sim_config(), |c| {
        // Long enough that a loaded machine still lists within it right after connecting.
        c.catalog_ttl = Duration::from_secs(4)
    })
    .await;
    let after_connect = listings(&env.sim);
    script_tools(&env.host, false).await;
    assert_eq!(listings(&env.sim), after_connect, "fresh: no discovery");
    env.sim
        .set_script_state(seed::DISK_CLEANUP_SCRIPT_ID, false);
    tokio::time::sleep(Duration::from_millis(4200)).await;
    let names = script_tools(&env.host, false).await;
    assert_eq!(listings(&env.sim), after_connect + 1);
    assert!(
        !names.contains(&"cw-rmm-script-disk-cleanup".to_string()),
        "{names:?}"
    );
    // When the scheduled rediscovery fails, the stale catalog keeps serving.
    tokio::time::sleep(Duration::from_millis(4200)).await;
    let fault = env.sim.inject(Fault::on_path(
        PathMatch::Exact(SHELL_SCRIPTS.into()),
        FaultAction::status(503),
    ));
    assert_eq!(script_tools(&env.host, false).await, names);
    assert!(env.sim.fault_hits(fault) >= 1);
    // ...but an explicit refresh says it failed.
    assert!(env.host.refresh_tools().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_that_disappeared_is_no_longer_callable() {
    let env = TestEnv::start().await;
    let args = json!({"parameters": {"drive": "C:"}, "targets": [seed::MARIA_LAPTOP_ID]});
    // Requested while the script existed, approved after it was switched off.
    let id = pending_id(
        env.call_as(
            "cw-rmm-script-disk-cleanup",
            args.clone(),
            None,
            &DeferApprovals,
        )
        .await,
    );
    assert!(env
        .sim
        .set_script_state(seed::DISK_CLEANUP_SCRIPT_ID, false));
    // The stale catalog still names it, but the plugin finds no active script behind it.
    let message = expect_not_found(
        env.call_approved("cw-rmm-script-disk-cleanup", args.clone())
            .await,
    );
    assert!(message.contains("refresh"), "{message}");
    // Approving discovers the tenant's scripts again: the script is gone, so the approval is
    // void (a clear error) and nothing runs.
    let err = env.host.approve(&id, "ops").await.unwrap_err();
    assert!(matches!(err, HostError::ToolChanged { .. }), "{err:?}");
    assert!(err.to_string().contains("no longer in the tenant"), "{err}");
    // The catalog knows it is gone: a new call names it unknown.
    let err = env
        .call_approved("cw-rmm-script-disk-cleanup", args.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, HostError::UnknownTool { .. }), "{err:?}");
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    // Switched back on, it is callable again under the same name.
    env.sim.set_script_state(seed::DISK_CLEANUP_SCRIPT_ID, true);
    let task = env.ok_approved("cw-rmm-script-disk-cleanup", args).await;
    assert_eq!(task["templateId"], seed::DISK_CLEANUP_SCRIPT_ID);
    assert_eq!(env.writes().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_script_is_found_by_one_rediscovery_on_a_miss() {
    let env = TestEnv::start().await;
    let id = template_id(&env, "Clear Browser Cache").await;
    assert!(env.sim.set_script_state(&id, true));
    let before = listings(&env.sim);
    let approval = pending_id(
        env.call_as(
            "cw-rmm-script-clear-browser-cache",
            json!({"targets": [seed::MARIA_LAPTOP_ID]}),
            None,
            &DeferApprovals,
        )
        .await,
    );
    // One rediscovery, and the preview of the held call reads the script listing once.
    assert_eq!(listings(&env.sim), before + 2, "exactly one rediscovery");
    let report = env.host.approve(&approval, "ops").await.unwrap();
    assert_eq!(report.result["templateId"], id.as_str());
    // A name that does not exist costs one rediscovery per call and stays unknown.
    let before = listings(&env.sim);
    let err = env
        .call("cw-rmm-script-no-such-script", json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, HostError::UnknownTool { .. }), "{err:?}");
    assert_eq!(listings(&env.sim), before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_tools_refresh() {
    let sim = Simulator::start(sim_config()).await.unwrap();
    let cli = Cli::new().await;
    let out = cli.connect(DEMO_CLIENT_SECRET, &sim.base_url(), &[]).await;
    assert!(out.success(), "{}", out.all());
    let before = listings(&sim);
    let tools = cli.run(&["tools"], &[]).await;
    assert!(tools.success(), "{}", tools.all());
    assert!(tools.stdout.contains("cw-rmm-script-reboot-endpoint"));
    assert_eq!(listings(&sim), before, "listing is served from the catalog");

    sim.set_script_state(seed::DISK_CLEANUP_SCRIPT_ID, false);
    let stale = cli.run(&["tools"], &[]).await;
    assert!(stale.stdout.contains("cw-rmm-script-disk-cleanup"));
    let fresh = cli.run(&["tools", "--refresh", "--json"], &[]).await;
    assert!(fresh.success(), "{}", fresh.all());
    assert_eq!(listings(&sim), before + 1);
    assert_eq!(
        fresh.json().as_array().unwrap().len(),
        SEEDED_TOOL_COUNT - 1
    );
    assert!(!fresh.stdout.contains("cw-rmm-script-disk-cleanup"));
    let after = cli.run(&["tools"], &[]).await;
    assert!(!after.stdout.contains("cw-rmm-script-disk-cleanup"));
    assert_eq!(listings(&sim), before + 1);
}
