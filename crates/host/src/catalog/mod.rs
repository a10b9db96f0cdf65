//! The tool catalog: the plugin's static tools plus the tenant's discovered tools (one per
//! script). The discovered half is kept in its store ([`store`]: the home's file, or the
//! state database every replica shares) and refreshed once older than its TTL or on demand;
//! it belongs to one component build and one connection, and a catalog of another is never
//! used. A refresh that fails keeps the stale catalog serving, with a warning.
//!
//! With a shared store, a listing reads the shared catalog (so no replica offers a tool
//! another's refresh removed), a call looks in this host's copy and, on a miss, in the
//! shared one before anything is refused or rediscovered, and replicas take turns
//! refreshing: one that waited for the turn serves the catalog discovered meanwhile.

mod discovered;
mod entry;
mod static_entries;
mod store;

use crate::arguments::{ArgumentError, ArgumentValidators};
use crate::config::HostConfig;
use crate::error::HostError;
use discovered::{CatalogKey, DiscoveredTools};
pub use entry::ToolEntry;
pub(crate) use entry::{qualified_name, resolve};
use serde_json::Value;
use static_entries::{Component, StaticEntries};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use store::{CatalogStore, Loaded};
use toolhost_governance::{PolicyEngine, ToolKind};
use toolhost_sandbox::{CallContext, PluginRuntime, ToolDescriptor};

/// Which tenant a listing is for.
pub(crate) struct Tenant<'a> {
    pub context: &'a CallContext,
    pub region: &'a str,
    pub client_id: &'a str,
}

/// The tool catalog of one tenant.
pub(crate) struct Catalog {
    store: CatalogStore,
    ttl: Duration,
    /// This host's copy of the discovered half, as last read or refreshed.
    discovered: Mutex<Option<Loaded>>,
    /// Compiled input schemas, by tool name; forgotten when the catalog changes.
    validators: ArgumentValidators,
    /// The static tools' entries (their digests computed once), for the component they were
    /// built from: listings and calls clone them instead of serialising and hashing every
    /// declaration each time.
    static_entries: StaticEntries,
}

impl Catalog {
    pub fn new(config: &HostConfig) -> Catalog {
        Catalog {
            store: CatalogStore::new(config),
            ttl: config.catalog_ttl,
            discovered: Mutex::new(None),
            validators: ArgumentValidators::default(),
            static_entries: StaticEntries::default(),
        }
    }

