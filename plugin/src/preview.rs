//! Previews: what a call would do, in words, for the person who approves it. A preview runs the
//! call's own validation and then only reads (the host lets only the tool's read routes through
//! while a preview runs): script name and template, each target's device name with company and
//! site, how many endpoints a company expands to, the schedule, a ticket's board and company.

use crate::catalog::{CREATE_TICKET, RUN_TASK};
use crate::errors::ToolResult;
use crate::http::segment;
use crate::schedule::{ScheduleRequest, When};
use crate::script_tools::{self, naming::PREFIX};
use crate::shape::{array, text};
use crate::tools::companies::COMPANIES_PATH;
use crate::tools::context::Ctx;
use crate::tools::devices::list::{fetch, Query, Scope};
use crate::tools::scripts::fetch_shell_scripts;
use crate::tools::tasks::run::{self, TaskRequest};
use crate::tools::tickets::{self, LOOKUP_BASE};
use serde_json::Value;

/// Targets looked up one by one; the rest are counted.
const NAMED_TARGETS: usize = 10;

/// What a call would do: one line and the facts behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    pub summary: String,
    pub facts: Vec<(String, String)>,
}

impl Preview {
    fn fact(&mut self, label: &str, value: impl Into<String>) {
        self.facts.push((label.to_string(), value.into()));
    }
}

/// The preview of one call; `None` for a tool without one (the reads need none).
pub fn preview(ctx: &Ctx, name: &str, raw: &str) -> ToolResult<Option<Preview>> {
    Ok(Some(match name {
        RUN_TASK => task(ctx, &run::plan(ctx, raw)?, true)?,
        CREATE_TICKET => ticket(ctx, &tickets::ticket_body(ctx, raw)?)?,
        _ if name.starts_with(PREFIX) => task(ctx, &script_tools::plan(ctx, name, raw)?, false)?,
        _ => return Ok(None),
    }))
}

/// `list` entry whose `id` is `id`, by its `name`; the id itself when absent.
fn name_of(list: &[Value], id: &str) -> String {
    list.iter()
        .find(|e| text(e, &["id"]).is_some_and(|e| e.eq_ignore_ascii_case(id)))
        .and_then(|e| text(e, &["name"]))
        .unwrap_or(id)
        .to_string()
}

fn listing(ctx: &Ctx, path: &str, keys: &[&str]) -> ToolResult<Vec<Value>> {
    Ok(array(&ctx.api.get(path, &[])?, keys, keys[0])?.clone())
}

fn companies(ctx: &Ctx) -> ToolResult<Vec<Value>> {
    listing(ctx, COMPANIES_PATH, &["companies", "data"])
}

fn site_name(ctx: &Ctx, company: &str, site: &str) -> ToolResult<String> {
    let path = format!("{COMPANIES_PATH}/{}/sites", segment(company));
    Ok(name_of(&listing(ctx, &path, &["sites", "data"])?, site))
}

/// `DEVICE (Friendly name), company X, site Y`, and `DEVICE (X)` for the summary.
fn target(ctx: &Ctx, companies: &[Value], id: &str) -> ToolResult<(String, String)> {
    let query = Query {
        scope: Scope::Endpoint(id.to_string()),
        name_lower: None,
        endpoint_types: None,
        limit: 1,
    };
    let Some(device) = fetch(ctx, &query)?.devices.into_iter().next() else {
        return Ok((format!("{id}: not found in the tenant"), id.to_string()));
    };
    let device_name = text(&device, &["deviceName", "name"]).unwrap_or(id);
    let mut label = device_name.to_string();
    if let Some(friendly) = text(&device, &["name"]).filter(|f| *f != device_name) {
        label = format!("{label} ({friendly})");
    }
    let company_id = text(&device, &["companyId"]).unwrap_or_default();
    let company = name_of(companies, company_id);
    let site = match text(&device, &["siteId"]) {
        Some(site) => site_name(ctx, company_id, site)?,
        None => String::new(),
    };
    Ok((
        format!("{label}, company {company}, site {site}"),
        format!("{device_name} ({company})"),
    ))
}

fn schedule_text(schedule: &ScheduleRequest) -> String {
    let at = schedule.at.as_deref().unwrap_or_default();
    let zone = schedule.time_zone.as_deref().unwrap_or("UTC");
    match schedule.when {
        When::Now => "now".to_string(),
        When::NextCheckIn => "at the next agent check-in".to_string(),
        When::Once => format!("once at {at} ({zone})"),
        When::Recurring => format!(
            "{} (every {}) from {at} ({zone})",
            schedule.frequency.unwrap_or_default(),
            schedule.every.unwrap_or(1)
        ),
    }
}

fn task(ctx: &Ctx, task: &TaskRequest, look_up_script: bool) -> ToolResult<Preview> {
    let mut preview = Preview {
        summary: String::new(),
        facts: Vec::new(),
    };
    let script = if look_up_script {
        fetch_shell_scripts(ctx)?
            .into_iter()
            .find(|s| s.template_id.eq_ignore_ascii_case(&task.template_id))
            .map(|s| s.name)
            .unwrap_or_else(|| task.name.clone())
    } else {
        task.name.clone()
    };
    preview.fact("script", &script);
    preview.fact("templateId", &task.template_id);
    let companies = companies(ctx)?;
    let count = task.targets.len();
    let on = match &task.company {
        Some(id) => {
            let company = name_of(&companies, id);
            preview.fact("company", format!("{company} ({id})"));
            preview.fact("endpoints", format!("{count} endpoints of {company}"));
            format!("every endpoint of {company} ({count})")
        }
        None => {
            let mut on = format!("{count} endpoints");
            for id in task.targets.iter().take(NAMED_TARGETS) {
                let (fact, short) = target(ctx, &companies, id)?;
                preview.fact("target", fact);
                if count == 1 {
                    on = short;
                }
            }
            if count > NAMED_TARGETS {
                preview.fact("target", format!("and {} more", count - NAMED_TARGETS));
            }
            on
        }
    };
    let when = schedule_text(&task.schedule);
    preview.fact("schedule", &when);
    if !task.parameters.is_empty() {
        preview.fact("parameters", Value::Object(task.parameters.clone()).to_string());
    }
    preview.summary = format!("Run \"{script}\" on {on} {when}");
    Ok(preview)
}

fn ticket(ctx: &Ctx, body: &Value) -> ToolResult<Preview> {
    let id = |key: &str| body.get(key).and_then(|v| text(v, &["id"]));
    let board_id = id("serviceBoard").unwrap_or_default();
    let path = format!("{LOOKUP_BASE}/service-boards");
    let board = name_of(&listing(ctx, &path, &["service-boards", "data"])?, board_id);
    let summary = text(body, &["summary"]).unwrap_or_default();
    let mut preview = Preview {
        summary: String::new(),
        facts: Vec::new(),
    };
    preview.fact("ticket", summary);
    preview.fact("board", &board);
    let mut company = "no company".to_string();
    if let Some(company_id) = id("company") {
        company = name_of(&companies(ctx)?, company_id);
        preview.fact("company", &company);
        if let Some(site) = id("site") {
            preview.fact("site", site_name(ctx, company_id, site)?);
        }
    }
    if let Some(assets) = body.get("assets").and_then(Value::as_array) {
        preview.fact("endpoints", assets.len().to_string());
    }
    preview.summary = format!("Create ticket \"{summary}\" on board {board} for {company}");
    Ok(preview)
}
