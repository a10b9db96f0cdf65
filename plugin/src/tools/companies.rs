//! Companies and sites (full arrays; the API documents no paging for them).

use super::context::Ctx;
use crate::args::{contains_ci, Args};
use crate::errors::ToolResult;
use crate::http::segment;
use crate::shape::{array, compact, discard, field, merged, nested_id, nested_name, project, text};
use serde_json::Value;

pub const COMPANIES_PATH: &str = "/api/platform/v1/company/companies";
/// The members a company listing reads: the wrappers, [`matches_name`] and
/// [`company_summary`] (`id` and `name` serve the nested status and site too).
const COMPANY_SUMMARY_FIELDS: &[&str] = &[
    "companies",
    "data",
    "id",
    "name",
    "friendlyName",
    "activityStatus",
    "primarySite",
];
const SITES_PATH: &str = "/api/platform/v1/company/sites";
/// The members a site listing reads (`company` is a nested `{id, name}`).
const SITE_SUMMARY_FIELDS: &[&str] = &[
    "sites",
    "data",
    "id",
    "name",
    "friendlyName",
    "timeZone",
    "activeFlag",
    "primaryFlag",
    "company",
];

pub fn list_companies(ctx: &Ctx, raw: &str) -> ToolResult<Value> {
    let args = Args::parse(raw, &["nameContains", "limit"])?;
    let needle = args.opt_str("nameContains")?.map(|s| crate::args::fold(&s));
    let limit = args.int_in("limit", 1, 1000, 100)? as usize;
    let body = ctx
        .api
        .get_keeping(COMPANIES_PATH, &[], COMPANY_SUMMARY_FIELDS)?;
    let matching: Vec<Value> = array(&body, &["companies", "data"], "companies")?
        .iter()
        .filter(|c| matches_name(c, needle.as_deref()))
        .map(company_summary)
        .collect();
    discard(body);
    Ok(limited("companies", matching, limit))
}

pub fn get_company(ctx: &Ctx, raw: &str) -> ToolResult<Value> {
    let args = Args::parse(raw, &["companyId"])?;
    let id = args.req_uuid("companyId", "find it with cw-rmm-list-companies")?;
    let company = ctx
        .api
        .get(&format!("{COMPANIES_PATH}/{}", segment(&id)), &[])?;
    let contact = company
        .get("primaryContact")
        .cloned()
        .unwrap_or(Value::Null);
    let site = company.get("primarySite").cloned().unwrap_or(Value::Null);
    Ok(compact(vec![
        ("companyId", field(&company, &["id"])),
        ("name", field(&company, &["name"])),
        ("friendlyName", field(&company, &["friendlyName"])),
        ("description", field(&company, &["description"])),
        ("status", nested_name(&company, "activityStatus")),
        (
            "active",
            company
                .get("activityStatus")
                .map(|s| field(s, &["activeFlag"]))
                .unwrap_or(Value::Null),
        ),
        (
            "account",
            company.get("account").cloned().unwrap_or(Value::Null),
        ),
        (
            "primarySite",
            if site.is_null() {
                Value::Null
            } else {
                compact(vec![
                    ("siteId", field(&site, &["id"])),
                    ("name", field(&site, &["name"])),
                    ("timeZone", field(&site, &["timeZone"])),
                    ("address", field(&site, &["primaryAddress"])),
                ])
            },
        ),
        (
            "primaryContact",
            if contact.is_null() {
                Value::Null
            } else {
                compact(vec![
                    ("contactId", field(&contact, &["id"])),
                    ("firstName", field(&contact, &["firstName"])),
                    ("lastName", field(&contact, &["lastName"])),
                    (
                        "email",
                        contact
                            .get("primaryEmail")
                            .map(|e| field(e, &["emailAddress"]))
                            .unwrap_or(Value::Null),
                    ),
                    (
                        "phone",
                        contact
                            .get("primaryPhoneNumber")
                            .cloned()
                            .unwrap_or(Value::Null),
                    ),
                ])
            },
        ),
        ("externalIds", field(&company, &["externalIds"])),
        ("createdDate", field(&company, &["createdDate"])),
        ("updatedDate", field(&company, &["updatedDate"])),
        ("inactiveDate", field(&company, &["inactiveDate"])),
    ]))
}

