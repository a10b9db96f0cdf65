//! Streamable HTTP: rmcp's service in axum, bound to loopback unless told otherwise, behind
//! a Host/Origin guard against DNS rebinding (a web page that resolves its own name to
//! 127.0.0.1 must not reach the tools: see Wassette's advisory GHSA-m873-hg53-85r5), and
//! behind bearer authentication of a registered client ([`super::auth`]) unless `--no-auth`.

use super::auth::auth_layer;
use super::server::McpServer;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use toolhost_governance::ClientRegistry;

/// The path the MCP endpoint is served on.
pub const MCP_PATH: &str = "/mcp";

/// `toolhost mcp --http` settings.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub bind: SocketAddr,
    /// Permit a non-loopback bind address.
    pub allow_remote: bool,
    /// More accepted `Host` values (`name` for any port of ours, or `name:port`).
    pub allowed_hosts: Vec<String>,
    /// More accepted `Origin` values (`scheme://host[:port]`).
    pub allowed_origins: Vec<String>,
    /// The clients whose tokens are accepted; `None` is `--no-auth` (loopback only).
    pub auth: Option<ClientRegistry>,
}

/// Why a bind address was refused.
#[derive(Debug, thiserror::Error)]
#[error("refusing to serve MCP on {0}: it is not a loopback address, and anyone who can reach it could call the tools. Bind 127.0.0.1 (the default), or pass --allow-remote (and --allow-host) to serve other hosts deliberately")]
pub struct NonLoopbackBind(pub SocketAddr);

/// Why `--no-auth` was refused.
#[derive(Debug, thiserror::Error)]
#[error("refusing --no-auth on {0}: without authentication anyone who can reach a non-loopback address calls the tools. Bind 127.0.0.1 for local testing, or drop --no-auth and give each agent a token (`toolhost clients add`)")]
pub struct NoAuthRemote(pub SocketAddr);

/// Checks the bind address against `allow_remote`.
pub fn check_bind(bind: SocketAddr, allow_remote: bool) -> Result<(), NonLoopbackBind> {
    if bind.ip().is_loopback() || allow_remote {
        Ok(())
    } else {
        Err(NonLoopbackBind(bind))
    }
}

/// `--no-auth` serves loopback only, whatever `--allow-remote` says: it is for local testing.
pub fn check_no_auth(bind: SocketAddr, authenticated: bool) -> Result<(), NoAuthRemote> {
    if authenticated || bind.ip().is_loopback() {
        Ok(())
    } else {
        Err(NoAuthRemote(bind))
    }
}

/// The Host and Origin allowlists of one listening address.
#[derive(Debug, Clone)]
pub struct Guard {
    hosts: HashSet<String>,
    origins: HashSet<String>,
}

impl Guard {
    /// Loopback names on `bound`'s port (and `bound` itself), plus the extra entries.
    pub fn new(bound: SocketAddr, extra_hosts: &[String], extra_origins: &[String]) -> Guard {
        let port = bound.port();
        let mut hosts: HashSet<String> = [
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("[::1]:{port}"),
            bound.to_string(),
        ]
        .into_iter()
        .collect();
        for host in extra_hosts {
            let host = host.trim().to_ascii_lowercase();
            if host.is_empty() {
                continue;
            }
            if has_port(&host) {
                hosts.insert(host);
            } else {
                hosts.insert(format!("{host}:{port}"));
                hosts.insert(host);
            }
        }
        let mut origins: HashSet<String> = [
            format!("http://127.0.0.1:{port}"),
            format!("http://localhost:{port}"),
            format!("http://[::1]:{port}"),
        ]
        .into_iter()
        .collect();
        origins.extend(
            extra_origins
                .iter()
                .map(|o| normalize_origin(o))
                .filter(|o| !o.is_empty()),
        );
        Guard { hosts, origins }
    }

