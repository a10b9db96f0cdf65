//! Approvals: a call that needs approval does nothing upstream; it is recorded here, and
//! runs only when an operator approves it, exactly once, with exactly the arguments that were
//! approved.
//!
//! [`ApprovalStore`] keeps one JSON file per approval in a private directory; the file name
//! carries the phase (`<id>.pending.json`, `<id>.claimed.json`, `<id>.denied.json`), and the
//! only way out of pending is an atomic `rename`, which one caller wins, across threads and
//! processes alike.

mod error;
pub(crate) mod model;
mod preview;
mod store;

pub use error::ApprovalError;
pub use model::{Approval, ApprovalFilter, ApprovalState, ApprovalStatus, MAX_KEPT_RESULT};
pub use preview::{Preview, PreviewFact};
pub use store::{ApprovalStore, DEFAULT_TTL};
