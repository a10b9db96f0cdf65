//! The device list: the v2 categorized endpoint list, paged through `Link` cursors and chunked
//! by company, shared by list-devices, the device lookup and the company expansion of run-task.

use super::matching::{Filter, Ranked};
use crate::args::{fold, Args};
use crate::catalog::ENDPOINT_TYPES;
use crate::errors::{ToolError, ToolResult};
use crate::http::{next_link, query_param};
use crate::shape::{array, compact, field, merged, pick, project, text};
use crate::tools::companies::COMPANIES_PATH;
use crate::tools::context::Ctx;
use serde_json::{json, Value};

const LIST_PATH: &str = "/api/platform/v2/device/categories/all/endpoints";
/// The API's maximum (and default) page size.
const PAGE_SIZE: usize = 500;
/// The API accepts at most this many company ids per list request.
const COMPANIES_PER_REQUEST: usize = 4;
/// Upper bound on list requests per call, so a huge tenant cannot keep one call running forever.
/// A `name` or `user` filter reads every page (to rank), so it costs the listing's page count.
const MAX_LIST_REQUESTS: usize = 200;
/// Projection for the list: metadata the answer uses (the API allows at most 15 fields).
const LIST_FIELDS: &str = "friendlyName,deviceName,endpointType,ipAddress,os";

/// Which endpoints to list.
#[derive(Debug, Clone)]
pub enum Scope {
    Site(String),
    Company(String),
    Endpoint(String),
    Everything,
}

/// What to keep while paging.
pub struct Query {
    pub scope: Scope,
    pub name_lower: Option<String>,
    pub endpoint_types: Option<Vec<String>>,
    pub limit: usize,
}

pub struct Listing {
    pub devices: Vec<Value>,
    pub truncated: bool,
}

/// The answer as text: each row is serialised as its page is read, so a listing of 10,000
/// holds one parsed page and the answer's text, not a tree of values for every row.
pub fn list_devices(ctx: &Ctx, raw: &str) -> ToolResult<String> {
    let args = Args::parse(
        raw,
        &[
            "companyId",
            "siteId",
            "name",
            "user",
            "endpointType",
            "limit",
        ],
    )?;
    let name = args.opt_str("name")?.map(|s| fold(&s));
    let user = args.opt_str("user")?.map(|s| fold(&s));
    let company = args.opt_uuid("companyId")?;
    let site = args.opt_uuid("siteId")?;
    let endpoint_types = args.opt_word_list("endpointType", ENDPOINT_TYPES, 10)?;
    let limit = args.int_in("limit", 1, 10_000, 100)? as usize;
    let scope = match (site, company) {
        (Some(site), _) => Scope::Site(site),
        (None, Some(company)) => Scope::Company(company),
        (None, None) => Scope::Everything,
    };
    let (rows, truncated) = fetch_filtered(
        ctx,
        &Query {
            scope,
            name_lower: None,
            endpoint_types,
            limit,
        },
        &Filter {
            name: name.as_deref(),
            user: user.as_deref(),
        },
    )?;
    // The same text as serialising {"count", "devices", "truncated"}: keys in sorted order.
    let head = format!("{{\"count\":{},\"devices\":", rows.len());
    let truncated = truncated || rows.dropped;
    // Growing the text doubles its capacity, so the head almost always fits in front of the
    // rows without a copy of them.
    let mut answer = rows.finish();
    answer.insert_str(0, &head);
    answer.push_str(if truncated {
        ",\"truncated\":true}"
    } else {
        ",\"truncated\":false}"
    });
    Ok(answer)
}

/// Lists endpoints for a scope, following `Link` pages and chunking companies by four.
pub fn fetch(ctx: &Ctx, query: &Query) -> ToolResult<Listing> {
    let filter = Filter {
        name: query.name_lower.as_deref(),
        user: None,
    };
    let (rows, truncated) = fetch_filtered(ctx, query, &filter)?;
    let truncated = truncated || rows.dropped;
    // Few rows here (a lookup, a run's targets): parsed back with the parser the component has.
    let devices = match crate::pruned::parse_all(rows.finish().as_bytes()) {
        Ok(Value::Array(devices)) => devices,
        _ => Vec::new(),
    };
    Ok(Listing { devices, truncated })
}

