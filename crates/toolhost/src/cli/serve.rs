//! `toolhost serve`: the server deployment (see [`crate::serve`]). Every flag can also be
//! set in the environment, as a container is configured; the client secret comes only from
//! the environment or a file, never a flag. Every tenant of the home is served, each by its
//! own host; `--client-id` connects the one `--tenant` names (default: the default tenant).

use crate::serve::metrics::Metrics;
use crate::serve::secret::{self, SECRET_ENV};
use crate::serve::ServeOptions;
use anyhow::Context;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use toolhost_governance::ApproverName;
use toolhost_host::{ConnectRequest, TenantName, ToolHost};
use toolhost_sandbox::Origin;

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (IP:PORT; port 0 picks one). Off loopback, --public-host is
    /// required.
    #[arg(long, env = "TOOLHOST_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// A host name clients and browsers use to reach this server (`name` or `name:port`);
    /// requests for any other Host are refused. Repeatable, or comma-separated in the
    /// environment.
    #[arg(
        long = "public-host",
        value_name = "HOST",
        env = "TOOLHOST_PUBLIC_HOSTS",
        value_delimiter = ','
    )]
    public_hosts: Vec<String>,
    /// Also accept this Origin on /mcp (`https://app.example.com`). Repeatable, or
    /// comma-separated in the environment.
    #[arg(
        long = "allow-origin",
        value_name = "ORIGIN",
        env = "TOOLHOST_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    allowed_origins: Vec<String>,
    /// Seconds calls in flight may take to finish after SIGTERM/SIGINT.
    #[arg(
        long,
        value_name = "SECONDS",
        env = "TOOLHOST_SHUTDOWN_DEADLINE",
        default_value_t = 30
    )]
    shutdown_deadline: u64,
    /// Connect at start with this API client id (the secret from TOOLHOST_CLIENT_SECRET or
    /// --client-secret-file); without it, the home's saved connection is used.
    #[arg(long, env = "TOOLHOST_CLIENT_ID", hide_env_values = true)]
    client_id: Option<String>,
    /// A file holding the client secret (a mounted Kubernetes Secret).
    #[arg(
        long,
        value_name = "PATH",
        env = "TOOLHOST_CLIENT_SECRET_FILE",
        hide_env_values = true,
        requires = "client_id"
    )]
    client_secret_file: Option<PathBuf>,
    /// Region of the tenant, with --client-id: au, na or eu.
    #[arg(
        long,
        env = "TOOLHOST_REGION",
        default_value = "au",
        requires = "client_id"
    )]
    region: String,
    /// Space-separated scopes instead of the plugin's defaults, with --client-id.
    #[arg(long, env = "TOOLHOST_SCOPES", requires = "client_id")]
    scopes: Option<String>,
    /// Send the region's API traffic to this URL instead (a proxy, the simulator), with
    /// --client-id.
    #[arg(long, env = "TOOLHOST_UPSTREAM", requires = "client_id")]
    upstream: Option<String>,
    /// An extra plugin origin you consent to (as `toolhost connect --allow-origin`), with
    /// --client-id. Comma-separated in the environment.
    #[arg(
        long = "allow-plugin-origin",
        value_name = "ORIGIN",
        env = "TOOLHOST_ALLOWED_PLUGIN_ORIGINS",
        value_delimiter = ',',
        requires = "client_id"
    )]
    allowed_plugin_origins: Vec<String>,
    /// The person the printed UI link signs in (default: your OS user name); approvals from
    /// the UI are recorded as `ui:NAME`.
    #[arg(long, value_name = "NAME", env = "TOOLHOST_APPROVER")]
    approver: Option<ApproverName>,
    /// Refused: a server deployment always authenticates clients (use `toolhost mcp --http
    /// --no-auth` on loopback for local testing).
    #[arg(long, hide = true)]
    no_auth: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("toolhost serve always authenticates: every MCP request needs a client token (`toolhost clients add NAME --role ROLE`). For unauthenticated local testing use `toolhost mcp --http 127.0.0.1:PORT --no-auth`")]
struct NoAuthRefused;

