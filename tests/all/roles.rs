//! Roles end to end: a role without the permission is refused before policy (no pending
//! approval, audit `role-denied`); AI Assist off means no tool at all; a Client Site Manager
//! is held to the companies and sites of roles.toml, in its arguments and in its results.

use e2e::*;
use serde_json::Value;
use toolhost_governance::RoleDenied;
use toolhost_governance::{AuditDecision, AuditOutcome};
use toolhost_host::{DeferApprovals, HostError};

const CSM: &str = "Client Site Manager";

#[track_caller]
fn role_denied<T: std::fmt::Debug>(result: Result<T, HostError>) -> RoleDenied {
    match result {
        Err(HostError::RoleDenied { denied, .. }) => denied,
        other => panic!("expected role-denied, got {other:?}"),
    }
}

/// A home whose roles.toml scopes the Client Site Manager to Contoso and one Fabrikam site.
async fn scoped_env() -> TestEnv {
    let env = TestEnv::start().await;
    std::fs::write(
        &env.host.config().roles_file,
        format!(
            "[roles.\"Client Site Manager\"]\ncompanies = [\"{}\"]\nsites = [\"{}\"]\n",
            seed::CONTOSO_ID,
            seed::FABRIKAM_BRISBANE_SITE_ID
        ),
    )
    .unwrap();
    env
}

