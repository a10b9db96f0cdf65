//! Tickets v2 (list/get/create) and the v1 ticketing lookups.

use crate::errors::{parse_json, ApiError, Area};
use crate::lock::lock;
use crate::query::{split_list, QueryParams};
use crate::state::AppState;
use crate::tenant::{IdName, IdRef, Ticket};
use crate::time::rfc3339;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

const AREA: Area = Area::Tickets;
const BASE: &str = "/api/platform/v1/service/ticketing";

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/api/platform/v2/service/ticketing/tickets",
            get(list).post(create),
        )
        .route(
            "/api/platform/v2/service/ticketing/tickets/{id}",
            get(get_one),
        )
        .route(&format!("{BASE}/service-boards"), get(boards))
        .route(&format!("{BASE}/sources"), get(sources))
        .route(&format!("{BASE}/priorities"), get(priorities))
        .route(&format!("{BASE}/statuses"), get(statuses))
}

fn bad(code: &str, msg: impl Into<String>) -> ApiError {
    ApiError::bad_request(AREA, code, msg)
}

/// One filter criterion: a parameter (without its group suffix) and its values.
struct Criterion {
    name: String,
    values: Vec<String>,
    negated: bool,
}

const FILTERS: &[&str] = &[
    "number",
    "ticketIds",
    "summary",
    "companyIds",
    "siteIds",
    "statusIds",
    "statusNames",
    "priorityIds",
    "priorityNames",
    "sourceIds",
    "sourceNames",
    "createdAtFrom",
    "createdAtTo",
    "updatedAtFrom",
    "updatedAtTo",
];

/// Groups criteria by numeric suffix: criteria in a group are ANDed, groups are ORed.
fn criteria(q: &QueryParams) -> BTreeMap<String, Vec<Criterion>> {
    let mut groups: BTreeMap<String, Vec<Criterion>> = BTreeMap::new();
    for (key, value) in q.pairs() {
        let base = key.trim_end_matches(|c: char| c.is_ascii_digit());
        if !FILTERS.contains(&base) {
            continue;
        }
        let suffix = key[base.len()..].to_string();
        let (negated, rest) = match value.strip_prefix("[notIn],") {
            Some(r) => (true, r),
            None => (false, value.as_str()),
        };
        let values = if base == "summary" || base.ends_with("From") || base.ends_with("To") {
            vec![rest.to_string()]
        } else {
            split_list(rest)
        };
        groups.entry(suffix).or_default().push(Criterion {
            name: base.to_string(),
            values,
            negated,
        });
    }
    groups
}

fn matches(t: &Ticket, c: &Criterion) -> Result<bool, ApiError> {
    let eq = |field: Option<&String>| {
        field.is_some_and(|f| c.values.iter().any(|v| v.eq_ignore_ascii_case(f)))
    };
    let company = t.company.as_ref().and_then(|x| x.id.as_ref());
    let site = t.site.as_ref().and_then(|x| x.id.as_ref());
    let date = |field| -> Result<bool, ApiError> {
        let raw = c.values.first().map(String::as_str).unwrap_or_default();
        let end = c.name.ends_with("To");
        let at = crate::time::parse_lenient(raw, end).ok_or_else(|| {
            bad(
                "INVALID_FILTER",
                format!("{}: '{raw}' is not a valid date", c.name),
            )
        })?;
        Ok(if end { field <= at } else { field >= at })
    };
    let hit = match c.name.as_str() {
        "number" => eq(Some(&t.number)),
        "ticketIds" => eq(Some(&t.id)),
        "summary" => c
            .values
            .first()
            .is_some_and(|v| t.summary.to_lowercase().contains(&v.to_lowercase())),
        "companyIds" => eq(company),
        "siteIds" => eq(site),
        "statusIds" => eq(t.status.id.as_ref()),
        "statusNames" => eq(t.status.name.as_ref()),
        "priorityIds" => eq(t.priority.id.as_ref()),
        "priorityNames" => eq(t.priority.name.as_ref()),
        "sourceIds" => eq(t.source.id.as_ref()),
        "sourceNames" => eq(t.source.name.as_ref()),
        "createdAtFrom" | "createdAtTo" => date(t.created_at)?,
        "updatedAtFrom" | "updatedAtTo" => date(t.updated_at)?,
        _ => true,
    };
    Ok(hit != c.negated)
}

