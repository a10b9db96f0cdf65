//! Per-area error bodies. The Asio backend services each answer errors in their own shape
//! (see asio-api.md §3.2); clients parse them differently, so the simulator must match.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Which backend service a path belongs to, which decides its error body shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Area {
    /// v1 company/sites and other legacy v1 services: `{"error", "description"}`.
    Legacy,
    /// v2 devices (list, detail, metrics, system state): `{"code", "message"}`.
    Devices,
    /// Heartbeat: `{"code", "description"}` (`ResponseError`).
    Heartbeat,
    /// Patching: `{"error": {"message"}}`.
    Patching,
    /// Device groups: `{"id", "message", "error": {"message"}, "type"}` (`Message`).
    DeviceGroups,
    /// Automation scripts, shellScripts, summaries, schedule: `{"message", "code"}`.
    Automation,
    /// `GET /v1/automation/tasks`: 401/403 are text/plain strings, other errors `{"message","code"}`.
    TaskDefinitions,
    /// Tickets: an array of `{"code", "message"}`.
    Tickets,
}

impl Area {
    pub fn of_path(path: &str) -> Area {
        let p = path;
        if p.starts_with("/api/platform/v2/device/endpoints/heartbeat") {
            Area::Heartbeat
        } else if p.starts_with("/api/platform/v2/device/") {
            Area::Devices
        } else if p.starts_with("/api/platform/v2/patching")
            || p.starts_with("/api/platform/v1/patching")
        {
            Area::Patching
        } else if p.starts_with("/api/platform/v1/device-groups")
            || p.starts_with("/api/platform/v2/device-groups")
            || p.starts_with("/api/platform/v2/managed-endpoints")
        {
            Area::DeviceGroups
        } else if p == "/api/platform/v1/automation/tasks"
            || p == "/api/platform/v1/automation/tasks/"
        {
            Area::TaskDefinitions
        } else if p.starts_with("/api/platform/v1/automation")
            || p.starts_with("/api/platform/v2/automation")
        {
            Area::Automation
        } else if p.starts_with("/api/platform/v1/service/ticketing")
            || p.starts_with("/api/platform/v2/service/ticketing")
        {
            Area::Tickets
        } else {
            Area::Legacy
        }
    }
}

/// An error answer in an area's shape. `code` is a short machine code; `message` is for people.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub area: Area,
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(area: Area, status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            area,
            status,
            code: code.to_string(),
            message: message.into(),
        }
    }

    pub fn bad_request(area: Area, code: &str, message: impl Into<String>) -> ApiError {
        Self::new(area, StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(area: Area, message: impl Into<String>) -> ApiError {
        Self::new(area, StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }

    /// The 401 every area answers for a missing, expired or unknown bearer token.
    pub fn unauthorized(area: Area) -> ApiError {
        let message = match area {
            Area::TaskDefinitions => "bearer token is missing, expired or invalid",
            _ => "The access token provided is expired, revoked, malformed, or invalid for other reasons.",
        };
        Self::new(area, StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
    }

    fn body(&self) -> serde_json::Value {
        match self.area {
            Area::Legacy => {
                let error = if self.status == StatusCode::UNAUTHORIZED {
                    "unauthorized request".to_string()
                } else {
                    self.code.to_lowercase().replace('_', " ")
                };
                json!({"error": error, "description": self.message})
            }
            Area::Devices => json!({"code": self.code, "message": self.message}),
            Area::Heartbeat => json!({"code": self.code, "description": self.message}),
            Area::Patching => json!({"error": {"message": self.message}}),
            Area::DeviceGroups => json!({
                "id": self.code,
                "message": self.message,
                "error": {"message": self.message},
                "type": "error",
            }),
            Area::Automation | Area::TaskDefinitions => {
                json!({"message": self.message, "code": self.code})
            }
            Area::Tickets => json!([{"code": self.code, "message": self.message}]),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let plain_text = self.area == Area::TaskDefinitions
            && matches!(
                self.status,
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
            );
        if plain_text {
            let mut resp = (self.status, self.message).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            return resp;
        }
        (self.status, axum::Json(self.body())).into_response()
    }
}

/// Parses a JSON request body, mapping failure to a 400 in the area's shape.
pub fn parse_json<T: serde::de::DeserializeOwned>(area: Area, body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(
            area,
            "INVALID_REQUEST_BODY",
            format!("request body is not valid JSON for this operation: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_by_path() {
        assert_eq!(
            Area::of_path("/api/platform/v2/device/endpoints/heartbeat"),
            Area::Heartbeat
        );
        assert_eq!(
            Area::of_path("/api/platform/v2/device/categories/all/endpoints"),
            Area::Devices
        );
        assert_eq!(
            Area::of_path("/api/platform/v1/automation/tasks"),
            Area::TaskDefinitions
        );
        assert_eq!(
            Area::of_path("/api/platform/v1/automation/tasks/summary"),
            Area::Automation
        );
        assert_eq!(
            Area::of_path("/api/platform/v2/service/ticketing/tickets"),
            Area::Tickets
        );
        assert_eq!(
            Area::of_path("/api/platform/v1/company/companies"),
            Area::Legacy
        );
        assert_eq!(
            Area::of_path("/api/platform/v2/managed-endpoints/x/device-groups"),
            Area::DeviceGroups
        );
    }

    #[test]
    fn shapes() {
        let e = ApiError::bad_request(Area::Tickets, "X", "m");
        assert!(e.body().is_array());
        let e = ApiError::unauthorized(Area::Legacy);
        assert_eq!(e.body()["error"], "unauthorized request");
        let e = ApiError::bad_request(Area::Patching, "X", "m");
        assert_eq!(e.body()["error"]["message"], "m");
    }
}
