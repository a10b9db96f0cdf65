//! `toolhost tools`: what the agent can use.

use super::display::{clip, escape};
use super::output::print_json;
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
    // Names and descriptions are the plugin's (a script tool's, the tenant's): escaped. The
    // description column is cut: nobody approves anything from it.
    let names: Vec<_> = tools.iter().map(|t| escape(&t.name)).collect();
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    println!("{:width$}  {:8}  DESCRIPTION", "TOOL", "POLICY");
    for (tool, name) in tools.iter().zip(&names) {
        println!(
            "{:width$}  {:8}  {}",
            name,
            tool.policy.as_str(),
            clip(&tool.descriptor.description, 80)
        );
    }
    if !host.is_connected() {
        println!("\nNot connected: tenant script tools appear after `toolhost connect`.");
    }
    Ok(())
}
