//! The policy engine: every tool runs under a [`Mode`] (auto, approval, never).
//!
//! - [`defaults`]: the built-in default of a tool (the plugin's hint for static tools, the
//!   [`classifier`] for script tools), never looser than the plugin's own hint.
//! - [`file`]: operator overrides in a TOML policy file (exact names and `*`/`?` globs).
//! - [`engine`]: [`PolicyEngine::decide`], which says the mode and why: the most specific
//!   override wins, except that only an exact name may loosen a default of never.
//!
//! The plugin suggests, the host decides: any error here is an error, never "allow".

pub(crate) mod classifier;
mod defaults;
mod edit;
mod engine;
mod file;
mod glob;
mod mode;

pub use edit::{set_bound_rule, set_rule};
pub use engine::{Decision, DecisionSource, PolicyEngine};
pub use file::{PolicyFile, PolicyFileError, Rule};
pub use glob::{Glob, GlobError};
pub use mode::{Mode, ParseModeError};

#[cfg(test)]
pub(crate) mod testing;
