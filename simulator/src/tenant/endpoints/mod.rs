//! The tenant's endpoints: the hand-seeded ones, then generated extras up to the requested
//! count, each with a profile derived from its name so every run serves the same fleet.

mod model;
mod profile;
mod seeded;

pub use model::{DeviceKind, Endpoint};
pub use seeded::SEEDED;

use super::companies::Site;
use super::ids::derive;
use model::DeviceKind::*;
use profile::make;

pub fn build(sites: &[Site], endpoint_count: usize) -> Vec<Endpoint> {
    let mut out: Vec<Endpoint> = SEEDED
        .iter()
        .map(|&(name, friendly, site_key, kind, online, user)| {
            let site_id = derive("site", site_key);
            let company_id = sites
                .iter()
                .find(|s| s.id == site_id)
                .map(|s| s.company_id)
                .unwrap_or_default();
            make(
                name,
                friendly,
                company_id,
                site_id,
                kind,
                online,
                user.map(str::to_string),
            )
        })
        .collect();
    // Extra endpoints rotate over sites and kinds; every fifth one is offline.
    let kinds = [
        WindowsDesktop,
        WindowsLaptop,
        WindowsDesktop,
        WindowsServer,
        LinuxServer,
        MacLaptop,
        WindowsLaptop,
    ];
    for n in out.len()..endpoint_count {
        let site = &sites[n % sites.len()];
        let kind = kinds[n % kinds.len()];
        let prefix = match site.company_id {
            id if id == derive("company", "contoso") => "CONTOSO",
            id if id == derive("company", "fabrikam") => "FAB",
            _ => "NW",
        };
        let role = match kind {
            WindowsServer | LinuxServer => "SRV",
            WindowsLaptop | MacLaptop => "LT",
            WindowsDesktop => "WS",
        };
        let name = format!("{prefix}-{role}-{n:05}");
        let online = n % 5 != 0;
        let user = (online && role != "SRV").then(|| format!("user{n:05}"));
        let friendly = name.clone();
        out.push(make(
            &name,
            &friendly,
            site.company_id,
            site.id,
            kind,
            online,
            user,
        ));
    }
    out
}
