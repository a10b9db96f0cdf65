//! `toolhost connect`: credentials in, "Connected" out.

use anyhow::Context;
use std::io::IsTerminal;
use toolhost_base::SecretString;
use toolhost_host::ConnectRequest;
use toolhost_host::ToolHost;
use toolhost_sandbox::Origin;

/// The secret never travels as an argument (it would land in shell history and `ps`).
pub const SECRET_ENV: &str = "TOOLHOST_CLIENT_SECRET";

#[derive(clap::Args, Debug)]
pub struct ConnectArgs {
    /// Region of the tenant: au (default), na or eu.
    #[arg(long, default_value = "au")]
    region: String,
    /// API client id from the Asio portal (Integrations > API Access).
    #[arg(long)]
    client_id: String,
    /// Space-separated scopes to request instead of the plugin's defaults.
    #[arg(long)]
    scopes: Option<String>,
    /// Send the region's API traffic to this URL instead (e.g. the simulator,
    /// http://127.0.0.1:PORT). The allowlist still names the real origin.
    #[arg(long)]
    upstream: Option<String>,
    /// An extra origin the plugin declares that needs your explicit consent (plain http,
    /// loopback, link-local, private ranges, IP literals). Repeat for several.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    allow_origins: Vec<String>,
}

pub async fn run(mut host: ToolHost, args: ConnectArgs, json: bool) -> anyhow::Result<()> {
    let settings = ConnectRequest {
        region: args.region,
        client_id: args.client_id,
        client_secret: read_secret()?,
        scopes: args.scopes,
        upstream: args.upstream,
    }
    .settings(host.metadata())?;
    let allowed = args
        .allow_origins
        .iter()
        .map(|o| Origin::parse(o).with_context(|| format!("--allow-origin {o}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let verified = host.verify_connection_allowing(settings, &allowed).await?;
    let report = host.commit_connection(verified).await?;
    if json {
        super::output::print_json(&report);
    } else {
        println!(
            "Connected to {} ({}). {} tools discovered: {} static, {} from the tenant's scripts.",
            super::display::escape(&host.metadata().name),
            super::display::escape(&report.region),
            report.static_tools + report.discovered_tools,
            report.static_tools,
            report.discovered_tools
        );
        println!("Saved to {} (readable only by you).", report.saved_to);
        print!("{}", super::grant::describe_grant(&report.grant, "Granted"));
        for warning in report.grant.warnings() {
            println!("warning: {}", super::display::escape(&warning));
        }
        println!("The host runs only this; `toolhost grant show` reviews any later change.");
    }
    Ok(())
}

fn read_secret() -> anyhow::Result<SecretString> {
    if let Ok(secret) = std::env::var(SECRET_ENV) {
        anyhow::ensure!(!secret.is_empty(), "{SECRET_ENV} is set but empty");
        return Ok(SecretString::new(secret));
    }
    anyhow::ensure!(
        std::io::stdin().is_terminal(),
        "no client secret: set {SECRET_ENV} or run in a terminal to be asked for it"
    );
    let secret =
        rpassword::prompt_password("Client secret (API key): ").context("reading the secret")?;
    anyhow::ensure!(!secret.is_empty(), "the client secret is empty");
    Ok(SecretString::new(secret))
}
