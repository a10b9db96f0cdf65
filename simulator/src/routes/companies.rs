//! Companies and sites (v1 company service; legacy error shape).

use super::path_uuid;
use crate::errors::{ApiError, Area};
use crate::state::AppState;
use crate::tenant::{Company, Site, Tenant};
use crate::time::rfc3339;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::Arc;

const AREA: Area = Area::Legacy;
/// The partner (MSP) that owns the simulated tenant.
pub const PARTNER_ID: &str = "50016482";

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/platform/v1/company/companies", get(list_companies))
        .route(
            "/api/platform/v1/company/companies/{companyId}",
            get(get_company),
        )
        .route(
            "/api/platform/v1/company/companies/{companyId}/sites",
            get(company_sites),
        )
        .route(
            "/api/platform/v1/company/companies/{companyId}/sites/{siteId}",
            get(company_site),
        )
        .route("/api/platform/v1/company/sites", get(list_sites))
        .route("/api/platform/v1/company/sites/{siteId}", get(get_site))
}

fn address(site: &Site) -> Value {
    json!({
        "id": crate::tenant::derive_id("address", &site.id.to_string()).to_string(),
        "addressLine1": site.address, "addressLine2": "", "addressLine3": "", "addressLine4": "",
        "locality": site.locality, "administrativeArea": site.administrative_area, "postCode": site.post_code,
        "country": site.country, "countryCode": site.country_code, "timeZone": site.time_zone,
        "primaryFlag": true, "billingFlag": true, "shippingFlag": true,
    })
}

fn company_json(t: &Tenant, c: &Company) -> Value {
    let primary = t.sites.iter().find(|s| s.company_id == c.id && s.primary);
    // Unset values are left out: the spec types `primarySite`, `deletedDate` and
    // `inactiveDate` as non-nullable, so a company that has none carries no such field.
    let mut company = json!({
        "id": c.id.to_string(),
        "name": c.name,
        "friendlyName": c.friendly_name,
        "description": c.description,
        "partnerId": PARTNER_ID,
        "activityStatus": {"id": "1", "name": "Active", "activeFlag": true, "defaultFlag": true},
        "ownershipType": {"id": "1", "name": "Private"},
        "account": {"id": crate::tenant::derive_id("account", c.key).to_string(), "name": c.name},
        "corpContainer": {},
        "primaryContact": {
            "id": crate::tenant::derive_id("contact", c.key).to_string(),
            "firstName": "IT", "lastName": "Manager",
            "primaryEmail": {"emailAddress": format!("it@{}.example", c.key)},
            "primaryPhoneNumber": {"countryCode": "61", "nationalNumber": "290000000", "extension": ""},
        },
        "externalIds": [],
        "createdDate": rfc3339(c.created),
        "updatedDate": rfc3339(c.created),
    });
    if let Some(s) = primary {
        company["primarySite"] = json!({
            "id": s.id.to_string(), "name": s.name, "friendlyName": s.friendly_name,
            "timeZone": s.time_zone, "primaryAddress": address(s),
        });
    }
    company
}

fn site_json(t: &Tenant, s: &Site) -> Value {
    let company = t.company(s.company_id);
    json!({
        "id": s.id.to_string(),
        "name": s.name,
        "friendlyName": s.friendly_name,
        "description": format!("{} site", s.name),
        "activeFlag": true,
        "primaryFlag": s.primary,
        "timeZone": s.time_zone,
        "company": {
            "id": s.company_id.to_string(),
            "name": company.map(|c| c.name),
            "friendlyName": company.map(|c| c.friendly_name),
            "externalIds": [],
        },
        "type": {"id": "1", "name": if s.primary { "Head Office" } else { "Branch" }},
        "primaryAddress": address(s),
        "externalIds": [],
        "partnerId": PARTNER_ID,
        "createdDate": rfc3339(s.created),
        "updatedDate": rfc3339(s.created),
        // No `deletedDate`: the site is not deleted and the spec's field is non-nullable.
    })
}

fn find_company(t: &Tenant, raw: &str) -> Result<Uuid, ApiError> {
    let id = path_uuid(AREA, "company", raw)?;
    t.company(id)
        .map(|c| c.id)
        .ok_or_else(|| ApiError::not_found(AREA, format!("company '{raw}' not found")))
}

use uuid::Uuid;

async fn list_companies(State(s): State<Arc<AppState>>) -> Json<Value> {
    Json(Value::Array(
        s.tenant
            .companies
            .iter()
            .map(|c| company_json(&s.tenant, c))
            .collect(),
    ))
}

async fn get_company(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = find_company(&s.tenant, &id)?;
    let c = s
        .tenant
        .company(id)
        .ok_or_else(|| ApiError::not_found(AREA, "company not found"))?;
    Ok(Json(company_json(&s.tenant, c)))
}

async fn list_sites(State(s): State<Arc<AppState>>) -> Json<Value> {
    Json(Value::Array(
        s.tenant
            .sites
            .iter()
            .map(|x| site_json(&s.tenant, x))
            .collect(),
    ))
}

async fn company_sites(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = find_company(&s.tenant, &id)?;
    let sites = s
        .tenant
        .sites
        .iter()
        .filter(|x| x.company_id == id)
        .map(|x| site_json(&s.tenant, x))
        .collect();
    Ok(Json(Value::Array(sites)))
}

async fn get_site(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let sid = path_uuid(AREA, "site", &id)?;
    let site = s
        .tenant
        .site(sid)
        .ok_or_else(|| ApiError::not_found(AREA, format!("site '{id}' not found")))?;
    Ok(Json(site_json(&s.tenant, site)))
}

async fn company_site(
    State(s): State<Arc<AppState>>,
    Path((cid, sid)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let company = find_company(&s.tenant, &cid)?;
    let site_id = path_uuid(AREA, "site", &sid)?;
    let site = s
        .tenant
        .site(site_id)
        .filter(|x| x.company_id == company)
        .ok_or_else(|| {
            ApiError::not_found(AREA, format!("site '{sid}' not found in company '{cid}'"))
        })?;
    Ok(Json(site_json(&s.tenant, site)))
}
