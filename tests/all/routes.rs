//! Routes: a call's requests may be only those its tool declared. A read-only tool cannot
//! write, a tool cannot reach an endpoint it never declared, and the attempt is audited.

use e2e::*;
use serde_json::Value;
use toolhost_governance::AuditOutcome;
use toolhost_host::HostError;
use toolhost_sandbox::{CallFailure, GateFailure};

const API: &str = "https://openapi.service.auplatform.connectwise.com";
const SCHEDULE: &str = "/api/platform/v2/automation/endpoints/schedule-tasks";

#[track_caller]
fn not_a_route(result: Result<Value, HostError>) -> (String, String, String) {
    match result {
        Err(HostError::Call {
            failure: CallFailure::Gate(GateFailure::NotARoute { tool, method, path }),
            ..
        }) => (tool, method, path),
        other => panic!("expected NotARoute, got {other:?}"),
    }
}

/// The probe is annotated read-only and declares only the companies listing: its POST to
/// `schedule-tasks` (on the allowed origin, with the host's token on offer) is refused by
/// the gate, nothing is scheduled, and the audit names what was refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_tool_cannot_schedule_a_task() {
    let env = TestEnv::probe().await;
    let before = env.sim.requests().len();
    let body =
        serde_json::json!({"templateID": seed::DISK_CLEANUP_SCRIPT_ID, "targets": [seed::DC01_ID]});
    let refused = env
        .call(
            "probe:fetch",
            json!({"url": format!("{API}{SCHEDULE}"), "method": "POST", "body": body.to_string()}),
        )
        .await;
    let (tool, method, path) = not_a_route(refused);
    assert_eq!(
        (tool.as_str(), method.as_str(), path.as_str()),
        ("probe:fetch", "POST", SCHEDULE)
    );
    // An endpoint it never declared, even a read, is refused the same way.
    let (_, method, path) = not_a_route(
        env.call(
            "probe:fetch",
            json!({"url": format!("{API}/api/platform/v1/device-groups")}),
        )
        .await,
    );
    assert_eq!(
        (method.as_str(), path.as_str()),
        ("GET", "/api/platform/v1/device-groups")
    );
    assert_eq!(
        env.sim.requests().len(),
        before,
        "a refused request reached the API"
    );
    assert!(env.writes().is_empty());
    let audit = env.audit().await;
    let record = audit
        .iter()
        .find(|r| r.error.as_deref().is_some_and(|e| e.contains(SCHEDULE)))
        .expect("the refused write is audited");
    assert_eq!(record.outcome, AuditOutcome::Error);
    assert!(
        record
            .error
            .as_deref()
            .unwrap()
            .contains("may not send POST"),
        "{record:?}"
    );
    // Its declared route still works.
    let answer = env
        .ok(
            "probe:fetch",
            json!({"url": format!("{API}/api/platform/v1/company/companies")}),
        )
        .await;
    assert_eq!(answer["status"], 200);
}

/// Every tool of the ConnectWise plugin declares its routes; the listing that reads with a
/// POST is marked a read, and a read-only tool declares no write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plugin_declares_routes_for_every_tool() {
    let env = TestEnv::start().await;
    let tools = env.host.tools().await.unwrap();
    for tool in &tools {
        let routes = &tool.descriptor.routes;
        assert!(!routes.is_empty(), "{} declares no route", tool.name);
        if tool.descriptor.annotations.read_only {
            assert!(
                routes
                    .iter()
                    .all(|r| r.access == toolhost_sandbox::Access::Read),
                "{} is read-only but may write: {routes:?}",
                tool.name
            );
        }
    }
    let run_task = tools
        .iter()
        .find(|t| t.name.ends_with(":cw-rmm-run-task"))
        .unwrap();
    assert!(run_task
        .descriptor
        .routes
        .iter()
        .any(|r| r.method == "POST" && r.path == SCHEDULE));
}
