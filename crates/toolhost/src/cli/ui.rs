//! `toolhost ui`: the local admin web UI, on a loopback port, behind a one-time link.

use super::output::print_json;
use crate::ui::{UiOptions, UiServer};
use std::io::Write;
use std::net::IpAddr;
use toolhost_host::ToolHost;

#[derive(clap::Args, Debug)]
pub struct UiArgs {
    /// Port to listen on (0: a free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Address to listen on. Anything but loopback needs --allow-remote.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Allow a non-loopback --bind (anyone who can reach it still needs the one-time link).
    #[arg(long)]
    allow_remote: bool,
    /// Another Host header value to accept (`name:port`), e.g. for a remote bind.
    #[arg(long = "allow-host", value_name = "HOST:PORT")]
    allowed_hosts: Vec<String>,
    /// Prefill the connect form's upstream URL (like `toolhost connect --upstream`).
    #[arg(long)]
    upstream: Option<String>,
}

pub async fn run(host: ToolHost, args: UiArgs, json: bool) -> anyhow::Result<()> {
    let options = UiOptions {
        bind: args.bind,
        port: args.port,
        allow_remote: args.allow_remote,
        extra_hosts: args.allowed_hosts,
        operator: super::operator::operator_name(),
        upstream: args.upstream,
    };
    let server = UiServer::bind(host, options).await?;
    let url = server.url();
    if json {
        print_json(&serde_json::json!({"url": url, "address": server.local_addr()}));
    } else {
        // Written, not println!: a closed stdout (a parent that read the URL and left) must
        // not take the server down.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "toolhost UI: {url}");
        let _ = writeln!(
            out,
            "Open this link in your browser; it signs you in once. Ctrl-C stops the server."
        );
        let _ = out.flush();
    }
    server
        .serve(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
