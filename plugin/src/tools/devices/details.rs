//! One device's details (get-device), locating its company and site first when not given.

use super::list::{fetch, Query, Scope};
use crate::args::Args;
use crate::errors::{ToolError, ToolResult};
use crate::http::segment;
use crate::shape::{compact, field, merged, project, text};
use crate::tools::context::Ctx;
use serde_json::{json, Value};

/// Projection for one device's details (15 fields, the API's maximum).
const DETAIL_FIELDS: &str =
    "os,system,bios,baseboard,processors,physicalMemory,drives,logicalVolume,networks,antiViruses,users,firewall,agentInstalledUTC,friendlyName,deviceName";

/// Finds one endpoint's company and site through the list endpoint (resourceType endpoint).
pub fn locate(ctx: &Ctx, endpoint_id: &str) -> ToolResult<(String, String)> {
    let listing = fetch(
        ctx,
        &Query {
            scope: Scope::Endpoint(endpoint_id.to_string()),
            name_lower: None,
            endpoint_types: None,
            limit: 1,
        },
    )?;
    let device = listing.devices.first().ok_or_else(|| {
        ToolError::NotFound(format!(
            "endpoint {endpoint_id} was not found; check the id with cw-rmm-list-devices"
        ))
    })?;
    match (text(device, &["companyId"]), text(device, &["siteId"])) {
        (Some(c), Some(s)) => Ok((c.to_string(), s.to_string())),
        _ => Err(ToolError::upstream_shape(
            "device list entry without companyID/siteID",
        )),
    }
}

pub fn get_device(ctx: &Ctx, raw: &str) -> ToolResult<Value> {
    let args = Args::parse(raw, &["endpointId", "companyId", "siteId"])?;
    let endpoint = args.req_uuid("endpointId", "find it with cw-rmm-list-devices")?;
    // The company and site come from the API, never from the arguments: the host checks a
    // limited role's scope against them, so echoing the caller's own ids would prove nothing.
    let (company, site) = locate(ctx, &endpoint)?;
    for (field, given, actual) in [
        ("companyId", args.opt_uuid("companyId")?, &company),
        ("siteId", args.opt_uuid("siteId")?, &site),
    ] {
        if given.is_some_and(|g| !g.eq_ignore_ascii_case(actual)) {
            return Err(ToolError::NotFound(format!(
                "endpoint {endpoint} is not in the {field} given; leave {field} out to look it \
                 up"
            )));
        }
    }
    let path = format!(
        "/api/platform/v2/device/companies/{}/sites/{}/endpoints/{}",
        segment(&company),
        segment(&site),
        segment(&endpoint)
    );
    let mut body = ctx
        .api
        .get(&path, &[("field", DETAIL_FIELDS.to_string())])?;
    if !body.is_object() {
        return Err(ToolError::upstream_shape(
            "device details: expected an object",
        ));
    }
    let category = ["platform", "network", "cloud"]
        .into_iter()
        .find(|k| body.get(*k).is_some_and(Value::is_object));
    let details = category.and_then(|k| body.get(k)).unwrap_or(&body);
    let networks = details
        .get("networks")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|n| {
                    merged(
                        project(
                            n,
                            &[
                                ("name", &["logicalName", "product"]),
                                ("macAddress", &["macAddress"]),
                                ("gateway", &["defaultIPGateway"]),
                                ("dnsServers", &["dnsServers"]),
                                ("dhcpEnabled", &["dhcpEnabled"]),
                            ],
                        ),
                        compact(vec![
                            ("ipv4", field(n, &["ipv4List", "ipv4"])),
                            ("ipv6", field(n, &["ipv6"])),
                        ]),
                    )
                })
                .collect::<Vec<_>>()
        });
    let memory_total: Option<u64> =
        details
            .get("physicalMemory")
            .and_then(Value::as_array)
            .map(|modules| {
                modules
                    .iter()
                    .filter_map(|m| m.get("sizeBytes").and_then(Value::as_u64))
                    .sum()
            });
    let users = details.get("users").and_then(Value::as_array).map(|list| {
        list.iter()
            .map(|u| {
                project(
                    u,
                    &[
                        ("username", &["username"]),
                        ("accountType", &["accountType", "userType"]),
                        ("disabled", &["userDisabled"]),
                        ("lastLogon", &["lastLogonTimestamp"]),
                    ],
                )
            })
            .collect::<Vec<_>>()
    });
    let facts = compact(vec![
        ("endpointId", json!(endpoint)),
        ("companyId", json!(company)),
        ("siteId", json!(site)),
        (
            "name",
            field(details, &["friendlyName"]).or(field(&body, &["friendlyName"])),
        ),
        (
            "deviceName",
            field(details, &["deviceName"]).or(field(&body, &["deviceName"])),
        ),
        (
            "endpointType",
            field(&body, &["endpointType"]).or(field(details, &["endpointType"])),
        ),
        ("osType", field(&body, &["osType"])),
        (
            "memoryTotalBytes",
            memory_total
                .filter(|t| *t > 0)
                .map(Value::from)
                .unwrap_or(Value::Null),
        ),
        ("networks", networks.map(Value::from).unwrap_or(Value::Null)),
        ("users", users.map(Value::from).unwrap_or(Value::Null)),
    ]);
    // The big inventories are moved into the answer, not copied: the body is dropped next.
    let details = match category {
        Some(k) => &mut body[k],
        None => &mut body,
    };
    Ok(merged(
        taken(
            details,
            &[
                ("os", "os"),
                ("system", "system"),
                ("bios", "bios"),
                ("baseboard", "baseboard"),
                ("processors", "processors"),
                ("drives", "drives"),
                ("logicalVolumes", "logicalVolume"),
                ("antiViruses", "antiViruses"),
                ("firewall", "firewall"),
                ("agentInstalledUTC", "agentInstalledUTC"),
            ],
        ),
        facts,
    ))
}

