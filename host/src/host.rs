//! `ToolHost`: one plugin, one connection, and the front door every caller uses (CLI today;
//! the MCP server and the web UI call the same methods, so no rule exists twice).

use crate::approvals::ApprovalStore;
use crate::arguments::ArgumentValidators;
use crate::audit::AuditLog;
use crate::catalog::{self, CatalogKey, DiscoveredTools};
use crate::connection::{self, ConnectionSettings};
use crate::credentials::oauth2::BodyEncoding;
use crate::credentials::{ClientCredentials, TokenEndpoint, TokenProvider};
use crate::error::HostError;
use crate::outbound::gate::UpstreamExchange;
use crate::outbound::{AllowedOrigins, OutboundPolicy, RetryPolicy, Timeouts};
use crate::policy::{Mode, PolicyEngine};
use crate::runtime::descriptors::CredentialKind;
use crate::runtime::{
    CallContext, CallLimits, PluginMetadata, PluginRuntime, RuntimeOptions, ToolDescriptor,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Everything the host needs to start.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Private state: the connection file.
    pub home: PathBuf,
    /// Compiled components (default: `<home>/cache`).
    pub cache_dir: PathBuf,
    pub plugin: PathBuf,
    pub limits: CallLimits,
    pub outbound: OutboundLimits,
    /// How long discovered tools are trusted before they are discovered again.
    pub catalog_ttl: Duration,
    /// Operator overrides of tool modes (`toolhost policy set` writes it).
    pub policy_file: PathBuf,
    /// The role table; missing means the seed's default table.
    pub roles_file: PathBuf,
    pub approvals_dir: PathBuf,
    pub approval_ttl: Duration,
    pub audit_log: PathBuf,
    /// The role of a caller who names none, unless the policy file's `[settings]
    /// default_role` says otherwise.
    pub default_role: String,
}

/// Least privilege that still runs every tool of the default table.
pub const DEFAULT_ROLE: &str = "Technician";

/// Per-call limits of the outbound gate.
#[derive(Debug, Clone, Copy)]
pub struct OutboundLimits {
    pub timeouts: Timeouts,
    pub retry: RetryPolicy,
    pub max_requests_per_call: u32,
    pub max_request_body_bytes: u64,
    pub max_response_body_bytes: u64,
}

impl Default for OutboundLimits {
    fn default() -> OutboundLimits {
        OutboundLimits {
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            // Listing 10,000 devices takes 20 pages per company chunk; leave headroom.
            max_requests_per_call: 200,
            max_request_body_bytes: 1 << 20,
            max_response_body_bytes: 16 << 20,
        }
    }
}

impl HostConfig {
    pub fn new(home: impl Into<PathBuf>, plugin: impl Into<PathBuf>) -> HostConfig {
        let home = home.into();
        HostConfig {
            cache_dir: home.join("cache"),
            policy_file: home.join("policy.toml"),
            roles_file: home.join("roles.toml"),
            approvals_dir: home.join("approvals"),
            approval_ttl: crate::approvals::DEFAULT_TTL,
            audit_log: home.join("audit.jsonl"),
            default_role: DEFAULT_ROLE.to_string(),
            home,
            plugin: plugin.into(),
            limits: CallLimits::default(),
            outbound: OutboundLimits::default(),
            catalog_ttl: catalog::DEFAULT_TTL,
        }
    }
}

/// A tool as the host lists it: namespaced, with the mode it runs under.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolEntry {
    /// `<plugin-id>:<tool-name>`.
    pub name: String,
    pub kind: ToolKind,
    /// The effective mode (defaults, classifier and the operator's overrides applied).
    pub policy: Mode,
    #[serde(flatten)]
    pub descriptor: ToolDescriptor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolKind {
    Static,
    Discovered,
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectReport {
    pub region: String,
    pub api: String,
    pub static_tools: usize,
    pub discovered_tools: usize,
    pub saved_to: PathBuf,
}

/// A successful call and what it cost.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallReport {
    pub tool: String,
    pub result: Value,
    pub instantiate_us: u64,
    pub execute_us: u64,
    pub upstream: Vec<UpstreamExchange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
}

struct Connection {
    settings: ConnectionSettings,
    context: CallContext,
    provider: Option<Arc<TokenProvider>>,
}

pub struct ToolHost {
    config: HostConfig,
    runtime: PluginRuntime,
    connection: Option<Connection>,
    discovered: Mutex<Option<DiscoveredTools>>,
    validators: ArgumentValidators,
    approvals: ApprovalStore,
    audit: AuditLog,
}

