//! v2 device list (`POST .../categories/{category}/endpoints`) and detail.

use super::endpoint_json::{all_fields, project};
use super::v2_headers::require_v2_headers;
use crate::errors::{parse_json, ApiError, Area};
use crate::query::{split_list, QueryParams};
use crate::state::AppState;
use crate::tenant::Endpoint;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::cmp::Ordering;
use std::sync::Arc;
use uuid::Uuid;

const AREA: Area = Area::Devices;
const MAX_LIMIT: usize = 500;
const MAX_FIELDS: usize = 15;
const LIST_PATH: &str = "/api/platform/v2/device/categories";

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/api/platform/v2/device/categories/{category}/endpoints",
            post(list),
        )
        .route(
            "/api/platform/v2/device/companies/{companyID}/sites/{siteID}/endpoints/{endpointID}",
            get(detail),
        )
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceRequest {
    resource_type: Option<String>,
    resources: Option<Vec<String>>,
}

fn bad(code: &str, msg: impl Into<String>) -> ApiError {
    ApiError::bad_request(AREA, code, msg)
}

fn parse_fields(q: &QueryParams, max: Option<usize>) -> Result<Vec<String>, ApiError> {
    let fields = q.get("field").map(split_list).unwrap_or_default();
    if let Some(max) = max {
        if fields.len() > max {
            return Err(bad(
                "INVALID_FIELD",
                format!(
                    "field: a maximum of {max} fields may be projected, got {}",
                    fields.len()
                ),
            ));
        }
    }
    Ok(fields)
}

/// `endpointType in (A,B)` or `endpointType not in (A,B)`; returns (negated, types).
fn parse_filter(raw: &str) -> Result<(bool, Vec<String>), ApiError> {
    let err = || {
        bad("INVALID_FILTER", format!("filter: expected 'endpointType in (Type1,Type2)' or 'endpointType not in (...)', got '{raw}'"))
    };
    let rest = raw
        .trim()
        .strip_prefix("endpointType")
        .ok_or_else(err)?
        .trim_start();
    let lower = rest.to_ascii_lowercase();
    let (negated, rest) = if lower.starts_with("not in") {
        (true, &rest[6..])
    } else if lower.starts_with("in") {
        (false, &rest[2..])
    } else {
        return Err(err());
    };
    let inner = rest
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(err)?;
    let types = split_list(inner);
    if types.is_empty() {
        return Err(err());
    }
    Ok((negated, types))
}

type SortKey = (String, bool);

fn parse_sort(raw: &str) -> Result<Vec<SortKey>, ApiError> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|part| {
            let mut words = part.split_whitespace();
            let field = words.next().unwrap_or_default();
            if field != "friendlyName" && field != "createdAt" {
                return Err(bad(
                    "INVALID_SORT",
                    format!("sortBy: only friendlyName and createdAt are supported, got '{field}'"),
                ));
            }
            let desc = match words.next().map(str::to_ascii_lowercase).as_deref() {
                None | Some("asc") => false,
                Some("desc") => true,
                Some(other) => {
                    return Err(bad(
                        "INVALID_SORT",
                        format!("sortBy: direction must be asc or desc, got '{other}'"),
                    ))
                }
            };
            Ok((field.to_string(), desc))
        })
        .collect()
}

