//! Approvers: the people who decide pending approvals, and the passkey evidence an approval
//! keeps when one of them approved it with a passkey.
//!
//! - [`name`]: what a person may be called (`toolhost ui --approver NAME`).
//! - [`evidence`]: the WebAuthn assertion kept with an approval, and the challenge that binds
//!   it to that one approval's digest.

mod evidence;
mod name;

pub use evidence::{passkey_challenge, PasskeyEvidence, CHALLENGE_NONCE_BYTES};
pub use name::{ApproverName, ApproverNameError};