/// `open_host` opens a tenant's host in the root `home` with the configured plugin; serve
/// opens one per tenant for MCP, and one more per tenant for its admin UI (after
/// connecting, so it loads the saved connection; the default tenant's always, as its UI is
/// at `/`). `connect_tenant` is the tenant `--client-id` connects.
pub async fn run<F, Fut>(
    args: ServeArgs,
    home_flag: Option<String>,
    (known, place): (Vec<TenantName>, String),
    connect_tenant: TenantName,
    open_host: F,
) -> anyhow::Result<()>
where
    F: Fn(TenantName) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<ToolHost>>,
{
    if args.no_auth {
        return Err(NoAuthRefused.into());
    }
    let options = ServeOptions {
        listen: args.listen,
        public_hosts: args.public_hosts.clone(),
        allowed_origins: args.allowed_origins.clone(),
        shutdown_deadline: Duration::from_secs(args.shutdown_deadline),
        home_flag,
        approver: match args.approver.clone() {
            Some(name) => name,
            None => ApproverName::parse(&super::operator::operator_name())
                .context("your OS user name cannot name the approver: pass --approver NAME")?,
        },
    };
    crate::serve::check(&options)?;
    let metrics = Arc::new(Metrics::new());
    let mut mcp_hosts = Vec::new();
    let served = tenants_to_serve(known, &place, &connect_tenant, args.client_id.is_some())?;
    for tenant in served.iter().cloned() {
        let mut mcp_host = open_host(tenant.clone())
            .await
            .with_context(|| format!("opening tenant `{tenant}`"))?;
        mcp_host.observe_calls(metrics.clone());
        metrics.add_tenant(tenant.as_str());
        if let (Some(client_id), true) = (&args.client_id, tenant == connect_tenant) {
            connect(&mut mcp_host, client_id.clone(), &args).await?;
        }
        if mcp_host.is_connected() {
            // Labels are limited to the catalog's names; learn them before the first call.
            match mcp_host.tools().await {
                Ok(tools) => {
                    metrics.set_known_tools(tenant.as_str(), tools.into_iter().map(|t| t.name))
                }
                Err(err) => {
                    tracing::warn!("tenant `{tenant}`: the tool catalog cannot be read yet: {err}")
                }
            }
        }
        mcp_hosts.push(mcp_host);
    }
    let mut ui_tenants = served;
    if !ui_tenants.iter().any(TenantName::is_default) {
        ui_tenants.insert(0, TenantName::default());
    }
    let mut ui_hosts = Vec::new();
    for tenant in ui_tenants {
        let mut ui_host = open_host(tenant.clone())
            .await
            .with_context(|| format!("opening tenant `{tenant}` for its admin UI"))?;
        ui_host.observe_calls(metrics.clone());
        ui_hosts.push(ui_host);
    }
    crate::serve::run(options, mcp_hosts, ui_hosts, metrics).await
}

/// Every tenant `known` (the default first) of `place` (the home or the state database),
/// and the one `--client-id` connects even when it does not exist yet (connecting creates it).
fn tenants_to_serve(
    mut tenants: Vec<TenantName>,
    place: &str,
    connect_tenant: &TenantName,
    connecting: bool,
) -> anyhow::Result<Vec<TenantName>> {
    if !tenants.contains(connect_tenant) {
        if !connecting {
            anyhow::bail!("--tenant {connect_tenant}: no such tenant in {place} (serve serves every tenant there; --tenant names the one --client-id connects). `toolhost tenants` lists them");
        }
        tenants.push(connect_tenant.clone());
    }
    Ok(tenants)
}

/// `toolhost connect`, from configuration: proves the credentials, discovers, saves.
async fn connect(host: &mut ToolHost, client_id: String, args: &ServeArgs) -> anyhow::Result<()> {
    let env_secret = std::env::var(SECRET_ENV).ok();
    let client_secret = secret::client_secret(args.client_secret_file.as_deref(), env_secret)?;
    let settings = ConnectRequest {
        region: args.region.clone(),
        client_id,
        client_secret,
        scopes: args.scopes.clone(),
        upstream: args.upstream.clone(),
    }
    .settings(host.metadata())?;
    let allowed = args
        .allowed_plugin_origins
        .iter()
        .map(|o| Origin::parse(o).with_context(|| format!("--allow-plugin-origin {o}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let verified = host
        .verify_connection_as_replica(settings, &allowed)
        .await
        .context("connecting to the tenant at start")?;
    let report = host.commit_connection(verified).await?;
    eprintln!(
        "connected to region {}: {} tools ({} discovered)",
        super::display::escape(&report.region),
        report.static_tools + report.discovered_tools,
        report.discovered_tools
    );
    Ok(())
}
