//! `toolhost ui`: a small local web app for the connection, tool policies, approvals and
//! the audit log. It calls the same [`ToolHost`] methods as the CLI and the MCP server, so
//! no rule exists twice; the page itself (plain HTML, CSS and JS modules) is compiled into
//! the binary and loads nothing from the network.
//!
//! - [`sessions`]: the one-time launch token, session cookies and CSRF tokens.
//! - [`guard`]: Host / Origin / session / CSRF checks on every request.
//! - [`assets`]: the bundled front end and the security headers of every response.
//! - [`passkeys`]: approvers' passkeys and the approval challenges they sign.
//! - `api_*`: the JSON endpoints, one module per page.

mod api_activity;
mod api_approvals;
mod api_connection;
mod api_tools;
pub mod assets;
pub mod connect_form;
mod error;
pub mod guard;
pub mod passkeys;
pub mod sessions;
mod state;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use guard::AllowedHosts;
use sessions::Sessions;
pub use state::{UiMount, UiState};
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use tokio::sync::RwLock;
use toolhost_governance::ApproverName;
use toolhost_host::ToolHost;

/// How `toolhost ui` listens.
#[derive(Debug, Clone)]
pub struct UiOptions {
    /// Loopback unless `allow_remote`.
    pub bind: IpAddr,
    /// 0 picks a free port.
    pub port: u16,
    pub allow_remote: bool,
    /// More `Host` values to answer to (`name:port`), for a remote bind.
    pub extra_hosts: Vec<String>,
    /// The person the one-time link signs in: approvals and calls from this UI are
    /// `ui:<approver>` in the audit.
    pub approver: ApproverName,
    /// Prefills the connect form's upstream URL (like `toolhost connect --upstream`).
    pub upstream: Option<String>,
}

