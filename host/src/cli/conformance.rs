//! `toolhost conformance`: a marketplace reviewer's check of any plugin component.

use anyhow::Context;
use std::path::PathBuf;
use toolhost::conformance::{self, Backend};
use toolhost::outbound::Origin;

#[derive(clap::Args, Debug)]
pub struct ConformanceArgs {
    /// The component to check (.wasm).
    component: PathBuf,
    /// Backend of the behavioural checks: `simulator` (built-in Asio simulator), `none`
    /// (offline), or a URL the plugin's default-region API origin is routed to.
    #[arg(long, default_value = "simulator")]
    backend: String,
    /// Also write the report as JUnit XML to this file.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    report: Option<PathBuf>,
}

/// The component did not conform; the report has already been printed.
#[derive(Debug, thiserror::Error)]
#[error("{0} does not conform to the toolhost:plugin world (see the failed checks above)")]
pub struct DoesNotConform(String);

pub async fn run(
    args: ConformanceArgs,
    json: bool,
    cache_dir: Option<PathBuf>,
) -> anyhow::Result<()> {
    let backend = match args.backend.as_str() {
        "simulator" => Backend::Simulator,
        "none" => Backend::None,
        url => Backend::Url(Origin::parse(url).with_context(|| format!("--backend {url}"))?),
    };
    let report = conformance::run(&args.component, backend, cache_dir.as_deref()).await;
    if let Some(path) = &args.junit {
        std::fs::write(path, report.to_junit())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.report {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    if json {
        super::output::print_json(&report);
    } else {
        print!("{}", report.to_text());
    }
    anyhow::ensure!(
        report.passed,
        DoesNotConform(args.component.display().to_string())
    );
    Ok(())
}
