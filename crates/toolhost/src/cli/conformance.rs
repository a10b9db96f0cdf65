//! `toolhost conformance`: a marketplace reviewer's check of any plugin component.

use super::display::escape;
use anyhow::Context;
use std::path::PathBuf;
use toolhost_base::SecretString;
use toolhost_host::conformance::{self, Backend, Report};
use toolhost_sandbox::Origin;

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

pub async fn run(
    args: ConformanceArgs,
    json: bool,
    cache_dir: Option<PathBuf>,
) -> anyhow::Result<()> {
    let simulator = match args.backend.as_str() {
        "simulator" => Some(start_simulator().await?),
        _ => None,
    };
    let backend = match (args.backend.as_str(), &simulator) {
        (_, Some(sim)) => Backend::Upstream {
            origin: Origin::parse(&sim.base_url()).context("the simulator's address")?,
            label: "built-in Asio simulator".into(),
            credentials: Some((
                simulator::DEMO_CLIENT_ID.into(),
                SecretString::new(simulator::DEMO_CLIENT_SECRET),
            )),
        },
        ("none", _) => Backend::None,
        (url, _) => Backend::Upstream {
            origin: Origin::parse(url).with_context(|| format!("--backend {url}"))?,
            label: url.to_string(),
            credentials: None,
        },
    };
    let report = conformance::run(&args.component, backend, cache_dir.as_deref()).await;
    if let Some(sim) = simulator {
        sim.shutdown().await;
    }
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
        print!("{}", escaped(&report).to_text());
    }
    anyhow::ensure!(
        report.passed,
        super::output::AlreadyReported(format!(
            "{} does not conform to the toolhost:plugin world (see the failed checks above)",
            args.component.display()
        ))
    );
    Ok(())
}

/// The report with every string the component under review put in it (its id, name and
/// version, the findings quoting its tools and errors) escaped, so the reviewer reads each on
/// its own line; the JSON and JUnit files keep them as they are.
fn escaped(report: &Report) -> Report {
    let text = |s: &String| escape(s).into_owned();
    let mut shown = report.clone();
    shown.component = text(&report.component);
    shown.backend = text(&report.backend);
    if let Some(plugin) = &mut shown.plugin {
        plugin.id = text(&plugin.id);
        plugin.name = text(&plugin.name);
        plugin.version = text(&plugin.version);
    }
    for check in &mut shown.checks {
        for finding in &mut check.findings {
            *finding = text(finding);
        }
    }
    shown
}

#[cfg(feature = "simulator")]
async fn start_simulator() -> anyhow::Result<simulator::Simulator> {
    simulator::Simulator::start(simulator::SimulatorConfig::default())
        .await
        .context("starting the built-in Asio simulator")
}

#[cfg(not(feature = "simulator"))]
async fn start_simulator() -> anyhow::Result<no_simulator::Simulator> {
    anyhow::bail!(
        "this toolhost was built without the simulator: pass `--backend none` or `--backend <URL>`"
    )
}

/// Stands in for the simulator crate in a build without it: no value of it can exist.
#[cfg(not(feature = "simulator"))]
mod no_simulator {
    pub enum Simulator {}
    pub const DEMO_CLIENT_ID: &str = "";
    pub const DEMO_CLIENT_SECRET: &str = "";

    impl Simulator {
        pub fn base_url(&self) -> String {
            match *self {}
        }

        pub async fn shutdown(self) {}
    }
}

#[cfg(not(feature = "simulator"))]
use no_simulator as simulator;

#[cfg(test)]
mod tests {
    use super::*;
    use toolhost_host::conformance::{Check, PluginSummary};

    #[test]
    fn the_text_report_shows_the_components_strings_escaped() {
        let mut report = Report::new("evil\x1b]0;t\x07.wasm".into(), "none".into());
        report.plugin = Some(PluginSummary {
            id: "evil".into(),
            name: "Evil\n  PASS  world.imports                all good".into(),
            version: "1.0\u{202e}".into(),
            tools: 1,
        });
        report.push(Check::new(
            "tools.names",
            "tool names",
            vec!["`x\x1b[2K\r  PASS` is not a valid name".into()],
        ));
        let text = escaped(&report).to_text();
        assert!(
            !text.contains(['\x1b', '\x07', '\r', '\u{202e}']),
            "{text:?}"
        );
        // Heading, plugin line, one check, one finding, summary: nothing added.
        assert_eq!(text.lines().count(), 5, "{text}");
        assert!(text.contains(r"Evil\n  PASS"), "{text}");
        assert!(text.contains(r"`x\x1b[2K\r  PASS`"), "{text}");
    }
}
