//! The tool catalog: the plugin's static tools plus the tenant's discovered tools (one per
//! script). The discovered half is kept on disk and refreshed once older than its TTL or on
//! demand; it belongs to one component build and one connection, and a catalog of another
//! is never used. A refresh that fails keeps the stale catalog serving, with a warning.

mod discovered;
mod entry;

use crate::arguments::{ArgumentError, ArgumentValidators};
use crate::error::HostError;
use discovered::{CatalogKey, DiscoveredTools};
pub use entry::ToolEntry;
pub(crate) use entry::{qualified_name, resolve};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;
use toolhost_governance::{PolicyEngine, ToolKind};
use toolhost_sandbox::{CallContext, PluginRuntime, ToolDescriptor};

/// Which tenant a listing is for.
pub(crate) struct Tenant<'a> {
    pub context: &'a CallContext,
    pub region: &'a str,
    pub client_id: &'a str,
}

/// The tool catalog of one home directory.
pub(crate) struct Catalog {
    home: PathBuf,
    ttl: Duration,
    discovered: Mutex<Option<DiscoveredTools>>,
    /// Compiled input schemas, by tool name; forgotten when the catalog changes.
    validators: ArgumentValidators,
}

impl Catalog {
    pub fn new(home: PathBuf, ttl: Duration) -> Catalog {
        Catalog {
            home,
            ttl,
            discovered: Mutex::new(None),
            validators: ArgumentValidators::default(),
        }
    }

    /// Checks parsed arguments against the tool's input schema.
    pub fn check_arguments(
        &self,
        entry: &ToolEntry,
        arguments: &Value,
    ) -> Result<(), ArgumentError> {
        self.validators
            .check(&entry.name, &entry.descriptor.input_schema, arguments)
    }

    /// Every tool with its effective mode under `engine`: static tools, plus the tenant's
    /// when connected.
    pub async fn list(
        &self,
        runtime: &PluginRuntime,
        tenant: Option<&Tenant<'_>>,
        engine: &PolicyEngine,
        force_refresh: bool,
    ) -> Result<Vec<ToolEntry>, HostError> {
        let id = &runtime.metadata().id;
        let entry = |d: &ToolDescriptor, kind| {
            let mut entry = ToolEntry::new(format!("{id}:{}", d.name), kind, d.clone());
            entry.policy = engine.decide(&entry.facts()).mode;
            entry
        };
        let mut entries: Vec<ToolEntry> = runtime
            .static_tools()
            .iter()
            .map(|d| entry(d, ToolKind::Static))
            .collect();
        if let Some(tenant) = tenant {
            let discovered = self.discovered(runtime, tenant, force_refresh).await?;
            entries.extend(discovered.iter().map(|d| entry(d, ToolKind::Discovered)));
        }
        Ok(entries)
    }

    /// The one tool `name` (namespaced or bare) names, with its mode under `engine`, as
    /// [`Catalog::list`] would give it, without building (and cloning) every entry: the
    /// call path's lookup. `None` when the catalog as it stands has no such tool (the
    /// caller then lists everything, to rediscover or to suggest a name).
    pub async fn find(
        &self,
        runtime: &PluginRuntime,
        tenant: Option<&Tenant<'_>>,
        engine: &PolicyEngine,
        name: &str,
    ) -> Result<Option<ToolEntry>, HostError> {
        let id = &runtime.metadata().id;
        let wanted = name
            .strip_prefix(id.as_str())
            .and_then(|rest| rest.strip_prefix(':'))
            .unwrap_or(name);
        let entry = |d: ToolDescriptor, kind| {
            let mut entry = ToolEntry::new(format!("{id}:{}", d.name), kind, d);
            entry.policy = engine.decide(&entry.facts()).mode;
            entry
        };
        // Static tools come first in a listing, and a discovered tool never shadows one.
        if let Some(d) = runtime.static_tools().iter().find(|d| d.name == wanted) {
            return Ok(Some(entry(d.clone(), ToolKind::Static)));
        }
        let Some(tenant) = tenant else {
            return Ok(None);
        };
        let key = self.key(runtime, tenant);
        let fresh = {
            let memory = self.discovered.lock().unwrap_or_else(|p| p.into_inner());
            memory
                .as_ref()
                .filter(|c| c.is_fresh_for(&key, self.ttl))
                .map(|c| c.find(wanted).map(ToolDescriptor::from))
        };
        let found = match fresh {
            Some(found) => found,
            None => self
                .discovered(runtime, tenant, false)
                .await?
                .into_iter()
                .find(|d| d.name == wanted),
        };
        Ok(found.map(|d| entry(d, ToolKind::Discovered)))
    }