pub fn list_sites(ctx: &Ctx, raw: &str) -> ToolResult<Value> {
    let args = Args::parse(raw, &["companyId", "nameContains", "limit"])?;
    let company = args.opt_uuid("companyId")?;
    let needle = args.opt_str("nameContains")?.map(|s| crate::args::fold(&s));
    let limit = args.int_in("limit", 1, 1000, 100)? as usize;
    let path = match &company {
        Some(id) => format!("{COMPANIES_PATH}/{}/sites", segment(id)),
        None => SITES_PATH.to_string(),
    };
    let body = ctx.api.get_keeping(&path, &[], SITE_SUMMARY_FIELDS)?;
    let matching: Vec<Value> = array(&body, &["sites", "data"], "sites")?
        .iter()
        .filter(|s| matches_name(s, needle.as_deref()))
        .map(|site| {
            let company_id = match nested_id(site, "company") {
                Value::Null => company.clone().map(Value::from).unwrap_or(Value::Null),
                id => id,
            };
            merged(
                project(
                    site,
                    &[
                        ("siteId", &["id"]),
                        ("name", &["name"]),
                        ("friendlyName", &["friendlyName"]),
                        ("timeZone", &["timeZone"]),
                        ("active", &["activeFlag"]),
                        ("primary", &["primaryFlag"]),
                    ],
                ),
                compact(vec![
                    ("companyId", company_id),
                    ("companyName", nested_name(site, "company")),
                ]),
            )
        })
        .collect();
    discard(body);
    Ok(limited("sites", matching, limit))
}

fn matches_name(item: &Value, needle: Option<&str>) -> bool {
    match needle {
        None => true,
        Some(needle) => ["name", "friendlyName"]
            .iter()
            .any(|k| text(item, &[k]).is_some_and(|n| contains_ci(n, needle))),
    }
}

fn company_summary(company: &Value) -> Value {
    merged(
        project(
            company,
            &[
                ("companyId", &["id"]),
                ("name", &["name"]),
                ("friendlyName", &["friendlyName"]),
            ],
        ),
        compact(vec![
            ("status", nested_name(company, "activityStatus")),
            ("primarySiteId", nested_id(company, "primarySite")),
        ]),
    )
}

/// `{key: items[..limit], count, truncated}`.
pub fn limited(key: &str, mut items: Vec<Value>, limit: usize) -> Value {
    let truncated = items.len() > limit;
    items.truncate(limit);
    // Moved in, not through `json!`: it would copy every row by serialising it again.
    compact(vec![
        ("count", items.len().into()),
        (key, Value::Array(items)),
        ("truncated", truncated.into()),
    ])
}

#[cfg(test)]
mod tests {
    use crate::http::fake::FakeTransport;
    use crate::tools::testing::*;

    const COMPANIES: &str = r#"[
        {"id":"11111111-1111-4111-8111-111111111111","name":"Acme Pty Ltd","friendlyName":"Acme","activityStatus":{"id":"a","name":"Active","activeFlag":true},"primarySite":{"id":"22222222-2222-4222-8222-222222222222","name":"HQ"}},
        {"id":"33333333-3333-4333-8333-333333333333","name":"Globex","friendlyName":"GBX"}]"#;

    #[test]
    fn lists_and_filters_companies() {
        let fake = FakeTransport::new();
        fake.reply(200, COMPANIES).reply(200, COMPANIES);
        let all = run(&fake, "cw-rmm-list-companies", "{}").unwrap();
        assert_eq!(all["count"], 2);
        assert_eq!(
            all["companies"][0]["primarySiteId"],
            "22222222-2222-4222-8222-222222222222"
        );
        let some = run(
            &fake,
            "cw-rmm-list-companies",
            r#"{"nameContains":"gbx","limit":1}"#,
        )
        .unwrap();
        assert_eq!(some["companies"][0]["name"], "Globex");
        assert_eq!(some["truncated"], false);
        assert_eq!(fake.paths(), vec!["/api/platform/v1/company/companies"; 2]);
        assert_eq!(
            invalid_field(run(&fake, "cw-rmm-list-companies", r#"{"limit":0}"#)),
            "limit"
        );
    }

    #[test]
    fn gets_company_and_sites() {
        let fake = FakeTransport::new();
        fake.reply(200, r#"{"id":"11111111-1111-4111-8111-111111111111","name":"Acme","primaryContact":{"firstName":"Ann","primaryEmail":{"emailAddress":"a@x"}}}"#)
            .reply(200, r#"[{"id":"s1","name":"HQ","timeZone":"Australia/Sydney"}]"#);
        let company = run(
            &fake,
            "cw-rmm-get-company",
            r#"{"companyId":"11111111-1111-4111-8111-111111111111"}"#,
        )
        .unwrap();
        assert_eq!(company["primaryContact"]["email"], "a@x");
        let sites = run(
            &fake,
            "cw-rmm-list-sites",
            r#"{"companyId":"11111111-1111-4111-8111-111111111111"}"#,
        )
        .unwrap();
        assert_eq!(
            sites["sites"][0]["companyId"],
            "11111111-1111-4111-8111-111111111111"
        );
        assert_eq!(
            fake.paths()[1],
            "/api/platform/v1/company/companies/11111111-1111-4111-8111-111111111111/sites"
        );
        assert_eq!(
            invalid_field(run(&fake, "cw-rmm-get-company", "{}")),
            "companyId"
        );
    }
}
