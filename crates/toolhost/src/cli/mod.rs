//! Command-line parsing and dispatch. Each command lives in its own module.

mod approvals;
mod approver;
mod audit;
mod bundled;
mod call;
mod clients;
mod conformance;
mod connect;
#[cfg(feature = "simulator")]
mod demo;
mod display;
mod grant;
mod mcp;
mod operator;
pub mod output;
mod policy;
mod progress;
mod serve;
#[cfg(feature = "simulator")]
mod simulate;
mod state;
mod tenants;
mod tools;
mod ui;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;
use toolhost_host::{HostConfig, SharedRuntimes, TenantName, ToolHost};

#[derive(Parser, Debug)]
#[command(
    name = "toolhost",
    version,
    about = "Run sandboxed WebAssembly tool plugins (ConnectWise RMM) for AI agents"
)]
pub struct Cli {
    /// Private state directory (connection, caches). Default: the user's config dir + /toolhost.
    #[arg(long, global = true, env = "TOOLHOST_HOME")]
    home: Option<PathBuf>,
    /// The tenant to act in (its state in <home>/tenants/NAME/); default: the home's own
    /// tenant, `default`. `toolhost tenants` lists them; connecting creates one.
    #[arg(long, global = true, env = "TOOLHOST_TENANT", value_name = "NAME")]
    tenant: Option<TenantName>,
    /// Keep shared state (approvals, audit, tokens, clients, connections) in this PostgreSQL
    /// database (postgres://USER:PASSWORD@HOST:PORT/DB) instead of the home's files, so that
    /// several replicas share it. Needs TOOLHOST_STATE_KEY or TOOLHOST_STATE_KEY_FILE; the URL
    /// may come from the file TOOLHOST_DATABASE_URL_FILE names. TLS as libpq's sslmode
    /// (?sslmode=verify-full; default prefer), a private CA in TOOLHOST_DATABASE_CA_FILE (PEM).
    #[arg(
        long,
        global = true,
        env = "TOOLHOST_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    database_url: Option<String>,
    /// The plugin component (.wasm). Default: the ConnectWise RMM plugin bundled into this binary.
    #[arg(long, global = true, env = "TOOLHOST_PLUGIN")]
    plugin: Option<PathBuf>,
    /// Machine-readable JSON output.
    #[arg(long, global = true)]
    pub json: bool,
    /// More logging on stderr (-v, -vv).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Connect to a tenant: proves the credentials, discovers tools, saves the connection.
    Connect(connect::ConnectArgs),
    /// List the tools (namespaced), their descriptions and modes.
    Tools(tools::ToolsArgs),
    /// Run one tool and print its result (roles, policy and approvals apply).
    Call(call::CallArgs),
    /// Pending approvals: list, approve (runs the call once), deny.
    #[command(subcommand)]
    Approvals(approvals::ApprovalsCommand),
    /// What the plugin was granted at connect, what it asks for now, and accepting a change.
    #[command(subcommand)]
    Grant(grant::GrantCommand),
    /// Tool modes (auto, approval, never) and overrides.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// The audit log of every call attempt.
    Audit(audit::AuditArgs),
    /// Run the Asio API simulator on a loopback port.
    #[cfg(feature = "simulator")]
    Simulate(simulate::SimulateArgs),
    /// Check that a plugin component is a well-behaved plugin of the toolhost:plugin world.
    Conformance(conformance::ConformanceArgs),
    /// Play the product's stories against an in-process simulator (touches no real config).
    #[cfg(feature = "simulator")]
    Demo(demo::DemoArgs),
    /// MCP clients: named agents with a role and a bearer token (add, list, revoke, set).
    #[command(subcommand)]
    Clients(clients::ClientsCommand),
    /// Serve the tools to MCP clients: stdio by default, or streamable HTTP with --http.
    Mcp(mcp::McpArgs),
    /// Serve the local admin web UI (connection, tool policies, approvals, activity).
    Ui(ui::UiArgs),
    /// The tenants of the home (default, and each under tenants/) and their connections.
    Tenants,
    /// A server deployment: MCP over HTTP (client tokens), the admin UI, /healthz, /readyz
    /// and /metrics on one listener; configured by flags or TOOLHOST_* environment.
    Serve(serve::ServeArgs),
}

