//! Shared server state: configuration, the immutable tenant and the mutable stores.

use crate::auth::TokenStore;
use crate::faults::FaultStore;
use crate::tasks::TaskStore;
use crate::tenant::{Tenant, Ticket};
use crate::{RecordedRequest, SimulatorConfig};
use std::sync::{Mutex, MutexGuard};

pub struct AppState {
    pub config: SimulatorConfig,
    pub tenant: Tenant,
    pub tokens: TokenStore,
    pub tasks: Mutex<TaskStore>,
    pub tickets: Mutex<Vec<Ticket>>,
    pub faults: FaultStore,
    recorded: Mutex<Vec<RecordedRequest>>,
}

/// Locks a mutex, recovering from poisoning: a panicking handler must not wedge the server.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
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
            recorded: Mutex::new(Vec::new()),
        }
    }

    pub fn record(&self, request: RecordedRequest) {
        lock(&self.recorded).push(request);
    }

    pub fn recorded(&self) -> Vec<RecordedRequest> {
        lock(&self.recorded).clone()
    }
}
