//! Seeded companies ("clients") and their sites.

use super::ids::derive;
use chrono::{DateTime, Utc};
use uuid::Uuid;

pub struct Company {
    pub id: Uuid,
    pub key: &'static str,
    pub name: &'static str,
    pub friendly_name: &'static str,
    pub description: &'static str,
    pub created: DateTime<Utc>,
}

pub struct Site {
    pub id: Uuid,
    pub company_id: Uuid,
    pub name: &'static str,
    pub friendly_name: &'static str,
    pub time_zone: &'static str,
    pub address: &'static str,
    pub locality: &'static str,
    pub administrative_area: &'static str,
    pub post_code: &'static str,
    pub country: &'static str,
    pub country_code: &'static str,
    pub primary: bool,
    pub created: DateTime<Utc>,
}

pub fn companies() -> Vec<Company> {
    let rows = [
        (
            "contoso",
            super::seed::CONTOSO_NAME,
            "Contoso",
            "Professional services firm, 2 offices",
            2019,
        ),
        (
            "fabrikam",
            super::seed::FABRIKAM_NAME,
            "Fabrikam",
            "Manufacturer with head office and warehouse",
            2020,
        ),
        (
            "northwind",
            super::seed::NORTHWIND_NAME,
            "Northwind",
            "Food distributor across AU and NZ",
            2021,
        ),
    ];
    rows.into_iter()
        .map(|(key, name, friendly, desc, year)| Company {
            id: derive("company", key),
            key,
            name,
            friendly_name: friendly,
            description: desc,
            created: crate::time::fixed(year, 3, 14, 9),
        })
        .collect()
}

pub fn sites() -> Vec<Site> {
    use super::seed::*;
    #[allow(clippy::type_complexity)]
    let rows: [(
        &str,
        &str,
        &str,
        &str,
        &str,
        &str,
        &str,
        &str,
        &str,
        &str,
        bool,
    ); 6] = [
        (
            "contoso-sydney",
            "contoso",
            CONTOSO_SYDNEY_SITE_NAME,
            "Australia/Sydney",
            "1 Martin Place",
            "Sydney",
            "NSW",
            "2000",
            "Australia",
            "AU",
            true,
        ),
        (
            "contoso-melbourne",
            "contoso",
            CONTOSO_MELBOURNE_SITE_NAME,
            "Australia/Melbourne",
            "120 Collins Street",
            "Melbourne",
            "VIC",
            "3000",
            "Australia",
            "AU",
            false,
        ),
        (
            "fabrikam-brisbane",
            "fabrikam",
            FABRIKAM_BRISBANE_SITE_NAME,
            "Australia/Brisbane",
            "300 Queen Street",
            "Brisbane",
            "QLD",
            "4000",
            "Australia",
            "AU",
            true,
        ),
        (
            "fabrikam-warehouse",
            "fabrikam",
            FABRIKAM_WAREHOUSE_SITE_NAME,
            "Australia/Brisbane",
            "15 Logistics Drive",
            "Eagle Farm",
            "QLD",
            "4009",
            "Australia",
            "AU",
            false,
        ),
        (
            "northwind-perth",
            "northwind",
            NORTHWIND_PERTH_SITE_NAME,
            "Australia/Perth",
            "88 St Georges Terrace",
            "Perth",
            "WA",
            "6000",
            "Australia",
            "AU",
            true,
        ),
        (
            "northwind-auckland",
            "northwind",
            NORTHWIND_AUCKLAND_SITE_NAME,
            "Pacific/Auckland",
            "21 Queen Street",
            "Auckland",
            "AUK",
            "1010",
            "New Zealand",
            "NZ",
            false,
        ),
    ];
    rows.into_iter()
        .map(
            |(key, company, name, tz, addr, loc, area, post, country, cc, primary)| Site {
                id: derive("site", key),
                company_id: derive("company", company),
                name,
                friendly_name: name,
                time_zone: tz,
                address: addr,
                locality: loc,
                administrative_area: area,
                post_code: post,
                country,
                country_code: cc,
                primary,
                created: crate::time::fixed(2021, 5, 2, 10),
            },
        )
        .collect()
}