fn compare(a: &Endpoint, b: &Endpoint, keys: &[SortKey]) -> Ordering {
    for (field, desc) in keys {
        let o = if field == "friendlyName" {
            a.friendly_name
                .to_lowercase()
                .cmp(&b.friendly_name.to_lowercase())
        } else {
            a.created_at.cmp(&b.created_at)
        };
        let o = if *desc { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

fn parse_usize(q: &QueryParams, name: &str, default: usize) -> Result<usize, ApiError> {
    match q.get(name) {
        None | Some("") => Ok(default),
        Some(v) => v.trim().parse::<usize>().map_err(|_| {
            bad(
                "INVALID_PARAMETER",
                format!("{name}: must be a non-negative integer, got '{v}'"),
            )
        }),
    }
}

async fn list(
    State(s): State<Arc<AppState>>,
    Path(category): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_v2_headers(AREA, &headers)?;
    if !matches!(category.as_str(), "platform" | "network" | "cloud" | "all") {
        return Err(bad(
            "INVALID_CATEGORY",
            format!("category: must be one of platform, network, cloud, all; got '{category}'"),
        ));
    }
    let q = QueryParams::parse(raw.as_deref());
    let limit = parse_usize(&q, "limit", MAX_LIMIT)?;
    if limit == 0 || limit > MAX_LIMIT {
        return Err(bad(
            "INVALID_LIMIT",
            format!("limit: must be between 1 and {MAX_LIMIT}, got {limit}"),
        ));
    }
    let cursor = parse_usize(&q, "cursor", 0)?;
    let fields = parse_fields(&q, Some(MAX_FIELDS))?;
    let filter = q
        .get("filter")
        .filter(|f| !f.trim().is_empty())
        .map(parse_filter)
        .transpose()?;
    let sort = q
        .get("sortBy")
        .map(parse_sort)
        .transpose()?
        .unwrap_or_default();

    if body.is_empty() {
        return Err(bad(
            "INVALID_REQUEST_BODY",
            "request body with resourceType and resources is required",
        ));
    }
    let req: ResourceRequest = parse_json(AREA, &body)?;
    let resource_type = req.resource_type.unwrap_or_default();
    let resources = req.resources.unwrap_or_default();
    let max = match resource_type.as_str() {
        "company" => 4,
        "site" => 10,
        "endpoint" => 500,
        other => {
            return Err(bad(
                "INVALID_RESOURCE_TYPE",
                format!("resourceType: must be company, site or endpoint; got '{other}'"),
            ))
        }
    };
    if resources.is_empty() || resources.len() > max {
        return Err(bad("INVALID_RESOURCES", format!("resources: between 1 and {max} ids are allowed for resourceType {resource_type}, got {}", resources.len())));
    }
    let ids: Vec<Uuid> = resources
        .iter()
        .map(|r| {
            r.trim().parse::<Uuid>().map_err(|_| {
                bad(
                    "INVALID_RESOURCES",
                    format!("resources: '{r}' is not a valid id"),
                )
            })
        })
        .collect::<Result<_, _>>()?;

    // Only platform (managed) endpoints exist in the simulated tenant.
    let include_platform = category == "platform" || category == "all";
    let mut matching: Vec<&Endpoint> = if include_platform {
        s.tenant
            .endpoints
            .iter()
            .filter(|e| {
                let (company, site) = s.endpoint_home(e);
                match resource_type.as_str() {
                    "company" => ids.contains(&company),
                    "site" => ids.contains(&site),
                    _ => ids.contains(&e.id),
                }
            })
            .filter(|e| match &filter {
                None => true,
                Some((negated, types)) => {
                    types
                        .iter()
                        .any(|t| t.eq_ignore_ascii_case(e.kind.endpoint_type()))
                        != *negated
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    if !sort.is_empty() {
        matching.sort_by(|a, b| compare(a, b, &sort));
    }
    let page: Vec<&Endpoint> = matching.iter().skip(cursor).take(limit).copied().collect();

    // Group the page by (company, site), keeping first-seen order.
    let mut groups: Vec<(Uuid, Uuid, Vec<Value>)> = Vec::new();
    for e in page {
        let item = Value::Object(project(&all_fields(e), &fields));
        let (company, site) = s.endpoint_home(e);
        match groups
            .iter_mut()
            .find(|(c, st, _)| *c == company && *st == site)
        {
            Some(g) => g.2.push(item),
            None => groups.push((company, site, vec![item])),
        }
    }
    let platform: Vec<Value> = groups
        .into_iter()
        .map(|(c, st, endpoints)| json!({"companyID": c.to_string(), "siteID": st.to_string(), "endpoints": endpoints}))
        .collect();
    let mut resp = Json(json!({"platform": platform, "network": [], "cloud": []})).into_response();
    let next = cursor.saturating_add(limit);
    if next < matching.len() {
        let link = next_link(&headers, &category, &q, next, limit);
        if let Ok(v) = HeaderValue::from_str(&link) {
            resp.headers_mut().insert(header::LINK, v);
        }
    }
    Ok(resp)
}

/// `<{origin}/...endpoints?cursor=N&limit=M&...>; rel="next"`, keeping the other query
/// parameters so following the link yields the same projection, filter and order.
fn next_link(
    headers: &HeaderMap,
    category: &str,
    q: &QueryParams,
    cursor: usize,
    limit: usize,
) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let loopback =
        host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]");
    let scheme = if loopback { "http" } else { "https" };
    let mut pairs: Vec<(String, String)> = vec![
        ("cursor".into(), cursor.to_string()),
        ("limit".into(), limit.to_string()),
    ];
    pairs.extend(
        q.pairs()
            .iter()
            .filter(|(k, _)| k != "cursor" && k != "limit")
            .cloned(),
    );
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("<{scheme}://{host}{LIST_PATH}/{category}/endpoints?{query}>; rel=\"next\"")
}

async fn detail(
    State(s): State<Arc<AppState>>,
    Path((company, site, endpoint)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    require_v2_headers(AREA, &headers)?;
    let q = QueryParams::parse(raw.as_deref());
    let not_found = || {
        ApiError::not_found(
            AREA,
            format!("endpoint '{endpoint}' not found for company '{company}' and site '{site}'"),
        )
    };
    let id: Uuid = endpoint.parse().map_err(|_| not_found())?;
    let e = s
        .tenant
        .endpoint(id)
        .filter(|e| {
            let (home_company, home_site) = s.endpoint_home(e);
            home_company.to_string() == company.to_lowercase()
                && home_site.to_string() == site.to_lowercase()
        })
        .ok_or_else(not_found)?;
    let (home_company, home_site) = s.endpoint_home(e);
    let mut fields = parse_fields(&q, None)?;
    if fields.is_empty() {
        fields = vec!["os".into(), "system".into()];
    }
    let platform = project(&all_fields(e), &fields);
    Ok(Json(json!({
        "companyID": home_company.to_string(),
        "siteID": home_site.to_string(),
        "endpointID": e.id.to_string(),
        "endpointMapping": [],
        "clientId": home_company.to_string(),
        "siteId": home_site.to_string(),
        "endpointId": e.id.to_string(),
        "regId": e.id.to_string(),
        "endpointType": e.kind.endpoint_type(),
        "osType": e.kind.os_type(),
        "platform": platform,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse() {
        assert_eq!(
            parse_filter("endpointType in (Server,Desktop)").unwrap(),
            (false, vec!["Server".to_string(), "Desktop".to_string()])
        );
        assert!(parse_filter("endpointType not in (Laptop)").unwrap().0);
        assert!(parse_filter("os = windows").is_err());
        assert!(parse_filter("endpointType in ()").is_err());
    }

    #[test]
    fn sorts_parse() {
        assert_eq!(
            parse_sort("friendlyName asc, createdAt desc")
                .unwrap()
                .len(),
            2
        );
        assert!(parse_sort("deviceName").is_err());
    }
}
