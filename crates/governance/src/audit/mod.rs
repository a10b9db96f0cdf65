//! The audit log: one record per call attempt, appended, never rewritten.
//!
//! - [`record`]: what a record holds ([`AuditRecord`]).
//! - [`redact`]: arguments as they may be written down (no secrets, no tokens).
//! - [`backend`]: [`AuditBackend`], where records are kept, and [`AuditFilter`].
//! - [`log`]: [`AuditLog`] (append, read back) over a backend.
//! - [`jsonl`]: the embedded backend, one JSON line per record ([`JsonlAudit`]).
//! - [`spool`]: a shared backend with the replica's disk behind it ([`SpooledAudit`]).

mod backend;
mod jsonl;
mod log;
mod record;
mod redact;
mod spool;

pub use backend::{AuditBackend, AuditError, AuditFilter};
pub use jsonl::{read_file, JsonlAudit};
pub use log::AuditLog;
pub use record::{arguments_sha256, AuditDecision, AuditOutcome, AuditRecord};
pub use redact::{redact, REDACTED};
pub use spool::{IdempotentAuditBackend, KeyedAuditRecord, SpooledAudit};
