//! Why a client registry operation failed, each naming what to do about it.

use std::path::PathBuf;

/// A client registry failure.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The name is empty, too long or has characters other than letters, digits, `.`, `_`, `-`.
    #[error("`{0}` is not a valid client name: use 1 to 64 letters, digits, `.`, `_` or `-`")]
    InvalidName(String),
    /// Names are unique, revoked clients included (the audit log keeps naming them).
    #[error(
        "a client named `{0}` already exists (`toolhost clients list` shows it): pick another name"
    )]
    Duplicate(String),
    /// No client has this name.
    #[error("there is no client named `{0}`: `toolhost clients list` shows the clients, `toolhost clients add` creates one")]
    Unknown(String),
    /// The client was revoked and can no longer call tools.
    #[error("client `{0}` was revoked: create a new one with `toolhost clients add`")]
    Revoked(String),
    /// The role is not in the role table.
    #[error("there is no role `{role}`: use one of {}", known.join(", "))]
    UnknownRole {
        /// The role asked for.
        role: String,
        /// The roles the table knows, in its spelling.
        known: Vec<String>,
    },
    /// The operating system's random source failed.
    #[error("cannot draw a random token from the operating system: {0}")]
    Random(String),
    /// `clients.json` could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `clients.json` is not what this version writes.
    #[error("{} is not a valid clients file ({message}): restore it from a backup, or remove it and add the clients again", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The shared store (a database) could not be reached or answered wrongly: the message
    /// names where it is; nothing was changed and no token was accepted.
    #[error("{0}")]
    Store(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// `clients.json` could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}
