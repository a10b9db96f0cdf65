//! `toolhost simulate`: the Asio API simulator as a standalone loopback server.

use anyhow::Context;
use simulator::{Simulator, SimulatorConfig, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct SimulateArgs {
    /// Loopback port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Endpoints in the tenant (the seed has 40+; more are generated).
    #[arg(long, default_value_t = 0)]
    endpoints: usize,
    /// Milliseconds per task state transition (Scheduled -> Running -> done).
    #[arg(long, default_value_t = 2000)]
    task_step_ms: u64,
}

pub async fn run(args: SimulateArgs, json: bool) -> anyhow::Result<()> {
    let mut config = SimulatorConfig::default();
    config.endpoint_count = config.endpoint_count.max(args.endpoints);
    config.task_step = Duration::from_millis(args.task_step_ms);
    let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), args.port);
    let sim = Simulator::start_on(addr, config)
        .await
        .context("starting the simulator")?;
    let url = sim.base_url();
    if json {
        super::output::print_json(&serde_json::json!({
            "url": url, "clientId": DEMO_CLIENT_ID, "clientSecret": DEMO_CLIENT_SECRET,
        }));
    } else {
        println!("Asio API simulator listening on {url}");
        println!(
            "Demo tenant credentials (fake, for the simulator only): client id {DEMO_CLIENT_ID}"
        );
        println!("Connect the host to it with:");
        println!("  TOOLHOST_CLIENT_SECRET={DEMO_CLIENT_SECRET} toolhost connect --region au --client-id {DEMO_CLIENT_ID} --upstream {url}");
        println!("Press Ctrl-C to stop.");
    }
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    sim.shutdown().await;
    Ok(())
}
