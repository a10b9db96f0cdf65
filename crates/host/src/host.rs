//! `ToolHost`: one plugin, one tenant connection, and the front door every caller uses (the
//! CLI, the MCP server and the web UI call the same methods, so no rule exists twice). The
//! call pipeline itself is in [`crate::pipeline`].

use crate::catalog::{Catalog, Tenant, ToolEntry};
use crate::config::HostConfig;
use crate::connection::{self, ConnectionSettings};
use crate::error::HostError;
use crate::grant::diff::GrantDiff;
use crate::grant::model::Grant;
use crate::shared_runtimes::SharedRuntimes;
use std::path::Path;
use std::sync::Arc;
use toolhost_base::SecretString;
use toolhost_governance::{ApprovalStore, AuditLog, PolicyEngine, Role, RoleTable, BUILTIN_ROLE};
use toolhost_sandbox::{
    CallContext, Origin, PluginMetadata, PluginRuntime, RuntimeOptions, TokenProvider,
};

/// What `connect` did.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectReport {
    /// The region connected to.
    pub region: String,
    /// Its API origin.
    pub api: String,
    /// Tools the plugin brings.
    pub static_tools: usize,
    /// Tools discovered in the tenant.
    pub discovered_tools: usize,
    /// Where the connection was saved: its file, or the state database and tenant.
    pub saved_to: String,
    /// What the plugin was granted: where its traffic and the client secret may go, every
    /// tool with its routes.
    pub grant: Grant,
}

/// A connection whose credentials and discovery worked, not yet saved or in use: made
/// without holding the host exclusively, committed with [`ToolHost::commit_connection`].
pub struct VerifiedConnection {
    connection: Connection,
    discovered_tools: usize,
    grant: Grant,
}

pub(crate) struct Connection {
    pub settings: ConnectionSettings,
    pub context: CallContext,
    pub provider: Option<Arc<TokenProvider>>,
}

impl Connection {
    pub fn tenant(&self) -> Tenant<'_> {
        Tenant {
            context: &self.context,
            region: &self.settings.region,
            client_id: &self.settings.client_id,
        }
    }
}

/// The host: see the module documentation.
pub struct ToolHost {
    pub(crate) config: HostConfig,
    pub(crate) runtime: PluginRuntime,
    pub(crate) connection: Option<Connection>,
    pub(crate) catalog: Catalog,
    pub(crate) approvals: ApprovalStore,
    pub(crate) audit: AuditLog,
    /// The plugin's permission matrix (or the built-in role), before `roles.toml`.
    pub(crate) default_roles: RoleTable,
    /// What the operator accepted for the connection.
    pub(crate) grant: Option<Grant>,
    /// How the component differs from its grant: while set, nothing runs.
    pub(crate) grant_mismatch: Option<GrantDiff>,
    /// Told about every finished attempt (metrics); none by default.
    pub(crate) observers: crate::metrics::Observers,
}

impl ToolHost {
    /// Loads the plugin and the saved connection, if any. `config` is used as given; see
    /// [`ToolHost::open_with_settings`] for the operator's `toolhost.toml`.
    pub async fn open(config: HostConfig) -> Result<ToolHost, HostError> {
        let runtime = PluginRuntime::load(&config.plugin, runtime_options(&config)).await?;
        ToolHost::open_on(config, runtime).await
    }

    /// Like [`ToolHost::open_with_settings`], on the runtime `runtimes` holds for this
    /// plugin and these limits (loaded now if none does): hosts of many tenants in one
    /// process share one engine, compiled plugin, concurrency limit and memory budget.
    pub async fn open_sharing(
        mut config: HostConfig,
        runtimes: &SharedRuntimes,
    ) -> Result<ToolHost, HostError> {
        crate::settings::apply(&mut config)?;
        let runtime = runtimes
            .get_or_load(&config.plugin, runtime_options(&config))
            .await?;
        ToolHost::open_on(config, runtime).await
    }

    async fn open_on(config: HostConfig, runtime: PluginRuntime) -> Result<ToolHost, HostError> {
        let approvals = config
            .state
            .approvals(&config.approvals_dir)?
            .with_ttl(config.approval_ttl);
        let audit = config.state.audit(&config.audit_log)?;
        let default_roles = default_roles(runtime.metadata());
        let mut host = ToolHost {
            default_roles,
            grant: None,
            grant_mismatch: None,
            observers: Default::default(),
            connection: None,
            catalog: Catalog::new(&config),
            runtime,
            approvals,
            audit,
            config,
        };
        if let Some(settings) = connection::load_connection(&host.config).await? {
            host.connection = Some(host.build_connection(settings)?);
            host.check_grant().await?;
        }
        Ok(host)
    }

