//! What is recorded about a call names its tenant: `toolhost serve`'s /metrics counts two
//! tenants' calls apart (a `tenant` label on every series about a tenant), and every audit
//! record says which tenant it was made in, in the home's JSONL log (the built binary) and in
//! the state database (`TOOLHOST_TEST_DATABASE_URL`).

use crate::serve::{get, serve, Mcp};
use e2e::postgres::fresh_database;
use e2e::*;
use serde_json::Value;
use simulator::Simulator;
use toolhost_governance::AuditFilter;
use toolhost_host::{DeferApprovals, StateBackend, TenantName};
use toolhost_state::Database;

const LIST_DEVICES: &str = "connectwise_rmm:cw-rmm-list-devices";
const RUN_TASK: &str = "connectwise_rmm:cw-rmm-run-task";

/// `toolhost --tenant <tenant> connect` to `sim`, then a client of that tenant; its token.
async fn connected_tenant(cli: &Cli, tenant: &str, sim: &Simulator) -> String {
    let out = cli.connect_tenant(tenant, sim, &[]).await;
    assert!(out.success(), "{tenant}: {}", out.all());
    cli.add_client(tenant, &format!("bot-{tenant}"), "Technician", &[])
        .await
}

#[track_caller]
fn has(metrics: &str, line: &str) {
    assert!(metrics.contains(line), "{line} missing from:\n{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_each_tenant_apart_and_audit_records_name_it() {
    let sim_default = Simulator::start(sim_config()).await.unwrap();
    let sim_acme = Simulator::start(sim_config()).await.unwrap();
    let cli = Cli::new().await;
    let token_default = connected_tenant(&cli, "default", &sim_default).await;
    let token_acme = connected_tenant(&cli, "acme", &sim_acme).await;

    let mut served = serve(&cli, &[], &[]).await;
    let mut default = Mcp::new(&served.base, Some(&token_default));
    default.initialize().await;
    let mut acme = Mcp::new(&served.base, Some(&token_acme));
    acme.url = format!("{}/t/acme/mcp", served.base);
    acme.initialize().await;
    // Two reads in acme, one in the default tenant; a call held for approval in acme.
    for id in [2, 3] {
        let result = acme.list_devices(id).await;
        assert_ne!(result["isError"], true, "{result}");
    }
    let result = default.list_devices(2).await;
    assert_ne!(result["isError"], true, "{result}");
    let held = acme
        .request(
            4,
            "tools/call",
            json!({"name": "connectwise_rmm__cw-rmm-run-task", "arguments": run_task_args("acme's task")}),
        )
        .await;
    assert_eq!(held["isError"], true, "{held}");

    let (status, metrics) = get(&format!("{}/metrics", served.base)).await;
    assert_eq!(status, 200);
    has(
        &metrics,
        &format!(
            r#"toolhost_calls_total{{tenant="acme",tool="{LIST_DEVICES}",decision="auto",outcome="ok"}} 2"#
        ),
    );
    has(
        &metrics,
        &format!(
            r#"toolhost_calls_total{{tenant="default",tool="{LIST_DEVICES}",decision="auto",outcome="ok"}} 1"#
        ),
    );
    has(
        &metrics,
        &format!(
            r#"toolhost_calls_total{{tenant="acme",tool="{RUN_TASK}",decision="approval",outcome="pending-approval"}} 1"#
        ),
    );
    assert!(
        !metrics.contains(&format!(
            r#"toolhost_calls_total{{tenant="default",tool="{RUN_TASK}""#
        )),
        "{metrics}"
    );
    has(
        &metrics,
        &format!(
            r#"toolhost_call_duration_seconds_count{{tenant="acme",tool="{LIST_DEVICES}"}} 2"#
        ),
    );
    has(
        &metrics,
        &format!(
            r#"toolhost_call_duration_seconds_count{{tenant="default",tool="{LIST_DEVICES}"}} 1"#
        ),
    );
    has(
        &metrics,
        r#"toolhost_upstream_responses_total{tenant="acme",status="200"}"#,
    );
    has(
        &metrics,
        r#"toolhost_upstream_responses_total{tenant="default",status="200"}"#,
    );
    has(&metrics, r#"toolhost_pending_approvals{tenant="acme"} 1"#);
    has(
        &metrics,
        r#"toolhost_pending_approvals{tenant="default"} 0"#,
    );
    served.child.kill().await.unwrap();

    // Each tenant's audit log (embedded: its own JSONL file) names its tenant.
    for (tenant, calls) in [("acme", 3), ("default", 1)] {
        let out = cli.run(&["--tenant", tenant, "audit", "--json"], &[]).await;
        assert!(out.success(), "{}", out.all());
        let records: Vec<Value> = match out.json() {
            Value::Array(records) => records,
            other => other["records"].as_array().cloned().unwrap_or_default(),
        };
        assert_eq!(records.len(), calls, "{tenant}: {}", out.stdout);
        for record in records {
            assert_eq!(record["tenant"], tenant, "{record}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audit_record_in_the_database_names_its_tenant() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let db = Database::connect(&url).await.expect("the test database");
    let sim = Simulator::start(sim_config()).await.unwrap();
    let home = TempDir::new("audit-tenant");
    let mut config = host_config(home.path(), &plugin_wasm());
    config.tenant = TenantName::parse("acme").unwrap();
    config.state = StateBackend::Postgres {
        db: db.clone(),
        tenant: "acme".to_string(),
        key: e2e::postgres::test_state_key(),
    };
    let mut host = open_host(config).await;
    let settings = demo_settings(&host, &sim);
    host.connect(settings).await.expect("connecting");
    call_on(
        &host,
        "cw-rmm-list-companies",
        json!({}),
        None,
        &DeferApprovals,
    )
    .await
    .expect("a call in acme");
    let records = host
        .audit_records(&AuditFilter::default())
        .await
        .expect("reading acme's audit");
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].tenant, "acme");
    // As stored: the row's record names its tenant too, not only the row's column.
    let stored: Value = db
        .client()
        .await
        .unwrap()
        .query_one(
            "SELECT record FROM audit_records WHERE tenant = 'acme'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored["tenant"], "acme", "{stored}");
}
