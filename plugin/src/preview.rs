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

/// The entries under the wrapper `keys` (or the bare array), with only what [`name_of`] reads.
fn listing(ctx: &Ctx, path: &str, keys: [&str; 2]) -> ToolResult<Vec<Value>> {
    let body = ctx
        .api
        .get_keeping(path, &[], &[keys[0], keys[1], "id", "name"])?;
    Ok(array(&body, &keys, keys[0])?.clone())
}

fn companies(ctx: &Ctx) -> ToolResult<Vec<Value>> {
    listing(ctx, COMPANIES_PATH, ["companies", "data"])
}

fn site_name(ctx: &Ctx, company: &str, site: &str) -> ToolResult<String> {
    let path = format!("{COMPANIES_PATH}/{}/sites", segment(company));
    Ok(name_of(&listing(ctx, &path, ["sites", "data"])?, site))
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
        preview.fact(
            "parameters",
            Value::Object(task.parameters.clone()).to_string(),
        );
    }
    preview.summary = format!("Run \"{script}\" on {on} {when}");
    Ok(preview)
}

fn ticket(ctx: &Ctx, body: &Value) -> ToolResult<Preview> {
    let id = |key: &str| body.get(key).and_then(|v| text(v, &["id"]));
    let board_id = id("serviceBoard").unwrap_or_default();
    let path = format!("{LOOKUP_BASE}/service-boards");
    let board = name_of(&listing(ctx, &path, ["service-boards", "data"])?, board_id);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::fake::FakeTransport;
    use crate::http::Method;
    use crate::tools::testing::ctx;
    use serde_json::json;

    const T: &str = "aaaaaaaa-0000-4000-8000-000000000001";
    const E: &str = "11111111-1111-4111-8111-111111111111";
    const C: &str = "cccccccc-cccc-4ccc-8ccc-cccccccccccc";
    const S: &str = "55555555-5555-4555-8555-555555555555";

    fn scripts() -> String {
        json!({"Templates": [{"templateId": T, "name": "Disk Cleanup", "state": "active"}]})
            .to_string()
    }

    fn companies() -> String {
        json!({"companies": [{"id": C, "name": "Contoso Ltd"}]}).to_string()
    }

    fn device_page() -> String {
        json!({"platform": [{"companyID": C, "siteID": S, "endpoints": [
            {"endpointID": E, "friendlyName": "Maria's Laptop", "deviceName": "CONTOSO-LT-MARIA"}]}]})
        .to_string()
    }

    fn facts(p: &Preview, label: &str) -> Vec<String> {
        p.facts
            .iter()
            .filter(|(l, _)| l == label)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Every request was a read: GETs, and the device listing (a read sent as a POST).
    fn only_reads(fake: &FakeTransport) {
        for r in fake.requests.borrow().iter() {
            assert!(
                r.method == Method::Get
                    || r.path_with_query
                        .starts_with("/api/platform/v2/device/categories/all/endpoints"),
                "{:?} {}",
                r.method,
                r.path_with_query
            );
        }
    }

    #[test]
    fn run_task_names_the_script_each_target_and_the_schedule() {
        let fake = FakeTransport::new();
        fake.reply(200, &scripts())
            .reply(200, &companies())
            .reply(200, &device_page())
            .reply(
                200,
                &json!({"sites": [{"id": S, "name": "Sydney HQ"}]}).to_string(),
            );
        let args = json!({"templateId": T, "targets": [E], "parameters": {"drive": "C:"}});
        let p = preview(&ctx(&fake), RUN_TASK, &args.to_string())
            .unwrap()
            .unwrap();
        assert_eq!(
            p.summary,
            "Run \"Disk Cleanup\" on CONTOSO-LT-MARIA (Contoso Ltd) now"
        );
        assert_eq!(facts(&p, "templateId"), [T]);
        assert_eq!(
            facts(&p, "target"),
            ["CONTOSO-LT-MARIA (Maria's Laptop), company Contoso Ltd, site Sydney HQ"]
        );
        assert_eq!(facts(&p, "parameters"), [r#"{"drive":"C:"}"#]);
        only_reads(&fake);
        assert_eq!(fake.requests.borrow().len(), 4);
    }

    #[test]
    fn a_company_target_is_counted_and_an_unknown_device_said_so() {
        let fake = FakeTransport::new();
        fake.reply(
            200,
            &json!({"platform": [{"companyID": C, "siteID": S, "endpoints": [
                {"endpointID": E}, {"endpointID": "22222222-2222-4222-8222-222222222222"}]}]})
            .to_string(),
        )
        .reply(200, &scripts())
        .reply(200, &companies());
        let args = json!({"templateId": T, "companyId": C, "targetType": "COMPANY",
                          "schedule": {"type": "recurring", "at": "2030-01-01T00:00:00Z", "frequency": "weekly", "every": 2}});
        let p = preview(&ctx(&fake), RUN_TASK, &args.to_string())
            .unwrap()
            .unwrap();
        assert_eq!(facts(&p, "endpoints"), ["2 endpoints of Contoso Ltd"]);
        assert_eq!(
            facts(&p, "schedule"),
            ["weekly (every 2) from 2030-01-01T00:00:00Z (UTC)"]
        );
        assert!(
            p.summary.contains("every endpoint of Contoso Ltd (2)"),
            "{}",
            p.summary
        );
        only_reads(&fake);

        let fake = FakeTransport::new();
        fake.reply(200, &scripts())
            .reply(200, &companies())
            .reply(200, &json!({"platform": []}).to_string());
        let args = json!({"templateId": T, "targets": [E]});
        let p = preview(&ctx(&fake), RUN_TASK, &args.to_string())
            .unwrap()
            .unwrap();
        assert_eq!(
            facts(&p, "target"),
            [format!("{E}: not found in the tenant")]
        );
    }

    #[test]
    fn a_ticket_names_its_board_and_company_and_reads_only() {
        let fake = FakeTransport::new();
        let lookup = |key: &str, name: &str| json!({key: [{"id": "b1", "name": name}]}).to_string();
        fake.reply(200, &lookup("service-boards", "Service Desk"))
            .reply(200, &lookup("sources", "API"))
            .reply(200, &lookup("service-boards", "Service Desk"))
            .reply(200, &companies());
        let args = json!({"summary": "VPN down", "description": "d", "board": "Service Desk",
                          "source": "API", "companyId": C});
        let p = preview(&ctx(&fake), CREATE_TICKET, &args.to_string())
            .unwrap()
            .unwrap();
        assert_eq!(
            p.summary,
            "Create ticket \"VPN down\" on board Service Desk for Contoso Ltd"
        );
        assert_eq!(facts(&p, "company"), ["Contoso Ltd"]);
        only_reads(&fake);
    }

    #[test]
    fn reads_have_no_preview_and_bad_arguments_are_refused_before_any_request() {
        let fake = FakeTransport::new();
        assert_eq!(
            preview(&ctx(&fake), "cw-rmm-list-devices", "{}").unwrap(),
            None
        );
        assert!(matches!(
            preview(&ctx(&fake), RUN_TASK, r#"{"targets":["x"]}"#),
            Err(crate::errors::ToolError::InvalidInput { .. })
        ));
        assert!(fake.requests.borrow().is_empty());
    }
}
