//! The audit log: one JSON line per call attempt, appended, never rewritten.
//!
//! - [`record`]: what a line holds ([`AuditRecord`]).
//! - [`redact`]: arguments as they may be written down (no secrets, no tokens).
//! - [`log`]: [`AuditLog`] (append) and [`AuditFilter`] (read back, for `toolhost audit`).

mod log;
mod record;
mod redact;

pub use log::{read_file, AuditError, AuditFilter, AuditLog};
pub use record::{arguments_sha256, AuditDecision, AuditOutcome, AuditRecord};
pub use redact::{redact, REDACTED};
