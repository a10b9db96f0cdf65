//! Live state: cpu/memory/disk usage, system state and heartbeat.

use super::path_uuid;
use crate::errors::{ApiError, Area};
use crate::query::{split_list, QueryParams};
use crate::state::AppState;
use crate::tenant::Endpoint;
use crate::time::rfc3339;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::sync::Arc;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/api/platform/v2/device/endpoints/{endpointId}/cpu-usage",
            get(cpu),
        )
        .route(
            "/api/platform/v2/device/endpoints/{endpointId}/memory-usage",
            get(memory),
        )
        .route(
            "/api/platform/v2/device/endpoints/{endpointId}/disk-usage",
            get(disk),
        )
        .route(
            "/api/platform/v2/device/endpoints/{endpointId}/system-state-info",
            get(system_state),
        )
        .route(
            "/api/platform/v2/device/endpoints/heartbeat",
            get(heartbeat),
        )
}

fn endpoint<'a>(s: &'a AppState, raw: &str) -> Result<&'a Endpoint, ApiError> {
    let id = path_uuid(Area::Devices, "endpoint", raw)?;
    s.tenant
        .endpoint(id)
        .ok_or_else(|| ApiError::not_found(Area::Devices, format!("endpoint '{raw}' not found")))
}

/// When the latest sample was taken: recently for online agents, at last contact otherwise.
fn sampled_at(e: &Endpoint) -> DateTime<Utc> {
    Utc::now() - e.last_seen_ago
}

async fn cpu(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let e = endpoint(&s, &id)?;
    let util = e.cpu_percent;
    let user = (util * 0.7 * 10.0).round() / 10.0;
    let system = ((util - user) * 10.0).round() / 10.0;
    Ok(Json(json!([{
        "createTimeUTC": rfc3339(sampled_at(e)),
        "endpointID": e.id.to_string(),
        "metric": {
            "numOfProcesses": e.process_count,
            "percentUtil": util,
            "percentUserTime": user,
            "percentSystemTime": system,
            "percentIdleTime": ((100.0 - util) * 10.0).round() / 10.0,
        }
    }])))
}

async fn memory(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let e = endpoint(&s, &id)?;
    Ok(Json(json!([{
        "createTimeUTC": rfc3339(sampled_at(e)),
        "createdBy": "agent",
        "index": 0,
        "name": "Physical Memory",
        "type": "memory",
        "endpointID": e.id.to_string(),
        "clientID": e.company_id.to_string(),
        "siteID": e.site_id.to_string(),
        "physicalTotalBytes": e.memory_total_bytes,
        "physicalInUseBytes": e.memory_used_bytes,
        "physicalAvailableBytes": e.memory_total_bytes - e.memory_used_bytes,
    }])))
}

async fn disk(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let e = endpoint(&s, &id)?;
    let at = rfc3339(sampled_at(e));
    let partitions: Vec<Value> = e
        .volumes
        .iter()
        .enumerate()
        .map(|(i, v)| {
            json!({
                "createTimeUTC": at, "createdBy": "agent", "index": i, "name": v.name, "type": "partition",
                "fileSystem": v.file_system, "mounted": true, "mountPoint": v.mount_point, "driveType": 3,
                "metric": {
                    "freeSpaceBytes": v.free_bytes, "usedSpaceBytes": v.total_bytes - v.free_bytes, "totalSpaceBytes": v.total_bytes,
                    "readCompleted": 1_204_331, "writeCompleted": 884_120, "readTimeMs": 51_220, "writeTimeMs": 73_410,
                    "avgDiskReadQueueLength": 0, "avgDiskWriteQueueLength": 0, "avgDiskSecPerRead": 0, "avgDiskSecPerWrite": 0,
                    "idleTime": 97.2, "diskTimeTotal": 2.8,
                }
            })
        })
        .collect();
    let total: u64 = e.volumes.iter().map(|v| v.total_bytes).sum();
    let free: u64 = e.volumes.iter().map(|v| v.free_bytes).sum();
    Ok(Json(json!([{
        "createTimeUTC": at,
        "endpointID": e.id.to_string(),
        "storages": [{
            "index": 0, "name": "Disk 0",
            "metric": {"freeSpaceBytes": free, "usedSpaceBytes": total - free, "totalSpaceBytes": total},
            "partitions": partitions,
        }]
    }])))
}

