use super::*;
use crate::approvals::ApprovalStatus;
use crate::approvals::{ApprovalStore, DEFAULT_TTL, MAX_KEPT_RESULT};
use serde_json::json;
use std::sync::{Arc, Barrier};
use std::time::Duration;

/// A store over the files of a fresh directory, and that directory.
fn store() -> (tempfile::TempDir, ApprovalStore, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let approvals = dir.path().join("approvals");
    let store = ApprovalStore::open(&approvals).unwrap();
    (dir, store, approvals)
}

/// Runs `future` on a runtime of its own: each racing thread stands for a separate process.
fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

const TOOL: &str = "connectwise_rmm:cw-rmm-run-task";

fn args() -> Value {
    json!({"templateId": "t-1", "targets": ["e1", "e2"], "parameters": {"b": 2, "a": "x"}})
}

#[tokio::test]
async fn create_records_exact_arguments_and_get_reads_them_back() {
    let (_d, s, dir) = store();
    let a = s
        .create(TOOL, &args(), "agent", "Technician")
        .await
        .unwrap();
    assert_eq!(a.state, ApprovalState::Pending);
    assert_eq!(a.arguments_value().unwrap(), args());
    assert_eq!(a.arguments_sha256, sha256_hex(&a.arguments));
    assert_eq!((a.expires_at - a.created_at).to_std().unwrap(), DEFAULT_TTL);
    assert_eq!(s.get(&a.id).await.unwrap(), a);
    assert!(dir
        .as_path()
        .join(format!("{}.pending.json", a.id))
        .exists());
}

#[tokio::test]
async fn a_previewed_approval_keeps_its_preview_through_every_state() {
    let (_d, s, dir) = store();
    let preview = super::super::Preview::sanitized(
        "Run \"Disk Cleanup\" on PC (Contoso)",
        [("target".to_string(), "PC, company Contoso".to_string())],
    );
    let a = s
        .create_previewed(
            TOOL,
            Some("d1"),
            Some(preview.clone()),
            &args(),
            "agent",
            "Technician",
        )
        .await
        .unwrap();
    assert_eq!(s.get(&a.id).await.unwrap().preview.as_ref(), Some(&preview));
    let text =
        std::fs::read_to_string(dir.as_path().join(format!("{}.pending.json", a.id))).unwrap();
    let on_disk: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        on_disk["preview"]["facts"][0]["value"],
        "PC, company Contoso"
    );
    s.claim(&a.id, "ops").await.unwrap();
    let done = s.complete(&a.id, "ok").await.unwrap();
    assert_eq!(done.preview, Some(preview));
    // Approvals without a preview write no `preview` key.
    let plain = s
        .create(TOOL, &args(), "agent", "Technician")
        .await
        .unwrap();
    let text =
        std::fs::read_to_string(dir.as_path().join(format!("{}.pending.json", plain.id))).unwrap();
    assert!(!text.contains("preview"), "{text}");
}

#[tokio::test]
async fn claim_runs_once_then_completes() {
    let (_d, s, _dir) = store();
    let a = s
        .create(TOOL, &args(), "agent", "Technician")
        .await
        .unwrap();
    let claimed = s.claim(&a.id, "ops").await.unwrap();
    assert!(matches!(claimed.state, ApprovalState::Executing { ref by, .. } if by == "ops"));
    assert_eq!(claimed.arguments, a.arguments);
    assert!(matches!(
        s.claim(&a.id, "ops2").await,
        Err(ApprovalError::AlreadyExecuting { .. })
    ));
    assert!(matches!(
        s.deny(&a.id, "x").await,
        Err(ApprovalError::AlreadyExecuting { .. })
    ));
    let done = s.complete(&a.id, "ok").await.unwrap();
    assert!(
        matches!(done.state, ApprovalState::Executed { ref by, ref outcome, .. } if by == "ops" && outcome == "ok")
    );
    assert!(matches!(
        s.claim(&a.id, "ops").await,
        Err(ApprovalError::AlreadyExecuted { .. })
    ));
    assert!(matches!(
        s.complete(&a.id, "again").await,
        Err(ApprovalError::AlreadyExecuted { .. })
    ));
}