impl ToolHost {
    /// Loads the plugin and the saved connection, if any. `config` is used as given; see
    /// [`ToolHost::open_with_settings`] for the operator's `toolhost.toml`.
    pub async fn open(config: HostConfig) -> Result<ToolHost, HostError> {
        let runtime = PluginRuntime::load(
            &config.plugin,
            RuntimeOptions {
                cache_dir: Some(config.cache_dir.clone()),
                limits: config.limits,
            },
        )
        .await?;
        let approvals = ApprovalStore::open(&config.approvals_dir)?.with_ttl(config.approval_ttl);
        let audit = AuditLog::open(&config.audit_log)?;
        let mut host = ToolHost {
            connection: None,
            runtime,
            discovered: Mutex::new(None),
            validators: ArgumentValidators::default(),
            approvals,
            audit,
            config,
        };
        if let Some(settings) = connection::load(&host.config.home)? {
            host.connection = Some(host.build_connection(settings)?);
        }
        Ok(host)
    }

    /// Like [`ToolHost::open`], after applying `<home>/toolhost.toml` (limits, timeouts,
    /// TTLs) to `config`: what every front end (CLI, MCP, UI) uses.
    pub async fn open_with_settings(mut config: HostConfig) -> Result<ToolHost, HostError> {
        crate::settings::apply(&mut config)?;
        ToolHost::open(config).await
    }

    pub fn metadata(&self) -> &PluginMetadata {
        self.runtime.metadata()
    }

    pub fn runtime(&self) -> &PluginRuntime {
        &self.runtime
    }

    pub fn home(&self) -> &Path {
        &self.config.home
    }

    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    pub(crate) fn approvals(&self) -> &ApprovalStore {
        &self.approvals
    }

    pub(crate) fn audit_log(&self) -> &AuditLog {
        &self.audit
    }

    /// Secrets that must never appear in records or messages.
    pub(crate) fn secrets(&self) -> Vec<crate::credentials::SecretString> {
        self.connection
            .as_ref()
            .map(|c| vec![c.settings.client_secret.clone()])
            .unwrap_or_default()
    }

    /// The current connection's call context, for embedders (and benchmarks) that drive the
    /// runtime directly. Calls made that way skip roles, policy and audit.
    pub fn call_context(&self) -> Option<CallContext> {
        self.connection.as_ref().map(|c| c.context.clone())
    }

    pub fn is_connected(&self) -> bool {
        self.connection.is_some()
    }

    /// Tokens minted through the current connection (for tests and diagnostics).
    pub fn token_mints(&self) -> u64 {
        self.connection
            .as_ref()
            .and_then(|c| c.provider.as_ref())
            .map_or(0, |p| p.mint_count())
    }

    /// Proves the credentials by minting a token, discovers the tenant's tools, and saves
    /// the connection only when both worked.
    pub async fn connect(
        &mut self,
        settings: ConnectionSettings,
    ) -> Result<ConnectReport, HostError> {
        let connection = self.build_connection(settings)?;
        if let Some(provider) = &connection.provider {
            provider.token().await?;
        }
        let discovered = self.discover(&connection.context).await?;
        let saved_to = connection::save(&self.config.home, &connection.settings)?;
        let catalog = DiscoveredTools::new(self.catalog_key(&connection.settings), &discovered);
        let region = connection.settings.region.clone();
        let api = self
            .metadata()
            .region(&region)
            .map(|r| r.api.url())
            .unwrap_or_default();
        self.connection = Some(connection);
        self.store_catalog(catalog);
        Ok(ConnectReport {
            region,
            api,
            static_tools: self.runtime.static_tools().len(),
            discovered_tools: discovered.len(),
            saved_to,
        })
    }

    fn build_connection(&self, settings: ConnectionSettings) -> Result<Connection, HostError> {
        let (context, provider) =
            connection_context(self.runtime.metadata(), &settings, &self.config.outbound)?;
        Ok(Connection {
            settings,
            context,
            provider,
        })
    }

    async fn discover(&self, context: &CallContext) -> Result<Vec<ToolDescriptor>, HostError> {
        let (tools, _outcome) = self.runtime.discover_tools(context.clone()).await;
        let tools = tools.map_err(|failure| HostError::Call {
            tool: format!("{}:discover-tools", self.metadata().id),
            failure,
            upstream_statuses: Vec::new(),
        })?;
        let static_names: Vec<&str> = self
            .runtime
            .static_tools()
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        // A discovered tool may never shadow a static one.
        Ok(tools
            .into_iter()
            .filter(|t| !static_names.contains(&t.name.as_str()))
            .collect())
    }

