//! What every toolhost crate needs for the state it keeps and the files it reads:
//!
//! - [`write_private`] and [`create_private_dir`]: owner-only files (0600) and directories
//!   (0700), replaced atomically (a `create_new` temporary, fsync, rename), so a reader sees
//!   the old content or the new, never half, and no other user ever can.
//! - [`TomlText`] and [`TomlError`]: an operator's TOML file parsed with errors that name the
//!   file, line and column.
//! - [`SecretString`] and [`scrub`]: secrets that never print and never reach a message.

#![warn(missing_docs)]

mod line_col;
mod private_file;
mod secret;
mod toml_file;

pub use line_col::LineCol;
pub use private_file::{create_new_private, create_private_dir, write_private};
pub use secret::{scrub, SecretString};
pub use toml_file::{read_optional, TomlError, TomlText};
