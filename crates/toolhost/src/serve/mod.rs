//! `toolhost serve`: one process for a server deployment. One listener carries the MCP
//! streamable HTTP endpoint of every tenant (`/t/<tenant>/mcp`, and `/mcp` for the default
//! tenant; bearer tokens of that tenant's registered clients, always), every tenant's admin
//! UI at `/t/<tenant>/` (the default tenant's also at `/`; each behind its own one-time
//! launch link), `/healthz`, `/readyz` and `/metrics`; SIGTERM drains calls in flight
//! before exiting.
//!
//! - [`metrics`]: the Prometheus metrics, fed by the host's call observer.
//! - [`health`]: the probes and the metrics endpoint.
//! - [`shutdown`]: signals, in-flight tracking, the drain deadline.
//! - [`secret`]: the client secret from the environment or a mounted file.
//! - [`tenant_uis`]: every tenant's admin UI, each in its own tenant.

pub mod health;
pub mod metrics;
pub mod secret;
pub mod shutdown;
pub mod tenant_uis;

use crate::mcp::http::Guard;
use crate::mcp::{self, Identity, McpOptions, McpServer};
use crate::ui::guard::AllowedHosts;
use health::Probes;
use shutdown::InFlight;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tenant_uis::{TenantUi, UiSettings};
use tokio_util::sync::CancellationToken;
use toolhost_governance::ApproverName;
use toolhost_host::{TenantName, ToolHost};

/// How `toolhost serve` listens and stops.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    /// Host names clients and browsers use (`name` or `name:port`); needed off loopback.
    pub public_hosts: Vec<String>,
    /// More accepted MCP `Origin` values.
    pub allowed_origins: Vec<String>,
    /// How long calls in flight may take to finish after SIGTERM.
    pub shutdown_deadline: Duration,
    /// The `--home` given, for approval commands in MCP error texts.
    pub home_flag: Option<String>,
    /// Who the UI's one-time link signs in (`ui:<approver>` in the audit).
    pub approver: ApproverName,
}

/// Why the options were refused.
#[derive(Debug, thiserror::Error)]
pub enum ServeConfigError {
    #[error("--listen {0} is reachable beyond this machine: name the host names clients use with --public-host (TOOLHOST_PUBLIC_HOSTS, comma-separated), so requests for any other name are refused (DNS rebinding protection)")]
    NoPublicHost(SocketAddr),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Checks what can be checked before anything is opened.
pub fn check(options: &ServeOptions) -> Result<(), ServeConfigError> {
    if !options.listen.ip().is_loopback() && options.public_hosts.is_empty() {
        return Err(ServeConfigError::NoPublicHost(options.listen));
    }
    Ok(())
}

/// The UI's Host allowlist: each public name, with and without the port.
fn ui_host_names(bound: SocketAddr, public_hosts: &[String]) -> Vec<String> {
    let mut hosts = Vec::new();
    for host in public_hosts {
        let host = host.trim().to_ascii_lowercase();
        if host.is_empty() {
            continue;
        }
        hosts.push(format!("{host}:{}", bound.port()));
        hosts.push(host);
    }
    if !bound.ip().is_loopback() && !bound.ip().is_unspecified() {
        hosts.push(bound.to_string());
    }
    hosts
}

/// Where browsers reach the admin UI: the first public host name, else `localhost` (a
/// passkey's relying party must be a name, never an IP address).
fn ui_origin(bound: SocketAddr, public_hosts: &[String]) -> String {
    let host = match public_hosts.first() {
        Some(name) if !bound.ip().is_loopback() => {
            let name = name.trim().to_ascii_lowercase();
            if name.contains(':') && !name.ends_with(']') {
                name
            } else {
                format!("{name}:{}", bound.port())
            }
        }
        _ if bound.ip().is_loopback() || bound.ip().is_unspecified() => {
            format!("localhost:{}", bound.port())
        }
        _ => bound.to_string(),
    };
    format!("http://{host}")
}

/// Where a tenant's MCP endpoint is served: `/t/<tenant>/mcp`, and [`mcp::http::MCP_PATH`]
/// too for the default tenant.
pub fn tenant_mcp_paths(tenant: &TenantName) -> Vec<String> {
    let mut paths = vec![format!("/t/{tenant}{}", mcp::http::MCP_PATH)];
    if tenant.is_default() {
        paths.insert(0, mcp::http::MCP_PATH.to_string());
    }
    paths
}

/// Serves until SIGTERM/SIGINT, then drains. `mcp_hosts` holds one host per tenant (each
/// with its own clients, approvals, audit and token); `ui_hosts` a second host per tenant
/// for its admin UI (the UI holds its own), the default tenant's among them; all are
/// observed by `metrics`.
pub async fn run(
    options: ServeOptions,
    mcp_hosts: Vec<ToolHost>,
    ui_hosts: Vec<ToolHost>,
    metrics: Arc<metrics::Metrics>,
) -> anyhow::Result<()> {
    check(&options)?;
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|source| ServeConfigError::Bind {
            addr: options.listen,
            source,
        })?;
    let bound = listener.local_addr()?;
    let mcp_hosts: Vec<Arc<ToolHost>> = mcp_hosts.into_iter().map(Arc::new).collect();
    let origin = ui_origin(bound, &options.public_hosts);

