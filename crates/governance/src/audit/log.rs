//! [`AuditLog`]: what the rest of the code appends to and reads back, over whichever
//! [`AuditBackend`] keeps the records (the JSON Lines file of [`super::jsonl`], or a database
//! that replicas share).

use super::backend::{AuditBackend, AuditError, AuditFilter};
use super::jsonl::JsonlAudit;
use super::record::AuditRecord;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// The audit log. Cheap to clone: clones share one backend.
#[derive(Clone)]
pub struct AuditLog {
    backend: Arc<dyn AuditBackend>,
}

impl fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditLog")
            .field("location", &self.backend.location())
            .finish()
    }
}

impl AuditLog {
    /// The embedded log: opens (creating) the JSON Lines file at `path` (see
    /// [`JsonlAudit::open`]).
    pub fn open(path: impl Into<PathBuf>) -> Result<AuditLog, AuditError> {
        Ok(AuditLog::with_backend(Arc::new(JsonlAudit::open(path)?)))
    }

    /// A log over `backend` (a database shared by replicas, say).
    pub fn with_backend(backend: Arc<dyn AuditBackend>) -> AuditLog {
        AuditLog { backend }
    }

    /// Where the records live, for messages.
    pub fn location(&self) -> String {
        self.backend.location()
    }

    /// Appends one record.
    pub async fn append(&self, record: &AuditRecord) -> Result<(), AuditError> {
        self.backend.append(record).await
    }

    /// The records `filter` selects, oldest first.
    pub async fn read(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, AuditError> {
        self.backend.read(filter).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::jsonl::read_file;
    use crate::audit::record::{AuditDecision, AuditOutcome};
    use chrono::Utc;
    use serde_json::json;

    fn record(tool: &str, decision: AuditDecision, outcome: AuditOutcome) -> AuditRecord {
        AuditRecord {
            time: Utc::now(),
            tenant: "default".into(),
            caller: "agent".into(),
            role: "Technician".into(),
            tool: format!("connectwise_rmm:{tool}"),
            arguments_sha256: "00".repeat(32),
            arguments_redacted: json!({"companyId": "c1"}),
            decision,
            rule: "default auto (plugin hint `auto`)".into(),
            approval_id: None,
            outcome,
            error: None,
            upstream_status: vec![200],
            instantiate_us: 1200,
            execute_us: 3400,
        }
    }

    #[tokio::test]
    async fn appends_lines_and_reads_them_back_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        let a = record("cw-rmm-list-devices", AuditDecision::Auto, AuditOutcome::Ok);
        let b = record(
            "cw-rmm-run-task",
            AuditDecision::Approval,
            AuditOutcome::PendingApproval,
        );
        log.append(&a).await.unwrap();
        log.append(&b).await.unwrap();
        drop(log);
        let log = AuditLog::open(&path).unwrap();
        let c = record(
            "cw-rmm-run-task",
            AuditDecision::Never,
            AuditOutcome::Refused,
        );
        log.append(&c).await.unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.lines().all(|l| l.starts_with('{') && l.ends_with('}')));
        assert_eq!(
            log.read(&AuditFilter::default()).await.unwrap(),
            vec![a, b, c]
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[tokio::test]
    async fn filters_by_tool_decision_outcome_since_and_limit() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(dir.path().join("audit.jsonl")).unwrap();
        let mut old = record("cw-rmm-list-devices", AuditDecision::Auto, AuditOutcome::Ok);
        old.time = Utc::now() - chrono::Duration::hours(2);
        log.append(&old).await.unwrap();
        for i in 0..5 {
            let mut r = record(
                "cw-rmm-run-task",
                AuditDecision::Approval,
                AuditOutcome::PendingApproval,
            );
            r.approval_id = Some(format!("a{i}"));
            log.append(&r).await.unwrap();
        }
        log.append(&record(
            "cw-rmm-get-device",
            AuditDecision::RoleDenied,
            AuditOutcome::Refused,
        ))
        .await
        .unwrap();
        let all = log.read(&AuditFilter::default()).await.unwrap();
        // The filter as a database backend applies it too: the same selection of the same log.
        let read = |f: AuditFilter| {
            let mut got: Vec<AuditRecord> = all.iter().filter(|r| f.matches(r)).cloned().collect();
            let skip = got.len().saturating_sub(f.limit.unwrap_or(usize::MAX));
            got.drain(..skip);
            got
        };
        assert_eq!(
            read(AuditFilter {
                tool: Some("run-task".into()),
                ..Default::default()
            })
            .len(),
            5
        );
        assert_eq!(
            read(AuditFilter {
                decision: Some(AuditDecision::RoleDenied),
                ..Default::default()
            })
            .len(),
            1
        );
        assert_eq!(
            read(AuditFilter {
                outcome: Some(AuditOutcome::Ok),
                ..Default::default()
            }),
            vec![old]
        );
        let since = Utc::now() - chrono::Duration::hours(1);
        assert_eq!(
            read(AuditFilter {
                since: Some(since),
                ..Default::default()
            })
            .len(),
            6
        );
        let last = read(AuditFilter {
            tool: Some("run-task".into()),
            limit: Some(2),
            ..Default::default()
        });
        let ids: Vec<_> = last
            .iter()
            .map(|r| r.approval_id.clone().unwrap())
            .collect();
        assert_eq!(ids, ["a3", "a4"]);
        let through_the_log = log
            .read(&AuditFilter {
                tool: Some("run-task".into()),
                limit: Some(2),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(through_the_log, last);
    }

    #[tokio::test]
    async fn a_torn_last_line_is_skipped_and_isolated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let a = record("cw-rmm-list-devices", AuditDecision::Auto, AuditOutcome::Ok);
        let full = serde_json::to_string(&a).unwrap();
        std::fs::write(&path, format!("{full}\n{}", &full[..full.len() / 2])).unwrap();
        assert_eq!(
            read_file(&path, &AuditFilter::default()).unwrap(),
            vec![a.clone()]
        );
        let log = AuditLog::open(&path).unwrap();
        log.append(&a).await.unwrap();
        assert_eq!(
            log.read(&AuditFilter::default()).await.unwrap(),
            vec![a.clone(), a]
        );
    }

    #[test]
    fn a_missing_log_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let got = read_file(&dir.path().join("none.jsonl"), &AuditFilter::default()).unwrap();
        assert!(got.is_empty());
    }

    #[test]
    fn concurrent_appends_never_interleave() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let log = AuditLog::open(&path).unwrap();
                // A thread with its own runtime per writer, as separate processes would be.
                std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .build()
                        .unwrap();
                    for _ in 0..50 {
                        let mut r =
                            record("cw-rmm-list-devices", AuditDecision::Auto, AuditOutcome::Ok);
                        r.arguments_redacted = json!({"blob": "x".repeat(2000)});
                        runtime.block_on(log.append(&r)).unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 200);
        assert_eq!(
            read_file(&path, &AuditFilter::default()).unwrap().len(),
            200
        );
    }
}
