//! `toolhost ui`: the local admin web UI, on a loopback port, behind a one-time link.

use super::output::print_json;
use crate::ui::{UiOptions, UiServer};
use anyhow::Context;
use std::io::Write;
use std::net::IpAddr;
use toolhost_governance::ApproverName;
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
    /// The person the printed link signs in (default: your OS user name). Approvals and
    /// calls from the UI are recorded as `ui:NAME`; passkeys are enrolled for NAME.
    #[arg(long, value_name = "NAME")]
    approver: Option<ApproverName>,
}

pub async fn run(host: ToolHost, args: UiArgs, json: bool) -> anyhow::Result<()> {
    let options = UiOptions {
        bind: args.bind,
        port: args.port,
        allow_remote: args.allow_remote,
        extra_hosts: args.allowed_hosts,
        approver: match args.approver {
            Some(name) => name,
            None => ApproverName::parse(&super::operator::operator_name())
                .context("your OS user name cannot name the approver: pass --approver NAME")?,
        },
        upstream: args.upstream,
    };
    let approver = options.approver.to_string();
    let server = UiServer::bind(host, options).await?;
    let url = server.url();
    if json {
        print_json(
            &serde_json::json!({"url": url, "address": server.local_addr(), "approver": approver}),
        );
    } else {
        // Written, not println!: a closed stdout (a parent that read the URL and left) must
        // not take the server down.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "toolhost UI: {url}");
        let _ = writeln!(
            out,
            "Open this link in your browser; it signs in {approver} once. Ctrl-C stops the server."
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