/// The outbound gate's own log line for a refused or failed upstream request. The same
/// failure is returned as the call's error, so a command that prints its error would say it
/// twice; servers (`mcp`, `ui`) hand the error to their client instead, and keep the line.
const GATE_LOG_TARGET: &str = "toolhost_sandbox::outbound::ledger";

/// Logs go to stderr: warnings by default, more with `-v`, or exactly `TOOLHOST_LOG`.
pub fn init_logging(cli: &Cli) {
    let prints_its_errors = !matches!(
        cli.command,
        Command::Mcp(_) | Command::Ui(_) | Command::Serve(_)
    );
    let default = match cli.verbose {
        // Only the gate's duplicate is quietened: what is logged and never returned (a stale
        // catalog served after a failed refresh, a lost audit record) still shows once.
        0 if prints_its_errors => format!("warn,{GATE_LOG_TARGET}=error"),
        0 => "warn".to_string(),
        1 => "info,toolhost=debug".to_string(),
        _ => "debug".to_string(),
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("TOOLHOST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour_on_stderr())
        .try_init();
}

/// Colour is for a person at a terminal: piped stderr ends up in agents' and CI logs, where
/// escape codes are noise. <https://no-color.org>: a present, non-empty `NO_COLOR` disables it.
fn colour_on_stderr() -> bool {
    use std::io::IsTerminal;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    std::io::stderr().is_terminal() && !no_color
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let tenant = cli.tenant.clone().unwrap_or_default();
    // Only connecting (or the UI's connect form) may create a named tenant: anywhere else a
    // mistyped name would silently act in a new, empty tenant.
    let creates_tenant = matches!(cli.command, Command::Connect(_) | Command::Ui(_));
    let target = HostTarget {
        home: cli.home.clone(),
        tenant: tenant.clone(),
        plugin: cli.plugin.clone(),
        must_exist: !creates_tenant,
        state: state::StateTarget::from_flags(cli.database_url.clone())?,
    };
    match cli.command {
        #[cfg(feature = "simulator")]
        Command::Simulate(args) => simulate::run(args, cli.json).await,
        Command::Conformance(args) => {
            let cache = home_dir(cli.home).ok().map(|home| home.join("cache"));
            conformance::run(args, cli.json, cache).await
        }
        #[cfg(feature = "simulator")]
        Command::Demo(args) => demo::run(args, cli.plugin).await,
        Command::Tenants if target.state.is_database() => {
            let root = home_dir(cli.home.clone())?;
            let mut summaries = Vec::new();
            for name in target.state.tenants(&root).await? {
                let host = HostTarget {
                    tenant: name.clone(),
                    must_exist: false,
                    ..target.clone()
                }
                .open()
                .await?;
                let connection = host.connection();
                summaries.push(toolhost_host::TenantSummary {
                    home: host.home().to_path_buf(),
                    region: connection.map(|c| c.region.clone()),
                    client_id: connection.map(|c| c.client_id.clone()),
                    error: None,
                    name,
                });
            }
            tenants::print(&summaries, cli.json);
            Ok(())
        }
        Command::Tenants => tenants::run(&home_dir(cli.home)?, cli.json),
        Command::Connect(args) => connect::run(target.open().await?, args, cli.json).await,
        Command::Tools(args) => tools::run(target.open().await?, args, cli.json).await,
        Command::Call(args) => call::run(target.open().await?, args, cli.json).await,
        Command::Approvals(command) => {
            approvals::run(target.open().await?, command, cli.json).await
        }
        Command::Grant(command) => grant::run(target.open().await?, command, cli.json).await,
        Command::Policy(command) => policy::run(target.open().await?, command, cli.json).await,
        Command::Audit(args) => audit::run(target.open().await?, args, cli.json).await,
        Command::Clients(command) => clients::run(target.open().await?, command, cli.json).await,
        Command::Mcp(args) => {
            let home_flag = cli.home.as_ref().map(|h| h.display().to_string());
            let flags = crate::mcp::command_flags(home_flag.as_deref(), &tenant);
            mcp::run(target.open_serving().await?, args, flags).await
        }
        Command::Ui(args) => ui::run(target.open_serving().await?, args, cli.json).await,
        Command::Serve(args) => {
            let home_flag = cli.home.as_ref().map(|h| h.display().to_string());
            let root = home_dir(cli.home.clone())?;
            let known = target.state.tenants(&root).await?;
            let place = match &cli.database_url {
                Some(_) => "the state database".to_string(),
                None => root.display().to_string(),
            };
            // Every host of the process (two per tenant) runs on one loaded plugin.
            let runtimes = Arc::new(SharedRuntimes::new());
            serve::run(args, home_flag, (known, place), tenant, |tenant| {
                HostTarget {
                    tenant,
                    // Serve opens the tenants it found, and connects the one it is told to.
                    must_exist: false,
                    ..target.clone()
                }
                .open_sharing(runtimes.clone())
            })
            .await
        }
    }
}

/// Where a command's host lives: the home, the tenant in it, the plugin.
#[derive(Debug, Clone)]
struct HostTarget {
    home: Option<PathBuf>,
    tenant: TenantName,
    plugin: Option<PathBuf>,
    /// Refuse a named tenant that does not exist yet (rather than create it).
    must_exist: bool,
    /// The home's files, or the state database.
    state: state::StateTarget,
}

/// A named tenant that was never connected.
#[derive(Debug, thiserror::Error)]
#[error("--tenant {tenant}: no such tenant in {} (its state would be in {}). `toolhost tenants` lists the tenants; `toolhost --tenant {tenant} connect ...` creates it", home.display(), tenant.home_in(home).display())]
struct NoSuchTenant {
    tenant: TenantName,
    home: PathBuf,
}

/// Calls a one-shot command runs at once at most (one tool call, and a discovery before it).
const ONE_COMMAND_CALLS: usize = 4;

impl HostTarget {
    /// The host of a one-shot command: sized for its few calls, not for a server's.
    async fn open(self) -> anyhow::Result<ToolHost> {
        let config = self.config().await?;
        Ok(ToolHost::open_for_calls(config, ONE_COMMAND_CALLS).await?)
    }

    /// The host of a command that serves (MCP, the admin UI): as many calls at once as the
    /// settings allow.
    async fn open_serving(self) -> anyhow::Result<ToolHost> {
        let config = self.config().await?;
        Ok(ToolHost::open_with_settings(config).await?)
    }

    /// As [`HostTarget::open`], on the plugin `runtimes` holds (see [`SharedRuntimes`]).
    async fn open_sharing(self, runtimes: Arc<SharedRuntimes>) -> anyhow::Result<ToolHost> {
        let config = self.config().await?;
        Ok(ToolHost::open_sharing(config, &runtimes).await?)
    }

    /// The host configuration of this tenant (refused when it must exist and does not).
    async fn config(self) -> anyhow::Result<HostConfig> {
        let home = home_dir(self.home)?;
        if self.must_exist && !self.state.tenant_exists(&home, &self.tenant).await? {
            return Err(NoSuchTenant {
                tenant: self.tenant,
                home,
            }
            .into());
        }
        let plugin = bundled::plugin_path(self.plugin, &home)?;
        let mut config = HostConfig::for_tenant(home, self.tenant, plugin);
        config.state = self.state.backend(&config.tenant).await?;
        Ok(config)
    }
}

fn home_dir(home: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match home {
        Some(home) => Ok(home),
        None => dirs::config_dir()
            .map(|d| d.join("toolhost"))
            .context("no config directory for this user: pass --home or set TOOLHOST_HOME"),
    }
}