    /// Discovers the tenant's tools now and keeps them; returns how many there are.
    pub async fn refresh(
        &self,
        runtime: &PluginRuntime,
        tenant: &Tenant<'_>,
    ) -> Result<usize, HostError> {
        Ok(self.discovered(runtime, tenant, true).await?.len())
    }

    /// When the discovered tools were last refreshed (seconds since the Unix epoch).
    pub fn refreshed_at(&self) -> Option<u64> {
        let memory = self.discovered.lock().unwrap_or_else(|p| p.into_inner());
        memory
            .as_ref()
            .map(|c| c.refreshed_at)
            .or_else(|| discovered::load(&self.home).map(|c| c.refreshed_at))
    }

    async fn discovered(
        &self,
        runtime: &PluginRuntime,
        tenant: &Tenant<'_>,
        force_refresh: bool,
    ) -> Result<Vec<ToolDescriptor>, HostError> {
        let key = self.key(runtime, tenant);
        let cached = {
            let mut memory = self.discovered.lock().unwrap_or_else(|p| p.into_inner());
            if memory.as_ref().is_none_or(|c| c.key != key) {
                *memory = discovered::load(&self.home).filter(|c| c.key == key);
            }
            memory.clone()
        };
        if let Some(catalog) = &cached {
            if !force_refresh && catalog.is_fresh_for(&key, self.ttl) {
                return Ok(catalog.descriptors());
            }
        }
        match discover(runtime, tenant.context).await {
            Ok(tools) => {
                self.store(DiscoveredTools::new(key, &tools));
                Ok(tools)
            }
            Err(err) => match cached {
                Some(stale) if !force_refresh => {
                    tracing::warn!(
                        "tool discovery failed ({err}); serving the catalog from {} s ago",
                        stale.age().as_secs()
                    );
                    Ok(stale.descriptors())
                }
                _ => Err(err),
            },
        }
    }

    fn key(&self, runtime: &PluginRuntime, tenant: &Tenant<'_>) -> CatalogKey {
        CatalogKey {
            component_sha256: runtime.compile_report().component_sha256.clone(),
            region: tenant.region.to_string(),
            client_id: tenant.client_id.to_string(),
        }
    }

    fn store(&self, catalog: DiscoveredTools) {
        if let Err(err) = discovered::save(&self.home, &catalog) {
            tracing::warn!("could not save the tool catalog: {err}");
        }
        *self.discovered.lock().unwrap_or_else(|p| p.into_inner()) = Some(catalog);
        self.validators.clear();
    }
}

/// The tenant's tools as the plugin discovers them; a discovered tool may never shadow a
/// static one.
async fn discover(
    runtime: &PluginRuntime,
    context: &CallContext,
) -> Result<Vec<ToolDescriptor>, HostError> {
    let (tools, _outcome) = runtime.discover_tools(context.clone()).await;
    let tools = tools.map_err(|failure| HostError::Call {
        tool: format!("{}:discover-tools", runtime.metadata().id),
        failure,
        upstream_statuses: Vec::new(),
    })?;
    let static_names: Vec<&str> = runtime
        .static_tools()
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    Ok(tools
        .into_iter()
        .filter(|t| !static_names.contains(&t.name.as_str()))
        .collect())
}
