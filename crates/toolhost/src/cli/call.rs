//! `toolhost call`: run one tool, through roles, policy and approvals.

use super::approver::TerminalApprover;
use super::output::print_json;
use std::io::IsTerminal;
use toolhost_host::{Caller, ToolHost};

#[derive(clap::Args, Debug)]
pub struct CallArgs {
    /// Tool name, namespaced (`connectwise_rmm:cw-rmm-list-devices`) or bare.
    tool: String,
    /// Arguments as a JSON object.
    #[arg(long, default_value = "{}")]
    args: String,
    /// The caller's role (default: the policy file's default_role, else Technician).
    #[arg(long = "as", value_name = "ROLE")]
    role: Option<String>,
}

pub async fn run(host: ToolHost, args: CallArgs, json: bool) -> anyhow::Result<()> {
    let mut caller = Caller::new(
        format!("cli:{}", super::operator::operator_name()),
        args.role,
    );
    // Long work (thousands of devices, many pages) shows its progress on a terminal; nothing
    // extra is written with --json or when stderr is piped.
    let progress = (!json && std::io::stderr().is_terminal())
        .then(super::progress::Progress::new)
        .flatten();
    if let Some(p) = &progress {
        caller = caller.with_progress(p.observer());
    }
    let result = host
        .call(&args.tool, &args.args, &caller, &TerminalApprover)
        .await;
    if let Some(p) = progress {
        p.finish();
    }
    let report = result?;
    if json {
        print_json(&report);
    } else {
        print_json(&report.result);
    }
    Ok(())
}
