//! A simulator in a child process (this bench binary run as `simulator-child`), so the
//! bench process's resident memory is the host's and the native client's, not the server's.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

/// The argument that turns this binary into a simulator.
const ROLE: &str = "simulator-child";

/// How the child's simulator serves.
pub struct ChildOptions {
    pub round_trip: Duration,
    pub endpoints: usize,
    pub tls: bool,
}

/// A running child simulator; dropping it ends the child (its stdin closes).
pub struct ChildSimulator {
    child: Child,
    stdin: Option<ChildStdin>,
    pub base_url: String,
    /// The run-time test root (DER) the child's TLS certificate chains to, if TLS.
    pub root: Option<Vec<u8>>,
}

impl ChildSimulator {
    pub fn start(options: &ChildOptions) -> anyhow::Result<ChildSimulator> {
        let mut child = Command::new(std::env::current_exe()?)
            .args([
                ROLE,
                &options.round_trip.as_millis().to_string(),
                &options.endpoints.to_string(),
                if options.tls { "tls" } else { "plain" },
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let mut words = line.split_whitespace();
        anyhow::ensure!(
            words.next() == Some("READY"),
            "simulator child said {line:?}"
        );
        let base_url = words.next().unwrap_or_default().to_string();
        let root = match words.next() {
            Some("-") | None => None,
            Some(text) => Some(hex::decode(text)?),
        };
        Ok(ChildSimulator {
            stdin: child.stdin.take(),
            child,
            base_url,
            root,
        })
    }
}

impl Drop for ChildSimulator {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// If this process was started as a simulator child, serves until stdin closes and returns
/// `true`.
pub async fn serve_if_child() -> anyhow::Result<bool> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) != Some(ROLE) {
        return Ok(false);
    }
    let round_trip = Duration::from_millis(args[2].parse()?);
    let endpoints: usize = args[3].parse()?;
    let certs = (args[4] == "tls")
        .then(simulator::TestCertificates::generate)
        .transpose()?;
    let mut config = simulator::SimulatorConfig::default();
    config.endpoint_count = endpoints.max(config.endpoint_count);
    // Every native burst mints its own token; the default lock-out is for agents, not this.
    config.mint_limit.max_mints = 10_000;
    let sim = simulator::Simulator::start_with_network(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        config,
        simulator::Network {
            tls: certs.as_ref().map(|c| c.identity.clone()),
            round_trip_delay: round_trip,
        },
    )
    .await?;
    let root = certs
        .as_ref()
        .map_or("-".to_string(), |c| hex::encode(&c.root));
    let mut out = std::io::stdout();
    writeln!(out, "READY {} {root}", sim.base_url())?;
    out.flush()?;
    // Until the parent closes our stdin (or dies).
    tokio::task::spawn_blocking(|| {
        let mut sink = String::new();
        while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {
            sink.clear();
        }
    })
    .await?;
    sim.shutdown().await;
    Ok(true)
}
