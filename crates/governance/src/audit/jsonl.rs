//! [`JsonlAudit`]: the embedded audit backend, append-only JSON Lines in one file.

use super::backend::{AuditBackend, AuditError, AuditFilter};
use super::record::AuditRecord;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use toolhost_base::create_private_dir;

/// The embedded audit backend: one JSON Lines file, open for appending (0600, in a 0700
/// directory it creates).
#[derive(Debug)]
pub struct JsonlAudit {
    file: JsonlFile,
}

impl JsonlAudit {
    /// Opens (creating) the log. If the last line was torn by a crash, a newline is appended
    /// first so the next record starts on a line of its own.
    pub fn open(path: impl Into<PathBuf>) -> Result<JsonlAudit, AuditError> {
        Ok(JsonlAudit {
            file: JsonlFile::open(path)?,
        })
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        self.file.path()
    }
}

/// A JSON Lines file open for appending, one value per line (the writer of [`JsonlAudit`] and
/// of the spool in [`super::spool`]).
#[derive(Debug)]
pub(crate) struct JsonlFile {
    path: PathBuf,
    file: Mutex<File>,
}

impl JsonlFile {
    /// Opens (creating, 0600 in a 0700 directory) the file; a torn last line is closed with a
    /// newline so the next value starts on a line of its own.
    pub(crate) fn open(path: impl Into<PathBuf>) -> Result<JsonlFile, AuditError> {
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
        Ok(JsonlFile {
            path,
            file: Mutex::new(file),
        })
    }

    /// The file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `value` as one line, with a single write on the append-mode file (so
    /// concurrent writers, even in other processes, never interleave within a line).
    pub(crate) fn append<T: serde::Serialize>(&self, value: &T) -> Result<(), AuditError> {
        let mut line = serde_json::to_vec(value)?;
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        file.write_all(&line)
            .map_err(|source| self.io_error(source))
    }

    /// Empties the file (the next line is written at its start: it is open for appending).
    pub(crate) fn truncate(&self) -> Result<(), AuditError> {
        let file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        file.set_len(0).map_err(|source| self.io_error(source))
    }

    fn io_error(&self, source: io::Error) -> AuditError {
        AuditError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

#[async_trait::async_trait]
impl AuditBackend for JsonlAudit {
    fn location(&self) -> String {
        format!("audit log {}", self.path().display())
    }

    /// Appends one record as one line (see [`JsonlFile::append`]).
    async fn append(&self, record: &AuditRecord) -> Result<(), AuditError> {
        self.file.append(record)
    }

    /// The records `filter` selects, oldest first.
    async fn read(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, AuditError> {
        read_file(self.path(), filter)
    }
}

/// Reads the log at `path` (a missing file is an empty log) without opening it for writing.
/// Lines that do not parse (a line torn by a crash) are skipped with a warning.
pub fn read_file(path: &Path, filter: &AuditFilter) -> Result<Vec<AuditRecord>, AuditError> {
    let mut out: Vec<AuditRecord> = read_lines(path)?;
    out.retain(|r| filter.matches(r));
    if let Some(limit) = filter.limit {
        let skip = out.len().saturating_sub(limit);
        out.drain(..skip);
    }
    Ok(out)
}

/// Every value of the JSON Lines file at `path`, in order (a missing file has none). Lines
/// that do not parse (a line torn by a crash) are skipped with a warning.
pub(crate) fn read_lines<T: serde::de::DeserializeOwned>(
    path: &Path,
) -> Result<Vec<T>, AuditError> {
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
        match serde_json::from_slice::<T>(line) {
            Ok(value) => out.push(value),
            Err(e) => {
                tracing::warn!(path = %path.display(), line = n + 1, error = %e, "skipping an unreadable audit line")
            }
        }
    }
    Ok(out)
}