/// A positive integer, `None` when absent or ignored (non-positive), error when not a number.
fn page_param(q: &QueryParams, name: &str) -> Result<Option<Option<usize>>, ApiError> {
    match q.get(name) {
        None => Ok(None),
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if n > 0 => Ok(Some(Some(n as usize))),
            Ok(_) => Ok(Some(None)),
            Err(_) => Err(bad(
                "INVALID_PAGINATION",
                format!("{name}: must be an integer, got '{v}'"),
            )),
        },
    }
}

async fn list(
    State(s): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let q = QueryParams::parse(raw.as_deref());
    let page = match (page_param(&q, "pageSize")?, page_param(&q, "pageNum")?) {
        (None, None) => None,
        (Some(_), None) | (None, Some(_)) => {
            return Err(bad(
                "INVALID_PAGINATION",
                "pageSize and pageNum must be sent together",
            ))
        }
        (Some(Some(size)), Some(Some(num))) => Some((size, num)),
        // A non-positive value is ignored, and so is its partner.
        _ => None,
    };
    let groups = criteria(&q);
    let tickets = lock(&s.tickets).clone();
    let mut selected = Vec::new();
    for t in tickets {
        let mut any = groups.is_empty();
        for group in groups.values() {
            let mut all = true;
            for c in group {
                all &= matches(&t, c)?;
            }
            any |= all;
        }
        if any {
            selected.push(t);
        }
    }
    let sort_by = q.get("sortBy").unwrap_or("createdAt");
    let key = |t: &Ticket| -> String {
        match sort_by {
            "number" => format!("{:>12}", t.number),
            "updatedAt" => rfc3339(t.updated_at),
            "summary" => t.summary.to_lowercase(),
            "status" => t.status.name.clone().unwrap_or_default(),
            "priority" => t.priority.name.clone().unwrap_or_default(),
            "source" => t.source.name.clone().unwrap_or_default(),
            "dueDate" => t.due_date.clone().unwrap_or_default(),
            _ => rfc3339(t.created_at),
        }
    };
    selected.sort_by_key(|a| key(a));
    if q.get("sortDir") != Some("asc") {
        selected.reverse();
    }
    let total = selected.len();
    let (items, total) = match page {
        None => (selected, total),
        Some((size, num)) => {
            let start = (num - 1).saturating_mul(size);
            if start >= total {
                // Documented: a page past the end is empty and reports a total of 0.
                (Vec::new(), 0)
            } else {
                (selected.into_iter().skip(start).take(size).collect(), total)
            }
        }
    };
    Ok(Json(json!({"tickets": items, "totalCount": total})))
}