#[tokio::test]
async fn denied_and_expired_approvals_cannot_run() {
    let (_d, s, _dir) = store();
    let a = s
        .create(TOOL, &args(), "agent", "Technician")
        .await
        .unwrap();
    let denied = s.deny(&a.id, "ops").await.unwrap();
    assert!(matches!(denied.state, ApprovalState::Denied { .. }));
    let err = s.claim(&a.id, "ops").await.unwrap_err();
    assert!(matches!(err, ApprovalError::Denied { .. }), "{err}");
    assert!(matches!(
        s.deny(&a.id, "ops").await,
        Err(ApprovalError::Denied { .. })
    ));

    let s = s.with_ttl(Duration::ZERO);
    let b = s
        .create(TOOL, &args(), "agent", "Technician")
        .await
        .unwrap();
    let err = s.claim(&b.id, "ops").await.unwrap_err();
    assert!(matches!(err, ApprovalError::Expired { .. }), "{err}");
    assert!(err.to_string().contains("expired"));
    // Still pending on disk (shown as expired), and it can still be denied.
    assert_eq!(
        s.get(&b.id).await.unwrap().status(Utc::now()),
        ApprovalStatus::Expired
    );
    assert!(s.deny(&b.id, "ops").await.is_ok());
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_refused() {
    let (_d, s, _dir) = store();
    let missing = uuid::Uuid::new_v4().to_string();
    assert!(matches!(
        s.claim(&missing, "ops").await,
        Err(ApprovalError::NotFound(_))
    ));
    assert!(matches!(
        s.get("../../etc/passwd").await,
        Err(ApprovalError::InvalidId(_))
    ));
    assert!(matches!(
        s.claim("", "ops").await,
        Err(ApprovalError::InvalidId(_))
    ));
    assert!(matches!(
        s.complete(&missing, "ok").await,
        Err(ApprovalError::NotExecuting { .. })
    ));
}

#[test]
fn exactly_one_of_eight_racing_claims_wins() {
    let (_d, s, dir) = store();
    for _ in 0..5 {
        let a = block_on(s.create(TOOL, &args(), "agent", "Technician")).unwrap();
        let barrier = Arc::new(Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|i| {
                // A separate store per thread, as separate processes would have.
                let store = ApprovalStore::open(&dir).unwrap();
                let (id, barrier) = (a.id.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    block_on(store.claim(&id, &format!("op{i}"))).map(|_| ())
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let wins = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "{results:?}");
        for r in results.iter().filter_map(|r| r.as_ref().err()) {
            assert!(matches!(r, ApprovalError::AlreadyExecuting { .. }), "{r}");
        }
    }
}

#[test]
fn a_claim_and_a_denial_cannot_both_win() {
    let (_d, s, _dir) = store();
    for _ in 0..10 {
        let a = block_on(s.create(TOOL, &args(), "agent", "Technician")).unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let (s1, s2) = (s.clone(), s.clone());
        let (id1, id2) = (a.id.clone(), a.id.clone());
        let (b1, b2) = (barrier.clone(), barrier);
        let claim = std::thread::spawn(move || {
            b1.wait();
            block_on(s1.claim(&id1, "ops")).is_ok()
        });
        let deny = std::thread::spawn(move || {
            b2.wait();
            block_on(s2.deny(&id2, "boss")).is_ok()
        });
        let (claimed, denied) = (claim.join().unwrap(), deny.join().unwrap());
        assert!(claimed ^ denied, "claimed {claimed}, denied {denied}");
    }
}

#[tokio::test]
async fn survives_a_restart_and_lists_with_filters() {
    let (_d, s, dir) = store();
    let a = s
        .create(TOOL, &args(), "agent", "Technician")
        .await
        .unwrap();
    let b = s
        .create(
            "connectwise_rmm:cw-rmm-create-ticket",
            &json!({}),
            "agent",
            "Manager",
        )
        .await
        .unwrap();
    let c = s
        .create(TOOL, &json!({"templateId": "t-2"}), "agent", "Technician")
        .await
        .unwrap();
    s.deny(&b.id, "ops").await.unwrap();
    s.claim(&c.id, "ops").await.unwrap();

    let fresh = ApprovalStore::open(&dir).unwrap();
    let all = fresh.list(&ApprovalFilter::default()).await.unwrap();
    assert_eq!(all.len(), 3);
    let pending = fresh.list(&ApprovalFilter::pending()).await.unwrap();
    assert_eq!(pending, vec![a.clone()]);
    let tickets = fresh
        .list(&ApprovalFilter {
            status: None,
            tool_contains: Some("ticket".into()),
        })
        .await
        .unwrap();
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0].status(Utc::now()), ApprovalStatus::Denied);
    assert!(fresh.claim(&a.id, "ops").await.is_ok());
    assert!(fresh.claim(&c.id, "ops").await.is_err());
}

#[tokio::test]
async fn resolves_unique_prefixes() {
    let (_d, s, _dir) = store();
    let a = s
        .create(TOOL, &args(), "agent", "Technician")
        .await
        .unwrap();
    assert_eq!(s.resolve(&a.id[..8]).await.unwrap(), a.id);
    assert_eq!(s.resolve(&a.id.to_uppercase()).await.unwrap(), a.id);
    assert!(matches!(
        s.resolve("abc").await,
        Err(ApprovalError::InvalidId(_))
    ));
    assert!(matches!(
        s.resolve("../x").await,
        Err(ApprovalError::InvalidId(_))
    ));
}

#[tokio::test]
async fn tampered_arguments_are_refused() {
    let (_d, s, dir) = store();
    let a = s
        .create(TOOL, &args(), "agent", "Technician")
        .await
        .unwrap();
    let path = dir.as_path().join(format!("{}.pending.json", a.id));
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("t-1", "t-9");
    std::fs::write(&path, text).unwrap();
    let err = s.claim(&a.id, "ops").await.unwrap_err();
    assert!(matches!(err, ApprovalError::Corrupt { .. }), "{err}");
}

#[tokio::test]
async fn an_interrupted_claim_still_counts_as_claimed() {
    let (_d, s, dir) = store();
    let a = s
        .create(TOOL, &args(), "agent", "Technician")
        .await
        .unwrap();
    // A process that renamed the file and died before rewriting it.
    std::fs::rename(
        dir.as_path().join(format!("{}.pending.json", a.id)),
        dir.as_path().join(format!("{}.claimed.json", a.id)),
    )
    .unwrap();
    assert!(matches!(
        s.claim(&a.id, "ops").await,
        Err(ApprovalError::AlreadyExecuting { .. })
    ));
    assert_eq!(
        s.get(&a.id).await.unwrap().status(Utc::now()),
        ApprovalStatus::Executing
    );
}

#[cfg(unix)]
#[tokio::test]
async fn files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let (_d, s, dir) = store();
    let a = s
        .create(TOOL, &args(), "agent", "Technician")
        .await
        .unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(dir.as_path()), 0o700);
    assert_eq!(
        mode(&dir.as_path().join(format!("{}.pending.json", a.id))),
        0o600
    );
    s.claim(&a.id, "ops").await.unwrap();
    assert_eq!(
        mode(&dir.as_path().join(format!("{}.claimed.json", a.id))),
        0o600
    );
}