    /// `Ok` when the request may proceed; otherwise why not. A request without `Host` is
    /// refused; one without `Origin` (not from a browser) is judged by its `Host` alone.
    pub fn check(&self, host: Option<&str>, origin: Option<&str>) -> Result<(), String> {
        let Some(host) = host.map(|h| h.trim().to_ascii_lowercase()) else {
            return Err("the request has no Host header".into());
        };
        if !self.hosts.contains(&host) {
            return Err(format!(
                "Host `{host}` is not allowed (DNS rebinding protection); allowed: {}. Start the server with --allow-host to add one",
                sorted(&self.hosts)
            ));
        }
        if let Some(origin) = origin {
            let normalized = normalize_origin(origin);
            if !self.origins.contains(&normalized) {
                return Err(format!(
                    "Origin `{}` is not allowed; allowed: {}. Start the server with --allow-origin to add one",
                    origin.trim(),
                    sorted(&self.origins)
                ));
            }
        }
        Ok(())
    }
}

fn sorted(set: &HashSet<String>) -> String {
    let mut items: Vec<&str> = set.iter().map(String::as_str).collect();
    items.sort_unstable();
    items.join(", ")
}

fn has_port(host: &str) -> bool {
    match host.rfind(':') {
        // `[::1]` has colons but no port; `[::1]:80` and `name:80` have one.
        Some(i) => {
            host[i + 1..].chars().all(|c| c.is_ascii_digit())
                && !host.ends_with(']')
                && (host.starts_with('[') || host.matches(':').count() == 1)
        }
        None => false,
    }
}

fn normalize_origin(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// The JSON body of a refused request (JSON-RPC shaped, so MCP clients show the message).
fn forbidden(message: String) -> Response {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {"code": -32600, "message": format!("Forbidden: {message}")},
    });
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn guard_layer(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    let origin = match headers.get(header::ORIGIN).map(|v| v.to_str()) {
        None => None,
        Some(Ok(origin)) => Some(origin.to_string()),
        Some(Err(_)) => return forbidden("the Origin header is not readable".into()),
    };
    match guard.check(host.as_deref(), origin.as_deref()) {
        Ok(()) => next.run(request).await,
        Err(message) => {
            tracing::warn!("refused an HTTP request: {message}");
            forbidden(message)
        }
    }
}

/// The axum app: the MCP endpoint at [`MCP_PATH`] behind the guard, then authentication
/// (`auth`: `None` is `--no-auth`).
pub fn router(
    server: McpServer,
    guard: Guard,
    auth: Option<ClientRegistry>,
    cancel: CancellationToken,
) -> axum::Router {
    router_at(&[MCP_PATH], server, guard, auth, cancel)
}

/// [`router`] with the endpoint at each of `paths` (one service, one set of sessions):
/// `toolhost serve` mounts each tenant's server at `/t/<tenant>/mcp`, and the default
/// tenant's at [`MCP_PATH`] too. The authentication layer covers these paths only, so a
/// token is checked against this server's own clients.
pub fn router_at(
    paths: &[&str],
    server: McpServer,
    guard: Guard,
    auth: Option<ClientRegistry>,
    cancel: CancellationToken,
) -> axum::Router {
    // The guard below is the one Host/Origin check (it knows the port and the operator's
    // extra entries), so rmcp's own host check is turned off rather than duplicated.
    let config = StreamableHttpServerConfig::default()
        .disable_allowed_hosts()
        .disable_allowed_origins()
        .with_cancellation_token(cancel);
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let mut app = axum::Router::new();
    for path in paths {
        app = app.nest_service(path, service.clone());
    }
    if let Some(registry) = auth {
        app = app.layer(axum::middleware::from_fn_with_state(
            Arc::new(registry),
            auth_layer,
        ));
    }
    // Added last, so it runs first: a rebinding page is refused before any token is read.
    app.layer(axum::middleware::from_fn_with_state(
        Arc::new(guard),
        guard_layer,
    ))
}

