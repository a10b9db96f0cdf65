//! Passkeys for approvals: an approver enrols a passkey in the UI, then approves a pending
//! call by signing a challenge bound to that approval's digest; the host keeps the verified
//! assertion with the approval. With `[approvals] require_passkey = true` in toolhost.toml
//! nothing else approves.
//!
//! - [`credentials`]: the enrolled passkeys' seam, and `<home>/passkeys.json` (0600).
//! - [`db_store`]: the enrolled passkeys in the state database (replicas share them).
//! - [`challenges`]: open ceremonies (in memory or the database); approval challenges,
//!   single-use and bound to one approval.
//! - [`ceremony`]: the WebAuthn ceremonies (webauthn-rs).
//! - [`api`]: the enrolment endpoints and the approval challenge endpoint.

pub mod api;
pub mod ceremony;
pub mod challenges;
pub mod credentials;
pub mod db_store;

pub use ceremony::{PasskeyError, Passkeys, RP_ID};
