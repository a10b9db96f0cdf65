//! Tenants: two tenants of one home, each connected to its own simulator, as the built
//! binary runs them. Nothing crosses: a call in A reaches A's API only; B neither lists,
//! approves nor audits A's approvals; a client token of A is refused at B's MCP endpoint
//! under `toolhost serve` and sees A's tools only at A's. The default tenant is the home
//! itself, as before tenants.

use crate::serve::{get, serve, Mcp};
use e2e::*;
use serde_json::Value;
use simulator::{Simulator, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};

const LISTING: &str = "/api/platform/v2/device/categories/all/endpoints";
const DISK_CLEANUP_MCP: &str = "connectwise_rmm__cw-rmm-script-disk-cleanup";
/// The name tenant B's simulator gives the disk cleanup script, so B's catalog differs.
const B_ONLY_SCRIPT: &str = "Tenant B Only";
const B_ONLY_MCP: &str = "connectwise_rmm__cw-rmm-script-tenant-b-only";

/// `toolhost --tenant <tenant> connect` to `sim` with the demo credentials.
async fn connect(cli: &Cli, tenant: &str, sim: &Simulator) -> CliOutput {
    cli.connect_tenant(tenant, sim, &[]).await
}

fn listings(sim: &Simulator) -> usize {
    sim.requests().iter().filter(|r| r.path == LISTING).count()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .filter_map(|a| a["id"].as_str().map(str::to_string))
        .collect()
}

