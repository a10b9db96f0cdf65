//! `toolhost policy`: every tool's mode and why; overrides.

use super::display::escape;
use super::output::print_json;
use clap::Subcommand;
use toolhost_governance::Mode;
use toolhost_host::ToolHost;

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Every tool with its mode (auto, approval, never) and the rule that set it.
    List,
    /// Override the mode of a tool or of a glob pattern (`connectwise_rmm:cw-rmm-script-*`).
    Set { pattern: String, mode: Mode },
}

pub async fn run(host: ToolHost, command: PolicyCommand, json: bool) -> anyhow::Result<()> {
    match command {
        PolicyCommand::List => {
            let listed = host.policy_list().await?;
            if json {
                let rows: Vec<_> = listed
                    .iter()
                    .map(|(t, d)| serde_json::json!({"tool": t.name, "kind": t.kind, "mode": d.mode, "source": d.source, "why": d.explanation}))
                    .collect();
                print_json(&rows);
                return Ok(());
            }
            // Tool names and the explanations quoting them are the plugin's: escaped, and the
            // explanation whole, since an operator sets modes by it.
            let names: Vec<_> = listed.iter().map(|(t, _)| escape(&t.name)).collect();
            let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
            println!("{:width$}  {:8}  WHY", "TOOL", "MODE");
            for ((_, decision), name) in listed.iter().zip(&names) {
                println!(
                    "{:width$}  {:8}  {}",
                    name,
                    decision.mode.as_str(),
                    escape(&decision.explanation)
                );
            }
        }
        PolicyCommand::Set { pattern, mode } => {
            let previous = host.set_policy(&pattern, mode).await?;
            let file = host.config().policy_file.display().to_string();
            if json {
                print_json(
                    &serde_json::json!({"pattern": pattern, "mode": mode, "previous": previous, "file": file}),
                );
            } else {
                let pattern = escape(&pattern);
                let file = escape(&file);
                match previous {
                    Some(old) => println!("{pattern}: {old} -> {mode} ({file})"),
                    None => println!("{pattern}: {mode} ({file})"),
                }
            }
        }
    }
    Ok(())
}