/// `fetch` with ranked filters: unfiltered it stops at `limit`; filtered it reads every page
/// (up to the request bound) so an exact match on a late page still ranks first.
/// The kept rows and whether the listing stopped early (rows `Ranked` dropped aside).
fn fetch_filtered(ctx: &Ctx, query: &Query, filter: &Filter) -> ToolResult<(Ranked, bool)> {
    let batches: Vec<(&str, Vec<String>)> = match &query.scope {
        Scope::Site(id) => vec![("site", vec![id.clone()])],
        Scope::Company(id) => vec![("company", vec![id.clone()])],
        Scope::Endpoint(id) => vec![("endpoint", vec![id.clone()])],
        Scope::Everything => {
            let keep = ["companies", "data", "id"];
            let body = ctx.api.get_keeping(COMPANIES_PATH, &[], &keep)?;
            let ids: Vec<String> = array(&body, &["companies", "data"], "companies")?
                .iter()
                .filter_map(|c| text(c, &["id"]).map(str::to_string))
                .collect();
            ids.chunks(COMPANIES_PER_REQUEST)
                .map(|chunk| ("company", chunk.to_vec()))
                .collect()
        }
    };
    let type_filter = query
        .endpoint_types
        .as_ref()
        .map(|types| format!("endpointType in ({})", types.join(",")));
    let mut devices = Ranked::new(query.limit);
    // Filtered, every page is read so ranking sees every match; `Ranked` keeps the limit.
    let stop_at = if filter.is_empty() {
        query.limit
    } else {
        usize::MAX
    };
    let mut requests = 0;
    for (batch_index, (resource_type, resources)) in batches.iter().enumerate() {
        let body = json!({"resourceType": resource_type, "resources": resources});
        let start_page = |cursor: u64| {
            let mut params = vec![
                ("limit", PAGE_SIZE.to_string()),
                ("cursor", cursor.to_string()),
                ("field", LIST_FIELDS.to_string()),
            ];
            if let Some(filter) = &type_filter {
                params.push(("filter", filter.clone()));
            }
            ctx.api.start_post(LIST_PATH, &params, &body)
        };
        let mut cursor: u64 = 0;
        let mut prefetched = None;
        loop {
            let pending = match prefetched.take() {
                Some(pending) => pending,
                None if requests >= MAX_LIST_REQUESTS => return Ok((devices, true)),
                None => {
                    requests += 1;
                    start_page(cursor)
                }
            };
            let page = pending.finish()?;
            let next_cursor = page
                .header("link")
                .and_then(next_link)
                .and_then(|url| query_param(&url, "cursor"));
            // A cursor that does not advance would loop forever; treat it as the end.
            let next = next_cursor
                .and_then(|c| c.parse::<u64>().ok())
                .filter(|next| *next > cursor);
            // The next page travels while this one is shaped, when it is wanted whatever this
            // page holds: the rows so far and a full page still fall short of the limit. Over
            // a 50 ms round trip that hides the plugin's work on every page but the last.
            if let Some(next) = next {
                if devices.len() + PAGE_SIZE < stop_at && requests < MAX_LIST_REQUESTS {
                    requests += 1;
                    prefetched = Some(start_page(next));
                }
            }
            for mut device in flatten(&page.body)? {
                if devices.len() == stop_at {
                    return Ok((devices, true));
                }
                if let Some(rank) = filter.rank(&mut device) {
                    devices.push(rank, &device);
                }
            }
            if devices.len() == stop_at && (next.is_some() || batch_index + 1 < batches.len()) {
                return Ok((devices, true));
            }
            match next {
                Some(next) => cursor = next,
                None => break,
            }
        }
    }
    Ok((devices, false))
}

/// Flattens `{platform|network|cloud: [{companyID, siteID, endpoints: [...]}]}` into device summaries.
fn flatten(body: &Value) -> ToolResult<Vec<Value>> {
    let groups: Vec<&Value> = match body {
        Value::Null => Vec::new(),
        Value::Array(groups) => groups.iter().collect(),
        Value::Object(_) => {
            let mut groups = Vec::new();
            for category in ["platform", "network", "cloud"] {
                groups.extend(array(body, &[category], "device list")?.iter());
            }
            groups
        }
        _ => {
            return Err(ToolError::upstream_shape(
                "device list: expected an object of categories",
            ))
        }
    };
    let mut devices = Vec::new();
    for group in groups {
        let company = field(group, &["companyID", "companyId", "clientID", "clientId"]);
        let site = field(group, &["siteID", "siteId"]);
        for endpoint in array(group, &["endpoints"], "device list endpoints")? {
            devices.push(device_summary(endpoint, &company, &site));
        }
    }
    Ok(devices)
}

