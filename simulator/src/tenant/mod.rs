//! The simulated partner tenant: companies, sites, endpoints, groups, scripts and ticketing
//! lookups. Everything here is immutable after construction and deterministic.

mod companies;
mod endpoints;
mod ids;
mod scripts;
pub mod seed;
mod ticketing;

pub use companies::{Company, Site};
pub use endpoints::{DeviceKind, Endpoint};
pub use ids::{derive as derive_id, pick};
pub use scripts::{DeviceGroup, LibraryScript, ShellScript};
pub use ticketing::{IdName, IdRef, Lookup, ServiceBoard, StatusLookup, Ticket};

use std::collections::HashMap;
use uuid::Uuid;

/// Hand-seeded endpoints; `endpoint_count` below this still yields the full seed.
pub const SEEDED_ENDPOINT_COUNT: usize = endpoints::SEEDED.len();
/// Upper bound on generated endpoints, to keep memory bounded.
pub const MAX_ENDPOINTS: usize = 200_000;

pub struct Tenant {
    pub companies: Vec<Company>,
    pub sites: Vec<Site>,
    pub endpoints: Vec<Endpoint>,
    endpoint_index: HashMap<Uuid, usize>,
    pub device_groups: Vec<DeviceGroup>,
    pub shell_scripts: Vec<ShellScript>,
    pub library_scripts: Vec<LibraryScript>,
    pub boards: Vec<ServiceBoard>,
    pub sources: Vec<Lookup>,
    pub priorities: Vec<Lookup>,
    pub statuses: Vec<StatusLookup>,
    pub tickets: Vec<Ticket>,
}

impl Tenant {
    pub fn build(endpoint_count: usize) -> Tenant {
        let companies = companies::companies();
        let sites = companies::sites();
        let endpoints = endpoints::build(&sites, endpoint_count);
        let endpoint_index = endpoints
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id, i))
            .collect();
        let ticketing = ticketing::Ticketing::build(&endpoints);
        Tenant {
            companies,
            sites,
            endpoints,
            endpoint_index,
            device_groups: scripts::device_groups(),
            shell_scripts: scripts::shell_scripts(),
            library_scripts: scripts::library_scripts(),
            boards: ticketing.boards,
            sources: ticketing.sources,
            priorities: ticketing.priorities,
            statuses: ticketing.statuses,
            tickets: ticketing.tickets,
        }
    }

    pub fn company(&self, id: Uuid) -> Option<&Company> {
        self.companies.iter().find(|c| c.id == id)
    }

    pub fn site(&self, id: Uuid) -> Option<&Site> {
        self.sites.iter().find(|s| s.id == id)
    }

    pub fn endpoint(&self, id: Uuid) -> Option<&Endpoint> {
        self.endpoint_index.get(&id).map(|&i| &self.endpoints[i])
    }

    pub fn shell_script(&self, id: Uuid) -> Option<&ShellScript> {
        self.shell_scripts.iter().find(|s| s.id == id)
    }

    pub fn library_script(&self, id: Uuid) -> Option<&LibraryScript> {
        self.library_scripts.iter().find(|s| s.id == id)
    }

    pub fn group_members(&self, group: &DeviceGroup) -> Vec<Uuid> {
        self.endpoints
            .iter()
            .filter(|e| group.rule.matches(e))
            .map(|e| e.id)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_is_rich_enough_and_deterministic() {
        let a = Tenant::build(0);
        let b = Tenant::build(0);
        assert!(a.companies.len() >= 3);
        assert!(a.sites.len() >= 6);
        assert!(a.endpoints.len() >= 40);
        assert!(a.shell_scripts.len() >= 8);
        assert!(a.tickets.len() >= 10);
        let ids_a: Vec<_> = a.endpoints.iter().map(|e| e.id).collect();
        let ids_b: Vec<_> = b.endpoints.iter().map(|e| e.id).collect();
        assert_eq!(ids_a, ids_b);
        let dc01: Uuid = seed::DC01_ID.parse().unwrap();
        assert_eq!(a.endpoint(dc01).unwrap().device_name, seed::DC01_NAME);
    }

    #[test]
    fn generates_the_requested_count_with_unique_ids() {
        let t = Tenant::build(10_000);
        assert_eq!(t.endpoints.len(), 10_000);
        let unique: std::collections::HashSet<_> = t.endpoints.iter().map(|e| e.id).collect();
        assert_eq!(unique.len(), 10_000);
        assert!(t
            .endpoints
            .iter()
            .all(|e| t.site(e.site_id).map(|s| s.company_id) == Some(e.company_id)));
    }
}
