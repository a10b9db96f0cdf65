//! The operator's own role at the CLI: `[operator] role` in toolhost.toml sets it, and
//! `toolhost call --as ROLE` may only lower it. A raise is refused before anything is sent
//! or audited; a lesser role runs and the audit log keeps the role used.

use e2e::*;
use simulator::{Simulator, DEMO_CLIENT_SECRET};

async fn connected_cli(operator_role: &str) -> (Simulator, Cli) {
    let sim = Simulator::start(sim_config()).await.unwrap();
    let cli = Cli::new().await;
    std::fs::write(
        cli.home.path().join("toolhost.toml"),
        format!("[operator]\nrole = \"{operator_role}\"\n"),
    )
    .unwrap();
    let out = cli.connect(DEMO_CLIENT_SECRET, &sim.base_url(), &[]).await;
    assert!(out.success(), "{}", out.all());
    (sim, cli)
}

async fn audit(cli: &Cli) -> Vec<serde_json::Value> {
    let out = cli.run(&["audit", "--json"], &[]).await;
    assert!(out.success(), "{}", out.all());
    out.json().as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_technician_cannot_call_as_super_admin() {
    let (sim, cli) = connected_cli("Technician").await;
    let before = sim.requests().len();
    for (args, json) in [
        (
            &["call", "cw-rmm-list-companies", "--as", "Super Admin"][..],
            false,
        ),
        (
            &[
                "call",
                "cw-rmm-list-companies",
                "--as",
                "super-admin",
                "--json",
            ][..],
            true,
        ),
    ] {
        let out = cli.run(args, &[]).await;
        assert_eq!(out.code, Some(2), "{}", out.all());
        let said = if json {
            out.stdout.clone()
        } else {
            out.stderr.clone()
        };
        assert!(
            said.contains("`--as Super Admin` refused")
                && said.contains("your role, Technician")
                && said.contains("would not lower your role"),
            "{said}"
        );
    }
    assert_eq!(sim.requests().len(), before, "a refused --as sent nothing");
    let records = audit(&cli).await;
    assert!(records.is_empty(), "{records:?}");
    // A role that is not in the table is named, with the ones that are.
    let out = cli
        .run(&["call", "cw-rmm-list-companies", "--as", "Janitor"], &[])
        .await;
    assert!(!out.success(), "{}", out.all());
    assert!(
        out.stderr.contains("Janitor") && out.stderr.contains("Client Site Manager"),
        "{}",
        out.stderr
    );
    assert_eq!(sim.requests().len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_may_act_in_a_lesser_role_and_the_audit_keeps_it() {
    let (_sim, cli) = connected_cli("Super Admin").await;
    let own = cli.run(&["call", "cw-rmm-list-companies"], &[]).await;
    assert!(own.success(), "{}", own.all());
    let lower = cli
        .run(
            &["call", "cw-rmm-list-companies", "--as", "technician"],
            &[],
        )
        .await;
    assert!(lower.success(), "{}", lower.all());
    let records = audit(&cli).await;
    let roles: Vec<&str> = records
        .iter()
        .map(|r| r["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["Super Admin", "Technician"], "{records:?}");
    assert!(records.iter().all(|r| r["outcome"] == "ok"), "{records:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_without_a_client_cannot_claim_a_higher_role_either() {
    let (sim, cli) = connected_cli("Technician").await;
    let before = sim.requests().len();
    let out = cli.run(&["mcp", "--as", "Super Admin"], &[]).await;
    assert_eq!(out.code, Some(2), "{}", out.all());
    assert!(
        out.stderr.contains("`--as Super Admin` refused")
            && out.stderr.contains("your role, Technician"),
        "{}",
        out.all()
    );
    assert_eq!(sim.requests().len(), before, "nothing was sent");
}
