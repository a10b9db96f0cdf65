//! The tenant connection: what an operator supplies ([`ConnectRequest`]), what is saved
//! ([`ConnectionSettings`], owner-only), and what calls through it may reach
//! ([`call_context`]).

mod context;
mod file;
mod request;
mod stored;

pub(crate) use context::{call_context, shared_call_context};
pub use file::{connection_path, load, ConnectionFileError, ConnectionSettings};
pub use request::{ConnectRequest, ConnectionError};
pub(crate) use stored::{load_connection, save_connection};