impl Default for UiOptions {
    fn default() -> UiOptions {
        UiOptions {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            allow_remote: false,
            extra_hosts: Vec::new(),
            approver: ApproverName::parse("operator").expect("a valid name"),
            upstream: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UiError {
    #[error("refusing to listen on {0}, which is not a loopback address: pass --allow-remote if you really mean it")]
    NotLoopback(IpAddr),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Passkeys(#[from] passkeys::PasskeyError),
}

/// A bound, not yet serving, UI server.
pub struct UiServer {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    state: Arc<UiState>,
}

impl UiServer {
    pub async fn bind(host: ToolHost, options: UiOptions) -> Result<UiServer, UiError> {
        if !options.bind.is_loopback() && !options.allow_remote {
            return Err(UiError::NotLoopback(options.bind));
        }
        let wanted = SocketAddr::new(options.bind, options.port);
        let bind_err = |source| UiError::Bind {
            addr: wanted,
            source,
        };
        let listener = tokio::net::TcpListener::bind(wanted)
            .await
            .map_err(bind_err)?;
        let addr = listener.local_addr().map_err(bind_err)?;
        let mut extra = options.extra_hosts.clone();
        if !addr.ip().is_loopback() && !addr.ip().is_unspecified() {
            extra.push(addr.to_string());
        }
        let passkeys = passkeys::Passkeys::for_host(host.config(), addr.port()).await?;
        let sessions = Sessions::for_backend(&host.config().state, options.approver.as_str())
            .await
            .map_err(passkeys::PasskeyError::from)?;
        let state = Arc::new(UiState {
            host: Arc::new(RwLock::new(host)),
            sessions,
            allowed: AllowedHosts::loopback(addr.port(), &extra),
            approver: options.approver,
            upstream: options.upstream,
            passkeys,
            mount: UiMount::root(),
        });
        Ok(UiServer {
            listener,
            addr,
            state,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL to open: carries the one-time launch token. On a loopback (or any-address)
    /// bind it names `localhost`, the one origin passkeys work on (a secure context for the
    /// browser; an IP address cannot be a WebAuthn relying party).
    pub fn url(&self) -> String {
        let ip = self.addr.ip();
        let host = if ip.is_unspecified() || ip.is_loopback() {
            format!("{}:{}", passkeys::RP_ID, self.addr.port())
        } else {
            self.addr.to_string()
        };
        format!(
            "http://{host}/?token={}",
            self.state.sessions.launch_token()
        )
    }

    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, router(self.state))
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// Every route, behind the guard.
pub fn router(state: Arc<UiState>) -> Router {
    Router::new()
        .route("/", get(assets::index))
        .route("/assets/{name}", get(assets::asset))
        .route(
            guard::SESSION_PATH,
            post(start_session).get(current_session),
        )
        .route("/api/logout", post(logout))
        .merge(api_connection::routes())
        .merge(api_tools::routes())
        .merge(api_approvals::routes())
        .merge(passkeys::api::routes())
        .merge(api_activity::routes())
        .fallback(|| async { error::ApiError::not_found() })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard_layer,
        ))
        .with_state(state)
}

/// The guard in front of every route of one UI mount (also its redirects under `serve`).
pub(crate) async fn guard_layer(
    State(state): State<Arc<UiState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let checked = match guard::check_origin(request.headers(), &state.allowed) {
        Ok(()) => {
            guard::check_session(
                request.method(),
                request.uri().path(),
                request.headers(),
                &state.sessions,
                &state.mount.cookie_name(),
            )
            .await
        }
        Err(rejection) => Err(rejection),
    };
    let mut response = match checked {
        Ok(session) => {
            if let Some(session) = session {
                request.extensions_mut().insert(session);
            }
            next.run(request).await
        }
        Err(rejection) => (
            rejection.status,
            Json(serde_json::json!({"error": rejection.message, "kind": "forbidden"})),
        )
            .into_response(),
    };
    assets::add_security_headers(response.headers_mut());
    response
}

#[derive(serde::Deserialize)]
struct LaunchToken {
    token: String,
}

async fn start_session(
    State(state): State<Arc<UiState>>,
    Json(body): Json<LaunchToken>,
) -> Response {
    match state.sessions.exchange(&body.token).await {
        Err(sessions::LaunchTokenError::Store(err)) => {
            tracing::warn!("cannot start a UI session: {err}");
            (
                http::StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({
                    "error": "the session store is unreachable: see the server's log",
                    "kind": "session-store"})),
            )
                .into_response()
        }
        Ok(session) => (
            [(
                http::header::SET_COOKIE,
                state.mount.set_cookie(&session.id),
            )],
            Json(signed_in(&state, &session).await),
        )
            .into_response(),
        Err(err) => (
            http::StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"error": err.to_string(), "kind": "launch-token"})),
        )
            .into_response(),
    }
}

/// The page asks after a reload: same cookie, same CSRF token.
async fn current_session(
    State(state): State<Arc<UiState>>,
    axum::Extension(session): axum::Extension<sessions::Session>,
) -> Json<serde_json::Value> {
    Json(signed_in(&state, &session).await)
}

/// What the page learns at sign-in: its CSRF token, who is signed in, and in which tenant
/// (shown in the page, so an operator of several tenants knows which one a tab acts in).
async fn signed_in(state: &UiState, session: &sessions::Session) -> serde_json::Value {
    let tenant = state.host.read().await.tenant().to_string();
    serde_json::json!({
        "csrf": session.csrf,
        "operator": state.approver.as_str(),
        "tenant": tenant,
    })
}

async fn logout(
    State(state): State<Arc<UiState>>,
    axum::Extension(session): axum::Extension<sessions::Session>,
) -> Response {
    match state.sessions.end(&session.id).await {
        Ok(()) => Json(serde_json::json!({"ok": true})).into_response(),
        Err(err) => {
            tracing::warn!("cannot end a UI session: {err}");
            (
                http::StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({
                    "error": "the session store is unreachable: see the server's log",
                    "kind": "session-store"})),
            )
                .into_response()
        }
    }
}
