//! `toolhost audit`: the record of every call attempt.

use super::display::escape;
use super::output::print_json;
use toolhost_governance::{AuditDecision, AuditFilter, AuditOutcome};
use toolhost_host::ToolHost;

#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    /// Only tools whose name contains this.
    #[arg(long)]
    tool: Option<String>,
    /// auto, approval, never, role-denied, approved, invalid.
    #[arg(long, value_parser = parse_decision)]
    decision: Option<AuditDecision>,
    /// ok, error, pending-approval, refused, denied.
    #[arg(long, value_parser = parse_outcome)]
    outcome: Option<AuditOutcome>,
    /// Only records at or after this time (RFC 3339, e.g. 2026-11-22T10:00:00Z).
    #[arg(long)]
    since: Option<chrono::DateTime<chrono::Utc>>,
    /// The most recent N records.
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

fn parse_decision(text: &str) -> Result<AuditDecision, String> {
    AuditDecision::ALL
        .iter()
        .copied()
        .find(|d| d.as_str() == text)
        .ok_or_else(|| {
            format!(
                "one of {}",
                AuditDecision::ALL
                    .iter()
                    .map(|d| d.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

fn parse_outcome(text: &str) -> Result<AuditOutcome, String> {
    AuditOutcome::ALL
        .iter()
        .copied()
        .find(|o| o.as_str() == text)
        .ok_or_else(|| {
            format!(
                "one of {}",
                AuditOutcome::ALL
                    .iter()
                    .map(|o| o.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

pub async fn run(host: ToolHost, args: AuditArgs, json: bool) -> anyhow::Result<()> {
    let filter = AuditFilter {
        tool: args.tool,
        decision: args.decision,
        outcome: args.outcome,
        since: args.since,
        limit: Some(args.limit),
    };
    let records = host.audit_records(&filter).await?;
    if json {
        print_json(&records);
        return Ok(());
    }
    // Tools, callers (an MCP client's own name) and errors (the plugin's words) are escaped;
    // the error is shown whole, as the record of what happened.
    for r in &records {
        println!(
            "{}  {:16} {:12} {:16} {} as {}{}",
            r.time.format("%Y-%m-%d %H:%M:%S"),
            r.outcome.as_str(),
            r.decision.as_str(),
            escape(&r.tool),
            escape(&r.caller),
            escape(&r.role),
            r.approval_id
                .as_ref()
                .map(|id| format!(" (approval {})", escape(id)))
                .unwrap_or_default()
        );
        if let Some(error) = &r.error {
            println!("    {}", escape(error));
        }
    }
    if records.is_empty() {
        println!("No audit records match.");
    }
    Ok(())
}
