//! `toolhost tools`: what the agent can use.

use super::output::{clip, print_json};
use toolhost_host::ToolHost;

#[derive(clap::Args, Debug)]
pub struct ToolsArgs {
    /// Discover the tenant's tools again instead of using the catalog.
    #[arg(long)]
    refresh: bool,
}

pub async fn run(host: ToolHost, args: ToolsArgs, json: bool) -> anyhow::Result<()> {
    let tools = if args.refresh {
        host.refresh_tools().await?
    } else {
        host.tools().await?
    };
    if json {
        print_json(&tools);
        return Ok(());
    }
    let width = tools.iter().map(|t| t.name.len()).max().unwrap_or(0);
    println!("{:width$}  {:8}  DESCRIPTION", "TOOL", "POLICY");
    for tool in &tools {
        println!(
            "{:width$}  {:8}  {}",
            tool.name,
            tool.policy.as_str(),
            clip(&tool.descriptor.description, 80)
        );
    }
    if !host.is_connected() {
        println!("\nNot connected: tenant script tools appear after `toolhost connect`.");
    }
    Ok(())
}
