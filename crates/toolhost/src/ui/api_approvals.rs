//! The Approvals page: pending calls with their exact arguments; approve runs the call
//! through `ToolHost::approve` (exactly once, the CLI's path), deny through `ToolHost::deny`.
//! An approve that carries a passkey assertion is verified first (see `passkeys`), and the
//! verified assertion is kept with the approval; without one, a host that requires
//! passkeys refuses it.

use super::error::{ApiError, ApiResult};
use super::passkeys::api::find_approval;
use super::sessions::Session;
use super::state::UiState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::{json, Value};
use std::sync::Arc;
use toolhost_governance::{Approval, ApprovalFilter};

pub fn routes() -> Router<Arc<UiState>> {
    Router::new()
        .route("/api/approvals", get(list))
        .route("/api/approvals/{id}/approve", post(approve))
        .route("/api/approvals/{id}/deny", post(deny))
}

#[derive(serde::Deserialize)]
struct ListQuery {
    /// Every approval and its state, not only the pending ones.
    #[serde(default)]
    all: bool,
}

fn row(a: &Approval, now: chrono::DateTime<chrono::Utc>) -> Value {
    let mut value = serde_json::to_value(a).unwrap_or(Value::Null);
    value["status"] = json!(a.status(now));
    value["ageSeconds"] = json!((now - a.created_at).num_seconds().max(0));
    value
}

async fn list(
    State(state): State<Arc<UiState>>,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let filter = if query.all {
        ApprovalFilter::default()
    } else {
        ApprovalFilter::pending()
    };
    let host = state.host.read().await;
    let mut approvals = host.list_approvals(&filter).await.map_err(ApiError::from)?;
    approvals.sort_by_key(|a| std::cmp::Reverse(a.created_at));
    let now = chrono::Utc::now();
    let rows: Vec<Value> = approvals.iter().map(|a| row(a, now)).collect();
    Ok(Json(json!({"approvals": rows})))
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ApproveBody {
    /// The `PublicKeyCredential` (JSON form) answering this approval's passkey challenge.
    #[serde(default)]
    passkey: Option<Value>,
}

/// Runs the approved call and answers with its result once it completed.
async fn approve(
    State(state): State<Arc<UiState>>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body: ApproveBody = if body.is_empty() {
        ApproveBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("approve body: {e}")))?
    };
    let evidence = match body.passkey {
        Some(assertion) => {
            let approval = find_approval(&state, &id).await?;
            Some(
                state
                    .passkeys
                    .verify(&session.id, state.approver.as_str(), &approval, assertion)
                    .await?,
            )
        }
        None => None,
    };
    let host = state.host.read().await;
    let report = match evidence {
        Some(evidence) => {
            host.approve_with_passkey(&id, &state.actor(), evidence)
                .await
        }
        None => host.approve(&id, &state.actor()).await,
    }
    .map_err(ApiError::from)?;
    Ok(Json(json!({"approved": true, "report": report})))
}

async fn deny(State(state): State<Arc<UiState>>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let host = state.host.read().await;
    let approval = host
        .deny(&id, &state.actor())
        .await
        .map_err(ApiError::from)?;
    Ok(Json(json!({"denied": true, "approval": approval})))
}
