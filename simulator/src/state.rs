//! Shared server state: configuration, the immutable tenant and the mutable stores.

use crate::config::SimulatorConfig;
use crate::faults::FaultStore;
use crate::lock::lock;
use crate::recording::RecordedRequest;
use crate::tasks::TaskStore;
use crate::tenant::{Endpoint, ShellScript, Tenant, Ticket};
use crate::tokens::TokenStore;
use std::collections::HashMap;
use std::sync::Mutex;
use uuid::Uuid;

pub struct AppState {
    pub config: SimulatorConfig,
    pub tenant: Tenant,
    pub tokens: TokenStore,
    pub tasks: Mutex<TaskStore>,
    pub tickets: Mutex<Vec<Ticket>>,
    pub faults: FaultStore,
    /// Test hook: shell scripts switched active/inactive at run time (by template id).
    script_states: Mutex<HashMap<Uuid, bool>>,
    /// Test hook: shell scripts renamed at run time (by template id).
    script_names: Mutex<HashMap<Uuid, String>>,
    /// Test hook: endpoints moved to another company and site at run time (by endpoint id).
    endpoint_homes: Mutex<HashMap<Uuid, (Uuid, Uuid)>>,
    recorded: Mutex<Vec<RecordedRequest>>,
    /// Requests that arrived over HTTP/2 (TLS with ALPN `h2`).
    pub http2_requests: std::sync::atomic::AtomicU64,
}

impl AppState {
    pub fn new(config: SimulatorConfig) -> AppState {
        let tenant = Tenant::build(config.endpoint_count);
        let tasks = TaskStore::seeded(&tenant, chrono::Utc::now());
        let tickets = tenant.tickets.clone();
        AppState {
            tokens: TokenStore::new(&config),
            config,
            tenant,
            tasks: Mutex::new(tasks),
            tickets: Mutex::new(tickets),
            faults: FaultStore::default(),
            script_states: Mutex::new(HashMap::new()),
            script_names: Mutex::new(HashMap::new()),
            endpoint_homes: Mutex::new(HashMap::new()),
            recorded: Mutex::new(Vec::new()),
            http2_requests: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Whether `script` is active now: its seeded state unless a test switched it.
    pub fn script_active(&self, script: &ShellScript) -> bool {
        lock(&self.script_states)
            .get(&script.id)
            .copied()
            .unwrap_or(script.active)
    }

    /// Switches a shell script active or inactive; false for an unknown template id.
    pub fn set_script_state(&self, template_id: Uuid, active: bool) -> bool {
        if self.tenant.shell_script(template_id).is_none() {
            return false;
        }
        lock(&self.script_states).insert(template_id, active);
        true
    }

    /// The name `script` is listed under now: its seeded name unless a test renamed it.
    pub fn script_name(&self, script: &ShellScript) -> String {
        lock(&self.script_names)
            .get(&script.id)
            .cloned()
            .unwrap_or_else(|| script.name.to_string())
    }

    /// The company and site `endpoint` belongs to now: its seeded ones unless a test moved it.
    pub fn endpoint_home(&self, endpoint: &Endpoint) -> (Uuid, Uuid) {
        lock(&self.endpoint_homes)
            .get(&endpoint.id)
            .copied()
            .unwrap_or((endpoint.company_id, endpoint.site_id))
    }

    /// Moves an endpoint to `company` and `site`, as re-assigning a device in the RMM console
    /// does; false for an unknown endpoint, company or site, or a site of another company.
    pub fn move_endpoint(&self, endpoint: Uuid, company: Uuid, site: Uuid) -> bool {
        let site_fits = self
            .tenant
            .sites
            .iter()
            .any(|s| s.id == site && s.company_id == company);
        if self.tenant.endpoint(endpoint).is_none() || !site_fits {
            return false;
        }
        lock(&self.endpoint_homes).insert(endpoint, (company, site));
        true
    }

    /// Renames a shell script; false for an unknown template id.
    pub fn rename_script(&self, template_id: Uuid, name: &str) -> bool {
        if self.tenant.shell_script(template_id).is_none() {
            return false;
        }
        lock(&self.script_names).insert(template_id, name.to_string());
        true
    }

    pub fn record(&self, request: RecordedRequest) {
        lock(&self.recorded).push(request);
    }

    pub fn recorded(&self) -> Vec<RecordedRequest> {
        lock(&self.recorded).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_state_overrides_the_seed() {
        let state = AppState::new(SimulatorConfig::default());
        let id: Uuid = crate::seed::DISK_CLEANUP_SCRIPT_ID.parse().unwrap();
        let script = || state.tenant.shell_script(id).unwrap();
        assert!(state.script_active(script()));
        assert!(state.set_script_state(id, false));
        assert!(!state.script_active(script()));
        assert!(state.set_script_state(id, true));
        assert!(state.script_active(script()));
        assert!(!state.set_script_state(Uuid::nil(), true));
    }

    #[test]
    fn a_moved_endpoint_lives_in_its_new_company_and_site() {
        let state = AppState::new(SimulatorConfig::default());
        let id = |s: &str| s.parse::<Uuid>().unwrap();
        let laptop = id(crate::seed::MARIA_LAPTOP_ID);
        let endpoint = || state.tenant.endpoint(laptop).unwrap();
        let contoso = (
            id(crate::seed::CONTOSO_ID),
            id(crate::seed::CONTOSO_SYDNEY_SITE_ID),
        );
        assert_eq!(state.endpoint_home(endpoint()), contoso);
        let fabrikam = id(crate::seed::FABRIKAM_ID);
        // A site of another company is no home.
        assert!(!state.move_endpoint(laptop, fabrikam, contoso.1));
        assert!(!state.move_endpoint(Uuid::nil(), contoso.0, contoso.1));
        let brisbane = id(crate::seed::FABRIKAM_BRISBANE_SITE_ID);
        assert!(state.move_endpoint(laptop, fabrikam, brisbane));
        assert_eq!(state.endpoint_home(endpoint()), (fabrikam, brisbane));
    }
}
