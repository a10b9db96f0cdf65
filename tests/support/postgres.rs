//! A PostgreSQL database per test, and a loopback forwarder the tests cut and restore to lose
//! the database mid-run.
//!
//! The server comes from `TOOLHOST_TEST_DATABASE_URL` (`./dev.sh test` starts a throw-away one
//! and exports it). Without it the PostgreSQL half of a test is skipped with a note, except
//! under CI, where a missing server is a failure. The fresh database is the state crate's own
//! test helper (`toolhost_state::testing`), re-exported here.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub use toolhost_state::testing::{
    fresh_database_url as fresh_database, TEST_DATABASE_CA_FILE, TEST_DATABASE_URL,
};

/// The server address a database URL names (the first host).
pub fn server_of(url: &str) -> SocketAddr {
    let config = tokio_postgres::Config::from_str(url).expect("a PostgreSQL URL");
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        other => panic!("the test database must be reached over TCP, not {other:?}"),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let host = if host == "localhost" {
        "127.0.0.1".to_string()
    } else {
        host
    };
    format!("{host}:{port}").parse().expect("an IP address")
}

/// `url` with its server replaced by `127.0.0.1:port`.
pub fn through_port(url: &str, port: u16) -> String {
    let server = server_of(url);
    let config = tokio_postgres::Config::from_str(url).unwrap();
    let port_text = config.get_ports().first().copied().unwrap_or(5432);
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        _ => unreachable!("checked by server_of"),
    };
    let named = format!("@{host}:{port_text}");
    assert!(
        url.contains(&named),
        "{url} must name its server as USER@HOST:PORT ({server})"
    );
    url.replacen(&named, &format!("@127.0.0.1:{port}"), 1)
}

/// A loopback TCP forwarder to a database server: cutting it closes every connection through
/// it and refuses new ones (as a lost network would), restoring it lets them through again.
pub struct Forwarder {
    port: u16,
    cut: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accepting: JoinHandle<()>,
}

impl Forwarder {
    /// Forwards a fresh loopback port to `target`.
    pub async fn start(target: SocketAddr) -> Forwarder {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accepting = {
            let (cut, connections) = (cut.clone(), connections.clone());
            tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if cut.load(Ordering::SeqCst) {
                        drop(inbound);
                        continue;
                    }
                    let task = tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(target).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    let mut live = connections.lock().unwrap();
                    live.retain(|t| !t.is_finished());
                    live.push(task);
                }
            })
        };
        Forwarder {
            port,
            cut,
            connections,
            accepting,
        }
    }

    /// The loopback port to connect to instead of the server.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Loses the database: every open connection is closed, new ones are closed at once.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for task in self.connections.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// The database is back.
    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.accepting.abort();
        for task in self.connections.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

/// The sealing key of the test databases (never a real one).
pub fn test_state_key() -> toolhost_state::SealingKey {
    toolhost_state::SealingKey::from_bytes(*b"e2e-test-state-key-32-bytes-long")
}
