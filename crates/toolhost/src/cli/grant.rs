//! `toolhost grant show | accept`: what the plugin was granted at connect, what it asks for
//! now, and the operator's acceptance of a change (an updated component, a changed tool).

use super::display::escape;
use super::output::print_json;
use toolhost_host::{Grant, GrantReview, ToolHost};

#[derive(clap::Subcommand, Debug)]
pub enum GrantCommand {
    /// Show the grant, what the component and the tenant offer now, and every difference.
    Show,
    /// Accept what the component and the tenant offer now: calls run again.
    Accept,
}

pub async fn run(mut host: ToolHost, command: GrantCommand, json: bool) -> anyhow::Result<()> {
    let review = match command {
        GrantCommand::Show => host.grant_review().await?,
        GrantCommand::Accept => {
            let by = format!("cli:{}", super::operator::operator_name());
            host.accept_grant(&by).await?
        }
    };
    if json {
        print_json(&review);
        return Ok(());
    }
    print!("{}", describe(&review));
    if matches!(command, GrantCommand::Accept) {
        println!("Accepted: calls run with this grant from now on.");
    } else if !review.changes.is_empty() {
        println!("Review the changes above, then accept them with `toolhost grant accept`.");
    }
    Ok(())
}

/// The review as an operator reads it; every plugin-supplied string escaped.
pub fn describe(review: &GrantReview) -> String {
    let mut out = String::new();
    out.push_str(&describe_grant(&review.current, "Now"));
    match &review.granted {
        Some(g) => out.push_str(&format!(
            "Granted {} by {} (component {}).\n",
            escape(&g.accepted_at),
            escape(&g.accepted_by),
            short(&g.component_sha256)
        )),
        None => out.push_str("Nothing is granted yet.\n"),
    }
    if review.changes.is_empty() {
        out.push_str("No changes: the component and its tools match the grant.\n");
    } else {
        out.push_str("Changes since the grant:\n");
        for line in &review.changes.0 {
            out.push_str(&format!("  {}\n", escape(line)));
        }
    }
    for warning in &review.warnings {
        out.push_str(&format!("warning: {}\n", escape(warning)));
    }
    out
}

/// What a grant lets the plugin do, in a few lines.
pub fn describe_grant(grant: &Grant, label: &str) -> String {
    let mut out = format!(
        "{label}: plugin {} {} (component {}), region {}\n  API origin: {}\n  client secret goes only to: {}\n",
        escape(&grant.plugin_id),
        escape(&grant.plugin_version),
        short(&grant.component_sha256),
        escape(&grant.region),
        grant.api_origin.url(),
        grant.token_endpoint.as_deref().map(escape).unwrap_or("(no credential)".into()),
    );
    for origin in &grant.extra_origins {
        out.push_str(&format!("  extra origin: {}\n", origin.url()));
    }
    let writes = grant
        .tools
        .values()
        .filter(|t| {
            t.routes
                .iter()
                .any(|r| r.access == toolhost_sandbox::Access::Write)
        })
        .count();
    out.push_str(&format!(
        "  {} tools ({} may write upstream)\n",
        grant.tools.len(),
        writes
    ));
    out
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}
