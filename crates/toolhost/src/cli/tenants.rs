//! `toolhost tenants`: the tenants of a home and what each is connected to (never a secret).
//! A tenant is created by connecting it: `toolhost --tenant NAME connect ...`.

use super::display::escape;
use super::output::print_json;
use anyhow::Context;
use std::path::Path;
use toolhost_host::{tenant_summaries, TenantSummary};

pub fn run(home: &Path, json: bool) -> anyhow::Result<()> {
    let tenants = tenant_summaries(home)
        .with_context(|| format!("listing the tenants of {}", home.display()))?;
    print(&tenants, json);
    Ok(())
}

/// The tenants as a table, or JSON.
pub fn print(tenants: &[TenantSummary], json: bool) {
    if json {
        print_json(&tenants);
        return;
    }
    let width = tenants
        .iter()
        .map(|t| t.name.as_str().len())
        .max()
        .unwrap_or(0)
        .max("TENANT".len());
    println!("{:width$}  {:6}  CLIENT ID", "TENANT", "REGION");
    for tenant in tenants {
        match (&tenant.region, &tenant.client_id, &tenant.error) {
            (Some(region), Some(client_id), _) => println!(
                "{:width$}  {:6}  {}",
                tenant.name,
                escape(region),
                escape(client_id)
            ),
            (_, _, Some(error)) => {
                println!("{:width$}  (unreadable: {})", tenant.name, escape(error))
            }
            _ => println!("{:width$}  (not connected)", tenant.name),
        }
    }
    if tenants.len() == 1 {
        println!("\nAdd a tenant with `toolhost --tenant NAME connect ...`.");
    }
}
