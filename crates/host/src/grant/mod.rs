//! Grants: connecting shows the operator what the plugin asks for (the component, where its
//! traffic and the client secret go, every tool with its routes) and records it. The host runs
//! only a component that matches its grant; a tool whose declaration changed since (a "rug
//! pull") is not served until the operator reviews and accepts the change
//! (`toolhost grant show`, `toolhost grant accept`).

pub(crate) mod diff;
pub(crate) mod file;
pub(crate) mod model;
mod origins;
mod review;
mod stored;

pub use diff::GrantDiff;
pub use file::grant_path;
pub use model::{Grant, GrantedTool};
pub use origins::needs_explicit_allow;
pub use review::GrantReview;