    /// Like [`ToolHost::open`], after applying `<home>/toolhost.toml` (limits, timeouts,
    /// TTLs) to `config`: what every front end (CLI, MCP, UI) uses.
    pub async fn open_with_settings(mut config: HostConfig) -> Result<ToolHost, HostError> {
        crate::settings::apply(&mut config)?;
        ToolHost::open(config).await
    }

    /// As [`ToolHost::open_with_settings`], for a command that runs at most `calls` calls at
    /// once (a one-shot `toolhost call`): the sandbox's instance pool is sized for those
    /// rather than for every call the settings allow in flight, which a process that makes
    /// one call would pay for at start (a slot's fiber stack and guard page each).
    pub async fn open_for_calls(
        mut config: HostConfig,
        calls: usize,
    ) -> Result<ToolHost, HostError> {
        crate::settings::apply(&mut config)?;
        let limits = &mut config.limits;
        limits.max_concurrent_calls = limits.max_concurrent_calls.min(calls.max(1));
        ToolHost::open(config).await
    }

    /// The plugin's own description of itself.
    pub fn metadata(&self) -> &PluginMetadata {
        self.runtime.metadata()
    }

    /// The sandbox running the plugin (for embedders and benchmarks).
    pub fn runtime(&self) -> &PluginRuntime {
        &self.runtime
    }

    /// The home directory.
    pub fn home(&self) -> &Path {
        &self.config.home
    }

    /// The tenant this host acts in: every call, approval, audit record, client and token
    /// of this host is that tenant's.
    pub fn tenant(&self) -> &crate::tenant::TenantName {
        &self.config.tenant
    }

    /// The configuration in effect.
    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    /// The current connection's call context, for embedders (and benchmarks) that drive the
    /// runtime directly. Calls made that way skip roles, policy and audit.
    pub fn call_context(&self) -> Option<CallContext> {
        self.connection.as_ref().map(|c| c.context.clone())
    }

    /// The saved connection in use, if any.
    pub fn connection(&self) -> Option<&ConnectionSettings> {
        self.connection.as_ref().map(|c| &c.settings)
    }

    /// Tells `observer` about every attempt that ends from now on (after its audit record).
    pub fn observe_calls(&mut self, observer: Arc<dyn crate::metrics::CallObserver>) {
        self.observers.add(observer);
    }

    /// Whether a tenant is connected.
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

    /// Secrets that must never appear in records or messages.
    pub(crate) fn secrets(&self) -> Vec<SecretString> {
        self.connection
            .as_ref()
            .map(|c| vec![c.settings.client_secret.clone()])
            .unwrap_or_default()
    }

    /// Proves the credentials by minting a token (shared from then on with every process
    /// of the home), discovers the tenant's tools, and saves the connection only when both
    /// worked.
    pub async fn connect(
        &mut self,
        settings: ConnectionSettings,
    ) -> Result<ConnectReport, HostError> {
        let verified = self.verify_connection(settings).await?;
        self.commit_connection(verified).await
    }

    /// The slow half of [`ToolHost::connect`] (network: a token, a discovery), which needs
    /// only shared access: a UI keeps serving other requests meanwhile.
    pub async fn verify_connection(
        &self,
        settings: ConnectionSettings,
    ) -> Result<VerifiedConnection, HostError> {
        self.verify_connection_allowing(settings, &[]).await
    }

    /// [`ToolHost::verify_connection`], with extra origins the operator named explicitly
    /// (`--allow-origin`): http, loopback, private or IP-literal origins the plugin declares
    /// are refused otherwise.
    pub async fn verify_connection_allowing(
        &self,
        settings: ConnectionSettings,
        allowed_origins: &[Origin],
    ) -> Result<VerifiedConnection, HostError> {
        self.verify(settings, allowed_origins, false).await
    }

    /// [`ToolHost::verify_connection_allowing`] for a replica starting up: when the
    /// connection is the one its peers saved (same credentials and routes), their shared token
    /// proves it instead of a new one. A mint per replica start would burn the API key's
    /// mint allowance (it locks a key that mints too often).
    pub async fn verify_connection_as_replica(
        &self,
        settings: ConnectionSettings,
        allowed_origins: &[Origin],
    ) -> Result<VerifiedConnection, HostError> {
        let unchanged = self
            .connection
            .as_ref()
            .is_some_and(|c| c.settings.same_as(&settings));
        self.verify(settings, allowed_origins, unchanged).await
    }

    async fn verify(
        &self,
        settings: ConnectionSettings,
        allowed_origins: &[Origin],
        shared_token_proves: bool,
    ) -> Result<VerifiedConnection, HostError> {
        self.check_extra_origins(&settings.region, allowed_origins)?;
        let connection = self.build_connection(settings)?;
        if let Some(provider) = &connection.provider {
            if shared_token_proves {
                provider.token().await?;
            } else {
                // A new token, not a stored one: connecting proves the credentials work now.
                provider.fresh_token().await?;
            }
        }
        let discovered_tools = self
            .catalog
            .refresh(&self.runtime, &connection.tenant())
            .await?;
        let mut grant = self.current_grant(&connection).await?;
        grant.allowed_origins = allowed_origins.to_vec();
        Ok(VerifiedConnection {
            connection,
            discovered_tools,
            grant,
        })
    }

