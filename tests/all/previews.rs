//! Previews end to end: a call held for approval carries what it would do, in words, found
//! by the real plugin's reads against the simulator's tenant; a preview can only read (a
//! hostile one that writes is stopped by the gate and nothing reaches the simulator); an
//! approval whose preview no longer holds is refused and sends nothing; conformance reports a
//! preview that writes.

use e2e::*;
use toolhost_governance::{Approval, ApprovalFilter, AuditOutcome};
use toolhost_host::conformance::{self, Backend, Status};
use toolhost_host::{DeferApprovals, HostError};
use toolhost_sandbox::{CallFailure, GateFailure, Origin};

/// The demo's disk-cleanup call on Maria's laptop (crates/toolhost/src/cli/demo.rs).
fn demo_disk_cleanup_args() -> serde_json::Value {
    json!({"targets": [seed::MARIA_LAPTOP_ID], "parameters": {"drive": "C:", "minFileAgeDays": 7}})
}

async fn approval(env: &TestEnv, id: &str) -> Approval {
    env.host
        .list_approvals(&ApprovalFilter::default())
        .await
        .expect("listing approvals")
        .into_iter()
        .find(|a| a.id == id)
        .unwrap_or_else(|| panic!("no approval {id}"))
}

fn fact<'a>(approval: &'a Approval, label: &str) -> Vec<&'a str> {
    approval
        .preview
        .as_ref()
        .map(|p| {
            p.facts
                .iter()
                .filter(|f| f.label == label)
                .map(|f| f.value.as_str())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_held_disk_cleanup_call_names_the_laptop_and_its_company_from_the_tenant() {
    let env = TestEnv::start().await;
    let id = pending_id(
        env.call_as(
            "cw-rmm-script-disk-cleanup",
            demo_disk_cleanup_args(),
            None,
            &DeferApprovals,
        )
        .await,
    );
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    let held = approval(&env, &id).await;
    let preview = held.preview.clone().expect("the held call has a preview");
    eprintln!("FIGURE preview: {preview:?}");
    assert_eq!(
        preview.summary,
        format!(
            "Run \"{}\" on {} ({}) at the next agent check-in",
            seed::DISK_CLEANUP_SCRIPT_NAME,
            seed::MARIA_LAPTOP_DEVICE_NAME,
            seed::CONTOSO_NAME
        )
    );
    assert_eq!(fact(&held, "script"), [seed::DISK_CLEANUP_SCRIPT_NAME]);
    assert_eq!(fact(&held, "templateId"), [seed::DISK_CLEANUP_SCRIPT_ID]);
    assert_eq!(
        fact(&held, "target"),
        [format!(
            "{} ({}), company {}, site {}",
            seed::MARIA_LAPTOP_DEVICE_NAME,
            seed::MARIA_LAPTOP_FRIENDLY_NAME,
            seed::CONTOSO_NAME,
            seed::CONTOSO_SYDNEY_SITE_NAME
        )
        .as_str()]
    );
    assert_eq!(fact(&held, "schedule"), ["at the next agent check-in"]);
    // The shape the admin UI reads from an approval row.
    let row = serde_json::to_value(&held).unwrap();
    assert_eq!(row["preview"]["summary"], preview.summary.as_str());
    assert_eq!(row["preview"]["facts"][0]["label"], "script");
    assert_eq!(
        row["preview"]["facts"][0]["value"],
        seed::DISK_CLEANUP_SCRIPT_NAME
    );
    // The preview still holds, so approving runs it once.
    env.host.approve(&id, "ops").await.expect("approved");
    assert_eq!(env.writes().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_company_target_previews_how_many_endpoints_it_expands_to() {
    let env = TestEnv::start().await;
    let companies = env
        .ok(
            "cw-rmm-list-devices",
            json!({"companyId": seed::FABRIKAM_ID, "limit": 1000}),
        )
        .await;
    let count = companies["devices"].as_array().map(Vec::len).unwrap_or(0);
    assert!(count > 1, "{companies}");
    let args = json!({
        "templateId": seed::DISK_CLEANUP_SCRIPT_ID,
        "companyId": seed::FABRIKAM_ID,
        "targetType": "COMPANY",
        "schedule": {"type": "once", "at": "2030-01-31T22:00:00Z", "timeZone": "Australia/Sydney"},
    });
    let id = pending_id(
        env.call_as("cw-rmm-run-task", args, None, &DeferApprovals)
            .await,
    );
    let held = approval(&env, &id).await;
    assert_eq!(
        fact(&held, "endpoints"),
        [format!("{count} endpoints of {}", seed::FABRIKAM_NAME).as_str()]
    );
    assert_eq!(fact(&held, "script"), [seed::DISK_CLEANUP_SCRIPT_NAME]);
    assert_eq!(
        fact(&held, "schedule"),
        ["once at 2030-01-31T22:00:00Z (Australia/Sydney)"]
    );
    assert!(env.writes().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_ticket_previews_its_board_and_company() {
    let env = TestEnv::start().await;
    let id = pending_id(
        env.call_as(
            "cw-rmm-create-ticket",
            ticket_args("e2e preview ticket"),
            None,
            &DeferApprovals,
        )
        .await,
    );
    let held = approval(&env, &id).await;
    assert_eq!(fact(&held, "board"), ["Service Desk"]);
    assert_eq!(fact(&held, "company"), [seed::CONTOSO_NAME]);
    assert_eq!(
        held.preview.unwrap().summary,
        format!(
            "Create ticket \"e2e preview ticket\" on board Service Desk for {}",
            seed::CONTOSO_NAME
        )
    );
    assert!(env.writes().is_empty());
}

/// The device moves to another company between the hold and the approval: what would run is
/// no longer what the person approved, so the approval is refused (and void) and nothing is
/// sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_whose_device_moved_company_is_refused_and_sends_nothing() {
    let env = TestEnv::start().await;
    let id = pending_id(
        env.call_as(
            "cw-rmm-run-task",
            run_task_args("e2e moved device"),
            None,
            &DeferApprovals,
        )
        .await,
    );
    assert!(env.sim.move_endpoint(
        seed::MARIA_LAPTOP_ID,
        seed::FABRIKAM_ID,
        seed::FABRIKAM_BRISBANE_SITE_ID
    ));

    let err = env.host.approve(&id, "ops").await.unwrap_err();
    assert!(matches!(err, HostError::PreviewChanged { .. }), "{err:?}");
    assert_eq!(err.kind(), "preview-changed");
    let message = err.to_string();
    eprintln!("FIGURE moved device: {message}");
    for part in [
        id.as_str(),
        "void",
        "Nothing was sent",
        "target: was",
        seed::CONTOSO_NAME,
        seed::FABRIKAM_NAME,
    ] {
        assert!(message.contains(part), "`{part}` missing from: {message}");
    }
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    // Void for good, even once the device is back.
    assert!(env.sim.move_endpoint(
        seed::MARIA_LAPTOP_ID,
        seed::CONTOSO_ID,
        seed::CONTOSO_SYDNEY_SITE_ID
    ));
    assert!(env.host.approve(&id, "ops").await.is_err());
    assert!(env.writes().is_empty());
    let audit = env.audit().await;
    let refused = audit
        .iter()
        .find(|r| {
            r.approval_id.as_deref() == Some(id.as_str()) && r.outcome == AuditOutcome::Refused
        })
        .expect("the refusal is audited");
    assert!(format!("{refused:?}").contains("no longer what was approved"));
}

/// A hostile plugin whose preview POSTs: the host runs previews with only the tool's read
/// routes, so the gate refuses the write, nothing reaches the simulator, and the call is
/// neither held nor run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_that_tries_to_write_is_stopped_by_the_gate() {
    let env = TestEnv::with_plugin(&hostile_wasm(), sim_config()).await;
    let err = env
        .call_as("preview-writer", json!({}), None, &DeferApprovals)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "outbound-denied", "{err:?}");
    let HostError::Call { failure, .. } = &err else {
        panic!("{err:?}")
    };
    let CallFailure::Gate(GateFailure::NotARoute { method, tool, .. }) = failure else {
        panic!("expected the gate to refuse the write: {failure:?}")
    };
    assert_eq!(method, "POST");
    assert!(tool.contains("preview: reads only"), "{tool}");
    eprintln!("FIGURE hostile preview: {err}");
    assert!(
        env.requests_to("POST", "/company/companies").is_empty(),
        "{:?}",
        env.sim.requests()
    );
    let pending = env
        .host
        .list_approvals(&ApprovalFilter::pending())
        .await
        .unwrap();
    assert!(pending.is_empty(), "{pending:?}");
}

/// Conformance previews every tool that declares a write route against the backend: the
/// hostile fixture's preview that writes fails the check; our plugin passes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_reports_a_preview_that_writes() {
    let sim = simulator::Simulator::start(sim_config()).await.unwrap();
    let backend = || Backend::Upstream {
        origin: Origin::parse(&sim.base_url()).unwrap(),
        label: "test simulator".into(),
        credentials: Some((
            simulator::DEMO_CLIENT_ID.into(),
            toolhost_base::SecretString::new(simulator::DEMO_CLIENT_SECRET),
        )),
    };
    let report = conformance::run(&hostile_wasm(), backend(), None).await;
    let check = report.check("behaviour.preview-reads-only").unwrap();
    assert_eq!(check.status, Status::Fail, "{check:?}");
    let findings = check.findings.join("\n");
    eprintln!("FIGURE conformance preview: {findings}");
    assert!(
        findings.contains("preview-writer") && findings.contains("POST"),
        "{findings}"
    );
    assert!(!sim
        .requests()
        .iter()
        .any(|r| r.method == "POST" && r.path.contains("/company/companies")));

    let ours = conformance::run(&plugin_wasm(), backend(), None).await;
    let check = ours.check("behaviour.preview-reads-only").unwrap();
    assert_eq!(check.status, Status::Pass, "{check:?}");
    assert!(write_requests(&sim).is_empty());
}
