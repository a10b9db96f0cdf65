//! `toolhost approvals`: the people's side of approval-needed calls.

use super::output::{clip, print_json};
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
            for a in &approvals {
                let status = a.status(now);
                println!("{}  {}  {}", a.id, status.as_str(), a.tool);
                println!(
                    "    requested by {} as {} at {}, expires {}",
                    a.requester,
                    a.role,
                    a.created_at.to_rfc3339(),
                    a.expires_at.to_rfc3339()
                );
                println!("    arguments: {}", clip(&a.arguments, 200));
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
                    report.tool,
                    report.approval_id.as_deref().unwrap_or(&id)
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
                    approval.id, approval.tool
                );
            }
        }
    }
    Ok(())
}