fn items<'a>(result: &'a Value, list: &str) -> &'a Vec<Value> {
    result[list]
        .as_array()
        .unwrap_or_else(|| panic!("no `{list}` in {result}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_without_the_permission_is_refused_before_policy() {
    let env = scoped_env().await;
    let mut args = run_task_args("e2e csm task");
    args["companyId"] = json!(seed::CONTOSO_ID);
    for approver in [
        &DeferApprovals as &dyn toolhost_host::Approver,
        &approve_as("ops"),
    ] {
        let denied = role_denied(
            env.call_as("cw-rmm-run-task", args.clone(), Some(CSM), approver)
                .await,
        );
        assert!(
            matches!(&denied, RoleDenied::MissingPermission { permission, .. } if permission == "scheduled-task:create"),
            "{denied:?}"
        );
        assert!(denied.to_string().contains("Client Site Manager"));
    }
    // Script tools need the same permission.
    role_denied(
        env.call_as(
            "cw-rmm-script-flush-dns-cache",
            json!({"targets": [seed::DC01_ID], "companyId": seed::CONTOSO_ID}),
            Some(CSM),
            &DeferApprovals,
        )
        .await,
    );
    assert!(env
        .host
        .list_approvals(&Default::default())
        .await
        .unwrap()
        .is_empty());
    assert!(env.writes().is_empty());
    let audit = env.audit().await;
    assert_eq!(audit.len(), 3);
    for r in &audit {
        assert_eq!(r.decision, AuditDecision::RoleDenied);
        assert_eq!(r.outcome, AuditOutcome::Refused);
        assert_eq!(r.role, CSM);
        assert!(r.approval_id.is_none());
        assert!(r.rule.contains("scheduled-task:create"), "{}", r.rule);
    }
    // The same call as the default role (Technician) reaches policy: a pending approval.
    pending_id(env.call("cw-rmm-run-task", run_task_args("e2e tech")).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ai_assist_off_roles_can_use_no_tool() {
    let env = TestEnv::start().await;
    let tools = env.host.tools().await.unwrap();
    let before = env.sim.requests().len();
    for role in ["Sales", "office staff"] {
        for tool in &tools {
            let denied = role_denied(
                env.call_as(&tool.name, json!({}), Some(role), &approve_as("ops"))
                    .await,
            );
            assert!(
                matches!(denied, RoleDenied::AiAssistOff { .. }),
                "{role} {}: {denied:?}",
                tool.name
            );
        }
    }
    assert_eq!(env.sim.requests().len(), before, "a call went upstream");
    // Not even an unknown tool name gets past a role without AI Assist: no rediscovery
    // upstream, and the attempt is audited as role-denied.
    let denied = role_denied(
        env.call_as(
            "cw-rmm-script-no-such-script",
            json!({}),
            Some("Sales"),
            &approve_as("ops"),
        )
        .await,
    );
    assert!(
        matches!(denied, RoleDenied::AiAssistOff { .. }),
        "{denied:?}"
    );
    assert_eq!(env.sim.requests().len(), before, "a call went upstream");
    let audit = env.audit().await;
    assert_eq!(audit.len(), 2 * tools.len() + 1);
    assert!(audit
        .iter()
        .all(|r| r.decision == AuditDecision::RoleDenied && r.outcome == AuditOutcome::Refused));
    assert!(audit.iter().any(|r| r.role == "Office Staff"));
    assert!(env
        .host
        .list_approvals(&Default::default())
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_roles_are_refused_and_named_roles_resolve() {
    let env = TestEnv::start().await;
    let denied = role_denied(
        env.call_as(
            "cw-rmm-list-companies",
            json!({}),
            Some("Admin"),
            &DeferApprovals,
        )
        .await,
    );
    assert!(
        denied.to_string().contains("known roles are Super Admin"),
        "{denied}"
    );
    for role in ["super-admin", "MANAGER", "technician"] {
        env.call_as(
            "cw-rmm-list-companies",
            json!({}),
            Some(role),
            &DeferApprovals,
        )
        .await
        .unwrap_or_else(|e| panic!("{role}: {e}"));
    }
    let roles: Vec<String> = env.audit().await.into_iter().map(|r| r.role).collect();
    assert_eq!(roles, ["Admin", "Super Admin", "Manager", "Technician"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_site_manager_stays_in_its_scope() {
    let env = scoped_env().await;
    let call = |tool: &'static str, args: Value| {
        let env = &env;
        async move {
            env.call_as(tool, args, Some("client-site-manager"), &DeferApprovals)
                .await
        }
    };

    // In scope: allowed, and every item is in scope.
    let contoso = call(
        "cw-rmm-list-devices",
        json!({"companyId": seed::CONTOSO_ID}),
    )
    .await
    .expect("in-scope devices")
    .result;
    let as_tech = env
        .ok(
            "cw-rmm-list-devices",
            json!({"companyId": seed::CONTOSO_ID}),
        )
        .await;
    assert!(!items(&contoso, "devices").is_empty());
    assert_eq!(
        items(&contoso, "devices").len(),
        items(&as_tech, "devices").len()
    );
    assert!(items(&contoso, "devices")
        .iter()
        .all(|d| d["companyId"] == seed::CONTOSO_ID));
    let site = call(
        "cw-rmm-list-devices",
        json!({"siteId": seed::FABRIKAM_BRISBANE_SITE_ID}),
    )
    .await
    .expect("in-scope site")
    .result;
    assert!(!items(&site, "devices").is_empty());
    assert!(items(&site, "devices")
        .iter()
        .all(|d| d["siteId"] == seed::FABRIKAM_BRISBANE_SITE_ID));
    let tickets = call(
        "cw-rmm-list-tickets",
        json!({"companyId": seed::CONTOSO_ID}),
    )
    .await
    .expect("in-scope tickets")
    .result;
    assert!(items(&tickets, "tickets")
        .iter()
        .all(|t| t["companyId"] == seed::CONTOSO_ID));
    let sites = call("cw-rmm-list-sites", json!({"companyId": seed::CONTOSO_ID}))
        .await
        .expect("in-scope sites")
        .result;
    assert!(!items(&sites, "sites").is_empty());
    env.ok("cw-rmm-get-device", json!({"endpointId": seed::DC01_ID}))
        .await;
    let dc01 = call(
        "cw-rmm-get-device",
        json!({"endpointId": seed::DC01_ID, "companyId": seed::CONTOSO_ID}),
    )
    .await
    .expect("an in-scope device")
    .result;
    assert_eq!(dc01["companyId"], seed::CONTOSO_ID);

    // Out of scope: refused before anything goes upstream.
    let before = env.sim.requests().len();
    for args in [
        json!({"companyId": seed::FABRIKAM_ID}),
        json!({"siteId": seed::FABRIKAM_WAREHOUSE_SITE_ID}),
        json!({"companyId": seed::CONTOSO_ID, "siteId": seed::NORTHWIND_PERTH_SITE_ID}),
    ] {
        let denied = role_denied(call("cw-rmm-list-devices", args.clone()).await);
        assert!(
            matches!(denied, RoleDenied::OutOfScope { .. }),
            "{args}: {denied:?}"
        );
    }
    // No scope argument: cannot be proven in scope.
    let denied = role_denied(call("cw-rmm-list-companies", json!({})).await);
    assert!(
        matches!(denied, RoleDenied::NoScopeArgument { .. }),
        "{denied:?}"
    );
    role_denied(
        call(
            "cw-rmm-get-device",
            json!({"endpointId": seed::OFFLINE_DESKTOP_ID}),
        )
        .await,
    );
    assert_eq!(env.sim.requests().len(), before);
    // An in-scope company with an out-of-scope device: never shown.
    let result = call(
        "cw-rmm-get-device",
        json!({"endpointId": seed::OFFLINE_DESKTOP_ID, "companyId": seed::CONTOSO_ID}),
    )
    .await;
    assert!(
        result.is_err(),
        "an out-of-scope device was returned: {result:?}"
    );

    // Writes in scope go through approval under the CSM's role; out of scope, no approval.
    let id = pending_id(call("cw-rmm-create-ticket", ticket_args("e2e csm ticket")).await);
    let approval = env
        .host
        .list_approvals(&Default::default())
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.id == id)
        .unwrap();
    assert_eq!(approval.role, CSM);
    let report = env.host.approve(&id, "ops").await.expect("approving");
    assert_eq!(report.result["companyId"], seed::CONTOSO_ID);
    let mut outside = ticket_args("e2e csm outside");
    outside["companyId"] = json!(seed::NORTHWIND_ID);
    role_denied(call("cw-rmm-create-ticket", outside).await);
    assert_eq!(env.writes().len(), 1);
    assert_eq!(
        env.host
            .list_approvals(&Default::default())
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_toml_changes_apply_at_once_and_a_broken_one_refuses_calls() {
    let env = scoped_env().await;
    let args = json!({"companyId": seed::NORTHWIND_ID});
    role_denied(
        env.call_as(
            "cw-rmm-list-sites",
            args.clone(),
            Some(CSM),
            &DeferApprovals,
        )
        .await,
    );
    std::fs::write(
        &env.host.config().roles_file,
        format!(
            "[roles.\"Client Site Manager\"]\ncompanies = [\"{}\"]\n",
            seed::NORTHWIND_ID
        ),
    )
    .unwrap();
    env.call_as(
        "cw-rmm-list-sites",
        args.clone(),
        Some(CSM),
        &DeferApprovals,
    )
    .await
    .expect("now in scope");
    // Sales given AI Assist and one permission can use exactly that.
    std::fs::write(
        &env.host.config().roles_file,
        "[roles.Sales]\nai_assist = true\npermissions = [\"companies:view\"]\n",
    )
    .unwrap();
    env.call_as(
        "cw-rmm-list-companies",
        json!({}),
        Some("Sales"),
        &DeferApprovals,
    )
    .await
    .expect("Sales may list companies");
    let denied = role_denied(
        env.call_as(
            "cw-rmm-list-devices",
            json!({}),
            Some("Sales"),
            &DeferApprovals,
        )
        .await,
    );
    assert!(
        matches!(denied, RoleDenied::MissingPermission { .. }),
        "{denied:?}"
    );

    std::fs::write(
        &env.host.config().roles_file,
        "[roles.Sales]\nai_assist = \"yes\"\n",
    )
    .unwrap();
    let before = env.sim.requests().len();
    let err = env
        .call_as("cw-rmm-list-companies", json!({}), None, &DeferApprovals)
        .await
        .unwrap_err();
    assert!(matches!(err, HostError::RolesFile(_)), "{err:?}");
    assert!(err.to_string().contains("line 2, column 13"), "{err}");
    assert_eq!(env.sim.requests().len(), before);
}

/// Limited Access is checked on what the API says, not on what the caller says: a device of
/// another company stays hidden even when the call names an in-scope company and site, and a
/// ticket for an in-scope company cannot carry an endpoint of another company.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limited_access_checks_the_apis_ids_and_every_endpoint_of_a_ticket() {
    let env = scoped_env().await;
    let call =
        |tool: &'static str, args: Value| env.call_as(tool, args, Some(CSM), &DeferApprovals);
    let claimed = json!({
        "endpointId": seed::OFFLINE_DESKTOP_ID,
        "companyId": seed::CONTOSO_ID,
        "siteId": seed::CONTOSO_SYDNEY_SITE_ID,
    });
    let result = call("cw-rmm-get-device", claimed).await;
    assert!(
        result.is_err(),
        "a device of another company was shown under the caller's ids: {result:?}"
    );

    let mut ticket = ticket_args("e2e csm foreign endpoint");
    ticket["endpointIds"] = json!([seed::MARIA_LAPTOP_ID, seed::OFFLINE_DESKTOP_ID]);
    // Refused before anyone is asked: the preview checks the endpoints as the call would.
    let err = call("cw-rmm-create-ticket", ticket).await.unwrap_err();
    assert!(env
        .host
        .list_approvals(&Default::default())
        .await
        .unwrap()
        .is_empty());
    let message = err.to_string();
    assert!(
        message.contains("endpointIds[1]") && message.contains(seed::OFFLINE_DESKTOP_ID),
        "{message}"
    );
    assert!(env.writes().is_empty(), "{:?}", env.writes());
}
