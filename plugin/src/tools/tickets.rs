//! Service tickets: list (pageSize/pageNum + totalCount), get, and create with lookups.

use super::context::Ctx;
use crate::args::{is_uuid, Args};
use crate::catalog::TICKET_SORT_FIELDS;
use crate::errors::{ToolError, ToolResult};
use crate::http::segment;
use crate::shape::{array, compact, merged, nested_id, nested_name, project, text};
use serde_json::{json, Value};

const TICKETS_PATH: &str = "/api/platform/v2/service/ticketing/tickets";
pub const LOOKUP_BASE: &str = "/api/platform/v1/service/ticketing";
const PAGE_SIZE: usize = 100;
const MAX_PAGES: usize = 20;

pub fn list_tickets(ctx: &Ctx, raw: &str) -> ToolResult<Value> {
    let args = Args::parse(
        raw,
        &[
            "companyId",
            "siteId",
            "status",
            "priority",
            "summaryContains",
            "number",
            "sortBy",
            "sortDir",
            "limit",
        ],
    )?;
    let mut filters: Vec<(&str, String)> = Vec::new();
    if let Some(company) = args.opt_uuid("companyId")? {
        filters.push(("companyIds", company));
    }
    if let Some(site) = args.opt_uuid("siteId")? {
        filters.push(("siteIds", site));
    }
    for (key, by_id, by_name) in [
        ("status", "statusIds", "statusNames"),
        ("priority", "priorityIds", "priorityNames"),
    ] {
        if let Some(value) = args.opt_str(key)? {
            if value.contains(',') {
                return Err(ToolError::invalid(
                    key,
                    format!("`{key}` takes one name or id, without commas"),
                ));
            }
            filters.push((if is_uuid(&value) { by_id } else { by_name }, value));
        }
    }
    if let Some(number) = args.opt_str("number")? {
        let n = ticket_number(&number).ok_or_else(|| {
            ToolError::invalid(
                "number",
                "`number` must be a ticket number: digits, e.g. 118404",
            )
        })?;
        filters.push(("number", n.to_string()));
    }
    if let Some(summary) = args.opt_str("summaryContains")? {
        filters.push(("summary", summary));
    }
    if let Some(sort_by) = args.opt_enum("sortBy", TICKET_SORT_FIELDS)? {
        filters.push(("sortBy", sort_by.to_string()));
    }
    if let Some(dir) = args.opt_enum("sortDir", &["asc", "desc"])? {
        filters.push(("sortDir", dir.to_string()));
    }
    let limit = args.int_in("limit", 1, 1000, 50)? as usize;
    let page_size = limit.min(PAGE_SIZE);
    let mut tickets = Vec::new();
    let mut total: Option<u64> = None;
    for page_num in 1..=MAX_PAGES {
        let mut query = filters.clone();
        query.push(("pageSize", page_size.to_string()));
        query.push(("pageNum", page_num.to_string()));
        let body = ctx.api.get(TICKETS_PATH, &query)?;
        let page = array(&body, &["tickets"], "tickets")?;
        total = body.get("totalCount").and_then(Value::as_u64).or(total);
        let fetched = page.len();
        tickets.extend(page.iter().map(ticket_summary));
        let exhausted = fetched < page_size || total.is_some_and(|t| tickets.len() as u64 >= t);
        if tickets.len() >= limit || exhausted {
            break;
        }
    }
    tickets.truncate(limit);
    Ok(json!({"count": tickets.len(), "totalCount": total, "tickets": tickets}))
}

fn ticket_summary(t: &Value) -> Value {
    merged(
        project(
            t,
            &[
                ("ticketId", &["id"]),
                ("number", &["number"]),
                ("summary", &["summary"]),
                ("createdAt", &["createdAt"]),
                ("updatedAt", &["updatedAt"]),
                ("dueDate", &["dueDate"]),
            ],
        ),
        compact(vec![
            ("status", nested_name(t, "status")),
            ("priority", nested_name(t, "priority")),
            ("board", nested_name(t, "serviceBoard")),
            ("source", nested_name(t, "source")),
            ("companyId", nested_id(t, "company")),
            ("siteId", nested_id(t, "site")),
            ("assigneeId", nested_id(t, "assignee")),
        ]),
    )
}

