//! A loopback HTTP simulator of the ConnectWise Asio ("ConnectWise RMM") REST API.
//!
//! It imitates the vendor OpenAPI 2.2.8 contract: paths, query parameters, field names,
//! status codes and the per-area error body shapes. It serves a deterministic seeded tenant
//! (see [`seed`]) and is the backend of the product demo and of every integration test.
//!
//! State that changes over time (task runs) is computed lazily from timestamps, so the
//! simulator needs no background threads beyond the HTTP server itself.

mod auth;
mod errors;
mod faults;
mod query;
mod routes;
mod server;
mod state;
mod tasks;
mod tenant;
mod time;

pub use faults::{Fault, FaultAction, FaultId, PathMatch};
pub use tenant::seed;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Client id of the demo tenant. The `0e32` prefix marks an AU-region key, as real ids do.
pub const DEMO_CLIENT_ID: &str = "0e32sim-demo-client";
/// Secret of the demo tenant: deliberately and obviously fake.
pub const DEMO_CLIENT_SECRET: &str = "sim-demo-secret-not-a-real-key";

/// One API key the simulator accepts on `POST /v1/token`.
#[derive(Clone, Debug)]
pub struct ClientCredential {
    pub client_id: String,
    pub client_secret: String,
}

/// How many successful token mints one client id may make per window before the
/// token endpoint answers 423 Locked (ConnectWise locks keys that sign in too often).
#[derive(Clone, Debug)]
pub struct MintLimit {
    pub max_mints: u32,
    pub window: Duration,
}

#[derive(Clone, Debug)]
pub struct SimulatorConfig {
    /// Accepted credentials; defaults to the demo credential only.
    pub credentials: Vec<ClientCredential>,
    /// Total endpoints in the tenant. Values below the hand-seeded count keep the seed;
    /// extra endpoints are generated deterministically across companies and sites.
    pub endpoint_count: usize,
    /// Lifetime of minted tokens (`expires_in`).
    pub token_ttl: Duration,
    pub mint_limit: MintLimit,
    /// Time per task state transition (Scheduled -> Running -> Success/Failed).
    pub task_step: Duration,
    /// When offline endpoints "check in" for next-agent-check-in tasks; `None` = never.
    pub offline_checkin_after: Option<Duration>,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        SimulatorConfig {
            credentials: vec![ClientCredential {
                client_id: DEMO_CLIENT_ID.to_string(),
                client_secret: DEMO_CLIENT_SECRET.to_string(),
            }],
            endpoint_count: tenant::SEEDED_ENDPOINT_COUNT,
            token_ttl: Duration::from_secs(3599),
            mint_limit: MintLimit {
                max_mints: 20,
                window: Duration::from_secs(60),
            },
            task_step: Duration::from_secs(2),
            offline_checkin_after: None,
        }
    }
}

/// One request as the simulator received it. The `Authorization` header value and any
/// `client_secret` in a token request body are redacted.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    pub had_bearer_token: bool,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// The response body as sent (lossy UTF-8), when the simulator knew it in full: `None`
    /// for an empty body, a body larger than [`MAX_RECORDED_RESPONSE_BYTES`], a streamed one
    /// (fault bodies) or a cut connection. An `access_token` in a token response is redacted.
    pub response_body: Option<String>,
    /// The response `Content-Type`, if any.
    pub response_content_type: Option<String>,
}

/// Response bodies larger than this are not kept in [`RecordedRequest::response_body`].
pub const MAX_RECORDED_RESPONSE_BYTES: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SimulatorError {
    #[error("could not bind the simulator to {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("could not read the simulator's bound address: {0}")]
    LocalAddr(std::io::Error),
    #[error("invalid simulator configuration: {0}")]
    Config(String),
}

/// A running simulator. Dropping it without [`Simulator::shutdown`] aborts the server task.
pub struct Simulator {
    addr: SocketAddr,
    state: Arc<state::AppState>,
    shutdown_tx: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl Simulator {
    /// Starts on an ephemeral loopback port.
    pub async fn start(config: SimulatorConfig) -> Result<Simulator, SimulatorError> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
    }

    pub async fn start_on(
        addr: SocketAddr,
        config: SimulatorConfig,
    ) -> Result<Simulator, SimulatorError> {
        validate_config(&config)?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| SimulatorError::Bind { addr, source })?;
        let addr = listener.local_addr().map_err(SimulatorError::LocalAddr)?;
        let state = Arc::new(state::AppState::new(config));
        let app = server::router(state.clone());
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = shutdown_rx.await;
            });
            if let Err(err) = serve.await {
                tracing::error!(error = %err, "simulator server stopped with an error");
            }
        });
        tracing::info!(%addr, "asio simulator listening");
        Ok(Simulator {
            addr,
            state,
            shutdown_tx: Some(shutdown_tx),
            server: Some(server),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Successful token mints so far.
    pub fn token_mints(&self) -> u64 {
        self.state.tokens.mints()
    }

    /// Every request received so far, in arrival order of completion.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.recorded()
    }

    /// Every access token minted so far, expired ones included (for tests that check no
    /// output ever carries one).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.state.tokens.issued()
    }

    /// Invalidates every issued token, so the next API call gets 401 (refresh tests).
    pub fn expire_all_tokens(&self) {
        self.state.tokens.expire_all();
    }

    /// Arms a fault (see [`FaultAction`]); faults are checked in injection order and the
    /// first armed match wins. Applies to every route, `POST /v1/token` included.
    pub fn inject(&self, fault: Fault) -> FaultId {
        self.state.faults.inject(fault)
    }

    /// Disarms a fault; its hit count stays readable.
    pub fn remove_fault(&self, id: FaultId) {
        self.state.faults.remove(id);
    }

    /// Disarms every fault.
    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }

    /// How many requests a fault has affected so far (0 for an unknown id).
    pub fn fault_hits(&self, id: FaultId) -> u32 {
        self.state.faults.hits(id)
    }

    /// Test hook: switches the shell script `template_id` active or inactive, as an operator
    /// would in the RMM console. The script listing reports the new `state` and scheduling an
    /// inactive script is refused, from the next request on. False for an unknown template.
    pub fn set_script_state(&self, template_id: &str, active: bool) -> bool {
        template_id
            .parse()
            .is_ok_and(|id| self.state.set_script_state(id, active))
    }

    /// Stops accepting connections and waits for in-flight requests to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown_tx.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

fn validate_config(config: &SimulatorConfig) -> Result<(), SimulatorError> {
    if config.credentials.is_empty() {
        return Err(SimulatorError::Config(
            "at least one client credential is required".into(),
        ));
    }
    if config.mint_limit.max_mints == 0 {
        return Err(SimulatorError::Config(
            "mint_limit.max_mints must be at least 1".into(),
        ));
    }
    if config.endpoint_count > tenant::MAX_ENDPOINTS {
        return Err(SimulatorError::Config(format!(
            "endpoint_count must be at most {}",
            tenant::MAX_ENDPOINTS
        )));
    }
    Ok(())
}
