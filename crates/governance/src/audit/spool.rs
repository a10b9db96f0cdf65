//! [`SpooledAudit`]: a shared audit store (a database) with the replica's own disk behind it, so
//! that a record the store cannot take when a call ends is kept, not dropped.
//!
//! Every record gets a unique id ([`KeyedAuditRecord`]) when it is appended. A record the
//! primary refuses goes to a JSON Lines spool file (the writer of [`super::jsonl`]). The next
//! append or read sends the spooled records, oldest first, and the new one after them, in one
//! [`IdempotentAuditBackend::append_once`] (all or none); only once that has returned is the
//! spool emptied. A process that dies between the two sends the same ids again on its next
//! flush, which the primary skips: nothing is lost and nothing is kept twice.
//!
//! Several processes on one home share the spool: an OS lock on the file covers every spool
//! write and every flush (read, send, empty), so no line lands between a flush's read and its
//! emptying.

use super::backend::{AuditBackend, AuditError, AuditFilter};
use super::jsonl::{read_lines, JsonlFile};
use super::record::AuditRecord;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// One record and the id that makes appending it idempotent.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KeyedAuditRecord {
    /// Unique to this record, kept with it in the primary.
    pub id: Uuid,
    /// The record.
    pub record: AuditRecord,
}

impl KeyedAuditRecord {
    /// `record` under a fresh id.
    pub fn new(record: AuditRecord) -> KeyedAuditRecord {
        KeyedAuditRecord {
            id: Uuid::new_v4(),
            record,
        }
    }
}

/// A backend that keeps a record at most once per id: what [`SpooledAudit`] needs of its
/// primary to resend after a crash without keeping a record twice.
#[async_trait::async_trait]
pub trait IdempotentAuditBackend: AuditBackend {
    /// Appends `records` in their order, all or none; a record whose id is already kept is
    /// skipped (neither an error nor a second copy).
    async fn append_once(&self, records: &[KeyedAuditRecord]) -> Result<(), AuditError>;
}

/// How long to wait between tries for the spool's OS lock another process holds.
const LOCK_RETRY: Duration = Duration::from_millis(10);

/// A primary audit backend with a local spool for the records it cannot take (see the module
/// documentation).
#[derive(Debug)]
pub struct SpooledAudit<P> {
    primary: P,
    spool: JsonlFile,
    /// A second handle on the spool, only for its OS lock.
    lock_handle: File,
    /// Serialises this process's spool work (the OS lock is per open file, not per task) and
    /// remembers when the last failed try to reach the primary began.
    state: tokio::sync::Mutex<Option<Instant>>,
}

impl<P: IdempotentAuditBackend> SpooledAudit<P> {
    /// `primary` with its spool at `spool` (opened, created 0600 if missing; records left there
    /// by an earlier run are sent with the next append or read).
    pub fn open(primary: P, spool: impl Into<PathBuf>) -> Result<SpooledAudit<P>, AuditError> {
        let spool = JsonlFile::open(spool)?;
        let lock_handle = File::open(spool.path()).map_err(|source| AuditError::Io {
            path: spool.path().to_path_buf(),
            source,
        })?;
        Ok(SpooledAudit {
            primary,
            spool,
            lock_handle,
            state: tokio::sync::Mutex::new(None),
        })
    }

    /// The spool file.
    pub fn spool_path(&self) -> &Path {
        self.spool.path()
    }

    /// The primary backend.
    pub fn primary(&self) -> &P {
        &self.primary
    }

    fn io_error(&self, source: std::io::Error) -> AuditError {
        AuditError::Io {
            path: self.spool.path().to_path_buf(),
            source,
        }
    }

    /// Whether the spool holds anything (in this process or another on the same home).
    fn spool_is_empty(&self) -> Result<bool, AuditError> {
        match std::fs::metadata(self.spool.path()) {
            Ok(meta) => Ok(meta.len() == 0),
            Err(e) => Err(self.io_error(e)),
        }
    }

