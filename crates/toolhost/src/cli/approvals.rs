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
    /// Approve one call: it runs now, once, with exactly the arguments shown by `list`.
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
            let approvals = host.list_approvals(&filter)?;
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
                    println!("    approve: {}", a.approve_command());
                }
            }
        }
        ApprovalsCommand::Approve { id } => {
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
            let approval = host.deny(&id, &by)?;
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
