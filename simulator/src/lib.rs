//! A loopback HTTP simulator of the ConnectWise Asio ("ConnectWise RMM") REST API.
//!
//! It imitates the vendor OpenAPI 2.2.8 contract: paths, query parameters, field names,
//! status codes and the per-area error body shapes. It serves a deterministic seeded tenant
//! (see [`seed`]) and is the backend of the product demo and of every integration test.
//!
//! State that changes over time (task runs) is computed lazily from timestamps, so the
//! simulator needs no background threads beyond the HTTP server itself.

mod auth;
mod config;
mod delay;
mod errors;
mod faults;
mod lock;
mod network;
mod query;
mod recording;
mod routes;
mod server;
mod state;
mod tasks;
mod tenant;
mod time;
mod tokens;

pub use config::{
    ClientCredential, MintLimit, SimulatorConfig, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET,
};
pub use faults::{Fault, FaultAction, FaultId, Gathering, PathMatch};
pub use network::{Network, TestCertificates, TlsIdentity, TlsSetupError};
pub use recording::{RecordedRequest, MAX_RECORDED_RESPONSE_BYTES};
pub use tenant::seed;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

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
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
}

/// A running simulator. Dropping it without [`Simulator::shutdown`] aborts the server task.
pub struct Simulator {
    addr: SocketAddr,
    scheme: &'static str,
    accepted: Arc<AtomicU64>,
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
        Self::start_with_network(addr, config, Network::default()).await
    }

    /// Starts on `addr` with TLS and a round-trip delay as `network` says (`base_url` is
    /// then `https://`).
    pub async fn start_with_network(
        addr: SocketAddr,
        config: SimulatorConfig,
        network: Network,
    ) -> Result<Simulator, SimulatorError> {
        config.validate().map_err(SimulatorError::Config)?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| SimulatorError::Bind { addr, source })?;
        let addr = listener.local_addr().map_err(SimulatorError::LocalAddr)?;
        let scheme = if network.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let accepted = Arc::new(AtomicU64::new(0));
        let listener = network::SimListener::new(listener, network, accepted.clone())?;
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
            scheme,
            accepted,
            state,
            shutdown_tx: Some(shutdown_tx),
            server: Some(server),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Requests received over HTTP/2 so far (only over TLS, where ALPN offers it).
    pub fn http2_requests(&self) -> u64 {
        self.state.http2_requests.load(Ordering::SeqCst)
    }

    /// TCP connections accepted so far: how well a client reuses its connections.
    pub fn connections_accepted(&self) -> u64 {
        self.accepted.load(Ordering::SeqCst)
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

    /// Test hook: renames the shell script `template_id`, as an operator would in the RMM
    /// console; the listing reports the new name from the next request on. False for an
    /// unknown template.
    pub fn rename_script(&self, template_id: &str, name: &str) -> bool {
        template_id
            .parse()
            .is_ok_and(|id| self.state.rename_script(id, name))
    }

    /// Test hook: moves the endpoint `endpoint_id` to `company_id` and `site_id` (a site of
    /// that company), as re-assigning a device in the RMM console does; the device listing
    /// and details report the new home from the next request on. False for unknown ids.
    pub fn move_endpoint(&self, endpoint_id: &str, company_id: &str, site_id: &str) -> bool {
        match (endpoint_id.parse(), company_id.parse(), site_id.parse()) {
            (Ok(e), Ok(c), Ok(s)) => self.state.move_endpoint(e, c, s),
            _ => false,
        }
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