#[tokio::test]
async fn a_run_result_is_kept_for_the_requester_but_never_listed() {
    let (_d, s, dir) = store();
    let kept = s
        .create(TOOL, &args(), "agent", "Technician")
        .await
        .unwrap();
    let large = s
        .create(TOOL, &args(), "agent", "Technician")
        .await
        .unwrap();
    let result = json!({"taskId": "task-7"});
    s.claim(&kept.id, "ops").await.unwrap();
    s.complete_with_result(&kept.id, "ok", Some(&result))
        .await
        .unwrap();
    let executed = |a: &Approval| match &a.state {
        ApprovalState::Executed { result, .. } => result.clone(),
        other => panic!("not executed: {other:?}"),
    };
    assert_eq!(executed(&s.get(&kept.id).await.unwrap()), Some(result));
    // Larger than the bound: the run is recorded, its result is not.
    s.claim(&large.id, "ops").await.unwrap();
    let huge = json!({"text": "x".repeat(MAX_KEPT_RESULT)});
    let done = s
        .complete_with_result(&large.id, "ok", Some(&huge))
        .await
        .unwrap();
    assert_eq!(executed(&done), None);
    assert_eq!(executed(&s.get(&large.id).await.unwrap()), None);
    // The list is the operator's: no results in it.
    let listed = s.list(&ApprovalFilter::default()).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|a| executed(a).is_none()), "{listed:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let file = dir.as_path().join(format!("{}.claimed.json", kept.id));
        let mode = std::fs::metadata(file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
