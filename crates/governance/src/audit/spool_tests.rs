use super::*;
use crate::audit::record::{AuditDecision, AuditOutcome};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A primary that can be taken down and brought back, keeping each id once (as the database
/// does with its unique index), and remembering every id it was sent.
#[derive(Clone, Default)]
struct Primary(Arc<PrimaryState>);

#[derive(Default)]
struct PrimaryState {
    down: AtomicBool,
    kept: Mutex<Vec<KeyedAuditRecord>>,
    sent: Mutex<Vec<Uuid>>,
}

impl Primary {
    fn set_down(&self, down: bool) {
        self.0.down.store(down, Ordering::SeqCst);
    }

    fn callers(&self) -> Vec<String> {
        let kept = self.0.kept.lock().unwrap();
        kept.iter().map(|k| k.record.caller.clone()).collect()
    }
}

#[async_trait::async_trait]
impl AuditBackend for Primary {
    fn location(&self) -> String {
        "test database".into()
    }

    async fn append(&self, record: &AuditRecord) -> Result<(), AuditError> {
        let entry = KeyedAuditRecord {
            id: Uuid::new_v4(),
            record: record.clone(),
        };
        self.append_once(&[entry]).await
    }

    async fn read(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, AuditError> {
        if self.0.down.load(Ordering::SeqCst) {
            return Err(AuditError::Store("test database unreachable".into()));
        }
        let kept = self.0.kept.lock().unwrap();
        Ok(kept
            .iter()
            .map(|k| k.record.clone())
            .filter(|r| filter.matches(r))
            .collect())
    }
}

#[async_trait::async_trait]
impl IdempotentAuditBackend for Primary {
    async fn append_once(&self, records: &[KeyedAuditRecord]) -> Result<(), AuditError> {
        tokio::task::yield_now().await;
        if self.0.down.load(Ordering::SeqCst) {
            return Err(AuditError::Store("test database unreachable".into()));
        }
        self.0
            .sent
            .lock()
            .unwrap()
            .extend(records.iter().map(|r| r.id));
        let mut kept = self.0.kept.lock().unwrap();
        for r in records {
            if !kept.iter().any(|k| k.id == r.id) {
                kept.push(r.clone());
            }
        }
        Ok(())
    }
}

fn record(caller: &str) -> AuditRecord {
    AuditRecord {
        time: chrono::Utc::now(),
        tenant: "default".into(),
        caller: caller.into(),
        role: "Technician".into(),
        tool: "connectwise_rmm:cw-rmm-list-devices".into(),
        arguments_sha256: "00".repeat(32),
        arguments_redacted: json!({"companyId": "c1"}),
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

fn spooled_lines(path: &Path) -> usize {
    std::fs::read_to_string(path).unwrap().lines().count()
}

#[tokio::test]
async fn a_refused_record_waits_in_the_spool_and_reaches_the_primary_first_when_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let primary = Primary::default();
    let spool = dir.path().join("audit-spool.jsonl");
    let log = SpooledAudit::open(primary.clone(), &spool).unwrap();
    log.append(&record("a")).await.unwrap();
    assert_eq!(spooled_lines(&spool), 0);

    primary.set_down(true);
    log.append(&record("b")).await.expect("kept in the spool");
    log.append(&record("c")).await.expect("kept in the spool");
    assert_eq!(primary.callers(), ["a"]);
    assert_eq!(spooled_lines(&spool), 2);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&spool).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // Reading now would show a log without b and c: refused, naming the spool and the cause.
    let err = log.read(&AuditFilter::default()).await.unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, AuditError::Spooled { pending: 2, .. }),
        "{text}"
    );
    assert!(
        text.contains("audit-spool.jsonl") && text.contains("unreachable"),
        "{text}"
    );
    assert!(!text.contains("c1"), "a record's content leaked: {text}");

    primary.set_down(false);
    log.append(&record("d")).await.unwrap();
    assert_eq!(primary.callers(), ["a", "b", "c", "d"], "in order");
    assert_eq!(spooled_lines(&spool), 0, "emptied once sent");
    let read: Vec<String> = log
        .read(&AuditFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.caller)
        .collect();
    assert_eq!(read, ["a", "b", "c", "d"]);
}

#[tokio::test]
async fn a_read_sends_the_spool_once_the_primary_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let primary = Primary::default();
    let spool = dir.path().join("spool.jsonl");
    let log = SpooledAudit::open(primary.clone(), &spool).unwrap();
    primary.set_down(true);
    log.append(&record("a")).await.unwrap();
    primary.set_down(false);
    let read = log.read(&AuditFilter::default()).await.unwrap();
    assert_eq!(read, vec![record_like(&read, "a")]);
    assert_eq!(spooled_lines(&spool), 0);
}

fn record_like(read: &[AuditRecord], caller: &str) -> AuditRecord {
    read.iter().find(|r| r.caller == caller).cloned().unwrap()
}

#[tokio::test]
async fn a_crash_between_sending_and_emptying_the_spool_keeps_each_record_once() {
    let dir = tempfile::tempdir().unwrap();
    let primary = Primary::default();
    let spool = dir.path().join("spool.jsonl");
    let log = SpooledAudit::open(primary.clone(), &spool).unwrap();
    primary.set_down(true);
    log.append(&record("a")).await.unwrap();
    log.append(&record("b")).await.unwrap();
    let before_flush = std::fs::read(&spool).unwrap();
    primary.set_down(false);
    log.append(&record("c")).await.unwrap();
    assert_eq!(primary.callers(), ["a", "b", "c"]);
    drop(log);

    // The process died after the primary kept a and b but before the spool was emptied.
    std::fs::write(&spool, &before_flush).unwrap();
    let restarted = SpooledAudit::open(primary.clone(), &spool).unwrap();
    restarted.append(&record("d")).await.unwrap();
    assert_eq!(primary.callers(), ["a", "b", "c", "d"], "none twice");
    assert_eq!(spooled_lines(&spool), 0);
    // a and b were sent again, under the ids they had: that is what the primary skipped.
    let sent = primary.0.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 6, "{sent:?}");
    assert_eq!(sent[0], sent[3]);
    assert_eq!(sent[1], sent[4]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_while_the_primary_is_down_are_all_kept_once() {
    let dir = tempfile::tempdir().unwrap();
    let primary = Primary::default();
    let spool = dir.path().join("spool.jsonl");
    let log = Arc::new(SpooledAudit::open(primary.clone(), &spool).unwrap());
    primary.set_down(true);
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let log = log.clone();
            tokio::spawn(async move { log.append(&record(&format!("r{i:02}"))).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().expect("kept in the spool");
    }
    assert_eq!(spooled_lines(&spool), 32);
    primary.set_down(false);
    log.append(&record("last")).await.unwrap();
    let mut callers = primary.callers();
    assert_eq!(callers.len(), 33);
    assert_eq!(callers.pop().unwrap(), "last");
    callers.sort();
    callers.dedup();
    assert_eq!(callers.len(), 32, "each once");
}
