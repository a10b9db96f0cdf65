//! [`AuditLog`]: append-only JSON Lines, and reading them back with filters.

use super::record::{AuditDecision, AuditOutcome, AuditRecord};
use chrono::{DateTime, Utc};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use toolhost_base::create_private_dir;

/// Why the audit log could not be opened, written or read.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The log file or its directory could not be created, read or written.
    #[error("audit log {}: {source}", path.display())]
    Io {
        /// The log file (or its directory).
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A record could not be turned into JSON.
    #[error("cannot serialize an audit record: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// The audit log file, open for appending (0600, in a 0700 directory it creates).
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: Mutex<File>,
}

impl AuditLog {
    /// Opens (creating) the log. If the last line was torn by a crash, a newline is appended
    /// first so the next record starts on a line of its own.
    pub fn open(path: impl Into<PathBuf>) -> Result<AuditLog, AuditError> {
        let path = path.into();
        let io_err = |source| AuditError::Io {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            create_private_dir(dir).map_err(io_err)?;
        }
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&path).map_err(io_err)?;
        let len = file.metadata().map_err(io_err)?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1)).map_err(io_err)?;
            file.read_exact(&mut last).map_err(io_err)?;
            if last[0] != b'\n' {
                file.write_all(b"\n").map_err(io_err)?;
            }
        }
        Ok(AuditLog {
            path,
            file: Mutex::new(file),
        })
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record as one line, with a single write on the append-mode file (so
    /// concurrent writers, even in other processes, never interleave within a line).
    pub fn append(&self, record: &AuditRecord) -> Result<(), AuditError> {
        let mut line = serde_json::to_vec(record)?;
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        file.write_all(&line).map_err(|source| AuditError::Io {
            path: self.path.clone(),
            source,
        })
    }

    /// The records `filter` selects, oldest first.
    pub fn read(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, AuditError> {
        read_file(&self.path, filter)
    }
}

/// Which records to show.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Substring of the tool name.
    pub tool: Option<String>,
    /// Only this decision.
    pub decision: Option<AuditDecision>,
    /// Only this outcome.
    pub outcome: Option<AuditOutcome>,
    /// Records at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// The most recent `limit` matching records.
    pub limit: Option<usize>,
}

impl AuditFilter {
    /// Whether `r` passes every set condition; `limit` is not a per-record condition and is
    /// applied afterwards, to what matched.
    pub fn matches(&self, r: &AuditRecord) -> bool {
        self.tool.as_deref().is_none_or(|t| r.tool.contains(t))
            && self.decision.is_none_or(|d| r.decision == d)
            && self.outcome.is_none_or(|o| r.outcome == o)
            && self.since.is_none_or(|s| r.time >= s)
    }
}

/// Reads the log at `path` (a missing file is an empty log) without opening it for writing.
/// Lines that do not parse (a line torn by a crash) are skipped with a warning.
pub fn read_file(path: &Path, filter: &AuditFilter) -> Result<Vec<AuditRecord>, AuditError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(source) => {
            return Err(AuditError::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let mut out = Vec::new();
    for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<AuditRecord>(line) {
            Ok(r) if filter.matches(&r) => out.push(r),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(path = %path.display(), line = n + 1, error = %e, "skipping an unreadable audit line")
            }
        }
    }
    if let Some(limit) = filter.limit {
        let skip = out.len().saturating_sub(limit);
        out.drain(..skip);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(tool: &str, decision: AuditDecision, outcome: AuditOutcome) -> AuditRecord {
        AuditRecord {
            time: Utc::now(),
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

    #[test]
    fn appends_lines_and_reads_them_back_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        let a = record("cw-rmm-list-devices", AuditDecision::Auto, AuditOutcome::Ok);
        let b = record(
            "cw-rmm-run-task",
            AuditDecision::Approval,
            AuditOutcome::PendingApproval,
        );
        log.append(&a).unwrap();
        log.append(&b).unwrap();
        drop(log);
        let log = AuditLog::open(&path).unwrap();
        let c = record(
            "cw-rmm-run-task",
            AuditDecision::Never,
            AuditOutcome::Refused,
        );
        log.append(&c).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.lines().all(|l| l.starts_with('{') && l.ends_with('}')));
        assert_eq!(log.read(&AuditFilter::default()).unwrap(), vec![a, b, c]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn filters_by_tool_decision_outcome_since_and_limit() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(dir.path().join("audit.jsonl")).unwrap();
        let mut old = record("cw-rmm-list-devices", AuditDecision::Auto, AuditOutcome::Ok);
        old.time = Utc::now() - chrono::Duration::hours(2);
        log.append(&old).unwrap();
        for i in 0..5 {
            let mut r = record(
                "cw-rmm-run-task",
                AuditDecision::Approval,
                AuditOutcome::PendingApproval,
            );
            r.approval_id = Some(format!("a{i}"));
            log.append(&r).unwrap();
        }
        log.append(&record(
            "cw-rmm-get-device",
            AuditDecision::RoleDenied,
            AuditOutcome::Refused,
        ))
        .unwrap();
        let read = |f: AuditFilter| log.read(&f).unwrap();
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
    }

    #[test]
    fn a_torn_last_line_is_skipped_and_isolated() {
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
        log.append(&a).unwrap();
        assert_eq!(
            log.read(&AuditFilter::default()).unwrap(),
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
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        let mut r =
                            record("cw-rmm-list-devices", AuditDecision::Auto, AuditOutcome::Ok);
                        r.arguments_redacted = json!({"blob": "x".repeat(2000)});
                        log.append(&r).unwrap();
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
