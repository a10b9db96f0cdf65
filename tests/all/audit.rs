//! The audit log end to end: every attempt, whatever its fate, leaves one record with who,
//! which role, which tool, the arguments' digest and redacted arguments, the decision and
//! its rule, the approval id, the outcome, upstream statuses and durations; secrets never
//! appear in it.

use e2e::*;
use simulator::{Simulator, DEMO_CLIENT_SECRET};
use toolhost_governance::{arguments_sha256, AuditDecision, AuditFilter, AuditOutcome, REDACTED};
use toolhost_host::{DeferApprovals, HostError};

const NS: &str = "connectwise_rmm:";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_attempt_is_recorded_with_its_decision_and_outcome() {
    let env = TestEnv::start().await;
    let started = chrono::Utc::now();
    let company = json!({"companyId": seed::CONTOSO_ID});
    let missing = json!({"companyId": "00000000-0000-4000-8000-000000000000"});
    let pending_args = run_task_args("e2e audit pending");
    let denied_args = run_task_args("e2e audit denied");
    let asked_args = ticket_args("e2e audit asked");

    env.ok("cw-rmm-get-company", company.clone()).await;
    assert!(env
        .call("cw-rmm-get-company", missing.clone())
        .await
        .is_err());
    assert!(env.call("cw-rmm-get-device", json!({})).await.is_err());
    assert!(env.call("cw-rmm-no-such-tool", json!({})).await.is_err());
    let pending = pending_id(env.call("cw-rmm-run-task", pending_args.clone()).await);
    let to_deny = pending_id(env.call("cw-rmm-run-task", denied_args.clone()).await);
    env.call_as(
        "cw-rmm-create-ticket",
        asked_args.clone(),
        None,
        &approve_as("boss"),
    )
    .await
    .unwrap();
    env.call_as(
        "cw-rmm-create-ticket",
        asked_args.clone(),
        None,
        &deny_as("boss"),
    )
    .await
    .unwrap_err();
    env.host.approve(&pending, "ops").await.unwrap();
    env.host.deny(&to_deny, "ops").await.unwrap();
    env.call_as(
        "cw-rmm-list-companies",
        json!({}),
        Some("Sales"),
        &DeferApprovals,
    )
    .await
    .unwrap_err();
    env.host
        .set_policy(
            &format!("{NS}cw-rmm-list-sites"),
            toolhost_governance::Mode::Never,
        )
        .await
        .unwrap();
    env.call("cw-rmm-list-sites", json!({})).await.unwrap_err();

    let audit = env.audit().await;
    let summary: Vec<(&str, AuditDecision, AuditOutcome)> = audit
        .iter()
        .map(|r| (r.tool.as_str(), r.decision, r.outcome))
        .collect();
    use AuditDecision as D;
    use AuditOutcome as O;
    assert_eq!(
        summary,
        [
            ("connectwise_rmm:cw-rmm-get-company", D::Auto, O::Ok),
            ("connectwise_rmm:cw-rmm-get-company", D::Auto, O::Error),
            ("connectwise_rmm:cw-rmm-get-device", D::Invalid, O::Refused),
            ("cw-rmm-no-such-tool", D::Invalid, O::Refused),
            (
                "connectwise_rmm:cw-rmm-run-task",
                D::Approval,
                O::PendingApproval
            ),
            (
                "connectwise_rmm:cw-rmm-run-task",
                D::Approval,
                O::PendingApproval
            ),
            ("connectwise_rmm:cw-rmm-create-ticket", D::Approved, O::Ok),
            (
                "connectwise_rmm:cw-rmm-create-ticket",
                D::Approval,
                O::Denied
            ),
            ("connectwise_rmm:cw-rmm-run-task", D::Approved, O::Ok),
            ("connectwise_rmm:cw-rmm-run-task", D::Approval, O::Denied),
            (
                "connectwise_rmm:cw-rmm-list-companies",
                D::RoleDenied,
                O::Refused
            ),
            ("connectwise_rmm:cw-rmm-list-sites", D::Never, O::Refused),
        ]
    );
    let digests = [
        &company,
        &missing,
        &json!({}),
        &json!({}),
        &pending_args,
        &denied_args,
        &asked_args,
        &asked_args,
        &pending_args,
        &denied_args,
        &json!({}),
        &json!({}),
    ];
    for (r, args) in audit.iter().zip(digests) {
        assert_eq!(r.arguments_sha256, arguments_sha256(args), "{r:?}");
        assert_eq!(&r.arguments_redacted, args, "nothing secret to redact here");
        assert!(r.time >= started && r.time <= chrono::Utc::now());
        assert_eq!(r.caller, "e2e");
        assert!(!r.rule.is_empty(), "{r:?}");
    }
    assert!(audit.windows(2).all(|w| w[0].time <= w[1].time));
    let roles: Vec<&str> = audit.iter().map(|r| r.role.as_str()).collect();
    assert_eq!(roles.iter().filter(|r| **r == "Sales").count(), 1);
    assert!(roles
        .iter()
        .filter(|r| **r != "Sales")
        .all(|r| *r == "Technician"));

    // Runs carry upstream statuses and durations; refusals none.
    assert_eq!(audit[0].upstream_status.last(), Some(&200));
    assert!(audit[0].execute_us > 0 && audit[0].instantiate_us > 0);
    assert_eq!(
        audit[1].upstream_status.last(),
        Some(&404),
        "{:?}",
        audit[1]
    );
    assert!(audit[1].error.is_some());
    for r in [&audit[2], &audit[3], &audit[4], &audit[10], &audit[11]] {
        assert!(r.upstream_status.is_empty() && r.execute_us == 0, "{r:?}");
    }
    assert!(audit[2].error.as_deref().unwrap().contains("endpointId"));
    // Approval ids tie the pending record, the run and the denial together.
    assert_eq!(audit[4].approval_id.as_deref(), Some(pending.as_str()));
    assert_eq!(audit[8].approval_id.as_deref(), Some(pending.as_str()));
    assert!(
        audit[8].rule.contains("approved by ops"),
        "{}",
        audit[8].rule
    );
    assert!(audit[8]
        .upstream_status
        .iter()
        .all(|s| (200..300).contains(s)));
    assert_eq!(audit[9].approval_id.as_deref(), Some(to_deny.as_str()));
    assert!(audit[9].rule.contains("denied by ops"));
    assert!(audit[6].approval_id.is_none());
    assert!(
        audit[11].rule.contains("policy.toml line"),
        "{}",
        audit[11].rule
    );

    // Filters.
    let filter = |f: AuditFilter| {
        let host = &env.host;
        async move { host.audit_records(&f).await.unwrap().len() }
    };
    assert_eq!(
        filter(AuditFilter {
            tool: Some("run-task".into()),
            ..Default::default()
        })
        .await,
        4
    );
    assert_eq!(
        filter(AuditFilter {
            decision: Some(D::Approved),
            ..Default::default()
        })
        .await,
        2
    );
    assert_eq!(
        filter(AuditFilter {
            outcome: Some(O::Refused),
            ..Default::default()
        })
        .await,
        4
    );
    assert_eq!(
        filter(AuditFilter {
            since: Some(chrono::Utc::now() + chrono::Duration::seconds(5)),
            ..Default::default()
        })
        .await,
        0
    );
    let last = env
        .host
        .audit_records(&AuditFilter {
            limit: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(last, audit[10..].to_vec());
    // A restarted host reads the same log.
    let restarted = env.reopen().await;
    assert_eq!(
        restarted
            .audit_records(&AuditFilter::default())
            .await
            .unwrap(),
        audit
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_appear_in_the_audit_log() {
    let env = TestEnv::start().await;
    let mut ticket = ticket_args("e2e secret ticket");
    ticket["description"] = json!(format!("the key is {DEMO_CLIENT_SECRET}, keep it safe"));
    // Interactive approval, pending approval then approved, and a refusal.
    env.call_as(
        "cw-rmm-create-ticket",
        ticket.clone(),
        None,
        &approve_as("ops"),
    )
    .await
    .unwrap();
    let id = pending_id(env.call("cw-rmm-create-ticket", ticket.clone()).await);
    env.host.approve(&id, "ops").await.unwrap();
    // Secret-looking keys, even where the schema refuses them.
    let err = env
        .call(
            "cw-rmm-list-companies",
            json!({"password": "hunter2-e2e", "apiKey": "k-e2e-123", "nameContains": DEMO_CLIENT_SECRET}),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, HostError::InvalidArguments { .. }), "{err:?}");
    env.call(
        "cw-rmm-list-companies",
        json!({"nameContains": format!("Bearer {DEMO_CLIENT_SECRET}")}),
    )
    .await
    .unwrap();

    let raw = std::fs::read_to_string(&env.host.config().audit_log).unwrap();
    for secret in [DEMO_CLIENT_SECRET, "hunter2-e2e", "k-e2e-123"] {
        assert!(
            !raw.contains(secret),
            "`{secret}` is in the audit log:\n{raw}"
        );
    }
    let audit = env.audit().await;
    assert_eq!(audit.len(), 5);
    for r in &audit[..3] {
        let description = r.arguments_redacted["description"].as_str().unwrap();
        assert!(description.contains("keep it safe"), "{description}");
        assert!(!description.contains(DEMO_CLIENT_SECRET));
        // The digest is of the exact arguments, so the run can be matched to its request.
        assert_eq!(r.arguments_sha256, arguments_sha256(&ticket));
    }
    assert_eq!(audit[3].arguments_redacted["password"], REDACTED);
    assert_eq!(audit[3].arguments_redacted["apiKey"], REDACTED);
    // The secret reached the ticket itself: only the log is scrubbed.
    assert_eq!(env.writes().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_audit_filters_and_json() {
    let sim = Simulator::start(sim_config()).await.unwrap();
    let cli = Cli::new().await;
    let out = cli.connect(DEMO_CLIENT_SECRET, &sim.base_url(), &[]).await;
    assert!(out.success(), "{}", out.all());
    let companies = cli.run(&["call", "cw-rmm-list-companies"], &[]).await;
    assert!(companies.success(), "{}", companies.all());
    let sales = cli
        .run(&["call", "cw-rmm-list-companies", "--as", "sales"], &[])
        .await;
    assert_eq!(sales.code, Some(2), "{}", sales.all());
    assert!(sales.stderr.contains("AI Assist off"), "{}", sales.stderr);
    let task = run_task_args("e2e cli audit").to_string();
    let pending = cli
        .run(&["call", "cw-rmm-run-task", "--args", &task], &[])
        .await;
    assert_eq!(pending.code, Some(2), "{}", pending.all());

    let all = cli.run(&["audit", "--json"], &[]).await;
    assert!(all.success(), "{}", all.all());
    let records = all.json();
    let records = records.as_array().unwrap();
    assert_eq!(records.len(), 3, "{}", all.stdout);
    assert_eq!(records[0]["decision"], "auto");
    assert_eq!(records[0]["outcome"], "ok");
    assert_eq!(records[1]["decision"], "role-denied");
    assert_eq!(records[1]["role"], "Sales");
    assert_eq!(records[2]["outcome"], "pending-approval");
    assert!(records[2]["approvalId"].is_string());
    for r in records {
        for field in [
            "time",
            "caller",
            "role",
            "tool",
            "argumentsSha256",
            "argumentsRedacted",
            "decision",
            "rule",
            "outcome",
        ] {
            assert!(!r[field].is_null(), "{field} missing in {r}");
        }
    }
    let denied = cli
        .run(&["audit", "--decision", "role-denied", "--json"], &[])
        .await;
    assert_eq!(denied.json().as_array().unwrap().len(), 1);
    let table = cli.run(&["audit", "--tool", "run-task"], &[]).await;
    assert!(table.success(), "{}", table.all());
    assert!(
        table.stdout.contains("pending-approval"),
        "{}",
        table.stdout
    );
    assert!(!table.stdout.contains("list-companies"), "{}", table.stdout);
    let limited = cli.run(&["audit", "--limit", "1", "--json"], &[]).await;
    assert_eq!(limited.json().as_array().unwrap().len(), 1);
    let bad = cli.run(&["audit", "--decision", "allow"], &[]).await;
    assert!(!bad.success());
    assert!(bad.stderr.contains("role-denied"), "{}", bad.stderr);
}