/// `project` with one name per field, moving each value out of `value` instead of cloning it.
fn taken(value: &mut Value, fields: &[(&str, &str)]) -> Value {
    compact(
        fields
            .iter()
            .map(|(key, name)| {
                (
                    *key,
                    value.get_mut(*name).map(Value::take).unwrap_or_default(),
                )
            })
            .collect(),
    )
}

/// `a.or(b)` for JSON: `a` unless it is null.
trait OrValue {
    fn or(self, other: Value) -> Value;
}

impl OrValue for Value {
    fn or(self, other: Value) -> Value {
        if self.is_null() {
            other
        } else {
            self
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::http::fake::FakeTransport;
    use crate::tools::testing::*;
    use serde_json::json;

    const C1: &str = "11111111-1111-4111-8111-111111111111";

    #[test]
    fn get_device_looks_up_company_and_site() {
        let fake = FakeTransport::new();
        fake.reply(200, &json!({"platform": [{"companyID": "c9", "siteID": "s9", "endpoints": [{"endpointID": C1}]}]}).to_string())
            .reply(200, &json!({"endpointID": C1, "endpointType": "Server", "platform": {"friendlyName": "DC01", "os": {"product": "Windows Server"}, "physicalMemory": [{"sizeBytes": 8}, {"sizeBytes": 8}], "networks": [{"logicalName": "eth0", "ipv4": "10.0.0.5"}]}}).to_string());
        let out = run(
            &fake,
            "cw-rmm-get-device",
            &format!(r#"{{"endpointId":"{C1}"}}"#),
        )
        .unwrap();
        assert_eq!(out["companyId"], "c9");
        assert_eq!(out["name"], "DC01");
        assert_eq!(out["memoryTotalBytes"], 16);
        assert_eq!(out["networks"][0]["ipv4"], "10.0.0.5");
        assert_eq!(
            fake.body_of(0),
            json!({"resourceType": "endpoint", "resources": [C1]})
        );
        assert!(fake.paths()[1].starts_with(&format!(
            "/api/platform/v2/device/companies/c9/sites/s9/endpoints/{C1}?field="
        )));
    }

    #[test]
    fn get_device_answer_is_pinned_byte_for_byte() {
        let fake = FakeTransport::new();
        fake.reply(200, &json!({"platform": [{"companyID": "c9", "siteID": "s9", "endpoints": [{"endpointID": C1}]}]}).to_string())
            .reply(200, &json!({"endpointID": C1, "endpointType": "Server", "osType": "Windows", "platform": {
                "friendlyName": "DC01", "deviceName": "dc01", "os": {"product": "Windows Server", "version": "2022"},
                "system": {"manufacturer": "Dell", "model": "R740"}, "bios": null, "baseboard": {"serialNumber": "X1"},
                "processors": [{"name": "Xeon", "cores": 8}], "drives": [{"model": "SSD", "sizeBytes": 512}],
                "logicalVolume": [{"name": "C:", "freeBytes": 100}], "antiViruses": [], "firewall": {"enabled": true},
                "agentInstalledUTC": "2024-01-02T03:04:05Z", "physicalMemory": [{"sizeBytes": 8}, {"sizeBytes": 8}],
                "networks": [{"logicalName": "eth0", "ipv4List": ["10.0.0.5"], "macAddress": "AA", "dhcpEnabled": false}],
                "users": [{"username": "maria", "userType": "local", "userDisabled": false}]}}).to_string());
        let out = crate::tools::call(
            &ctx(&fake),
            "cw-rmm-get-device",
            &format!(r#"{{"endpointId":"{C1}"}}"#),
        )
        .unwrap();
        assert_eq!(
            out,
            r#"{"agentInstalledUTC":"2024-01-02T03:04:05Z","antiViruses":[],"baseboard":{"serialNumber":"X1"},"companyId":"c9","deviceName":"dc01","drives":[{"model":"SSD","sizeBytes":512}],"endpointId":"11111111-1111-4111-8111-111111111111","endpointType":"Server","firewall":{"enabled":true},"logicalVolumes":[{"freeBytes":100,"name":"C:"}],"memoryTotalBytes":16,"name":"DC01","networks":[{"dhcpEnabled":false,"ipv4":["10.0.0.5"],"macAddress":"AA","name":"eth0"}],"os":{"product":"Windows Server","version":"2022"},"osType":"Windows","processors":[{"cores":8,"name":"Xeon"}],"siteId":"s9","system":{"manufacturer":"Dell","model":"R740"},"users":[{"accountType":"local","disabled":false,"username":"maria"}]}"#
        );
    }

    #[test]
    fn get_device_reports_the_apis_company_not_the_callers() {
        let fake = FakeTransport::new();
        fake.reply(200, &json!({"platform": [{"companyID": "c9", "siteID": "s9", "endpoints": [{"endpointID": C1}]}]}).to_string());
        let err = run(
            &fake,
            "cw-rmm-get-device",
            &format!(r#"{{"endpointId":"{C1}","companyId":"{C1}","siteId":"{C1}"}}"#),
        )
        .unwrap_err();
        assert!(
            matches!(err, crate::errors::ToolError::NotFound(_)),
            "{err:?}"
        );
        assert_eq!(fake.paths().len(), 1, "no details were fetched");
    }

    #[test]
    fn get_device_unknown_endpoint_is_not_found() {
        let fake = FakeTransport::new();
        fake.reply(200, r#"{"platform":[]}"#);
        assert!(matches!(
            run(
                &fake,
                "cw-rmm-get-device",
                &format!(r#"{{"endpointId":"{C1}"}}"#)
            ),
            Err(crate::errors::ToolError::NotFound(_))
        ));
    }
}