    /// The static tools of `component` with their modes under `engine`, as a listing
    /// starts: copies of the entries built once.
    fn static_listing(&self, component: &Component<'_>, engine: &PolicyEngine) -> Vec<ToolEntry> {
        let mut entries = self.static_entries.all(component);
        for entry in &mut entries {
            entry.policy = engine.decide(&entry.facts()).mode;
        }
        entries
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
        let mut entries = self.static_listing(&Component::of(runtime), engine);
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
        if let Some(mut found) = self.static_entries.get(&Component::of(runtime), wanted) {
            found.policy = engine.decide(&found.facts()).mode;
            return Ok(Some(found));
        }
        let Some(tenant) = tenant else {
            return Ok(None);
        };
        let key = self.key(runtime, tenant);
        let in_memory = {
            let memory = self.discovered.lock().unwrap_or_else(|p| p.into_inner());
            memory
                .as_ref()
                .filter(|c| c.catalog.is_fresh_for(&key, self.ttl))
                .and_then(|c| c.catalog.find(wanted))
        };
        // A miss in this host's copy reads the store again (with a shared store, another
        // replica may have refreshed it since) before the caller refuses or rediscovers.
        let found = match in_memory {
            Some(found) => Some(ToolDescriptor::from(found)),
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

    /// When the discovered tools were last refreshed (seconds since the Unix epoch), as this
    /// host last read or refreshed them (or, before that, as the home's file says).
    pub fn refreshed_at(&self) -> Option<u64> {
        let memory = self.discovered.lock().unwrap_or_else(|p| p.into_inner());
        memory.as_ref().map(|c| c.catalog.refreshed_at).or_else(|| {
            self.store
                .home()
                .and_then(discovered::load)
                .map(|c| c.refreshed_at)
        })
    }

    async fn discovered(
        &self,
        runtime: &PluginRuntime,
        tenant: &Tenant<'_>,
        force_refresh: bool,
    ) -> Result<Vec<ToolDescriptor>, HostError> {
        let key = self.key(runtime, tenant);
        let cached = self.read(&key).await;
        if let Some(held) = &cached {
            if !force_refresh && held.catalog.is_fresh_for(&key, self.ttl) {
                return Ok(held.catalog.descriptors());
            }
        }
        let turn = self.store.refresh_turn(&key).await;
        // Single flight across replicas: a refresh another replica saved while this one
        // waited for the turn is used, not repeated (even when this one was forced: it
        // ended after this was asked); so is one that is simply fresh.
        if let Some(current) = turn.current().await {
            let changed = cached.as_ref().map(|c| c.revision) != Some(current.revision);
            if changed || (!force_refresh && current.catalog.is_fresh_for(&key, self.ttl)) {
                let tools = current.catalog.descriptors();
                self.keep(current);
                return Ok(tools);
            }
        }
        let started_ms = now_ms();
        match discover(runtime, tenant.context).await {
            Ok(tools) => {
                let mut catalog = DiscoveredTools::new(key, &tools);
                catalog.refreshed_at = u64::try_from(started_ms / 1000).unwrap_or(0);
                let saved = turn.save(catalog, started_ms).await;
                self.keep(saved);
                Ok(tools)
            }
            Err(err) => match cached {
                Some(stale) if !force_refresh => {
                    tracing::warn!(
                        "tool discovery failed ({err}); serving the catalog from {} s ago",
                        stale.catalog.age().as_secs()
                    );
                    Ok(stale.catalog.descriptors())
                }
                _ => Err(err),
            },
        }
    }

    /// The catalog for `key` as it stands: a shared store is read every time (another
    /// replica may have refreshed it); a home's file only when this host holds no copy of
    /// `key` yet.
    async fn read(&self, key: &CatalogKey) -> Option<Loaded> {
        let held = {
            let memory = self.discovered.lock().unwrap_or_else(|p| p.into_inner());
            memory.clone().filter(|c| &c.catalog.key == key)
        };
        if held.is_some() && !self.store.is_shared() {
            return held;
        }
        match self.store.load(key).await {
            Some(stored) => {
                let unchanged = held
                    .as_ref()
                    .is_some_and(|h| h.revision.is_some() && h.revision == stored.revision);
                if !unchanged {
                    self.keep(stored.clone());
                }
                Some(stored)
            }
            // A shared store that cannot be read (or has no row yet): this host's copy.
            None => held,
        }
    }

    /// Makes `loaded` this host's copy; compiled schemas of another copy are forgotten.
    fn keep(&self, loaded: Loaded) {
        *self.discovered.lock().unwrap_or_else(|p| p.into_inner()) = Some(loaded);
        self.validators.clear();
    }

    fn key(&self, runtime: &PluginRuntime, tenant: &Tenant<'_>) -> CatalogKey {
        CatalogKey {
            component_sha256: runtime.compile_report().component_sha256.clone(),
            region: tenant.region.to_string(),
            client_id: tenant.client_id.to_string(),
        }
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

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use toolhost_governance::PolicyFile;
    use toolhost_sandbox::{Annotations, PolicyHint};

    fn tool(name: &str) -> ToolDescriptor {
        ToolDescriptor {
            name: name.to_string(),
            title: name.to_string(),
            description: format!("{name} things"),
            input_schema: serde_json::json!({"type": "object"}),
            output_schema: None,
            annotations: Annotations {
                read_only: true,
                destructive: false,
                idempotent: true,
                open_world: true,
            },
            policy_hint: PolicyHint::Auto,
            permissions: vec!["devices:view".to_string()],
            routes: Vec::new(),
        }
    }

    #[test]
    fn listings_and_calls_share_the_static_entries_built_once_per_component() {
        let home = std::env::temp_dir().join(format!("catalog-static-{}", std::process::id()));
        let catalog = Catalog::new(&HostConfig::new(&home, home.join("plugin.wasm")));
        let engine = PolicyEngine::from_file(PolicyFile::default());
        let tools = [tool("list-devices"), tool("get-device")];
        let component = Component {
            sha256: "c1",
            plugin_id: "p",
            tools: &tools,
        };
        let before = entry::entries_built();
        let first = catalog.static_listing(&component, &engine);
        let again = catalog.static_listing(&component, &engine);
        let called = catalog
            .static_entries
            .get(&component, "get-device")
            .unwrap();
        assert_eq!(
            entry::entries_built() - before,
            tools.len(),
            "built once each"
        );
        let names: Vec<&str> = first.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            ["p:list-devices", "p:get-device"],
            "declaration order"
        );
        assert_eq!(first[1].digest(), called.digest());
        let called_again = catalog.static_entries.get(&component, "get-device");
        assert!(
            std::sync::Arc::ptr_eq(&called.descriptor, &called_again.unwrap().descriptor),
            "a call's lookup shares the declaration (its schemas), not a copy"
        );
        assert_eq!(first[0].digest(), again[0].digest());
        assert_eq!(first[0].policy, engine.decide(&first[0].facts()).mode);
        // Another component's tools are built anew.
        let other = Component {
            sha256: "c2",
            ..component
        };
        catalog.static_listing(&other, &engine);
        assert_eq!(entry::entries_built() - before, 2 * tools.len());
    }
}
