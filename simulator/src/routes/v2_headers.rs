//! The headers the v2 device operations require of every caller.

use crate::errors::{ApiError, Area};
use axum::http::HeaderMap;

/// The v2 device operations declare `Origin`, `User-Agent` and `X-Request-ID` as required.
pub fn require_v2_headers(area: Area, headers: &HeaderMap) -> Result<(), ApiError> {
    for name in ["Origin", "User-Agent", "X-Request-ID"] {
        let present = headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| !v.trim().is_empty());
        if !present {
            return Err(ApiError::bad_request(
                area,
                "MISSING_HEADER",
                format!("required header '{name}' is missing"),
            ));
        }
    }
    Ok(())
}
