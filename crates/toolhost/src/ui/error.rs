//! Errors as the page sees them: a status and `{"error": "...", "kind": "..."}`.

use axum::response::{IntoResponse, Response};
use axum::Json;
use http::StatusCode;
use toolhost_host::HostError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid-request",
            message: message.into(),
        }
    }
}

impl From<HostError> for ApiError {
    fn from(err: HostError) -> ApiError {
        let kind = err.kind();
        let status = match &err {
            HostError::NotConnected | HostError::Approval(_) => StatusCode::CONFLICT,
            HostError::UnknownRegion { .. }
            | HostError::InvalidConnection { .. }
            | HostError::UnknownTool { .. }
            | HostError::InvalidArguments { .. }
            | HostError::Credentials(_) => StatusCode::BAD_REQUEST,
            HostError::ApprovalRequired { .. } => StatusCode::ACCEPTED,
            HostError::ApprovalDenied { .. }
            | HostError::SelfApproval { .. }
            | HostError::PasskeyRequired { .. }
            | HostError::RoleDenied { .. }
            | HostError::Refused { .. } => StatusCode::FORBIDDEN,
            HostError::Call { .. } => StatusCode::BAD_GATEWAY,
            // What would run is no longer what was approved: the page shows why.
            HostError::PreviewChanged { .. } => StatusCode::CONFLICT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError {
            status,
            kind,
            message: err.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": self.message, "kind": self.kind});
        (self.status, Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn not_found() -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            kind: "not-found",
            message: "no such page or endpoint".into(),
        }
    }
}
