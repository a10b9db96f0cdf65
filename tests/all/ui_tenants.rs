//! Every tenant's admin UI under `toolhost serve`, as the built binary serves it: the
//! default tenant's at `/`, each other tenant's at `/t/<tenant>/`, each behind its own
//! one-time link and its own session cookie, and each acting in its own tenant only.
//!
//! Here: two connected tenants served by one `toolhost serve` (also what
//! `ui_tenants_isolation` checks the same isolation over raw HTTP with), and a real browser
//! that signs in to two tenants' UIs at once and approves in one without touching the other.

use crate::serve::{serve, Served};
use crate::ui::{browser_kit_or_skip, run_script};
use e2e::postgres::fresh_database;
use e2e::*;
use simulator::Simulator;
use std::time::Duration;

const RUN_TASK: &str = "cw-rmm-run-task";
/// The name tenant B's simulator gives the disk cleanup script, so B's catalog differs.
const B_ONLY_SCRIPT: &str = "Tenant B Only";
pub(crate) const B_ONLY_TOOL: &str = "cw-rmm-script-tenant-b-only";

/// `toolhost --tenant <tenant> connect` to `sim` with the demo credentials, in the state
/// `envs` names (the home, or a database).
async fn connect(cli: &Cli, envs: &[(&str, &str)], tenant: &str, sim: &Simulator) {
    let out = cli.connect_tenant(tenant, sim, envs).await;
    assert!(out.success(), "{tenant}: {}", out.all());
}

/// A run-task call in `tenant` from the CLI, held for approval: its approval id.
pub(crate) async fn held_in(tenants: &TwoTenants, tenant: &str, name: &str) -> String {
    let args = run_task_args(name).to_string();
    let held = tenants
        .run(&[
            "--tenant", tenant, "call", RUN_TASK, "--args", &args, "--json",
        ])
        .await;
    assert_eq!(held.code, Some(2), "{}", held.all());
    held.json()["error"]["approvalId"]
        .as_str()
        .unwrap_or_else(|| panic!("no approvalId in {}", held.stdout))
        .to_string()
}

/// The one-time link `serve` printed for `tenant`'s admin UI (printed just after it
/// listens, so it may take a moment to be read).
pub(crate) async fn link_of(served: &Served, tenant: &str) -> String {
    let label = if tenant == "default" {
        "admin UI (".to_string()
    } else {
        format!("admin UI of tenant {tenant} (")
    };
    for _ in 0..100 {
        let output = served.output();
        let link = output
            .lines()
            .find(|line| line.contains(&label))
            .and_then(|line| line.split("): ").nth(1))
            .map(|link| link.trim().to_string());
        if let Some(link) = link {
            return link;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no admin UI link for {tenant}:\n{}", served.output())
}

/// A sealing key for the test database only (32 bytes, base64): never a real one.
const TEST_STATE_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// Two connected tenants (`a`, `b`, each with its own simulator; B's catalog differs) of
/// one home, or of one database, served by `toolhost serve`.
pub(crate) struct TwoTenants {
    pub sim_a: Simulator,
    pub sim_b: Simulator,
    cli: Cli,
    /// Where the state is: nothing (the home) or the database's URL and sealing key.
    state: Vec<(&'static str, String)>,
}

impl TwoTenants {
    pub async fn start(state: Vec<(&'static str, String)>) -> TwoTenants {
        let (sim_a, sim_b) = (
            Simulator::start(sim_config()).await.unwrap(),
            Simulator::start(sim_config()).await.unwrap(),
        );
        assert!(sim_b.rename_script(seed::DISK_CLEANUP_SCRIPT_ID, B_ONLY_SCRIPT));
        let tenants = TwoTenants {
            sim_a,
            sim_b,
            cli: Cli::new().await,
            state,
        };
        connect(&tenants.cli, &tenants.envs(), "a", &tenants.sim_a).await;
        connect(&tenants.cli, &tenants.envs(), "b", &tenants.sim_b).await;
        tenants
    }

    /// On PostgreSQL (a fresh database), or `None` (with a note) without a test server.
    pub async fn on_postgres() -> Option<TwoTenants> {
        let url = fresh_database().await?;
        let state = vec![
            ("TOOLHOST_DATABASE_URL", url),
            ("TOOLHOST_STATE_KEY", TEST_STATE_KEY.to_string()),
        ];
        Some(TwoTenants::start(state).await)
    }

    fn envs(&self) -> Vec<(&str, &str)> {
        self.state.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }

    /// A CLI command on the same state.
    pub async fn run(&self, args: &[&str]) -> CliOutput {
        self.cli.run(args, &self.envs()).await
    }

    pub async fn serve(&self) -> Served {
        serve(&self.cli, &[], &self.envs()).await
    }
}

/// Stops a server that must still be running.
pub(crate) async fn stop(mut served: Served) {
    if let Ok(Some(status)) = served.child.try_wait() {
        panic!(
            "toolhost serve exited early ({status}):\n{}",
            served.output()
        );
    }
    served.child.kill().await.expect("stopping toolhost serve");
}

/// A real browser signs in to A's and B's UIs at once (two cookies, two paths), sees each
/// tenant's own approvals, and approves B's in B's page: it runs in B only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tenants_uis_in_one_browser() {
    let Some(kit) = browser_kit_or_skip("ui_tenants browser test") else {
        return;
    };
    let tenants = TwoTenants::start(Vec::new()).await;
    let (sim_a, sim_b) = (&tenants.sim_a, &tenants.sim_b);
    let a_id = held_in(&tenants, "a", "held in a").await;
    let b_id = held_in(&tenants, "b", "held in b").await;
    let served = tenants.serve().await;

    let mut script = kit.script("ui_tenants.mjs", &link_of(&served, "a").await);
    script
        .env("UI_URL_B", link_of(&served, "b").await)
        .env("A_ID", &a_id)
        .env("B_ID", &b_id);
    run_script(script, Duration::from_secs(180)).await;
    stop(served).await;

    // The approval ran in B, once, through B's page; A's is untouched.
    assert!(
        !write_requests(sim_b).is_empty(),
        "the approved call did not run"
    );
    assert!(write_requests(sim_a).is_empty());
    let state_of = |tenant: &'static str| {
        let tenants = &tenants;
        async move {
            let out = tenants
                .run(&["--tenant", tenant, "approvals", "list", "--all", "--json"])
                .await;
            out.json()[0]["state"].as_str().unwrap().to_string()
        }
    };
    assert_eq!(state_of("b").await, "executed");
    assert_eq!(state_of("a").await, "pending");
    let audit = tenants.run(&["--tenant", "b", "audit", "--json"]).await;
    assert!(audit.stdout.contains("by ui:"), "{}", audit.stdout);
}
