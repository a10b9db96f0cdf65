//! Automation catalog (shell scripts, library scripts) and device groups.

use super::endpoints::{DeviceKind, Endpoint};
use super::ids::derive;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

pub struct ShellScript {
    pub id: Uuid,
    pub key: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub categories: Vec<&'static str>,
    /// `powershell`, `bash` or `cmd`.
    pub executor_engine: &'static str,
    pub expected_execution_time_sec: u64,
    /// The parameters' JSON Schema (served as a JSON-encoded string in `jsonSchema`).
    pub json_schema: Value,
    /// `operatingSystem` map: OS family -> versions.
    pub operating_systems: Vec<(&'static str, Vec<&'static str>)>,
    pub active: bool,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

impl ShellScript {
    pub fn has_parameters(&self) -> bool {
        self.json_schema["properties"]
            .as_object()
            .is_some_and(|p| !p.is_empty())
    }
}

pub struct LibraryScript {
    pub id: Uuid,
    pub name: &'static str,
    pub description: &'static str,
    pub category: &'static str,
    pub has_parameters: bool,
    pub created: DateTime<Utc>,
}

fn windows() -> (&'static str, Vec<&'static str>) {
    ("windows", vec!["10", "11", "2016", "2019", "2022"])
}

fn schema(properties: Value, required: &[&str]) -> Value {
    json!({"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
           "properties": properties, "required": required, "additionalProperties": false})
}

pub fn shell_scripts() -> Vec<ShellScript> {
    let t = crate::time::fixed;
    #[allow(clippy::type_complexity)]
    let rows: Vec<(&str, &str, &str, Vec<&str>, &str, u64, Value, Vec<(&str, Vec<&str>)>, bool)> = vec![
        ("disk-cleanup", super::seed::DISK_CLEANUP_SCRIPT_NAME,
         "Removes temporary files, Windows Update leftovers and old log files from a drive to free disk space.",
         vec!["Maintenance", "Storage"], "powershell", 300,
         schema(json!({
             "drive": {"type": "string", "title": "Drive", "description": "Drive letter to clean, e.g. C:", "pattern": "^[A-Za-z]:$", "default": "C:"},
             "minFileAgeDays": {"type": "integer", "title": "Minimum file age (days)", "description": "Only delete files older than this many days", "minimum": 0, "maximum": 3650, "default": 7},
             "emptyRecycleBin": {"type": "boolean", "title": "Empty recycle bin", "default": true}
         }), &["drive"]), vec![windows()], true),
        ("restart-print-spooler", "Restart Print Spooler", "Stops and restarts the Print Spooler service and clears stuck print jobs.",
         vec!["Printing", "Services"], "powershell", 60,
         schema(json!({"clearQueue": {"type": "boolean", "title": "Clear print queue", "default": true}}), &[]), vec![windows()], true),
        ("flush-dns", "Flush DNS Cache", "Flushes the DNS resolver cache on the endpoint.",
         vec!["Networking"], "cmd", 30, schema(json!({}), &[]), vec![windows()], true),
        ("collect-event-logs", "Collect Event Logs", "Exports recent errors and warnings from the selected Windows event log.",
         vec!["Diagnostics"], "powershell", 180,
         schema(json!({
             "logName": {"type": "string", "title": "Log", "enum": ["System", "Application", "Security"], "default": "System"},
             "hours": {"type": "integer", "title": "Look back (hours)", "minimum": 1, "maximum": 720, "default": 24}
         }), &["logName"]), vec![windows()], true),
        ("reboot", "Reboot Endpoint", "Reboots the endpoint after an optional delay, warning logged-on users.",
         vec!["Power"], "powershell", 120,
         schema(json!({
             "delaySeconds": {"type": "integer", "title": "Delay (seconds)", "minimum": 0, "maximum": 3600, "default": 60},
             "message": {"type": "string", "title": "Message to users", "maxLength": 200}
         }), &[]), vec![windows(), ("mac", vec!["13", "14"]), ("linux", vec!["20.04", "22.04"])], true),
        ("uninstall-software", "Uninstall Software", "Silently uninstalls an application by display name.",
         vec!["Software"], "powershell", 600,
         schema(json!({"applicationName": {"type": "string", "title": "Application name", "minLength": 1}}), &["applicationName"]), vec![windows()], true),
        ("clear-browser-cache", "Clear Browser Cache", "Clears Edge and Chrome caches for all local user profiles.",
         vec!["Maintenance"], "powershell", 120,
         schema(json!({"browsers": {"type": "string", "title": "Browsers", "enum": ["all", "edge", "chrome"], "default": "all"}}), &[]), vec![windows()], false),
        ("linux-disk-usage", "Linux Disk Usage Report", "Reports the largest directories under a path.",
         vec!["Diagnostics", "Storage"], "bash", 60,
         schema(json!({"path": {"type": "string", "title": "Path", "default": "/"}}), &["path"]), vec![("linux", vec!["20.04", "22.04"])], true),
        ("legacy-defrag", "Legacy Defragment (deprecated)", "Runs defrag.exe on spinning disks. Superseded by Optimize Drives.",
         vec!["Maintenance", "Storage"], "cmd", 1800,
         schema(json!({"drive": {"type": "string", "title": "Drive", "pattern": "^[A-Za-z]:$", "default": "C:"}}), &["drive"]), vec![windows()], false),
        // Read-only by its name: the policy classifier's `auto` case.
        ("check-disk-space", super::seed::CHECK_DISK_SPACE_SCRIPT_NAME, "Reports free and used space for each local drive.",
         vec!["Diagnostics", "Storage"], "powershell", 30,
         schema(json!({"minFreePercent": {"type": "integer", "title": "Warn below (% free)", "minimum": 1, "maximum": 99, "default": 10}}), &[]), vec![windows()], true),
        // A French technician's script: accented name (slug transliteration) and a French verb.
        ("reinitialiser-spouleur", super::seed::FRENCH_SPOOLER_SCRIPT_NAME,
         "Arrête le service Spouleur d'impression, vide la file d'attente et relance le service.",
         vec!["Printing", "Services"], "powershell", 60,
         schema(json!({"viderFile": {"type": "boolean", "title": "Vider la file d'attente", "default": true}}), &[]), vec![windows()], true),
    ];
    rows.into_iter()
        .enumerate()
        .map(
            |(i, (key, name, description, categories, engine, secs, json_schema, oses, active))| {
                ShellScript {
                    id: derive("template", key),
                    key,
                    name,
                    description,
                    categories,
                    executor_engine: engine,
                    expected_execution_time_sec: secs,
                    json_schema,
                    operating_systems: oses,
                    active,
                    created: t(2023, 2, 1 + i as u32, 9),
                    updated: t(2024, 6, 1 + i as u32, 9),
                }
            },
        )
        .collect()
}

pub fn library_scripts() -> Vec<LibraryScript> {
    let rows = [
        (
            "windows-update-scan",
            "Windows Update Scan",
            "Triggers a Windows Update detection cycle.",
            "Patching",
            false,
        ),
        (
            "optimize-drives",
            "Optimize Drives",
            "Runs TRIM/defragmentation as appropriate for each volume.",
            "Maintenance",
            true,
        ),
        (
            "reset-wu-components",
            "Reset Windows Update Components",
            "Resets the Windows Update services and caches.",
            "Patching",
            false,
        ),
        (
            "bitlocker-status",
            "Check BitLocker Status",
            "Reports BitLocker protection status for all volumes.",
            "Security",
            false,
        ),
    ];
    rows.into_iter()
        .enumerate()
        .map(
            |(i, (key, name, description, category, has_parameters))| LibraryScript {
                id: derive("library-script", key),
                name,
                description,
                category,
                has_parameters,
                created: crate::time::fixed(2022, 9, 10 + i as u32, 9),
            },
        )
        .collect()
}

/// Which endpoints a device group contains.
#[derive(Clone, Copy, Debug)]
pub enum GroupRule {
    WindowsServers,
    DomainControllers,
    Offline,
    MacDevices,
    Company(&'static str),
}

impl GroupRule {
    pub fn matches(self, e: &Endpoint) -> bool {
        match self {
            GroupRule::WindowsServers => e.kind == DeviceKind::WindowsServer,
            GroupRule::DomainControllers => e.domain_controller,
            GroupRule::Offline => !e.online,
            GroupRule::MacDevices => e.kind == DeviceKind::MacLaptop,
            GroupRule::Company(key) => {
                e.company_id == derive("company", key)
                    && e.kind != DeviceKind::WindowsServer
                    && e.kind != DeviceKind::LinuxServer
            }
        }
    }
}

pub struct DeviceGroup {
    pub id: Uuid,
    pub name: &'static str,
    pub description: &'static str,
    pub predefined: bool,
    pub is_static: bool,
    pub rule: GroupRule,
    pub created: DateTime<Utc>,
}

pub fn device_groups() -> Vec<DeviceGroup> {
    let rows = [
        (
            "windows-servers",
            "All Windows Servers",
            "Every managed Windows Server",
            true,
            false,
            GroupRule::WindowsServers,
        ),
        (
            "domain-controllers",
            "Domain Controllers",
            "Servers running AD DS",
            false,
            true,
            GroupRule::DomainControllers,
        ),
        (
            "offline",
            "Offline Devices",
            "Endpoints whose agent is not currently connected",
            true,
            false,
            GroupRule::Offline,
        ),
        (
            "mac",
            "macOS Devices",
            "Every managed Mac",
            true,
            false,
            GroupRule::MacDevices,
        ),
        (
            "contoso-workstations",
            "Contoso Workstations",
            "Contoso desktops and laptops",
            false,
            true,
            GroupRule::Company("contoso"),
        ),
    ];
    rows.into_iter()
        .enumerate()
        .map(
            |(i, (key, name, description, predefined, is_static, rule))| DeviceGroup {
                id: derive("device-group", key),
                name,
                description,
                predefined,
                is_static,
                rule,
                created: crate::time::fixed(2022, 4, 1 + i as u32, 9),
            },
        )
        .collect()
}
