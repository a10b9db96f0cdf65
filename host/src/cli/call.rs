//! `toolhost call`: run one tool.

use super::output::print_json;
use toolhost::{CallGrant, ToolHost};

#[derive(clap::Args, Debug)]
pub struct CallArgs {
    /// Tool name, namespaced (`connectwise_rmm:cw-rmm-list-devices`) or bare.
    tool: String,
    /// Arguments as a JSON object.
    #[arg(long, default_value = "{}")]
    args: String,
    /// Approve a tool whose policy needs approval, for this one call.
    #[arg(long)]
    approve: bool,
}

pub async fn run(host: ToolHost, args: CallArgs, json: bool) -> anyhow::Result<()> {
    let report = host
        .call(
            &args.tool,
            &args.args,
            CallGrant {
                approved: args.approve,
            },
        )
        .await?;
    if json {
        print_json(&report);
    } else {
        print_json(&report.result);
    }
    Ok(())
}
