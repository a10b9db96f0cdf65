//! The passkey endpoints: the signed-in approver's passkeys, enrolment (two steps, as
//! WebAuthn has them), and the challenge that approving one approval signs.

use super::PasskeyError;
use crate::ui::error::{ApiError, ApiResult};
use crate::ui::sessions::Session;
use crate::ui::state::UiState;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use http::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;
use toolhost_governance::{Approval, ApprovalFilter};

pub fn routes() -> Router<Arc<UiState>> {
    Router::new()
        .route("/api/passkeys", get(status))
        .route("/api/passkeys/register/start", post(register_start))
        .route("/api/passkeys/register/finish", post(register_finish))
        .route("/api/approvals/{id}/passkey-challenge", post(challenge))
}

impl From<PasskeyError> for ApiError {
    fn from(err: PasskeyError) -> ApiError {
        let status = match &err {
            PasskeyError::Setup { .. } | PasskeyError::Credentials(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            PasskeyError::Store(_)
            | PasskeyError::Challenge(super::challenges::ChallengeError::Store(_)) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            PasskeyError::NotEnrolled(_) | PasskeyError::NotPending(_) => StatusCode::CONFLICT,
            PasskeyError::Malformed(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::FORBIDDEN,
        };
        ApiError {
            status,
            kind: err.kind(),
            message: err.to_string(),
        }
    }
}

/// The approval `id` exactly (the page always sends full ids).
pub async fn find_approval(state: &UiState, id: &str) -> ApiResult<Approval> {
    let host = state.host.read().await;
    host.list_approvals(&ApprovalFilter::default())
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(|| ApiError {
            status: StatusCode::NOT_FOUND,
            kind: "not-found",
            message: format!("no approval {id}"),
        })
}

async fn status(State(state): State<Arc<UiState>>) -> ApiResult<Json<Value>> {
    let required = state.host.read().await.config().require_passkey;
    let enrolled = state.passkeys.enrolled(state.approver.as_str()).await?;
    Ok(Json(json!({
        "approver": state.approver.as_str(),
        "required": required,
        "rpId": super::RP_ID,
        "passkeys": enrolled,
    })))
}

async fn register_start(
    State(state): State<Arc<UiState>>,
    Extension(session): Extension<Session>,
) -> ApiResult<Json<Value>> {
    let options = state
        .passkeys
        .start_registration(&session.id, state.approver.as_str())
        .await?;
    Ok(Json(options))
}

async fn register_finish(
    State(state): State<Arc<UiState>>,
    Extension(session): Extension<Session>,
    Json(credential): Json<Value>,
) -> ApiResult<Json<Value>> {
    let count = state
        .passkeys
        .finish_registration(&session.id, state.approver.as_str(), credential)
        .await?;
    Ok(Json(json!({"enrolled": count})))
}

async fn challenge(
    State(state): State<Arc<UiState>>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let approval = find_approval(&state, &id).await?;
    if approval.requester == state.actor() {
        return Err(ApiError {
            status: StatusCode::FORBIDDEN,
            kind: "self-approval",
            message: format!(
                "approval {id} was requested by {}: a requester can never approve its own request",
                approval.requester
            ),
        });
    }
    let options = state
        .passkeys
        .challenge_for(&session.id, state.approver.as_str(), &approval)
        .await?;
    Ok(Json(options))
}
