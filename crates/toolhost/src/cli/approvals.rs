//! `toolhost approvals`: the people's side of approval-needed calls.

use super::display::{arguments, escape, indent_lines};
use super::output::print_json;
use clap::Subcommand;
use toolhost_governance::{ApprovalFilter, ApprovalStatus};
use toolhost_host::ToolHost;

#[derive(Subcommand, Debug)]
pub enum ApprovalsCommand {
    /// Pending approvals (with --all, every approval and its state).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Approve one call at an interactive terminal: it shows the call and runs it once, with
    /// exactly the arguments shown, after you type `approve`. It cannot be scripted.
    Approve { id: String },
    /// Deny one call: it can never run.
    Deny { id: String },
}

pub async fn run(host: ToolHost, command: ApprovalsCommand, json: bool) -> anyhow::Result<()> {
    let by = format!("cli:{}", super::operator::operator_name());
    match command {
        ApprovalsCommand::List { all } => {
            let filter = if all {
                ApprovalFilter::default()
            } else {
                ApprovalFilter::pending()
            };
            let approvals = host.list_approvals(&filter).await?;
            if json {
                print_json(&approvals);
                return Ok(());
            }
            if approvals.is_empty() {
                println!("No {}approvals.", if all { "" } else { "pending " });
            }
            let now = chrono::Utc::now();
            // The requester is whatever name an MCP client gave itself, and the tool and
            // arguments come from the plugin and the agent: escaped, none of them can add a
            // line of its own. The arguments are shown whole: they are what the approver
            // approves.
            for a in &approvals {
                let status = a.status(now);
                println!("{}  {}  {}", a.id, status.as_str(), escape(&a.tool));
                println!(
                    "    requested by {} as {} at {}, expires {}",
                    escape(&a.requester),
                    escape(&a.role),
                    a.created_at.to_rfc3339(),
                    a.expires_at.to_rfc3339()
                );
                println!(
                    "    arguments: {}",
                    indent_lines(&arguments(&a.arguments), "    ")
                );
                if status == ApprovalStatus::Pending {
                    println!("    approve at this terminal: {}", a.approve_command());
                }
            }
        }
        ApprovalsCommand::Approve { id } => {
            // A person approves, not a script: an agent with a shell must not be able to run
            // its own request by reading this command from an error message.
            let by = format!("terminal:{}", super::operator::operator_name());
            // With passkeys required only the admin UI can approve: refused before the
            // person reads the call and types `approve` for nothing.
            if host.config().require_passkey {
                return Err(toolhost_host::HostError::PasskeyRequired { id }.into());
            }
            if !confirm_at_terminal(&host, &id).await? {
                println!("Not approved: the call stays pending.");
                return Ok(());
            }
            let report = host.approve(&id, &by).await?;
            if json {
                print_json(&report);
            } else {
                println!(
                    "Approved and ran {} (approval {}).",
                    escape(&report.tool),
                    escape(report.approval_id.as_deref().unwrap_or(&id))
                );
                print_json(&report.result);
            }
        }
        ApprovalsCommand::Deny { id } => {
            let approval = host.deny(&id, &by).await?;
            if json {
                print_json(&approval);
            } else {
                println!(
                    "Denied {} ({}): it will not run.",
                    approval.id,
                    escape(&approval.tool)
                );
            }
        }
    }
    Ok(())
}

/// Shows the whole call and asks for a typed confirmation at an interactive terminal;
/// refuses outright anywhere else.
async fn confirm_at_terminal(host: &ToolHost, id: &str) -> anyhow::Result<bool> {
    use std::io::{BufRead, IsTerminal, Write};
    anyhow::ensure!(
        std::io::stdin().is_terminal() && std::io::stdout().is_terminal(),
        "approving needs a person at an interactive terminal, or the admin UI (`toolhost ui`): \
         it cannot be scripted or run by an agent"
    );
    let approval = host
        .list_approvals(&ApprovalFilter::default())
        .await?
        .into_iter()
        .find(|a| a.id.starts_with(id))
        .ok_or_else(|| anyhow::anyhow!("no approval {id}"))?;
    println!(
        "{} asks to run {}",
        escape(&approval.requester),
        escape(&approval.tool)
    );
    println!("  as role {}", escape(&approval.role));
    if let Some(preview) = &approval.preview {
        print!("{}", super::approver::preview_text(preview));
    }
    println!(
        "  with arguments: {}",
        indent_lines(&arguments(&approval.arguments), "  ")
    );
    print!("Type `approve` to run it once, exactly as shown (anything else leaves it pending): ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == "approve")
}
