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
mod tools;
mod ui;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use toolhost_host::{HostConfig, ToolHost};

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
    match cli.command {
        #[cfg(feature = "simulator")]
        Command::Simulate(args) => simulate::run(args, cli.json).await,
        Command::Conformance(args) => {
            let cache = home_dir(cli.home).ok().map(|home| home.join("cache"));
            conformance::run(args, cli.json, cache).await
        }
        #[cfg(feature = "simulator")]
        Command::Demo(args) => demo::run(args, cli.plugin).await,
        Command::Connect(args) => {
            let host = open_host(cli.home, cli.plugin).await?;
            connect::run(host, args, cli.json).await
        }
        Command::Tools(args) => {
            tools::run(open_host(cli.home, cli.plugin).await?, args, cli.json).await
        }
        Command::Call(args) => {
            call::run(open_host(cli.home, cli.plugin).await?, args, cli.json).await
        }
        Command::Approvals(command) => {
            approvals::run(open_host(cli.home, cli.plugin).await?, command, cli.json).await
        }
        Command::Grant(command) => {
            grant::run(open_host(cli.home, cli.plugin).await?, command, cli.json).await
        }
        Command::Policy(command) => {
            policy::run(open_host(cli.home, cli.plugin).await?, command, cli.json).await
        }
        Command::Audit(args) => audit::run(open_host(cli.home, cli.plugin).await?, args, cli.json),
        Command::Clients(command) => {
            clients::run(open_host(cli.home, cli.plugin).await?, command, cli.json)
        }
        Command::Mcp(args) => {
            let home_flag = cli.home.as_ref().map(|h| h.display().to_string());
            mcp::run(open_host(cli.home, cli.plugin).await?, args, home_flag).await
        }
        Command::Ui(args) => ui::run(open_host(cli.home, cli.plugin).await?, args, cli.json).await,
        Command::Serve(args) => {
            let home_flag = cli.home.as_ref().map(|h| h.display().to_string());
            let (home, plugin) = (cli.home, cli.plugin);
            serve::run(args, home_flag, || open_host(home.clone(), plugin.clone())).await
        }
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

async fn open_host(home: Option<PathBuf>, plugin: Option<PathBuf>) -> anyhow::Result<ToolHost> {
    let home = home_dir(home)?;
    let plugin = bundled::plugin_path(plugin, &home)?;
    let config = HostConfig::new(home, plugin);
    Ok(ToolHost::open_with_settings(config).await?)
}