fn device_summary(endpoint: &Value, company: &Value, site: &Value) -> Value {
    let ips = match pick(endpoint, &["ipAddress", "ipAddresses"]) {
        Some(Value::String(ip)) => json!([ip]),
        Some(list @ Value::Array(_)) => list.clone(),
        _ => Value::Null,
    };
    merged(
        project(
            endpoint,
            &[
                ("name", &["friendlyName"]),
                ("deviceName", &["deviceName"]),
                ("endpointType", &["endpointType"]),
            ],
        ),
        compact(vec![
            (
                "endpointId",
                field(endpoint, &["endpointID", "endpointId", "id"]),
            ),
            (
                "companyId",
                if company.is_null() {
                    field(endpoint, &["companyID", "clientID", "clientId"])
                } else {
                    company.clone()
                },
            ),
            (
                "siteId",
                if site.is_null() {
                    field(endpoint, &["siteID", "siteId"])
                } else {
                    site.clone()
                },
            ),
            // The spec only calls os.userName "User Name"; the `user` filter matches it.
            (
                "user",
                match endpoint.get("os").and_then(|os| os.get("userName")) {
                    Some(Value::String(u)) if !u.is_empty() => Value::String(u.clone()),
                    _ => Value::Null,
                },
            ),
            ("os", os_label(endpoint)),
            ("ipAddresses", ips),
        ]),
    )
}

/// A one-line OS description from `os{product, version}` or the metadata `osType`.
fn os_label(endpoint: &Value) -> Value {
    match endpoint.get("os") {
        Some(os @ Value::Object(_)) => {
            let product = text(os, &["product", "name", "caption", "type"]);
            let version = text(os, &["version", "buildNumber"]);
            match (product, version) {
                (Some(p), Some(v)) if !p.contains(v) => json!(format!("{p} {v}")),
                (Some(p), _) => json!(p),
                _ => field(endpoint, &["osType"]),
            }
        }
        Some(Value::String(s)) => json!(s),
        _ => field(endpoint, &["osType"]),
    }
}

#[cfg(test)]
mod tests {
    use crate::http::fake::FakeTransport;
    use crate::tools::testing::*;
    use serde_json::json;

    const C1: &str = "11111111-1111-4111-8111-111111111111";

    fn page(company: &str, names: &[&str]) -> String {
        let endpoints: Vec<_> = names
            .iter()
            .enumerate()
            .map(|(i, n)| json!({"endpointID": format!("e-{n}-{i}"), "friendlyName": n, "deviceName": n.to_uppercase(), "endpointType": "Desktop", "ipAddress": ["10.0.0.1"], "os": {"product": "Windows 11 Pro", "version": "23H2"}}))
            .collect();
        json!({"platform": [{"companyID": company, "siteID": "s1", "endpoints": endpoints}], "network": [], "cloud": null}).to_string()
    }

