//! Approvals: a call that needs approval does nothing upstream; it is recorded here, and
//! runs only when an operator approves it, exactly once, with exactly the arguments that were
//! approved.
//!
//! [`ApprovalStore`] is what callers hold; an [`ApprovalBackend`] keeps the records. The
//! embedded backend ([`FileApprovals`]) keeps one JSON file per approval in a private
//! directory; the file name carries the phase (`<id>.pending.json`, `<id>.claimed.json`,
//! `<id>.denied.json`), and the only way out of pending is an atomic `rename`, which one
//! caller wins, across threads and processes alike. A database backend (another crate) does
//! the same with one conditional update.

mod backend;
mod error;
mod files;
mod id;
pub(crate) mod model;
mod preview;
mod store;

pub use backend::ApprovalBackend;
pub use error::ApprovalError;
pub use files::FileApprovals;
pub use model::{Approval, ApprovalFilter, ApprovalState, ApprovalStatus, MAX_KEPT_RESULT};
pub use preview::{Preview, PreviewFact};
pub use store::{ApprovalStore, DEFAULT_TTL};