/// Binds (checking the address first) and returns the listener and its guard.
pub async fn bind(options: &HttpOptions) -> anyhow::Result<(tokio::net::TcpListener, Guard)> {
    check_no_auth(options.bind, options.auth.is_some())?;
    check_bind(options.bind, options.allow_remote)?;
    let listener = tokio::net::TcpListener::bind(options.bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", options.bind))?;
    let bound = listener.local_addr()?;
    let guard = Guard::new(bound, &options.allowed_hosts, &options.allowed_origins);
    Ok((listener, guard))
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    server: McpServer,
    listener: tokio::net::TcpListener,
    guard: Guard,
    auth: Option<ClientRegistry>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let cancel = CancellationToken::new();
    let app = router(server, guard, auth, cancel.clone());
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            cancel.cancel();
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Guard {
        Guard::new(
            "127.0.0.1:8765".parse().unwrap(),
            &["mcp.example.internal".into(), "10.0.0.5:9000".into()],
            &["https://app.example.com/".into()],
        )
    }

    #[test]
    fn loopback_hosts_on_our_port_pass() {
        let g = guard();
        for host in [
            "127.0.0.1:8765",
            "localhost:8765",
            "LOCALHOST:8765",
            "[::1]:8765",
        ] {
            assert!(g.check(Some(host), None).is_ok(), "{host}");
        }
    }

    #[test]
    fn foreign_or_missing_hosts_are_refused() {
        let g = guard();
        for host in [
            "evil.example.com:8765",
            "evil.example.com",
            "127.0.0.1:9999",
            "localhost",
            "127.0.0.1",
            "127.0.0.1.evil.com:8765",
        ] {
            let err = g.check(Some(host), None).unwrap_err();
            assert!(err.contains("not allowed"), "{host}: {err}");
        }
        assert!(g.check(None, None).unwrap_err().contains("no Host"));
    }

    #[test]
    fn extra_hosts_are_allowed() {
        let g = guard();
        assert!(g.check(Some("mcp.example.internal"), None).is_ok());
        assert!(g.check(Some("mcp.example.internal:8765"), None).is_ok());
        assert!(g.check(Some("mcp.example.internal:1"), None).is_err());
        assert!(g.check(Some("10.0.0.5:9000"), None).is_ok());
        assert!(g.check(Some("10.0.0.5:8765"), None).is_err());
    }

    #[test]
    fn origins() {
        let g = guard();
        let host = Some("127.0.0.1:8765");
        for origin in [
            "http://127.0.0.1:8765",
            "http://localhost:8765",
            "http://[::1]:8765",
            "https://app.example.com",
            "HTTPS://APP.EXAMPLE.COM/",
        ] {
            assert!(g.check(host, Some(origin)).is_ok(), "{origin}");
        }
        for origin in [
            "http://evil.example.com",
            "http://localhost:9999",
            "https://127.0.0.1:8765",
            "null",
            "",
        ] {
            let err = g.check(host, Some(origin)).unwrap_err();
            assert!(err.contains("Origin"), "{origin}: {err}");
        }
    }

    #[test]
    fn the_bound_address_itself_is_a_host() {
        let g = Guard::new("192.168.1.20:7000".parse().unwrap(), &[], &[]);
        assert!(g.check(Some("192.168.1.20:7000"), None).is_ok());
        assert!(g.check(Some("localhost:7000"), None).is_ok());
        assert!(g.check(Some("192.168.1.21:7000"), None).is_err());
    }

    #[test]
    fn ipv6_extra_host_without_port() {
        let g = Guard::new(
            "127.0.0.1:7000".parse().unwrap(),
            &["[fd00::1]".into()],
            &[],
        );
        assert!(g.check(Some("[fd00::1]:7000"), None).is_ok());
        assert!(g.check(Some("[fd00::1]"), None).is_ok());
    }

    #[test]
    fn bind_checks() {
        assert!(check_bind("127.0.0.1:0".parse().unwrap(), false).is_ok());
        assert!(check_bind("[::1]:0".parse().unwrap(), false).is_ok());
        assert!(check_bind("0.0.0.0:0".parse().unwrap(), false).is_err());
        assert!(check_bind("192.168.1.2:80".parse().unwrap(), false).is_err());
        assert!(check_bind("0.0.0.0:0".parse().unwrap(), true).is_ok());
        assert!(check_no_auth("127.0.0.1:0".parse().unwrap(), false).is_ok());
        assert!(check_no_auth("0.0.0.0:0".parse().unwrap(), false).is_err());
        assert!(check_no_auth("0.0.0.0:0".parse().unwrap(), true).is_ok());
    }
}
