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
    /// Act in a lesser role for this call. Your own role is `[operator] role` in
    /// toolhost.toml (default: the policy file's default_role, else the plugin's default
    /// role); a role holding anything yours does not is refused.
    #[arg(long = "as", value_name = "ROLE")]
    role: Option<String>,
}

pub async fn run(host: ToolHost, args: CallArgs, json: bool) -> anyhow::Result<()> {
    // `--as` is checked against the operator's own role before anything runs: it may only
    // lower it, so a command line cannot claim more than the operator's settings grant.
    let role = host.operator_call_role(args.role.as_deref())?;
    let mut caller = Caller::new(format!("cli:{}", super::operator::operator_name()), role);
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
