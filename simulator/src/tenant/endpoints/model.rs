//! What an endpoint is: its kind, volumes and the static hardware, health and patch profile
//! the API reports.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    WindowsServer,
    WindowsDesktop,
    WindowsLaptop,
    LinuxServer,
    MacLaptop,
}

impl DeviceKind {
    /// The v2 `endpointType` value.
    pub fn endpoint_type(self) -> &'static str {
        match self {
            DeviceKind::WindowsServer | DeviceKind::LinuxServer => "Server",
            DeviceKind::WindowsDesktop => "Desktop",
            DeviceKind::WindowsLaptop | DeviceKind::MacLaptop => "Laptop",
        }
    }

    /// The `osType` value and the key used in scripts' `operatingSystem` maps.
    pub fn os_type(self) -> &'static str {
        match self {
            DeviceKind::LinuxServer => "linux",
            DeviceKind::MacLaptop => "mac",
            _ => "windows",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Volume {
    pub name: String,
    pub mount_point: String,
    pub file_system: &'static str,
    pub total_bytes: u64,
    pub free_bytes: u64,
}

#[derive(Clone, Debug)]
pub struct Endpoint {
    pub id: Uuid,
    pub company_id: Uuid,
    pub site_id: Uuid,
    pub device_name: String,
    pub friendly_name: String,
    pub kind: DeviceKind,
    /// OS product string, e.g. "Microsoft Windows 11 Pro".
    pub os_product: &'static str,
    pub os_version: &'static str,
    pub os_build: &'static str,
    pub online: bool,
    pub domain_controller: bool,
    pub created_at: DateTime<Utc>,
    /// How long ago the agent was last heard from (zero-ish when online).
    pub last_seen_ago: Duration,
    pub uptime: Duration,
    pub ip_address: String,
    pub mac_address: String,
    pub cpu_percent: f64,
    pub process_count: u64,
    pub cores: u64,
    pub memory_total_bytes: u64,
    pub memory_used_bytes: u64,
    pub volumes: Vec<Volume>,
    pub logged_on_user: Option<String>,
    pub patches_missing: u32,
    pub patches_installed: u32,
    pub patches_pending_reboot: u32,
    pub roles: Vec<&'static str>,
}