fn ticket_details(t: &Value) -> Value {
    let mut out = ticket_summary(t);
    let ids = |key: &str| -> Value {
        t.get(key)
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|a| a.get("id").cloned())
                    .collect::<Vec<_>>()
                    .into()
            })
            .unwrap_or(Value::Null)
    };
    let extra = merged(
        project(
            t,
            &[
                ("description", &["description"]),
                ("extendedAttributes", &["extendedAttributes"]),
                ("version", &["version"]),
            ],
        ),
        compact(vec![
            ("statusId", nested_id(t, "status")),
            ("priorityId", nested_id(t, "priority")),
            ("boardId", nested_id(t, "serviceBoard")),
            ("sourceId", nested_id(t, "source")),
            ("type", nested_name(t, "type")),
            ("category", nested_name(t, "category")),
            ("endpointIds", ids("assets")),
            ("assigneeTeam", nested_name(t, "assigneeTeam")),
            (
                "tags",
                t.get("tags")
                    .and_then(Value::as_array)
                    .map(|l| {
                        l.iter()
                            .filter_map(|x| x.get("name").cloned())
                            .collect::<Vec<_>>()
                            .into()
                    })
                    .unwrap_or(Value::Null),
            ),
            ("createdBy", nested_id(t, "createdBy")),
        ]),
    );
    if let (Value::Object(out), Value::Object(extra)) = (&mut out, extra) {
        out.extend(extra);
    }
    out
}