async fn get_one(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Ticket>, ApiError> {
    let not_found = || ApiError::not_found(AREA, format!("ticket '{id}' not found"));
    let parsed: Uuid = id.parse().map_err(|_| not_found())?;
    lock(&s.tickets)
        .iter()
        .find(|t| t.id == parsed.to_string())
        .cloned()
        .map(Json)
        .ok_or_else(not_found)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewTicket {
    summary: Option<String>,
    description: Option<String>,
    service_board: Option<IdName>,
    source: Option<IdName>,
    status: Option<IdName>,
    priority: Option<IdName>,
    company: Option<IdRef>,
    site: Option<IdRef>,
    assets: Option<Vec<IdRef>>,
    due_date: Option<String>,
}

fn required_text(value: Option<String>, field: &str) -> Result<String, ApiError> {
    value
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| bad("REQUIRED_FIELD_MISSING", format!("{field}: is required")))
}

fn ref_id(r: Option<&IdName>, field: &str) -> Result<Uuid, ApiError> {
    let raw = r
        .and_then(|x| x.id.clone())
        .ok_or_else(|| bad("REQUIRED_FIELD_MISSING", format!("{field}.id: is required")))?;
    raw.parse().map_err(|_| {
        bad(
            "INVALID_FIELD",
            format!("{field}.id: '{raw}' is not a valid uuid"),
        )
    })
}

async fn create(
    State(s): State<Arc<AppState>>,
    body: Bytes,
) -> Result<(StatusCode, Json<Ticket>), ApiError> {
    let req: NewTicket = parse_json(AREA, &body)?;
    let summary = required_text(req.summary, "summary")?;
    let description = required_text(req.description, "description")?;
    let t = &s.tenant;
    let board_id = ref_id(req.service_board.as_ref(), "serviceBoard")?;
    let board = t
        .boards
        .iter()
        .find(|b| b.id == board_id && !b.inactive)
        .ok_or_else(|| {
            bad(
                "INVALID_FIELD",
                format!("serviceBoard.id: no active service board '{board_id}'"),
            )
        })?;
    let source_id = ref_id(req.source.as_ref(), "source")?;
    let source = t
        .sources
        .iter()
        .find(|x| x.id == source_id)
        .ok_or_else(|| {
            bad(
                "INVALID_FIELD",
                format!("source.id: no source '{source_id}'"),
            )
        })?;
    let priority = match req.priority.as_ref() {
        None => &t.priorities[board.default_priority],
        Some(p) => {
            let pid = ref_id(Some(p), "priority")?;
            t.priorities
                .iter()
                .find(|x| x.id == pid)
                .ok_or_else(|| bad("INVALID_FIELD", format!("priority.id: no priority '{pid}'")))?
        }
    };
    let status = match req.status.as_ref() {
        None => &t.statuses[0],
        Some(st) => {
            let sid = ref_id(Some(st), "status")?;
            t.statuses
                .iter()
                .find(|x| x.id == sid)
                .ok_or_else(|| bad("INVALID_FIELD", format!("status.id: no status '{sid}'")))?
        }
    };
    let company = match req.company.and_then(|c| c.id) {
        None => None,
        Some(raw) => Some(
            raw.parse()
                .ok()
                .and_then(|id| t.company(id))
                .ok_or_else(|| bad("INVALID_FIELD", format!("company.id: no company '{raw}'")))?
                .id,
        ),
    };
    let site = match req.site.and_then(|c| c.id) {
        None => None,
        Some(raw) => {
            let site = raw
                .parse()
                .ok()
                .and_then(|id| t.site(id))
                .ok_or_else(|| bad("INVALID_FIELD", format!("site.id: no site '{raw}'")))?;
            if company.is_some_and(|c| c != site.company_id) {
                return Err(bad(
                    "INVALID_FIELD",
                    "site.id: the site does not belong to the given company",
                ));
            }
            Some(site.id)
        }
    };
    let now = Utc::now();
    let user = IdRef {
        id: Some(crate::tenant::derive_id("user", "api-integration").to_string()),
    };
    let mut tickets = lock(&s.tickets);
    let ticket = Ticket {
        id: Uuid::new_v4().to_string(),
        number: (1001 + tickets.len()).to_string(),
        noc_ticket_id: None,
        version: 1,
        summary,
        description,
        service_board: IdName::new(board.id, board.name),
        source: IdName::new(source.id, source.name),
        status: IdName::new(status.id, status.name),
        priority: IdName::new(priority.id, priority.name),
        r#type: None,
        category: None,
        company: company.map(|c| IdRef {
            id: Some(c.to_string()),
        }),
        site: site.map(|c| IdRef {
            id: Some(c.to_string()),
        }),
        assets: req.assets.unwrap_or_default(),
        assignee: None,
        assignee_team: None,
        tags: vec![],
        extended_attributes: vec![],
        due_date: req.due_date,
        created_at: now,
        created_by: user.clone(),
        updated_at: now,
        updated_by: user,
    };
    tickets.push(ticket.clone());
    Ok((StatusCode::CREATED, Json(ticket)))
}

fn audit() -> Value {
    let at = rfc3339(crate::time::fixed(2022, 1, 10, 9));
    json!({"createdAt": at, "createdBy": "system", "updatedAt": at, "updatedBy": "system"})
}

fn with_audit(mut v: Value) -> Value {
    if let (Some(obj), Value::Object(a)) = (v.as_object_mut(), audit()) {
        obj.extend(a);
    }
    v
}

async fn boards(State(s): State<Arc<AppState>>) -> Json<Value> {
    let t = &s.tenant;
    Json(Value::Array(t.boards.iter().map(|b| {
        let p = &t.priorities[b.default_priority];
        with_audit(json!({"id": b.id.to_string(), "name": b.name, "description": b.description, "defaultPriority": {"id": p.id.to_string(), "name": p.name}, "inactiveFlag": b.inactive}))
    }).collect()))
}

async fn sources(State(s): State<Arc<AppState>>) -> Json<Value> {
    Json(Value::Array(
        s.tenant
            .sources
            .iter()
            .map(|x| with_audit(json!({"id": x.id.to_string(), "name": x.name})))
            .collect(),
    ))
}

async fn priorities(State(s): State<Arc<AppState>>) -> Json<Value> {
    Json(Value::Array(
        s.tenant
            .priorities
            .iter()
            .map(|x| with_audit(json!({"id": x.id.to_string(), "name": x.name})))
            .collect(),
    ))
}

async fn statuses(State(s): State<Arc<AppState>>) -> Json<Value> {
    Json(Value::Array(s.tenant.statuses.iter().map(|x| with_audit(json!({"id": x.id.to_string(), "name": x.name, "category": x.category, "slaStatus": x.sla_status, "inactiveFlag": false}))).collect()))
}
