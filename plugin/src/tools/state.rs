//! Live device state: five endpoints merged into one health answer.

use super::context::Ctx;
use crate::args::Args;
use crate::errors::{ToolError, ToolResult};
use crate::http::segment;
use crate::shape::{array, compact, field, merged, pick, project, text};
use serde_json::{json, Value};

const CPU_WARNING: f64 = 85.0;
const CPU_CRITICAL: f64 = 95.0;
const MEMORY_WARNING: f64 = 90.0;
const MEMORY_CRITICAL: f64 = 95.0;
const DISK_FREE_WARNING: f64 = 10.0;
const DISK_FREE_CRITICAL: f64 = 5.0;

pub fn get_device_state(ctx: &Ctx, raw: &str) -> ToolResult<Value> {
    let args = Args::parse(raw, &["endpointId"])?;
    let endpoint = args.req_uuid("endpointId", "find it with cw-rmm-list-devices")?;
    let base = format!("/api/platform/v2/device/endpoints/{}", segment(&endpoint));
    let parts = [
        (
            "heartbeat",
            ctx.api.get(
                "/api/platform/v2/device/endpoints/heartbeat",
                &[
                    ("resourceType", "endpoints".into()),
                    ("resources", endpoint.clone()),
                ],
            ),
        ),
        ("cpu", ctx.api.get(&format!("{base}/cpu-usage"), &[])),
        ("memory", ctx.api.get(&format!("{base}/memory-usage"), &[])),
        ("disks", ctx.api.get(&format!("{base}/disk-usage"), &[])),
        (
            "systemState",
            ctx.api.get(&format!("{base}/system-state-info"), &[]),
        ),
    ];
    let mut unavailable = Vec::new();
    let mut bodies = Vec::new();
    let mut first_error = None;
    for (name, result) in parts {
        match result {
            Ok(body) => bodies.push((name, body)),
            // Credentials, permission, throttling and host denials concern the whole call.
            Err(
                err @ (ToolError::Unauthorized(_)
                | ToolError::Forbidden(_)
                | ToolError::RateLimited { .. }
                | ToolError::Timeout(_)
                | ToolError::Internal(_)),
            ) => return Err(err),
            Err(err) => {
                unavailable.push(json!({"part": name, "reason": describe(&err)}));
                first_error.get_or_insert(err);
            }
        }
    }
    if bodies.is_empty() {
        return Err(first_error
            .unwrap_or_else(|| ToolError::Internal("no device state was fetched".into())));
    }
    // Only the heartbeat answered, and it does not know the endpoint: like every other
    // tool, an unknown id is not-found rather than a "health: unknown" report.
    let metrics_missing = unavailable.len() == 4
        && unavailable.iter().all(|u| {
            u["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("not found"))
        });
    let heartbeat_knows = bodies
        .iter()
        .any(|(n, b)| *n == "heartbeat" && find_heartbeat(b, &endpoint).is_some());
    if metrics_missing && !heartbeat_knows {
        return Err(ToolError::NotFound(format!(
            "endpoint {endpoint} not found; find it with cw-rmm-list-devices"
        )));
    }
    let get = |name: &str| bodies.iter().find(|(n, _)| *n == name).map(|(_, b)| b);
    let mut state = merge(
        &endpoint,
        get("heartbeat"),
        get("cpu"),
        get("memory"),
        get("disks"),
        get("systemState"),
    )?;
    if !unavailable.is_empty() {
        state["unavailable"] = Value::Array(unavailable);
    }
    Ok(state)
}

fn describe(err: &ToolError) -> String {
    match err {
        ToolError::NotFound(m) => format!("not found: {m}"),
        ToolError::Upstream { status, message } => format!("upstream {status}: {message}"),
        ToolError::InvalidInput { message, .. } => message.clone(),
        _ => "unavailable".to_string(),
    }
}

/// The newest sample of a time series (by `createTimeUTC`, ISO strings sort chronologically).
fn latest(body: Option<&Value>) -> ToolResult<Option<&Value>> {
    let Some(body) = body else { return Ok(None) };
    if body.is_object() {
        return Ok(Some(body));
    }
    let samples = array(body, &[], "usage samples")?;
    Ok(samples.iter().max_by(|a, b| {
        text(a, &["createTimeUTC"])
            .unwrap_or("")
            .cmp(text(b, &["createTimeUTC"]).unwrap_or(""))
    }))
}

/// Formats a number through serde_json (its float printer is already linked; core's is large).
fn number(value: f64) -> String {
    Value::from(value).to_string()
}

fn percent(part: f64, total: f64) -> Option<f64> {
    (total > 0.0).then(|| (part / total * 1000.0).round() / 10.0)
}

fn num(value: &Value, keys: &[&str]) -> Option<f64> {
    pick(value, keys).and_then(Value::as_f64)
}

pub fn merge(
    endpoint: &str,
    heartbeat: Option<&Value>,
    cpu: Option<&Value>,
    memory: Option<&Value>,
    disks: Option<&Value>,
    system: Option<&Value>,
) -> ToolResult<Value> {
    let mut issues: Vec<String> = Vec::new();
    let mut critical = false;
    let mut warning = false;

    let beat = heartbeat.and_then(|h| find_heartbeat(h, endpoint));
    let online = beat
        .and_then(|b| pick(b, &["Availability", "availability"]))
        .and_then(Value::as_bool);
    let last_heartbeat = beat
        .map(|b| field(b, &["DcDateTimeUTC", "dcDateTimeUTC", "lastSeen"]))
        .unwrap_or(Value::Null);
    if online == Some(false) {
        issues.push("endpoint is offline".into());
    }

    let cpu_out = latest(cpu)?.map(|sample| {
        let metric = sample.get("metric").unwrap_or(sample);
        let util = num(metric, &["percentUtil"]);
        if let Some(util) = util {
            if util >= CPU_CRITICAL {
                critical = true;
                issues.push(format!("CPU at {}%", number(util)));
            } else if util >= CPU_WARNING {
                warning = true;
                issues.push(format!("CPU at {}%", number(util)));
            }
        }
        compact(vec![
            ("percentUtil", field(metric, &["percentUtil"])),
            ("processes", field(metric, &["numOfProcesses"])),
            ("sampledAt", field(sample, &["createTimeUTC"])),
        ])
    });

    let memory_out = latest(memory)?.map(|sample| {
        let total = num(sample, &["physicalTotalBytes"]);
        let used = num(sample, &["physicalInUseBytes"])
            .or_else(|| Some(total? - num(sample, &["physicalAvailableBytes"])?));
        let used_pct = match (used, total) {
            (Some(u), Some(t)) => percent(u, t),
            _ => None,
        };
        if let Some(pct) = used_pct {
            if pct >= MEMORY_CRITICAL {
                critical = true;
                issues.push(format!("memory {}% used", number(pct)));
            } else if pct >= MEMORY_WARNING {
                warning = true;
                issues.push(format!("memory {}% used", number(pct)));
            }
        }
        merged(
            project(
                sample,
                &[
                    ("totalBytes", &["physicalTotalBytes"]),
                    ("inUseBytes", &["physicalInUseBytes"]),
                    ("availableBytes", &["physicalAvailableBytes"]),
                    ("sampledAt", &["createTimeUTC"]),
                ],
            ),
            compact(vec![(
                "percentUsed",
                used_pct.map(Value::from).unwrap_or(Value::Null),
            )]),
        )
    });

    let mut disks_out = Vec::new();
    if let Some(sample) = latest(disks)? {
        for storage in array(sample, &["storages"], "disk usage")? {
            let partitions = storage
                .get("partitions")
                .and_then(Value::as_array)
                .filter(|p| !p.is_empty());
            let volumes: Vec<&Value> = match partitions {
                Some(parts) => parts.iter().collect(),
                None => vec![storage],
            };
            for volume in volumes {
                let metric = volume.get("metric").unwrap_or(volume);
                let total = num(metric, &["totalSpaceBytes"]);
                let free = num(metric, &["freeSpaceBytes"]);
                let free_pct = match (free, total) {
                    (Some(f), Some(t)) => percent(f, t),
                    _ => None,
                };
                let name = text(volume, &["mountPoint", "name"])
                    .or_else(|| text(storage, &["name"]))
                    .unwrap_or("disk")
                    .to_string();
                if let Some(pct) = free_pct {
                    if pct < DISK_FREE_CRITICAL {
                        critical = true;
                        issues.push(format!("{name} only {}% free", number(pct)));
                    } else if pct < DISK_FREE_WARNING {
                        warning = true;
                        issues.push(format!("{name} only {}% free", number(pct)));
                    }
                }
                disks_out.push(compact(vec![
                    ("name", json!(name)),
                    ("fileSystem", field(volume, &["fileSystem"])),
                    ("totalBytes", field(metric, &["totalSpaceBytes"])),
                    ("freeBytes", field(metric, &["freeSpaceBytes"])),
                    (
                        "percentFree",
                        free_pct.map(Value::from).unwrap_or(Value::Null),
                    ),
                ]));
            }
        }
    }

    let (last_boot, users, last_user) = match system {
        Some(s) => (
            s.get("startupStatus")
                .map(|st| field(st, &["lastBootUpTimeUTC"]))
                .unwrap_or(Value::Null),
            s.get("loggedOnUsers")
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .map(|u| {
                            project(
                                u,
                                &[
                                    ("username", &["username"]),
                                    ("isAdmin", &["isAdmin"]),
                                    ("status", &["status"]),
                                    ("logonTime", &["logonTime"]),
                                    ("session", &["sessionName"]),
                                ],
                            )
                        })
                        .collect::<Vec<_>>()
                }),
            s.get("lastLoggedOnUser").cloned().unwrap_or(Value::Null),
        ),
        None => (Value::Null, None, Value::Null),
    };

    let health = if online == Some(false) {
        "offline"
    } else if critical {
        "critical"
    } else if warning {
        "warning"
    } else if online.is_none() && cpu_out.is_none() && memory_out.is_none() && disks_out.is_empty()
    {
        "unknown"
    } else {
        "healthy"
    };
    Ok(json!({
        "endpointId": endpoint,
        "online": online,
        "lastHeartbeat": last_heartbeat,
        "health": health,
        "issues": issues,
        "cpu": cpu_out,
        "memory": memory_out,
        "disks": disks_out,
        "lastBootUpTime": last_boot,
        "loggedOnUsers": users.unwrap_or_default(),
        "lastLoggedOnUser": last_user,
    }))
}

