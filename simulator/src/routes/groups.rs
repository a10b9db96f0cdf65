//! Device groups (v1 list, v2 group members, groups of one managed endpoint).

use super::v2_headers::require_v2_headers;
use crate::errors::{ApiError, Area};
use crate::state::AppState;
use crate::time::rfc3339;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::Arc;

const AREA: Area = Area::DeviceGroups;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/platform/v1/device-groups", get(list))
        .route(
            "/api/platform/v2/device-groups/{deviceGroupId}/endpoints",
            get(members),
        )
        .route(
            "/api/platform/v2/managed-endpoints/{endpointId}/device-groups",
            get(of_endpoint),
        )
}

async fn list(State(s): State<Arc<AppState>>) -> Json<Value> {
    Json(Value::Array(
        s.tenant
            .device_groups
            .iter()
            .map(|g| {
                json!({
                    "id": g.id.to_string(), "name": g.name, "description": g.description,
                    "predefined": g.predefined, "static": g.is_static,
                    "createdAt": rfc3339(g.created), "updatedAt": rfc3339(g.created),
                })
            })
            .collect(),
    ))
}

async fn members(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    require_v2_headers(AREA, &headers)?;
    let group = id
        .parse()
        .ok()
        .and_then(|gid: uuid::Uuid| s.tenant.device_groups.iter().find(|g| g.id == gid))
        .ok_or_else(|| ApiError::not_found(AREA, format!("device group '{id}' not found")))?;
    let ids = s
        .tenant
        .group_members(group)
        .into_iter()
        .map(|i| Value::String(i.to_string()))
        .collect();
    Ok(Json(Value::Array(ids)))
}

async fn of_endpoint(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let e = id
        .parse()
        .ok()
        .and_then(|eid| s.tenant.endpoint(eid))
        .ok_or_else(|| ApiError::not_found(AREA, format!("endpoint '{id}' not found")))?;
    let ids = s
        .tenant
        .device_groups
        .iter()
        .filter(|g| g.rule.matches(e))
        .map(|g| Value::String(g.id.to_string()))
        .collect();
    Ok(Json(Value::Array(ids)))
}