/// The MCP tool names tools/list answers.
async fn tool_names(mcp: &mut Mcp, id: u64) -> Vec<String> {
    let listed = mcp.request(id, "tools/list", json!({})).await;
    listed["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_calls_approvals_and_audit_stay_in_their_tenant() {
    let (sim_a, sim_b) = (
        Simulator::start(sim_config()).await.unwrap(),
        Simulator::start(sim_config()).await.unwrap(),
    );
    let cli = Cli::new().await;
    for (tenant, sim) in [("a", &sim_a), ("b", &sim_b)] {
        let out = connect(&cli, tenant, sim).await;
        assert!(out.success(), "{}", out.all());
    }

    // The tenants of the home: the default (not connected here), a and b; never a secret.
    let listed = cli.run(&["tenants", "--json"], &[]).await;
    assert!(listed.success(), "{}", listed.all());
    let tenants = listed.json();
    let names: Vec<&str> = tenants
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default", "a", "b"], "{tenants}");
    assert_eq!(tenants[0]["clientId"], Value::Null, "{tenants}");
    assert_eq!(tenants[1]["region"], "au", "{tenants}");
    assert_eq!(tenants[2]["clientId"], DEMO_CLIENT_ID, "{tenants}");
    let table = cli.run(&["tenants"], &[]).await;
    assert!(table.success(), "{}", table.all());
    assert!(table.stdout.contains("(not connected)"), "{}", table.stdout);

    // A call in A reaches A's API, and B's not at all.
    let (a_before, b_before) = (listings(&sim_a), listings(&sim_b));
    let out = cli
        .run(
            &[
                "--tenant",
                "a",
                "call",
                "cw-rmm-list-devices",
                "--args",
                "{}",
            ],
            &[],
        )
        .await;
    assert!(out.success(), "{}", out.all());
    assert!(out.stdout.contains(seed::DC01_ID), "{}", out.stdout);
    assert!(listings(&sim_a) > a_before);
    assert_eq!(listings(&sim_b), b_before);
    // TOOLHOST_TENANT names the tenant as --tenant does.
    let out = cli
        .run(
            &["call", "cw-rmm-list-devices", "--args", "{}"],
            &[("TOOLHOST_TENANT", "b")],
        )
        .await;
    assert!(out.success(), "{}", out.all());
    assert!(listings(&sim_b) > b_before);

    // An approval held in A is A's alone.
    let task = run_task_args("tenant a task").to_string();
    let held = cli
        .run(
            &[
                "--tenant",
                "a",
                "call",
                "cw-rmm-run-task",
                "--args",
                &task,
                "--json",
            ],
            &[],
        )
        .await;
    assert_eq!(held.code, Some(2), "{}", held.all());
    let id = held.json()["error"]["approvalId"]
        .as_str()
        .unwrap_or_else(|| panic!("no approvalId in {}", held.stdout))
        .to_string();
    let in_a = cli
        .run(&["--tenant", "a", "approvals", "list", "--json"], &[])
        .await;
    assert_eq!(ids(&in_a.json()), [id.as_str()]);
    for args in [
        &["--tenant", "b", "approvals", "list", "--json"][..],
        &["--tenant", "b", "approvals", "list", "--all", "--json"][..],
        &["approvals", "list", "--all", "--json"][..],
    ] {
        let out = cli.run(args, &[]).await;
        assert!(out.success(), "{args:?}: {}", out.all());
        assert!(ids(&out.json()).is_empty(), "{args:?}: {}", out.stdout);
    }
    // A person at B's terminal who types `approve` for A's id runs nothing, anywhere.
    let refused = cli
        .run_at_terminal(&["--tenant", "b", "approvals", "approve", &id], "approve\n")
        .await;
    assert!(!refused.success(), "{}", refused.stdout);
    assert!(refused.stdout.contains(&id), "{}", refused.stdout);
    assert!(write_requests(&sim_a).is_empty() && write_requests(&sim_b).is_empty());
    let denied = cli
        .run(&["--tenant", "b", "approvals", "deny", &id], &[])
        .await;
    assert!(!denied.success(), "{}", denied.all());
    let still = cli
        .run(&["--tenant", "a", "approvals", "list", "--json"], &[])
        .await;
    assert_eq!(
        ids(&still.json()),
        [id.as_str()],
        "A's approval stays pending"
    );

    // Each audit log holds its own tenant's attempts only.
    let audit_a = cli.run(&["--tenant", "a", "audit", "--json"], &[]).await;
    let audit_b = cli.run(&["--tenant", "b", "audit", "--json"], &[]).await;
    let audit_default = cli.run(&["audit", "--json"], &[]).await;
    let (audit_a, audit_b) = (audit_a.json(), audit_b.json());
    let (audit_a, audit_b) = (audit_a.as_array().unwrap(), audit_b.as_array().unwrap());
    assert_eq!(audit_a.len(), 2, "{audit_a:?}");
    assert_eq!(audit_a[1]["approvalId"], id.as_str());
    assert_eq!(audit_b.len(), 1, "{audit_b:?}");
    assert!(
        audit_b.iter().all(|r| r["approvalId"] != id.as_str()
            && r["tool"] == "connectwise_rmm:cw-rmm-list-devices"),
        "{audit_b:?}"
    );
    assert!(!audit_b
        .iter()
        .any(|r| r.to_string().contains("tenant a task")));
    assert_eq!(audit_default.json(), json!([]), "{}", audit_default.stdout);

    // A's MCP client is unknown in B.
    let added = cli
        .run(
            &[
                "--tenant",
                "a",
                "clients",
                "add",
                "bot-a",
                "--role",
                "Technician",
            ],
            &[],
        )
        .await;
    assert!(added.success(), "{}", added.all());
    let clients_b = cli
        .run(&["--tenant", "b", "clients", "list", "--json"], &[])
        .await;
    assert!(!clients_b.stdout.contains("bot-a"), "{}", clients_b.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_names_are_checked_and_a_missing_tenant_is_not_created() {
    let cli = Cli::new().await;
    for bad in ["../x", "A B", "x/y", "-x", ""] {
        let flag = format!("--tenant={bad}");
        for (args, envs) in [
            (vec![flag.as_str(), "tools"], vec![]),
            (vec!["tools"], vec![("TOOLHOST_TENANT", bad)]),
        ] {
            let out = cli.run(&args, &envs).await;
            assert!(!out.success(), "{bad:?}: {}", out.all());
            assert!(out.stderr.contains("--tenant"), "{bad:?}: {}", out.stderr);
            assert!(
                bad.is_empty() || out.stderr.contains("lowercase letters"),
                "{bad:?}: {}",
                out.stderr
            );
        }
    }
    // A name no one connected: refused, and nothing created for it.
    let out = cli
        .run(&["--tenant", "typo", "approvals", "list"], &[])
        .await;
    assert!(!out.success(), "{}", out.all());
    assert!(
        out.stderr.contains("no such tenant") && out.stderr.contains("toolhost tenants"),
        "{}",
        out.stderr
    );
    assert!(!cli.home.path().join("tenants").exists());
    assert!(!cli.home.path().join("x").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_tenant_is_the_home_as_before() {
    let sim = Simulator::start(sim_config()).await.unwrap();
    let cli = Cli::new().await;
    let out = cli.connect(DEMO_CLIENT_SECRET, &sim.base_url(), &[]).await;
    assert!(out.success(), "{}", out.all());
    // Today's files, where they always were; no tenants/ directory appears.
    let home = cli.home.path();
    for file in ["connection.json", "grant.json"] {
        assert!(home.join(file).is_file(), "{file}");
    }
    assert!(!home.join("tenants").exists());
    let out = cli.run(&["call", "cw-rmm-list-devices"], &[]).await;
    assert!(out.success(), "{}", out.all());
    // Naming the default tenant is the same as naming none.
    let named = cli
        .run(&["--tenant", "default", "audit", "--json"], &[])
        .await;
    let unnamed = cli.run(&["audit", "--json"], &[]).await;
    assert_eq!(named.json(), unnamed.json());
    assert_eq!(unnamed.json().as_array().unwrap().len(), 1);
    assert!(!home.join("tenants").exists());
    let listed = cli.run(&["tenants", "--json"], &[]).await;
    let listed = listed.json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["name"], "default");
    assert_eq!(listed[0]["clientId"], DEMO_CLIENT_ID);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_checks_each_tenants_tokens_at_its_own_endpoint() {
    let sims = [
        Simulator::start(sim_config()).await.unwrap(),
        Simulator::start(sim_config()).await.unwrap(),
        Simulator::start(sim_config()).await.unwrap(),
    ];
    let [sim_default, sim_a, sim_b] = &sims;
    assert!(sim_b.rename_script(seed::DISK_CLEANUP_SCRIPT_ID, B_ONLY_SCRIPT));
    let cli = Cli::new().await;
    for (tenant, sim) in [("default", sim_default), ("a", sim_a), ("b", sim_b)] {
        let out = connect(&cli, tenant, sim).await;
        assert!(out.success(), "{tenant}: {}", out.all());
    }
    // A tenant whose connect failed exists, unconnected: serve is not ready, and says which.
    let failed = cli
        .run(
            &[
                "--tenant",
                "c",
                "connect",
                "--client-id",
                DEMO_CLIENT_ID,
                "--upstream",
                &sim_a.base_url(),
            ],
            &[("TOOLHOST_CLIENT_SECRET", "wrong")],
        )
        .await;
    assert!(!failed.success(), "{}", failed.all());
    let mut token = std::collections::HashMap::new();
    for tenant in ["default", "a", "b"] {
        let bot = format!("bot-{tenant}");
        token.insert(
            tenant,
            cli.add_client(tenant, &bot, "Technician", &[]).await,
        );
    }

    let mut unready = serve(&cli, &[], &[]).await;
    let (status, body) = get(&format!("{}/readyz", unready.base)).await;
    assert_eq!(status, 503, "{body}");
    let reason: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reason["tenant"], "c", "{body}");
    assert!(
        reason["reason"]
            .as_str()
            .unwrap()
            .contains("toolhost --tenant c connect"),
        "{body}"
    );
    unready.child.kill().await.unwrap();
    std::fs::remove_dir_all(cli.home.path().join("tenants").join("c")).unwrap();

    let mut served = serve(&cli, &[], &[]).await;
    let (status, body) = get(&format!("{}/readyz", served.base)).await;
    assert_eq!(status, 200, "{body}\n{}", served.output());
    let ready: Value = serde_json::from_str(&body).unwrap();
    for tenant in ["default", "a", "b"] {
        assert!(ready["tenants"][tenant].as_u64().unwrap() > 0, "{body}");
    }
    let at = |tenant: &str| -> String {
        if tenant == "default" {
            format!("{}/mcp", served.base)
        } else {
            format!("{}/t/{tenant}/mcp", served.base)
        }
    };
    let client = |tenant: &str, token_of: &str| {
        let mut mcp = Mcp::new(&served.base, Some(&token[token_of]));
        mcp.url = at(tenant);
        mcp
    };

    // A token is checked against its own tenant's clients only.
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "e2e-tenants", "version": "1.0"}}});
    for (endpoint, token_of) in [
        ("b", "a"),
        ("default", "a"),
        ("a", "b"),
        ("a", "default"),
        ("b", "default"),
    ] {
        let status = client(endpoint, token_of).post(&init).await.status();
        assert_eq!(status, 401, "{token_of}'s token at {endpoint}'s endpoint");
    }
    // The default tenant answers at /t/default/mcp too.
    let mut default_at_its_path = client("default", "default");
    default_at_its_path.url = format!("{}/t/default/mcp", served.base);
    default_at_its_path.initialize().await;

    // A's client sees A's tools and reaches A's API only.
    let mut a = client("a", "a");
    a.initialize().await;
    let tools_a = tool_names(&mut a, 2).await;
    assert!(tools_a.iter().any(|t| t == DISK_CLEANUP_MCP), "{tools_a:?}");
    assert!(!tools_a.iter().any(|t| t == B_ONLY_MCP), "{tools_a:?}");
    let mut b = client("b", "b");
    b.initialize().await;
    let tools_b = tool_names(&mut b, 2).await;
    assert!(tools_b.iter().any(|t| t == B_ONLY_MCP), "{tools_b:?}");
    assert!(
        !tools_b.iter().any(|t| t == DISK_CLEANUP_MCP),
        "{tools_b:?}"
    );
    let b_before = listings(sim_b);
    let default_before = listings(sim_default);
    let result = a.list_devices(3).await;
    assert_ne!(result["isError"], true, "{result}");
    assert_eq!(listings(sim_b), b_before);
    assert_eq!(listings(sim_default), default_before);

    // A call A's client makes that needs approval is held in A, and B cannot see it.
    let held = a
        .request(
            5,
            "tools/call",
            json!({"name": "connectwise_rmm__cw-rmm-run-task", "arguments": run_task_args("served a task")}),
        )
        .await;
    assert_eq!(held["isError"], true, "{held}");
    let id = held["_meta"]["toolhost/approvalId"]
        .as_str()
        .unwrap_or_else(|| panic!("no approval id in {held}"))
        .to_string();
    let text = held.to_string();
    assert!(
        !text.contains("toolhost approvals") || text.contains("--tenant a"),
        "an approval command for A must name A: {text}"
    );
    let in_a = cli
        .run(&["--tenant", "a", "approvals", "list", "--json"], &[])
        .await;
    assert_eq!(ids(&in_a.json()), [id.as_str()]);
    for tenant in ["b", "default"] {
        let out = cli
            .run(
                &["--tenant", tenant, "approvals", "list", "--all", "--json"],
                &[],
            )
            .await;
        assert!(ids(&out.json()).is_empty(), "{tenant}: {}", out.stdout);
        let audit = cli.run(&["--tenant", tenant, "audit", "--json"], &[]).await;
        assert!(!audit.stdout.contains(&id), "{tenant}: {}", audit.stdout);
    }
    assert!(sims.iter().all(|s| write_requests(s).is_empty()));
    served.child.kill().await.unwrap();
}

/// The threads of a running process (Linux `/proc`).
fn threads_of(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("a Threads line")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_every_tenant_on_one_loaded_plugin() {
    // Two hosts per tenant, each once with an engine of its own (and the engine's epoch
    // thread, compiled code and memory budget): threads and memory grew with the tenants.
    let cli = Cli::new().await;
    const TENANTS: usize = 30;
    for i in 0..TENANTS {
        std::fs::create_dir_all(cli.home.path().join("tenants").join(format!("t{i}"))).unwrap();
    }
    let mut served = serve(&cli, &[], &[]).await;
    let (status, body) = get(&format!("{}/healthz", served.base)).await;
    assert_eq!(status, 200, "{body}");
    let output = served.output();
    assert!(
        output.contains(&format!("/t/t{}/mcp", TENANTS - 1)),
        "{output}"
    );
    let threads = threads_of(served.child.id().expect("serve runs"));
    assert!(
        threads < TENANTS,
        "{threads} threads for {TENANTS} tenants: the hosts do not share one engine"
    );
    served.child.kill().await.unwrap();
}