    #[test]
    fn follows_link_pages_until_the_limit() {
        let fake = FakeTransport::new();
        fake.reply_with_headers(200, &[("Link", "</api/platform/v2/device/categories/all/endpoints?cursor=500&limit=500>; rel=\"next\"")], &page(C1, &["a", "b"]))
            .reply_with_headers(200, &[("Link", "<https://h/x?cursor=1000&limit=500>; rel=\"next\"")], &page(C1, &["c", "d"]));
        let out = run(
            &fake,
            "cw-rmm-list-devices",
            &format!(r#"{{"companyId":"{C1}","limit":3,"endpointType":["server","Desktop"]}}"#),
        )
        .unwrap();
        assert_eq!(out["count"], 3);
        assert_eq!(out["truncated"], true);
        assert_eq!(out["devices"][0]["companyId"], C1);
        assert_eq!(out["devices"][0]["os"], "Windows 11 Pro 23H2");
        let paths = fake.paths();
        assert!(
            paths[0].contains("cursor=0")
                && paths[0].contains("filter=endpointType%20in%20%28Server%2CDesktop%29")
        );
        assert!(paths[1].contains("cursor=500"));
        assert_eq!(
            paths.len(),
            2,
            "no page fetched ahead of a limit it may reach"
        );
        assert_eq!(
            fake.body_of(0),
            json!({"resourceType": "company", "resources": [C1]})
        );
    }

    #[test]
    fn searches_every_company_in_chunks_of_four_by_name() {
        let fake = FakeTransport::new();
        let companies: Vec<_> = (0..5).map(|i| json!({"id": format!("c{i}")})).collect();
        fake.reply(200, &json!(companies).to_string())
            .reply(200, &page("c0", &["dc01", "laptop-maria"]))
            .reply(200, &page("c4", &["DC01-backup"]));
        let out = run(&fake, "cw-rmm-list-devices", r#"{"name":"dc01"}"#).unwrap();
        assert_eq!(out["count"], 2);
        assert_eq!(out["truncated"], false);
        assert_eq!(
            fake.body_of(1)["resources"],
            json!(["c0", "c1", "c2", "c3"])
        );
        assert_eq!(fake.body_of(2)["resources"], json!(["c4"]));
    }

    #[test]
    fn a_late_exact_match_outranks_earlier_ones_within_the_limit() {
        let fake = FakeTransport::new();
        fake.reply_with_headers(
            200,
            &[("Link", "<https://h/x?cursor=500&limit=500>; rel=\"next\"")],
            &page(C1, &["dc01-backup", "fab-dc01"]),
        )
        .reply(200, &page(C1, &["DC01"]));
        let out = run(
            &fake,
            "cw-rmm-list-devices",
            &format!(r#"{{"companyId":"{C1}","name":"dc01","limit":2}}"#),
        )
        .unwrap();
        assert_eq!(out["devices"][0]["name"], "DC01");
        assert_eq!(out["devices"][0]["matched"], "friendlyName exact");
        assert_eq!(out["devices"][1]["name"], "dc01-backup");
        assert_eq!(out["truncated"], true, "fab-dc01 was left out");
        assert_eq!(fake.paths().len(), 2, "a filter reads every page");
    }

    /// Three pages in the three shapes the API answers with (categories, a bare array of
    /// groups, ids on the endpoint instead of the group), with escapes and non-ASCII text.
    fn three_pages(fake: &FakeTransport) {
        let next = |cursor: u32| format!("<https://h/x?cursor={cursor}&limit=500>; rel=\"next\"");
        let page1 = json!({"platform": [{"companyID": C1, "siteID": "s1", "endpoints": [
            {"endpointID": "e1", "friendlyName": "DC01", "deviceName": "dc01", "endpointType": "Server", "ipAddress": "10.0.0.5", "os": {"product": "Windows Server 2022", "version": "21H2", "userName": "CONTOSO\\maria"}},
            {"endpointId": "e2", "deviceName": "LAPTOP-\"Q\"\u{e9}", "ipAddresses": ["10.0.0.6", "fe80::1"], "os": {"product": "Windows 11 Pro 23H2", "version": "23H2", "userName": ""}},
            {"id": 7, "companyID": "ignored", "osType": "Linux"}
        ]}], "network": [], "cloud": null});
        let page2 = json!({"network": [{"endpoints": [
            {"endpointID": "e4", "companyID": "c-own", "siteId": "s-own", "os": "macOS 14", "friendlyName": "mac-dc01"}
        ]}]});
        let page3 = json!([{"clientId": "c9", "siteId": "s9", "endpoints": [
            {"endpointID": "e5", "friendlyName": "dc01-backup", "endpointType": "Desktop", "os": {"name": "Ubuntu"}}
        ]}]);
        fake.reply_with_headers(200, &[("Link", &next(500))], &page1.to_string())
            .reply_with_headers(200, &[("Link", &next(1000))], &page2.to_string())
            .reply(200, &page3.to_string());
    }

    fn answer(fake: &FakeTransport, args: &str) -> String {
        crate::tools::call(&ctx(fake), "cw-rmm-list-devices", args).unwrap()
    }

    #[test]
    fn the_answer_is_pinned_byte_for_byte_across_pages() {
        let fake = FakeTransport::new();
        three_pages(&fake);
        assert_eq!(
            answer(&fake, &format!(r#"{{"companyId":"{C1}"}}"#)),
            EXPECTED_ALL
        );
        assert_eq!(fake.paths().len(), 3);

        let fake = FakeTransport::new();
        three_pages(&fake);
        assert_eq!(
            answer(&fake, &format!(r#"{{"companyId":"{C1}","limit":3}}"#)),
            EXPECTED_FIRST_THREE
        );
        assert_eq!(fake.paths().len(), 1, "the limit filled on page 1");

        let fake = FakeTransport::new();
        three_pages(&fake);
        assert_eq!(
            answer(
                &fake,
                &format!(r#"{{"companyId":"{C1}","name":"DC01","limit":2}}"#)
            ),
            EXPECTED_RANKED
        );

        let fake = FakeTransport::new();
        fake.reply(200, r#"{"platform":[]}"#);
        assert_eq!(
            answer(&fake, &format!(r#"{{"companyId":"{C1}"}}"#)),
            r#"{"count":0,"devices":[],"truncated":false}"#
        );
    }

    const EXPECTED_ALL: &str = r#"{"count":5,"devices":[{"companyId":"11111111-1111-4111-8111-111111111111","deviceName":"dc01","endpointId":"e1","endpointType":"Server","ipAddresses":["10.0.0.5"],"name":"DC01","os":"Windows Server 2022 21H2","siteId":"s1","user":"CONTOSO\\maria"},{"companyId":"11111111-1111-4111-8111-111111111111","deviceName":"LAPTOP-\"Q\"é","endpointId":"e2","ipAddresses":["10.0.0.6","fe80::1"],"os":"Windows 11 Pro 23H2","siteId":"s1"},{"companyId":"11111111-1111-4111-8111-111111111111","endpointId":7,"os":"Linux","siteId":"s1"},{"companyId":"c-own","endpointId":"e4","name":"mac-dc01","os":"macOS 14","siteId":"s-own"},{"companyId":"c9","endpointId":"e5","endpointType":"Desktop","name":"dc01-backup","os":"Ubuntu","siteId":"s9"}],"truncated":false}"#;
    const EXPECTED_FIRST_THREE: &str = r#"{"count":3,"devices":[{"companyId":"11111111-1111-4111-8111-111111111111","deviceName":"dc01","endpointId":"e1","endpointType":"Server","ipAddresses":["10.0.0.5"],"name":"DC01","os":"Windows Server 2022 21H2","siteId":"s1","user":"CONTOSO\\maria"},{"companyId":"11111111-1111-4111-8111-111111111111","deviceName":"LAPTOP-\"Q\"é","endpointId":"e2","ipAddresses":["10.0.0.6","fe80::1"],"os":"Windows 11 Pro 23H2","siteId":"s1"},{"companyId":"11111111-1111-4111-8111-111111111111","endpointId":7,"os":"Linux","siteId":"s1"}],"truncated":true}"#;
    const EXPECTED_RANKED: &str = r#"{"count":2,"devices":[{"companyId":"11111111-1111-4111-8111-111111111111","deviceName":"dc01","endpointId":"e1","endpointType":"Server","ipAddresses":["10.0.0.5"],"matched":"friendlyName exact","name":"DC01","os":"Windows Server 2022 21H2","siteId":"s1","user":"CONTOSO\\maria"},{"companyId":"c9","endpointId":"e5","endpointType":"Desktop","matched":"friendlyName prefix","name":"dc01-backup","os":"Ubuntu","siteId":"s9"}],"truncated":true}"#;

    #[test]
    fn site_scope_and_validation() {
        let fake = FakeTransport::new();
        fake.reply(200, &page(C1, &["x"]));
        run(
            &fake,
            "cw-rmm-list-devices",
            &format!(r#"{{"siteId":"{C1}","companyId":"{C1}"}}"#),
        )
        .unwrap();
        assert_eq!(fake.body_of(0)["resourceType"], "site");
        assert_eq!(
            invalid_field(run(
                &fake,
                "cw-rmm-list-devices",
                r#"{"endpointType":["Server box"]}"#
            )),
            "endpointType[0]"
        );
        assert_eq!(
            invalid_field(run(&fake, "cw-rmm-list-devices", r#"{"limit":10001}"#)),
            "limit"
        );
    }
}