async fn system_state(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let e = endpoint(&s, &id)?;
    let seen = sampled_at(e);
    let boot = seen - e.uptime;
    let logon = boot + chrono::Duration::minutes(4);
    let users: Vec<Value> = e
        .logged_on_user
        .iter()
        .filter(|_| e.online)
        .map(|u| json!({"username": u, "isAdmin": false, "sessionID": "2", "sessionName": "Console", "status": "Active", "client": e.device_name, "logonTime": rfc3339(logon)}))
        .collect();
    let last = e.logged_on_user.as_ref().map(|u| {
        json!({"username": u, "logonTime": rfc3339(logon), "status": if e.online { "Active" } else { "Disconnected" }, "isAdmin": false})
    });
    let mut state = json!({
        "createTimeUTC": rfc3339(seen),
        "name": "systemstate",
        "type": "systemstate",
        "endpointID": e.id.to_string(),
        "clientID": e.company_id.to_string(),
        "siteID": e.site_id.to_string(),
        "startupStatus": {"lastBootUpTimeUTC": rfc3339(boot)},
        "loggedOnUsers": users,
    });
    // No user ever logged on: no `lastLoggedOnUser` (the spec's object is non-nullable).
    if let Some(last) = last {
        state["lastLoggedOnUser"] = last;
    }
    Ok(Json(state))
}

async fn heartbeat(
    State(s): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    const AREA: Area = Area::Heartbeat;
    let q = QueryParams::parse(raw.as_deref());
    match q.get("resourceType") {
        Some("endpoints") => {}
        Some(other) => {
            return Err(ApiError::bad_request(
                AREA,
                "INVALID_RESOURCE_TYPE",
                format!("resourceType: should be passed as endpoints, got '{other}'"),
            ))
        }
        None => {
            return Err(ApiError::bad_request(
                AREA,
                "MISSING_RESOURCE_TYPE",
                "resourceType: is required and should be endpoints",
            ))
        }
    }
    let resources = q.get("resources").map(split_list).unwrap_or_default();
    if resources.is_empty() {
        return Err(ApiError::bad_request(
            AREA,
            "MISSING_RESOURCES",
            "resources: at least one endpoint id is required",
        ));
    }
    if resources.len() > 500 {
        return Err(ApiError::bad_request(
            AREA,
            "TOO_MANY_RESOURCES",
            "resources: at most 500 endpoint ids are allowed",
        ));
    }
    let mut groups: Vec<(String, String, Vec<Value>)> = Vec::new();
    let mut failed = Vec::new();
    for r in &resources {
        match r.parse().ok().and_then(|id| s.tenant.endpoint(id)) {
            Some(e) => {
                let item = json!({"EndpointID": e.id.to_string(), "DcDateTimeUTC": rfc3339(sampled_at(e)), "Availability": e.online});
                let (c, st) = (e.company_id.to_string(), e.site_id.to_string());
                match groups.iter_mut().find(|g| g.0 == c && g.1 == st) {
                    Some(g) => g.2.push(item),
                    None => groups.push((c, st, vec![item])),
                }
            }
            None => failed
                .push(json!({"resourceType": "endpoints", "resource": r, "error": "Not Found"})),
        }
    }
    let status = match (groups.is_empty(), failed.is_empty()) {
        (false, true) => "success",
        (true, _) => "failed",
        (false, false) => "partial_success",
    };
    let ok: Vec<Value> = groups
        .into_iter()
        .map(|(c, st, eps)| json!({"clientID": c, "siteID": st, "endpoints": eps}))
        .collect();
    Ok(Json(
        json!({"status": status, "successfulRecords": ok, "failedRecords": failed}),
    ))
}
