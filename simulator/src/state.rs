//! Shared server state: configuration, the immutable tenant and the mutable stores.

use crate::config::SimulatorConfig;
use crate::faults::FaultStore;
use crate::lock::lock;
use crate::recording::RecordedRequest;
use crate::tasks::TaskStore;
use crate::tenant::{ShellScript, Tenant, Ticket};
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
}