    /// Takes the spool's OS lock, waiting (without blocking the runtime) while another process
    /// holds it; released when the guard drops.
    async fn lock_spool(&self) -> Result<OsLock<'_>, AuditError> {
        loop {
            match self.lock_handle.try_lock() {
                Ok(()) => return Ok(OsLock(&self.lock_handle)),
                Err(std::fs::TryLockError::WouldBlock) => tokio::time::sleep(LOCK_RETRY).await,
                Err(std::fs::TryLockError::Error(e)) => return Err(self.io_error(e)),
            }
        }
    }

    /// With the locks held: sends the spooled records, then `new` (if any), to the primary in
    /// one all-or-none append, and empties the spool once that has returned. On failure
    /// nothing is emptied; the error and the number of spooled records are returned.
    async fn flush_locked(
        &self,
        new: Option<&KeyedAuditRecord>,
    ) -> Result<usize, (usize, AuditError)> {
        let mut batch: Vec<KeyedAuditRecord> = read_lines(self.spool.path()).map_err(|e| (0, e))?;
        let spooled = batch.len();
        batch.extend(new.cloned());
        if !batch.is_empty() {
            self.primary
                .append_once(&batch)
                .await
                .map_err(|e| (spooled, e))?;
        }
        if spooled > 0 {
            tracing::info!(
                spool = %self.spool.path().display(),
                records = spooled,
                "spooled audit records reached the {}",
                self.primary.location()
            );
        }
        if let Err(e) = self.spool.truncate() {
            // The records are kept; left in the spool, they are sent again and skipped.
            tracing::warn!("could not empty the audit spool after sending it: {e}");
        }
        Ok(spooled)
    }

    /// With the locks held: keeps `entry` in the spool because the primary failed with `why`.
    fn spool_locked(&self, entry: &KeyedAuditRecord, why: &AuditError) -> Result<(), AuditError> {
        self.spool.append(entry)?;
        tracing::warn!(
            spool = %self.spool.path().display(),
            "the {} cannot take audit records ({why}); this one waits in the spool and is sent when it can",
            self.primary.location()
        );
        Ok(())
    }
}

/// The spool's OS lock, released on drop.
struct OsLock<'a>(&'a File);

impl Drop for OsLock<'_> {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

#[async_trait::async_trait]
impl<P: IdempotentAuditBackend> AuditBackend for SpooledAudit<P> {
    fn location(&self) -> String {
        format!(
            "{} (spooled in {} while it cannot be reached)",
            self.primary.location(),
            self.spool.path().display()
        )
    }

    /// Straight to the primary when nothing is spooled; else the spool first, then this
    /// record. A record the primary cannot take is spooled and `Ok` is returned: it is kept.
    async fn append(&self, record: &AuditRecord) -> Result<(), AuditError> {
        let entry = KeyedAuditRecord::new(record.clone());
        let began = Instant::now();
        if self.spool_is_empty()? {
            let Err(why) = self.primary.append_once(std::slice::from_ref(&entry)).await else {
                return Ok(());
            };
            let mut last_failure = self.state.lock().await;
            let _os = self.lock_spool().await?;
            *last_failure = Some(began);
            return self.spool_locked(&entry, &why);
        }
        let mut last_failure = self.state.lock().await;
        let _os = self.lock_spool().await?;
        if let Some(failed) = *last_failure {
            if failed >= began {
                // A try that began after this append did failed while it waited: trying again
                // now would only make a burst of calls wait out the database one by one.
                let why = AuditError::Store("the last try failed a moment ago".into());
                return self.spool_locked(&entry, &why);
            }
        }
        match self.flush_locked(Some(&entry)).await {
            Ok(_) => Ok(()),
            Err((_, why)) => {
                *last_failure = Some(began);
                self.spool_locked(&entry, &why)
            }
        }
    }

    /// Sends what is spooled first; while the primary cannot take it, fails with
    /// [`AuditError::Spooled`] rather than show a log without those records.
    async fn read(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, AuditError> {
        if !self.spool_is_empty()? {
            let began = Instant::now();
            let mut last_failure = self.state.lock().await;
            let _os = self.lock_spool().await?;
            if let Err((pending, why)) = self.flush_locked(None).await {
                *last_failure = Some(began);
                return Err(AuditError::Spooled {
                    pending,
                    spool: self.spool.path().to_path_buf(),
                    location: self.primary.location(),
                    source: Box::new(why),
                });
            }
        }
        self.primary.read(filter).await
    }
}

#[cfg(test)]
#[path = "spool_tests.rs"]
mod tests;
