//! HTTP handlers, one module per API area.

pub mod automation;
pub mod companies;
pub mod device_state;
pub mod devices;
mod endpoint_json;
pub mod groups;
pub mod patching;
mod schedule;
pub mod tasks;
pub mod tickets;
mod v2_headers;

use crate::errors::{ApiError, Area};
use uuid::Uuid;

/// Parses a path id; a malformed id is reported as not found, like the real services do for
/// ids they cannot resolve.
pub fn path_uuid(area: Area, what: &str, raw: &str) -> Result<Uuid, ApiError> {
    raw.parse::<Uuid>()
        .map_err(|_| ApiError::not_found(area, format!("{what} '{raw}' not found")))
}