/// This endpoint's entry in `successfulRecords[].endpoints[]` of the heartbeat answer.
fn find_heartbeat<'h>(heartbeat: &'h Value, endpoint: &str) -> Option<&'h Value> {
    let records = heartbeat.get("successfulRecords")?.as_array()?;
    let entries = records
        .iter()
        .filter_map(|r| r.get("endpoints").and_then(Value::as_array))
        .flatten();
    let mut first = None;
    for entry in entries {
        if text(entry, &["EndpointID", "endpointID", "endpointId"])
            .is_some_and(|id| id.eq_ignore_ascii_case(endpoint))
        {
            return Some(entry);
        }
        first.get_or_insert(entry);
    }
    first
}

#[cfg(test)]
mod tests {
    use crate::errors::ToolError;
    use crate::http::fake::FakeTransport;
    use crate::tools::testing::*;
    use serde_json::json;

    const E: &str = "11111111-1111-4111-8111-111111111111";

    fn heartbeat(online: bool) -> String {
        json!({"status": "success", "successfulRecords": [{"clientID": "c", "siteID": "s", "endpoints": [{"EndpointID": E, "DcDateTimeUTC": "2025-01-31T11:59:00Z", "Availability": online}]}], "failedRecords": []}).to_string()
    }

    #[test]
    fn merges_all_parts_into_a_verdict() {
        let fake = FakeTransport::new();
        fake.reply(200, &heartbeat(true))
            .reply(200, r#"[{"createTimeUTC":"2025-01-31T11:00:00Z","metric":{"percentUtil":99}},{"createTimeUTC":"2025-01-31T11:58:00Z","metric":{"percentUtil":12.5,"numOfProcesses":143}}]"#)
            .reply(200, r#"[{"createTimeUTC":"2025-01-31T11:58:00Z","physicalTotalBytes":1000,"physicalInUseBytes":920,"physicalAvailableBytes":80}]"#)
            .reply(200, r#"[{"createTimeUTC":"t","storages":[{"name":"Disk 0","metric":{"totalSpaceBytes":100,"freeSpaceBytes":3},"partitions":[{"name":"C:","mountPoint":"C:\\","metric":{"totalSpaceBytes":100,"freeSpaceBytes":3}}]}]}]"#)
            .reply(200, r#"{"startupStatus":{"lastBootUpTimeUTC":"2025-01-30T08:00:00Z"},"loggedOnUsers":[{"username":"maria","isAdmin":false}]}"#);
        let out = run(
            &fake,
            "cw-rmm-get-device-state",
            &format!(r#"{{"endpointId":"{E}"}}"#),
        )
        .unwrap();
        assert_eq!(out["online"], true);
        assert_eq!(out["cpu"]["percentUtil"], 12.5);
        assert_eq!(out["memory"]["percentUsed"], 92.0);
        assert_eq!(out["health"], "critical");
        assert_eq!(out["issues"].as_array().unwrap().len(), 2);
        assert_eq!(out["disks"][0]["name"], "C:\\");
        assert_eq!(out["lastBootUpTime"], "2025-01-30T08:00:00Z");
        assert_eq!(out["loggedOnUsers"][0]["username"], "maria");
        assert!(
            fake.paths()[0].ends_with(&format!("heartbeat?resourceType=endpoints&resources={E}"))
        );
    }

    #[test]
    fn offline_wins_and_missing_parts_are_reported() {
        let fake = FakeTransport::new();
        fake.reply(200, &heartbeat(false))
            .reply(404, r#"{"code":"404","message":"no data"}"#)
            .reply(200, "[]")
            .reply(200, "[]")
            .reply(500, "boom");
        let out = run(
            &fake,
            "cw-rmm-get-device-state",
            &format!(r#"{{"endpointId":"{E}"}}"#),
        )
        .unwrap();
        assert_eq!(out["health"], "offline");
        assert_eq!(out["unavailable"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn an_unknown_endpoint_is_not_found() {
        let fake = FakeTransport::new();
        let unknown = json!({"status": "failed", "successfulRecords": [], "failedRecords": [{"resourceType": "endpoints", "resource": E, "error": "Not Found"}]});
        fake.reply(200, &unknown.to_string());
        for _ in 0..4 {
            fake.reply(404, r#"{"code":"404","message":"Endpoint not found"}"#);
        }
        let args = format!(r#"{{"endpointId":"{E}"}}"#);
        match run(&fake, "cw-rmm-get-device-state", &args) {
            Err(ToolError::NotFound(message)) => assert!(message.contains("cw-rmm-list-devices")),
            other => panic!("expected not-found, got {other:?}"),
        }
    }

    #[test]
    fn permission_errors_fail_the_call() {
        let fake = FakeTransport::new();
        fake.reply(200, &heartbeat(true))
            .reply(403, "access is forbidden")
            .reply(200, "[]")
            .reply(200, "[]")
            .reply(200, "{}");
        assert!(matches!(
            run(
                &fake,
                "cw-rmm-get-device-state",
                &format!(r#"{{"endpointId":"{E}"}}"#)
            ),
            Err(ToolError::Forbidden(_))
        ));
    }
}