    /// Saves a verified connection and uses it from now on.
    pub async fn commit_connection(
        &mut self,
        verified: VerifiedConnection,
    ) -> Result<ConnectReport, HostError> {
        let VerifiedConnection {
            connection,
            discovered_tools,
            grant,
        } = verified;
        let saved_to = connection::save_connection(&self.config, &connection.settings).await?;
        self.record_grant(grant.clone()).await?;
        let region = connection.settings.region.clone();
        let api = self
            .metadata()
            .region(&region)
            .map(|r| r.api.url())
            .unwrap_or_default();
        self.connection = Some(connection);
        Ok(ConnectReport {
            region,
            api,
            static_tools: self.runtime.static_tools().len(),
            discovered_tools,
            saved_to,
            grant,
        })
    }

    fn build_connection(&self, settings: ConnectionSettings) -> Result<Connection, HostError> {
        // One token per connection for the whole home (or every replica of the tenant),
        // whichever process needs it.
        let (context, provider) =
            connection::shared_call_context(self.runtime.metadata(), &settings, &self.config)?;
        Ok(Connection {
            settings,
            context,
            provider,
        })
    }

    /// Static tools, plus the tenant's tools when connected.
    pub async fn tools(&self) -> Result<Vec<ToolEntry>, HostError> {
        self.list(&self.policy_engine()?, false).await
    }

    /// Like [`ToolHost::tools`], discovering the tenant's tools again first.
    pub async fn refresh_tools(&self) -> Result<Vec<ToolEntry>, HostError> {
        self.list(&self.policy_engine()?, true).await
    }

    /// When the tenant's tools were last discovered (seconds since the Unix epoch).
    pub fn catalog_refreshed_at(&self) -> Option<u64> {
        self.catalog.refreshed_at()
    }

    /// The tools served: every tool, less those whose declaration changed since it was
    /// granted. Nothing while the component does not match its grant.
    pub(crate) async fn list(
        &self,
        engine: &PolicyEngine,
        force_refresh: bool,
    ) -> Result<Vec<ToolEntry>, HostError> {
        self.refuse_ungranted()?;
        let mut entries = self.list_all(engine, force_refresh).await?;
        if let Some(grant) = &self.grant {
            entries.retain(|e| grant.serves(e));
        }
        Ok(entries)
    }

    /// Every tool the plugin and the tenant offer now, granted or not.
    pub(crate) async fn list_all(
        &self,
        engine: &PolicyEngine,
        force_refresh: bool,
    ) -> Result<Vec<ToolEntry>, HostError> {
        let tenant = self.connection.as_ref().map(Connection::tenant);
        self.catalog
            .list(&self.runtime, tenant.as_ref(), engine, force_refresh)
            .await
    }

    /// The role of a caller who names none, when neither the policy file nor the
    /// configuration names one: the plugin's default role, else its first role that may use
    /// the agent, else the built-in role.
    pub(crate) fn plugin_default_role(&self) -> &str {
        let metadata = self.runtime.metadata();
        metadata
            .default_role
            .as_deref()
            .or_else(|| {
                metadata
                    .roles
                    .iter()
                    .find(|r| r.ai_assist)
                    .map(|r| r.name.as_str())
            })
            .unwrap_or(BUILTIN_ROLE)
    }

    pub(crate) fn policy_engine(&self) -> Result<PolicyEngine, HostError> {
        // Read on every use: an operator's `policy set` in another process takes effect at
        // once, and a file broken meanwhile refuses calls instead of allowing them.
        Ok(PolicyEngine::load(&self.config.policy_file)?)
    }
}

/// The plugin's permission matrix as a role table: vendor knowledge the plugin declares.
/// How `config` loads its plugin: its compile cache and limits.
fn runtime_options(config: &HostConfig) -> RuntimeOptions {
    RuntimeOptions {
        cache_dir: Some(config.cache_dir.clone()),
        limits: config.limits,
    }
}

fn default_roles(metadata: &PluginMetadata) -> RoleTable {
    RoleTable::from_roles(
        metadata
            .roles
            .iter()
            .map(|t| {
                let permissions: Vec<&str> = t.permissions.iter().map(String::as_str).collect();
                Role::new(&t.name, t.ai_assist, t.limited_access, &permissions)
                    .with_fixed(t.fixed.iter().map(String::as_str))
            })
            .collect(),
    )
}
