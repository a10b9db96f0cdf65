//! `toolhost demo`: the seed's two stories as real tool calls, through the sandboxed
//! component, against an in-process simulator. It uses a throw-away home directory and
//! the simulator's fake credentials, so it never touches the user's configuration.

use super::display::escape;
use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};
use simulator::{Simulator, SimulatorConfig, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use toolhost_base::SecretString;
use toolhost_host::ConnectionSettings;
use toolhost_host::{Caller, DeferApprovals, HostConfig, HostError, ToolHost};
use toolhost_sandbox::{Origin, UpstreamRoutes};

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Milliseconds per simulated task state transition.
    #[arg(long, default_value_t = 1000)]
    task_step_ms: u64,
}

pub async fn run(args: DemoArgs, plugin: Option<PathBuf>) -> anyhow::Result<()> {
    let config = SimulatorConfig {
        task_step: Duration::from_millis(args.task_step_ms),
        ..SimulatorConfig::default()
    };
    let sim = Simulator::start(config)
        .await
        .context("starting the simulator")?;
    let home = std::env::temp_dir().join(format!("toolhost-demo-{}", std::process::id()));
    let result = play(&sim, &home, plugin).await;
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&home);
    result
}

async fn play(
    sim: &Simulator,
    home: &std::path::Path,
    plugin: Option<PathBuf>,
) -> anyhow::Result<()> {
    let plugin = super::bundled::plugin_path(plugin, home)?;
    heading("Setup");
    let started = Instant::now();
    let mut config = HostConfig::new(home, plugin);
    // Compiled code is not configuration: reuse the user's cache so a second demo starts fast.
    if let Some(cache) = dirs::cache_dir() {
        config.cache_dir = cache.join("toolhost");
    }
    let mut host = ToolHost::open(config).await?;
    let meta = host.metadata().clone();
    let compile = host.runtime().compile_report().clone();
    say(&format!(
        "Loaded plugin {} {} (compile cache {}, {:.0} ms) in a sandbox: no files, no sockets, no environment; outbound HTTP only to {}.",
        meta.name,
        meta.version,
        compile.cache,
        compile.elapsed_ms,
        meta.region(&meta.default_region).map(|r| r.api.url()).unwrap_or_default()
    ));
    let region = meta
        .region(&meta.default_region)
        .context("the plugin declares no default region")?;
    let mut routes = UpstreamRoutes::new();
    routes.insert(region.api.clone(), Origin::parse(&sim.base_url())?);
    let report = host
        .connect(ConnectionSettings {
            region: meta.default_region.clone(),
            client_id: DEMO_CLIENT_ID.into(),
            client_secret: SecretString::new(DEMO_CLIENT_SECRET),
            scopes: None,
            routes,
        })
        .await?;
    say(&format!(
        "Connected to the simulated tenant ({} region, API routed to {}). {} tools: {} static + {} script tools.",
        report.region,
        sim.base_url(),
        report.static_tools + report.discovered_tools,
        report.static_tools,
        report.discovered_tools
    ));
    say(&format!(
        "Setup took {:.1} s.",
        started.elapsed().as_secs_f64()
    ));

    dc01_story(&host).await?;
    disk_cleanup_story(&host).await?;

    heading("Audit");
    for record in host.audit_records(&Default::default()).await? {
        say(&format!(
            "{} {:16} {:9} {}",
            record.time.format("%H:%M:%S"),
            record.outcome.as_str(),
            record.decision.as_str(),
            record.tool
        ));
    }

    heading("Done");
    say(&format!(
        "{} upstream requests, {} token minted (cached and reused by every call). The plugin never saw the secret or the token.",
        sim.requests().len(),
        host.token_mints()
    ));
    Ok(())
}

