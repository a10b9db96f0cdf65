//! [`PgApprovals`] and [`PgAudit`] against a real PostgreSQL server
//! (`TOOLHOST_TEST_DATABASE_URL`): the checks that are the database's own (tenants kept
//! apart, damaged rows refused, the server's clock for expiry). The behaviour both backends
//! share is tested end to end in tests/all/state_store.rs.

use crate::testing::fresh_database;
use crate::{Database, PgApprovals, PgAudit};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use toolhost_governance::{
    ApprovalError, ApprovalFilter, ApprovalStore, AuditDecision, AuditFilter, AuditLog,
    AuditOutcome, AuditRecord,
};

fn approvals(db: &Database, tenant: &str) -> ApprovalStore {
    ApprovalStore::with_backend(Arc::new(PgApprovals::new(db.clone(), tenant)))
}

fn audit(db: &Database, tenant: &str) -> AuditLog {
    AuditLog::with_backend(Arc::new(PgAudit::new(db.clone(), tenant)))
}

fn record(caller: &str) -> AuditRecord {
    AuditRecord {
        time: chrono::Utc::now(),
        tenant: "default".into(),
        caller: caller.into(),
        role: "Technician".into(),
        tool: "connectwise_rmm:cw-rmm-list-devices".into(),
        arguments_sha256: "00".repeat(32),
        arguments_redacted: json!({}),
        decision: AuditDecision::Auto,
        rule: "default auto".into(),
        approval_id: None,
        outcome: AuditOutcome::Ok,
        error: None,
        upstream_status: vec![200],
        instantiate_us: 1,
        execute_us: 2,
    }
}

const TOOL: &str = "connectwise_rmm:cw-rmm-run-task";

#[tokio::test]
async fn one_tenant_never_sees_or_moves_anothers_approvals_or_audit() {
    let Some(db) = fresh_database().await else {
        return;
    };
    let (a, b) = (approvals(&db, "alpha"), approvals(&db, "beta"));
    let held = a
        .create(TOOL, &json!({"x": 1}), "agent", "Technician")
        .await
        .unwrap();
    assert!(matches!(
        b.get(&held.id).await,
        Err(ApprovalError::NotFound(_))
    ));
    assert!(matches!(
        b.claim(&held.id, "ops").await,
        Err(ApprovalError::NotFound(_))
    ));
    assert!(matches!(
        b.deny(&held.id, "ops").await,
        Err(ApprovalError::NotFound(_))
    ));
    assert!(matches!(
        b.resolve(&held.id[..8]).await,
        Err(ApprovalError::NotFound(_))
    ));
    assert!(b.list(&ApprovalFilter::default()).await.unwrap().is_empty());
    // Still pending for its own tenant.
    assert_eq!(
        a.list(&ApprovalFilter::pending()).await.unwrap(),
        vec![held]
    );

    audit(&db, "alpha")
        .append(&record("agent-a"))
        .await
        .unwrap();
    assert!(audit(&db, "beta")
        .read(&AuditFilter::default())
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        audit(&db, "alpha")
            .read(&AuditFilter::default())
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_record_with_altered_arguments_is_refused() {
    let Some(db) = fresh_database().await else {
        return;
    };
    let store = approvals(&db, "default");
    let held = store
        .create(TOOL, &json!({"templateId": "t-1"}), "agent", "Technician")
        .await
        .unwrap();
    db.client()
        .await
        .unwrap()
        .execute(
            "UPDATE approvals SET record = jsonb_set(record, '{arguments}', '\"{\\\"templateId\\\":\\\"t-9\\\"}\"')",
            &[],
        )
        .await
        .unwrap();
    let err = store.claim(&held.id, "ops").await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ApprovalError::Store(_)), "{text}");
    assert!(text.contains("do not match their SHA-256"), "{text}");
}

#[tokio::test]
async fn an_expired_approval_is_refused_by_the_servers_clock_and_can_be_denied() {
    let Some(db) = fresh_database().await else {
        return;
    };
    let store = approvals(&db, "default").with_ttl(Duration::ZERO);
    let held = store
        .create(TOOL, &json!({}), "agent", "Technician")
        .await
        .unwrap();
    let err = store.claim(&held.id, "ops").await.unwrap_err();
    assert!(matches!(err, ApprovalError::Expired { .. }), "{err}");
    let denied = store.deny(&held.id, "ops").await.unwrap();
    assert!(matches!(
        store.claim(&denied.id, "ops").await,
        Err(ApprovalError::Denied { .. })
    ));
}

#[tokio::test]
async fn a_completed_run_keeps_its_result_and_approver_but_lists_without_it() {
    let Some(db) = fresh_database().await else {
        return;
    };
    let store = approvals(&db, "default");
    let held = store
        .create(TOOL, &json!({}), "agent", "Technician")
        .await
        .unwrap();
    assert!(matches!(
        store.complete(&held.id, "ok").await,
        Err(ApprovalError::NotExecuting { .. })
    ));
    store.claim(&held.id, "ops").await.unwrap();
    let done = store
        .complete_with_result(&held.id, "ok", Some(&json!({"taskId": "t-7"})))
        .await
        .unwrap();
    let read = store.get(&held.id).await.unwrap();
    assert_eq!(read, done);
    match &read.state {
        toolhost_governance::ApprovalState::Executed {
            by,
            outcome,
            result,
            ..
        } => {
            assert_eq!((by.as_str(), outcome.as_str()), ("ops", "ok"));
            assert_eq!(result, &Some(json!({"taskId": "t-7"})));
        }
        other => panic!("not executed: {other:?}"),
    }
    assert_eq!(read.digest(), held.digest());
    let listed = store.list(&ApprovalFilter::default()).await.unwrap();
    assert_eq!(listed, vec![read.without_result()]);
    assert!(matches!(
        store.complete(&held.id, "again").await,
        Err(ApprovalError::AlreadyExecuted { .. })
    ));
}

#[tokio::test]
async fn audit_filters_and_limit_read_the_newest_in_order() {
    let Some(db) = fresh_database().await else {
        return;
    };
    let log = audit(&db, "default");
    for i in 0..5 {
        let mut r = record(&format!("agent-{i}"));
        if i % 2 == 1 {
            r.decision = AuditDecision::Never;
            r.outcome = AuditOutcome::Refused;
        }
        log.append(&r).await.unwrap();
    }
    let callers = |records: Vec<AuditRecord>| -> Vec<String> {
        records.into_iter().map(|r| r.caller).collect()
    };
    let last_two = log
        .read(&AuditFilter {
            limit: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(callers(last_two), ["agent-3", "agent-4"]);
    let refused = log
        .read(&AuditFilter {
            outcome: Some(AuditOutcome::Refused),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(callers(refused), ["agent-1", "agent-3"]);
    let later = log
        .read(&AuditFilter {
            since: Some(chrono::Utc::now() + chrono::Duration::seconds(5)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(later.is_empty());
}