    fn catalog_key(&self, settings: &ConnectionSettings) -> CatalogKey {
        CatalogKey {
            component_sha256: self.runtime.compile_report().component_sha256.clone(),
            region: settings.region.clone(),
            client_id: settings.client_id.clone(),
        }
    }

    fn store_catalog(&self, catalog: DiscoveredTools) {
        if let Err(err) = catalog::save(&self.config.home, &catalog) {
            tracing::warn!("could not save the tool catalog: {err}");
        }
        *self.discovered.lock().unwrap_or_else(|p| p.into_inner()) = Some(catalog);
        self.validators.clear();
    }

    /// The tenant's tools: from memory or disk while fresh, else discovered again. When a
    /// scheduled (not forced) refresh fails, the stale catalog keeps serving, with a warning.
    async fn discovered_tools(
        &self,
        force_refresh: bool,
    ) -> Result<Vec<ToolDescriptor>, HostError> {
        let Some(connection) = &self.connection else {
            return Ok(Vec::new());
        };
        let key = self.catalog_key(&connection.settings);
        let ttl = self.config.catalog_ttl;
        let cached = {
            let mut memory = self.discovered.lock().unwrap_or_else(|p| p.into_inner());
            if memory.as_ref().is_none_or(|c| c.key != key) {
                *memory = catalog::load(&self.config.home).filter(|c| c.key == key);
            }
            memory.clone()
        };
        if let Some(catalog) = &cached {
            if !force_refresh && catalog.is_fresh_for(&key, ttl) {
                return Ok(catalog.descriptors());
            }
        }
        match self.discover(&connection.context).await {
            Ok(tools) => {
                self.store_catalog(DiscoveredTools::new(key, &tools));
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

    /// Static tools, plus the tenant's tools when connected.
    pub async fn tools(&self) -> Result<Vec<ToolEntry>, HostError> {
        self.list(false).await
    }

    /// Like [`ToolHost::tools`], discovering the tenant's tools again first.
    pub async fn refresh_tools(&self) -> Result<Vec<ToolEntry>, HostError> {
        self.list(true).await
    }

    async fn list(&self, force_refresh: bool) -> Result<Vec<ToolEntry>, HostError> {
        let id = &self.metadata().id;
        let engine = PolicyEngine::load(&self.config.policy_file)?;
        let entry = |d: &ToolDescriptor, kind| {
            let mut entry = ToolEntry {
                name: format!("{id}:{}", d.name),
                kind,
                policy: Mode::from(d.policy_hint),
                descriptor: d.clone(),
            };
            entry.policy = engine.decide(&entry).mode;
            entry
        };
        let mut entries: Vec<ToolEntry> = self
            .runtime
            .static_tools()
            .iter()
            .map(|d| entry(d, ToolKind::Static))
            .collect();
        let discovered = self.discovered_tools(force_refresh).await?;
        entries.extend(discovered.iter().map(|d| entry(d, ToolKind::Discovered)));
        Ok(entries)
    }

    /// The tool named `name` (namespaced or bare); a miss triggers one rediscovery, in
    /// case a script was added since the catalog was built.
    pub(crate) async fn find_tool(&self, name: &str) -> Result<ToolEntry, HostError> {
        let entries = self.tools().await?;
        if let Ok(entry) = self.resolve(&entries, name) {
            return Ok(entry.clone());
        }
        if self.connection.is_some() {
            let entries = self.refresh_tools().await?;
            return self.resolve(&entries, name).cloned();
        }
        self.resolve(&entries, name).cloned()
    }

    pub(crate) fn check_arguments(
        &self,
        entry: &ToolEntry,
        arguments: &str,
    ) -> Result<(), HostError> {
        self.validators
            .check(&entry.name, &entry.descriptor.input_schema, arguments)
            .map(|_| ())
            .map_err(|error| HostError::InvalidArguments {
                tool: entry.name.clone(),
                error,
            })
    }

    /// Runs the plugin for an admitted call. Everything before this point decided that it
    /// may run.
    pub(crate) async fn execute(
        &self,
        entry: &ToolEntry,
        arguments: &str,
    ) -> Result<CallReport, HostError> {
        let connection = self.connection.as_ref().ok_or(HostError::NotConnected)?;
        let outcome = self
            .runtime
            .call_tool(
                connection.context.clone(),
                &entry.descriptor.name,
                arguments,
            )
            .await;
        let upstream = outcome.exchanges.clone();
        let result = outcome.result.map_err(|failure| HostError::Call {
            tool: entry.name.clone(),
            failure,
            upstream_statuses: upstream.iter().filter_map(|e| e.status).collect(),
        })?;
        Ok(CallReport {
            tool: entry.name.clone(),
            result,
            instantiate_us: micros(outcome.instantiate),
            execute_us: micros(outcome.execute),
            upstream,
            approval_id: None,
        })
    }

    /// `plugin:tool` for a bare tool name, without looking the tool up.
    pub(crate) fn qualified_name(&self, name: &str) -> String {
        if name.contains(':') {
            name.to_string()
        } else {
            format!("{}:{name}", self.metadata().id)
        }
    }

    /// Accepts `plugin:tool` or the bare tool name.
    fn resolve<'a>(
        &self,
        entries: &'a [ToolEntry],
        name: &str,
    ) -> Result<&'a ToolEntry, HostError> {
        let prefix = format!("{}:", self.metadata().id);
        let wanted = name.strip_prefix(&prefix).unwrap_or(name);
        entries
            .iter()
            .find(|e| e.descriptor.name == wanted)
            .ok_or_else(|| HostError::UnknownTool {
                name: name.to_string(),
                suggestion: closest(wanted, entries.iter().map(|e| e.name.as_str())),
            })
    }
}

/// What calls through a connection may reach and how they authenticate: the region's
/// origins, its upstream routes, and a token provider for the plugin's credential kind.
pub fn connection_context(
    metadata: &PluginMetadata,
    settings: &ConnectionSettings,
    limits: &OutboundLimits,
) -> Result<(CallContext, Option<Arc<TokenProvider>>), HostError> {
    let region = metadata
        .region(&settings.region)
        .ok_or_else(|| HostError::UnknownRegion {
            region: settings.region.clone(),
            known: metadata.region_ids().join(", "),
        })?;
    let allowed = AllowedOrigins::new(
        std::iter::once(region.api.clone()).chain(region.extra_origins.iter().cloned()),
    );
    let user_agent = format!(
        "toolhost/{} ({}/{})",
        env!("CARGO_PKG_VERSION"),
        metadata.id,
        metadata.version
    );
    let provider = match &metadata.credential {
        CredentialKind::None => None,
        CredentialKind::OAuth2ClientCredentials {
            token_path,
            body_encoding,
            scopes,
        } => Some(Arc::new(TokenProvider::new(
            TokenEndpoint {
                origin: region.api.clone(),
                path: token_path.clone(),
                encoding: BodyEncoding::parse(body_encoding).unwrap_or(BodyEncoding::Json),
                scopes: settings.scopes.clone().unwrap_or_else(|| scopes.clone()),
                user_agent: user_agent.clone(),
            },
            ClientCredentials {
                client_id: settings.client_id.clone(),
                client_secret: settings.client_secret.clone(),
            },
            settings.routes.clone(),
            limits.timeouts,
        ))),
    };
    let outbound = OutboundPolicy {
        allowed,
        routes: settings.routes.clone(),
        credentials: provider.clone().map(|p| (p, vec![region.api.clone()])),
        timeouts: limits.timeouts,
        retry: limits.retry,
        max_requests_per_call: limits.max_requests_per_call,
        max_request_body_bytes: limits.max_request_body_bytes,
        max_response_body_bytes: limits.max_response_body_bytes,
        user_agent,
    };
    let config = vec![("region".to_string(), settings.region.clone())];
    Ok((
        CallContext {
            outbound: Arc::new(outbound),
            config,
        },
        provider,
    ))
}

fn micros(d: Duration) -> u64 {
    d.as_micros() as u64
}

/// The listed name sharing the longest run of words with `wanted`, if any share one.
fn closest<'a>(wanted: &str, names: impl Iterator<Item = &'a str>) -> Option<String> {
    let words: Vec<&str> = wanted
        .split(['-', ':', '_'])
        .filter(|w| w.len() > 2)
        .collect();
    names
        .map(|n| (words.iter().filter(|w| n.contains(**w)).count(), n))
        .filter(|(score, _)| *score > 0)
        .max_by_key(|(score, n)| (*score, std::cmp::Reverse(n.len())))
        .map(|(_, n)| n.to_string())
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn suggests_the_closest_tool() {
        let names = [
            "p:cw-rmm-list-devices",
            "p:cw-rmm-get-device",
            "p:cw-rmm-list-tickets",
        ];
        assert_eq!(
            closest("list-device", names.into_iter()).as_deref(),
            Some("p:cw-rmm-list-devices")
        );
        assert_eq!(closest("zzz", names.into_iter()), None);
    }
}