async fn dc01_story(host: &ToolHost) -> anyhow::Result<()> {
    heading("Story 1: \"is DC01 healthy?\"");
    let device = find_device(host, "DC01").await?;
    let id = device["endpointId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let state = call(host, "cw-rmm-get-device-state", json!({"endpointId": id})).await?;
    let patches = call(host, "cw-rmm-get-device-patches", json!({"endpointId": id})).await?;
    let health = state["health"].as_str().unwrap_or("unknown");
    say(&format!("Health: {}", health.to_uppercase()));
    if let Some(issues) = state["issues"].as_array() {
        for issue in issues {
            say(&format!("  - {}", issue.as_str().unwrap_or_default()));
        }
    }
    let s = &patches["summary"];
    say(&format!(
        "Patches: {} missing, {} installed, pending reboot: {}",
        s["missing"], s["installed"], s["pendingReboot"]
    ));
    say(&format!(
        "Answer: DC01 is {health}{}.",
        if health == "healthy" {
            ""
        } else {
            "; see the issues above"
        }
    ));
    Ok(())
}

async fn disk_cleanup_story(host: &ToolHost) -> anyhow::Result<()> {
    heading("Story 2: \"run the disk cleanup script on Maria's laptop\"");
    let device = find_device(host, "Maria").await?;
    let endpoint = device["endpointId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let tools = host.tools().await?;
    let script_tool = tools
        .iter()
        .find(|t| {
            t.descriptor.name.starts_with("cw-rmm-script-")
                && t.descriptor.name.contains("disk-cleanup")
        })
        .context("the tenant has no active disk cleanup script tool")?;
    say(&format!(
        "Picked the per-script tool {} (policy: {}).",
        script_tool.name, script_tool.policy
    ));
    let args = json!({"targets": [endpoint], "parameters": {"drive": "C:", "minFileAgeDays": 7}});
    let scheduled = call_approved(host, &script_tool.name, args).await?;
    let task_id = scheduled["taskId"]
        .as_str()
        .context("the schedule returned no taskId")?
        .to_string();
    say(&format!(
        "Scheduled task {task_id} for the next agent check-in."
    ));

    let results = poll_task(host, &task_id).await?;
    let outcome = results["status"].as_str().unwrap_or("unknown").to_string();
    let output = results["results"][0]["output"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    say(&format!("Result: {outcome}. Output:"));
    for line in output.lines() {
        say(&format!("  | {line}"));
    }

    let ticket = call_approved(
        host,
        "cw-rmm-create-ticket",
        json!({
            "summary": "Disk cleanup run on Maria's Laptop",
            "description": format!("Ran the Disk Cleanup script through the agent (task {task_id}). Outcome: {outcome}. {}", output.trim()),
            "board": "Service Desk",
            "source": "API",
            "companyId": device["companyId"],
            "endpointIds": [endpoint],
        }),
    )
    .await?;
    say(&format!(
        "Paper trail: ticket #{} \"{}\" created.",
        text(&ticket["number"]),
        text(&ticket["summary"])
    ));
    Ok(())
}

async fn find_device(host: &ToolHost, name: &str) -> anyhow::Result<Value> {
    let found = call(host, "cw-rmm-list-devices", json!({"name": name})).await?;
    let device = found["devices"]
        .get(0)
        .cloned()
        .with_context(|| format!("no device matches {name:?}"))?;
    say(&format!(
        "Resolved {name:?} -> {} ({}, {}), endpoint {}",
        text(&device["name"]),
        text(&device["endpointType"]),
        text(&device["os"]),
        text(&device["endpointId"])
    ));
    Ok(device)
}

async fn poll_task(host: &ToolHost, task_id: &str) -> anyhow::Result<Value> {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("  {spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(100));
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let results =
            call_quiet(host, "cw-rmm-get-task-results", json!({"taskId": task_id})).await?;
        let status = results["status"].as_str().unwrap_or("unknown");
        let counts = results["counts"].to_string();
        bar.set_message(escape(&format!("task {status}: {counts}")).into_owned());
        if results["done"].as_bool() == Some(true) {
            bar.finish_with_message(escape(&format!("task {status}")).into_owned());
            return Ok(results);
        }
        if Instant::now() > deadline {
            bar.abandon_with_message("gave up waiting");
            bail!("task {task_id} did not finish within 120 s");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn call(host: &ToolHost, tool: &str, args: Value) -> anyhow::Result<Value> {
    say(&format!("→ {tool} {args}"));
    call_quiet(host, tool, args).await
}

fn agent() -> Caller {
    Caller::new("agent (demo)", Some("Technician".into()))
}

async fn call_quiet(host: &ToolHost, tool: &str, args: Value) -> anyhow::Result<Value> {
    let report = host
        .call(tool, &args.to_string(), &agent(), &DeferApprovals)
        .await?;
    Ok(report.result)
}

/// The agent asks; the host holds the call as a pending approval (nothing reaches the
/// API); a technician approves it, and it runs once with exactly those arguments.
async fn call_approved(host: &ToolHost, tool: &str, args: Value) -> anyhow::Result<Value> {
    say(&format!("→ {tool} {args}"));
    let id = match host
        .call(tool, &args.to_string(), &agent(), &DeferApprovals)
        .await
    {
        Err(HostError::ApprovalRequired { id, .. }) => id,
        other => bail!("expected the host to hold {tool} for approval, got {other:?}"),
    };
    say(&format!(
        "Held as pending approval {id}: nothing reached the API."
    ));
    let held = host
        .list_approvals(&toolhost_governance::ApprovalFilter::pending())
        .await?
        .into_iter()
        .find(|a| a.id == id);
    if let Some(preview) = held.and_then(|a| a.preview) {
        let mut lines = preview.lines().into_iter();
        say(&format!(
            "What it would do (previewed with reads only): {}",
            lines.next().unwrap_or_default()
        ));
        for line in lines {
            say(&format!("  {line}"));
        }
    }
    say("A technician reviews the preview, the tool and its exact arguments, and approves.");
    let report = host.approve(&id, "technician (demo)").await?;
    say(&format!(
        "Approved; it ran once ({} upstream requests).",
        report.upstream.len()
    ));
    Ok(report.result)
}

/// A JSON scalar as plain text (strings without quotes).
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn heading(text: &str) {
    println!("\n== {text}");
}

/// One line of the story. Most of it quotes the plugin's results (device names, issues, the
/// script's output): escaped, so none of it can add lines or drive the terminal.
fn say(text: &str) {
    println!("  {}", escape(text));
}