    let cancel = CancellationToken::new();
    let in_flight = InFlight::default();
    let guard = Guard::new(bound, &options.public_hosts, &options.allowed_origins);
    let mut mcp_app = axum::Router::new();
    let mut mcp_paths = Vec::new();
    for mcp_host in &mcp_hosts {
        let tenant = mcp_host.tenant().clone();
        let server = McpServer::new(
            mcp_host.clone(),
            McpOptions {
                identity: Identity::Bearer,
                role: None,
                command_flags: mcp::command_flags(options.home_flag.as_deref(), &tenant),
                // An approval link sent to an MCP client opens this tenant's own admin UI,
                // the one place its approvals are.
                approvals_url: Some(tenant_uis::approvals_url(&origin, &tenant)),
            },
        )
        .await;
        let paths = tenant_mcp_paths(&tenant);
        let path_refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        // Each tenant's router authenticates against that tenant's clients only: a token of
        // tenant A is unknown at `/t/b/mcp` (401) and never reaches B's host.
        mcp_app = mcp_app.merge(mcp::http::router_at(
            &path_refs,
            server,
            guard.clone(),
            Some(mcp_host.clients()),
            cancel.clone(),
        ));
        mcp_paths.extend(paths);
    }
    let mcp_app = mcp_app.layer(axum::middleware::from_fn_with_state(
        in_flight.clone(),
        shutdown::track,
    ));
    let allowed =
        AllowedHosts::loopback(bound.port(), &ui_host_names(bound, &options.public_hosts));
    let settings = UiSettings {
        allowed: &allowed,
        approver: &options.approver,
        port: bound.port(),
    };
    let mut uis = Vec::new();
    for host in ui_hosts {
        uis.push(TenantUi::new(host, &settings).await?);
    }
    // The default tenant's UI comes first: its link is printed first, as before tenants.
    uis.sort_by_key(|ui| !ui.tenant.is_default());
    if !uis.first().is_some_and(|ui| ui.tenant.is_default()) {
        anyhow::bail!("serve was given no host of the default tenant for its admin UI");
    }
    let probes = Arc::new(Probes {
        mcp_hosts,
        ui_hosts: uis.iter().map(|ui| ui.state.host.clone()).collect(),
        metrics,
    });
    let app = mcp_app
        .merge(health::routes(probes))
        .merge(tenant_uis::router(&uis));

    eprintln!(
        "toolhost serve listening on http://{bound}: MCP at {}, /healthz, /readyz, /metrics",
        mcp_paths.join(", ")
    );
    for ui in &uis {
        let link = ui.launch_link(&origin);
        if ui.tenant.is_default() {
            eprintln!("admin UI (the link signs in once): {link}");
        } else {
            eprintln!(
                "admin UI of tenant {} (the link signs in once): {link}",
                ui.tenant
            );
        }
    }

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let drain = {
        let links: Vec<_> = uis
            .iter()
            .map(|ui| (ui.tenant.clone(), ui.state.clone()))
            .collect();
        let in_flight = in_flight.clone();
        let cancel = cancel.clone();
        let deadline = options.shutdown_deadline;
        tokio::spawn(async move {
            shutdown::signal().await;
            // A link this replica printed and nobody used dies with it, as it does without
            // a database (where the other replicas would otherwise still accept it). Done
            // before the listener stops, so the process cannot end before it is.
            // A lost database delays the stop by at most a few seconds.
            let withdraw = async {
                for (tenant, ui) in &links {
                    if let Err(err) = ui.sessions.withdraw_launch_token().await {
                        eprintln!("stopping: the admin UI link of tenant {tenant} could not be withdrawn: {err}");
                    }
                }
            };
            if tokio::time::timeout(Duration::from_secs(5), withdraw)
                .await
                .is_err()
            {
                eprintln!(
                    "stopping: the unused admin UI links could not all be withdrawn within 5s"
                );
            }
            let busy = in_flight.count();
            eprintln!(
                "stopping: no new connections; waiting up to {}s for {busy} request(s) in flight",
                deadline.as_secs()
            );
            let _ = stop_tx.send(());
            if !in_flight.drained_within(deadline).await {
                eprintln!(
                    "stopping: {} request(s) still in flight after {}s are abandoned",
                    in_flight.count(),
                    deadline.as_secs()
                );
            }
            // Closes the MCP sessions (their notification streams), so the server can end.
            cancel.cancel();
        })
    };
    let serving = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = stop_rx.await;
    });
    // After the drain, a connection that ignores the close (a client holding a stream
    // open) gets a few seconds more, then cannot keep the process alive.
    let drained_then_grace = async move {
        let _ = drain.await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    };
    tokio::select! {
        result = serving => result?,
        () = drained_then_grace => {}
    }
    eprintln!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(listen: &str, hosts: &[&str]) -> ServeOptions {
        ServeOptions {
            listen: listen.parse().unwrap(),
            public_hosts: hosts.iter().map(|h| h.to_string()).collect(),
            allowed_origins: Vec::new(),
            shutdown_deadline: Duration::from_secs(30),
            home_flag: None,
            approver: ApproverName::parse("op").unwrap(),
        }
    }

    #[test]
    fn off_loopback_needs_public_hosts() {
        assert!(check(&options("127.0.0.1:0", &[])).is_ok());
        let err = check(&options("0.0.0.0:8080", &[])).unwrap_err();
        assert!(err.to_string().contains("--public-host"), "{err}");
        assert!(check(&options("0.0.0.0:8080", &["toolhost.example.com"])).is_ok());
    }

    #[test]
    fn ui_origin_and_hosts_use_the_public_name() {
        let bound: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let public = vec!["Toolhost.example.com".to_string()];
        assert_eq!(
            ui_origin(bound, &public),
            "http://toolhost.example.com:8080"
        );
        assert_eq!(
            ui_host_names(bound, &public),
            ["toolhost.example.com:8080", "toolhost.example.com"]
        );
        let local: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        assert_eq!(ui_origin(local, &[]), "http://localhost:9000");
    }
}
