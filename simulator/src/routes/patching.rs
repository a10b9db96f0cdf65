//! `GET /api/platform/v2/patching/{endpointId}/patches` (and the older v1 path).

use crate::errors::{ApiError, Area};
use crate::state::AppState;
use crate::tenant::{derive_id, pick, DeviceKind, Endpoint};
use crate::time::rfc3339;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use std::sync::Arc;

const AREA: Area = Area::Patching;

/// `patches[].status` codes. The spec does not decode them; the simulator uses
/// 0 = missing, 1 = installed, 2 = installed pending reboot, 3 = failed.
pub const STATUS_MISSING: u8 = 0;
pub const STATUS_INSTALLED: u8 = 1;
pub const STATUS_PENDING_REBOOT: u8 = 2;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/api/platform/v2/patching/{endpointId}/patches",
            get(patches),
        )
        .route(
            "/api/platform/v1/patching/{endpointId}/patches",
            get(patches),
        )
}

async fn patches(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let not_found = || ApiError::not_found(AREA, "Endpoint patches not found");
    let e = id
        .parse()
        .ok()
        .and_then(|id| s.tenant.endpoint(id))
        .ok_or_else(not_found)?;
    // Patch management covers Windows only in the simulated tenant.
    if !matches!(
        e.kind,
        DeviceKind::WindowsServer | DeviceKind::WindowsDesktop | DeviceKind::WindowsLaptop
    ) {
        return Err(not_found());
    }
    Ok(Json(report(e)))
}

fn patch(e: &Endpoint, n: u32, status: u8, installed: Option<chrono::DateTime<Utc>>) -> Value {
    let kb = 5_030_000 + pick(&e.device_name, &format!("kb{n}"), 0, 9_999);
    let (classification, severity) = match n % 3 {
        0 => ("Security Updates", "Critical"),
        1 => ("Critical Updates", "Important"),
        _ => ("Updates", "Moderate"),
    };
    let mut patch = json!({
        "updateID": derive_id("patch", &format!("{}/{n}", e.device_name)).to_string(),
        "kbArticleID": format!("KB{kb}"),
        "status": status,
        "classification": classification,
        "rebootBehavior": if status == STATUS_PENDING_REBOOT { "AlwaysRequiresReboot" } else { "CanRequestReboot" },
        "msrcID": format!("MS24-{:03}", n + 10),
        "msrcSeverity": severity,
        "nocTestingStatus": "Approved",
        "partnerApprovalStatus": "Approved",
        "size": format!("{} MB", 20 + n * 7),
        "moreInformationLink": format!("https://support.microsoft.com/help/{kb}"),
        "policyMatch": true,
        "installedBy": if installed.is_some() { "ConnectWise RMM" } else { "" },
    });
    // A patch not installed has no `installedDate` (the spec's field is non-nullable).
    if let Some(at) = installed {
        patch["installedDate"] = json!(rfc3339(at));
    }
    patch
}

fn report(e: &Endpoint) -> Value {
    let now = Utc::now();
    let mut list = Vec::new();
    let mut n = 0;
    for _ in 0..e.patches_missing {
        list.push(patch(e, n, STATUS_MISSING, None));
        n += 1;
    }
    for _ in 0..e.patches_pending_reboot {
        list.push(patch(
            e,
            n,
            STATUS_PENDING_REBOOT,
            Some(now - Duration::days(2)),
        ));
        n += 1;
    }
    // Only the five most recent installed patches are listed; the count covers all.
    for i in 0..e.patches_installed.min(5) {
        list.push(patch(
            e,
            n,
            STATUS_INSTALLED,
            Some(now - Duration::days(9 + i64::from(i) * 14)),
        ));
        n += 1;
    }
    let total = e.patches_missing + e.patches_installed + e.patches_pending_reboot;
    let compliance = if total == 0 {
        100.0
    } else {
        (f64::from(e.patches_installed) * 1000.0 / f64::from(total)).round() / 10.0
    };
    let pending = e.patches_pending_reboot > 0;
    let mut report = json!({
        "summary": {
            "assessedAt": rfc3339(now - e.last_seen_ago - Duration::hours(3)),
            "missingCount": e.patches_missing,
            "pendingRebootCount": e.patches_pending_reboot,
            "installedCount": e.patches_installed,
            "compliance": compliance,
            "outOfSupport": false,
            "deploymentStatus": true,
            "policyName": if e.kind == DeviceKind::WindowsServer { "Servers - Monthly" } else { "Workstations - Weekly" },
            "downloadSchedule": "Daily at 01:00",
            "nextDownloadAt": rfc3339(now + Duration::hours(10)),
            "installationSchedule": "Sunday at 02:00",
            "nextInstallAt": rfc3339(now + Duration::days(3)),
            // Feature updates are deferred: no `nextFeatureUpdatesInstallAt`.
            "featureUpdatesInstallationSchedule": "Deferred",
            "rebootSchedule": "After installation, outside business hours",
            "currentRebootState": if pending { "RebootPending" } else { "NoRebootRequired" },
            "rebootPostponedBy": if pending { "user" } else { "" },
            "pendingReboot": pending,
        },
        "patches": list,
    });
    // The spec's date-times are non-nullable: without a pending reboot there is no next
    // reboot or notification, so the fields are left out rather than sent as null.
    if pending {
        report["summary"]["nextRebootAt"] = json!(rfc3339(now + Duration::hours(14)));
        report["summary"]["rebootNotifiedAt"] = json!(rfc3339(now - Duration::days(1)));
    }
    report
}