/// A ticket number as technicians say it ("118404", "#118404"); `None` when not one.
fn ticket_number(s: &str) -> Option<&str> {
    // Without leading zeros, to compare with the API's own numbers.
    let digits = s.strip_prefix('#').unwrap_or(s).trim_start_matches('0');
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// One `ticketId` that takes the id or the number, rather than a separate `number` property:
/// a model handed "ticket 118404" puts it in the one required field, where two mutually
/// exclusive fields invite sending both or neither.
pub fn get_ticket(ctx: &Ctx, raw: &str) -> ToolResult<Value> {
    let args = Args::parse(raw, &["ticketId"])?;
    let given = args.req_str("ticketId")?;
    // A UUID has dashes, so it is never taken for a number. One request either way (and one
    // call site, which keeps the component small): a number goes through the list's `number`
    // filter, whose items are full `Ticket`s.
    let number = ticket_number(&given);
    let (path, query) =
        match number {
            Some(n) => (
                TICKETS_PATH.to_string(),
                vec![
                    ("number", n.to_string()),
                    ("pageSize", PAGE_SIZE.to_string()),
                    ("pageNum", "1".to_string()),
                ],
            ),
            None if is_uuid(&given) => (
                format!("{TICKETS_PATH}/{}", segment(&given.to_ascii_lowercase())),
                Vec::new(),
            ),
            None => return Err(ToolError::invalid(
                "ticketId",
                "`ticketId` must be the ticket's id (a UUID) or its number (digits, e.g. 118404)",
            )),
        };
    let mut ticket = ctx.api.get(&path, &query)?;
    if let Some(n) = number {
        // The spec does not say whether the filter matches exactly: only the exact number
        // (a string, as the spec types it) is taken from the page.
        ticket = array(&ticket, &["tickets"], "tickets")?
            .iter()
            .find(|t| t["number"].as_str() == Some(n))
            .cloned()
            .ok_or_else(|| ToolError::NotFound(format!("no ticket with number {n}")))?;
    }
    if !ticket.is_object() {
        return Err(ToolError::upstream_shape("ticket: expected an object"));
    }
    Ok(ticket_details(&ticket))
}

/// Resolves an id-or-name argument through a lookup list. A UUID is used as is.
fn resolve(ctx: &Ctx, field_name: &str, value: &str, lookup: &str) -> ToolResult<String> {
    if is_uuid(value) {
        return Ok(value.to_ascii_lowercase());
    }
    let body = ctx.api.get(&format!("{LOOKUP_BASE}/{lookup}"), &[])?;
    let entries = array(&body, &[lookup, "data"], lookup)?;
    let active = entries.iter().filter(|e| {
        !e.get("inactiveFlag")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    });
    let found: Vec<&Value> = active
        .filter(|e| text(e, &["name"]).is_some_and(|n| n.trim().eq_ignore_ascii_case(value)))
        .collect();
    match found.as_slice() {
        [one] => text(one, &["id"])
            .map(str::to_string)
            .ok_or_else(|| ToolError::upstream_shape(&format!("{lookup} entry without id"))),
        [] => {
            let names: Vec<&str> = entries
                .iter()
                .filter_map(|e| text(e, &["name"]))
                .take(30)
                .collect();
            Err(ToolError::invalid(
                field_name,
                format!(
                    "no {field_name} named `{value}`; known: {}",
                    names.join(", ")
                ),
            ))
        }
        _ => Err(ToolError::invalid(
            field_name,
            format!("several {field_name}s are named `{value}`; pass the id instead"),
        )),
    }
}

pub fn create_ticket(ctx: &Ctx, raw: &str) -> ToolResult<Value> {
    let body = ticket_body(ctx, raw)?;
    let created = ctx.api.post(TICKETS_PATH, &[], &body)?.body;
    if text(&created, &["id"]).is_none() {
        return Err(ToolError::upstream_shape(
            "ticket create answered without an id",
        ));
    }
    Ok(ticket_details(&created))
}

/// Validates create-ticket's arguments and resolves the board, source and priority names to
/// ids: the body the ticket would be created with, found by reads only.
pub fn ticket_body(ctx: &Ctx, raw: &str) -> ToolResult<Value> {
    let args = Args::parse(
        raw,
        &[
            "summary",
            "description",
            "board",
            "source",
            "priority",
            "companyId",
            "siteId",
            "endpointIds",
        ],
    )?;
    let summary = args.req_str("summary")?;
    if summary.chars().count() > 500 {
        return Err(ToolError::invalid(
            "summary",
            "`summary` must be at most 500 characters",
        ));
    }
    let description = args.req_str("description")?;
    let board = args.req_str("board")?;
    let source = args.req_str("source")?;
    let priority = args.opt_str("priority")?;
    let company = args.opt_uuid("companyId")?;
    let site = args.opt_uuid("siteId")?;
    let endpoints = args.opt_uuid_list("endpointIds", 100)?;

    let mut body = json!({
        "summary": summary,
        "description": description,
        "serviceBoard": {"id": resolve(ctx, "board", &board, "service-boards")?},
        "source": {"id": resolve(ctx, "source", &source, "sources")?},
    });
    if let Some(priority) = priority {
        body["priority"] = json!({"id": resolve(ctx, "priority", &priority, "priorities")?});
    }
    if let Some(company) = &company {
        body["company"] = json!({"id": company});
    }
    if let Some(site) = &site {
        body["site"] = json!({"id": site});
    }
    if let Some(endpoints) = &endpoints {
        check_endpoints_belong(ctx, endpoints, company.as_deref(), site.as_deref())?;
        body["assets"] = endpoints
            .iter()
            .map(|id| json!({"id": id}))
            .collect::<Vec<_>>()
            .into();
    }
    Ok(body)
}

/// Every endpoint of a ticket belongs to the ticket's company and site, by the API's own
/// listing: the host checks a limited role's scope on `companyId`/`siteId`, so an endpoint of
/// another company must not ride along.
fn check_endpoints_belong(
    ctx: &Ctx,
    endpoints: &[String],
    company: Option<&str>,
    site: Option<&str>,
) -> ToolResult<()> {
    if company.is_none() && site.is_none() {
        return Ok(());
    }
    for (i, endpoint) in endpoints.iter().enumerate() {
        let (actual_company, actual_site) = super::devices::details::locate(ctx, endpoint)?;
        let outside = |given: Option<&str>, actual: &str| {
            given.is_some_and(|g| !g.eq_ignore_ascii_case(actual))
        };
        if outside(company, &actual_company) || outside(site, &actual_site) {
            return Err(ToolError::invalid(
                format!("endpointIds[{i}]"),
                format!(
                    "endpoint {endpoint} is not in the ticket's company and site; pass endpoints \
                     of that company and site only"
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::http::fake::FakeTransport;
    use crate::tools::testing::*;
    use serde_json::json;

    const C: &str = "cccccccc-cccc-4ccc-8ccc-cccccccccccc";

    fn tickets(n: usize, offset: usize) -> Vec<serde_json::Value> {
        (0..n).map(|i| json!({"id": format!("t{}", i + offset), "number": i + offset, "summary": "s", "status": {"id": "x", "name": "New"}, "company": {"id": C}})).collect()
    }

    #[test]
    fn pages_until_the_limit() {
        let fake = FakeTransport::new();
        fake.reply(
            200,
            &json!({"tickets": tickets(100, 0), "totalCount": 250}).to_string(),
        )
        .reply(
            200,
            &json!({"tickets": tickets(100, 100), "totalCount": 250}).to_string(),
        );
        let out = run(
            &fake,
            "cw-rmm-list-tickets",
            &format!(r#"{{"companyId":"{C}","status":"New","limit":150,"sortDir":"ASC"}}"#),
        )
        .unwrap();
        assert_eq!(out["count"], 150);
        assert_eq!(out["totalCount"], 250);
        assert_eq!(out["tickets"][0]["status"], "New");
        assert_eq!(out["tickets"][0]["companyId"], C);
        let paths = fake.paths();
        assert_eq!(paths[0], format!("/api/platform/v2/service/ticketing/tickets?companyIds={C}&statusNames=New&sortDir=asc&pageSize=100&pageNum=1"));
        assert!(paths[1].ends_with("pageSize=100&pageNum=2"));
    }

    #[test]
    fn stops_at_the_total() {
        let fake = FakeTransport::new();
        fake.reply(
            200,
            &json!({"tickets": tickets(3, 0), "totalCount": 3}).to_string(),
        );
        let out = run(&fake, "cw-rmm-list-tickets", "{}").unwrap();
        assert_eq!(out["count"], 3);
        assert!(fake.paths()[0].ends_with("pageSize=50&pageNum=1"));
        assert_eq!(
            invalid_field(run(&fake, "cw-rmm-list-tickets", r#"{"sortBy":"color"}"#)),
            "sortBy"
        );
    }

    #[test]
    fn creates_with_name_lookups() {
        let fake = FakeTransport::new();
        fake.reply(200, r#"[{"id":"b1","name":"Help Desk"},{"id":"b2","name":"Projects","inactiveFlag":false}]"#)
            .reply(200, r#"[{"id":"src1","name":"Agent"}]"#)
            .reply(201, r#"{"id":"new1","number":42,"summary":"Disk full","status":{"id":"st","name":"New"},"assets":[{"id":"e1"}]}"#);
        let out = run(&fake, "cw-rmm-create-ticket", r#"{"summary":"Disk full","description":"C: is full","board":"help desk","source":"Agent","priority":"dddddddd-dddd-4ddd-8ddd-dddddddddddd","endpointIds":["11111111-1111-4111-8111-111111111111"]}"#).unwrap();
        assert_eq!(out["ticketId"], "new1");
        assert_eq!(out["number"], 42);
        let body = fake.body_of(2);
        assert_eq!(body["serviceBoard"]["id"], "b1");
        assert_eq!(body["source"]["id"], "src1");
        assert_eq!(
            body["priority"]["id"],
            "dddddddd-dddd-4ddd-8ddd-dddddddddddd"
        );
        assert_eq!(
            body["assets"][0]["id"],
            "11111111-1111-4111-8111-111111111111"
        );
        assert_eq!(
            fake.paths()[0],
            "/api/platform/v1/service/ticketing/service-boards"
        );
    }

    #[test]
    fn create_validation_and_unknown_names() {
        let fake = FakeTransport::new();
        assert_eq!(
            invalid_field(run(
                &fake,
                "cw-rmm-create-ticket",
                r#"{"summary":"x","description":"y","board":"b"}"#
            )),
            "source"
        );
        fake.reply(200, r#"[{"id":"b1","name":"Help Desk"}]"#);
        assert_eq!(
            invalid_field(run(
                &fake,
                "cw-rmm-create-ticket",
                r#"{"summary":"x","description":"y","board":"Nope","source":"s"}"#
            )),
            "board"
        );
    }

    #[test]
    fn get_by_number_takes_only_the_exact_number() {
        let fake = FakeTransport::new();
        // Whether the vendor's filter matches exactly is not documented: a near miss first.
        fake.reply(
            200,
            r#"{"tickets":[{"id":"t1","number":"1184040"},{"id":"t2","number":"118404"}],"totalCount":2}"#,
        );
        let out = run(&fake, "cw-rmm-get-ticket", r##"{"ticketId":"#0118404"}"##).unwrap();
        assert_eq!(out["ticketId"], "t2");
        assert_eq!(
            fake.paths()[0],
            "/api/platform/v2/service/ticketing/tickets?number=118404&pageSize=100&pageNum=1"
        );
    }

    #[test]
    fn ticket_errors_array_shape() {
        let fake = FakeTransport::new();
        fake.reply(404, r#"[{"code":"TKT404","message":"ticket not found"}]"#);
        let err = run(
            &fake,
            "cw-rmm-get-ticket",
            r#"{"ticketId":"11111111-1111-4111-8111-111111111111"}"#,
        )
        .unwrap_err();
        assert_eq!(
            err,
            crate::errors::ToolError::NotFound("ticket not found (code TKT404)".into())
        );
    }
}
