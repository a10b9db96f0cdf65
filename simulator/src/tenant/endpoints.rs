//! Seeded and generated endpoints with their (static) hardware, health and patch profile.

use super::companies::Site;
use super::ids::{derive, pick};
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

const GIB: u64 = 1024 * 1024 * 1024;

/// (device name, friendly name, site key, kind, online, logged-on user)
type SeedRow = (
    &'static str,
    &'static str,
    &'static str,
    DeviceKind,
    bool,
    Option<&'static str>,
);

use DeviceKind::*;
pub const SEEDED: [SeedRow; 42] = [
    ("DC01", "DC01", "contoso-sydney", WindowsServer, true, None),
    (
        "CONTOSO-FS01",
        "Contoso File Server",
        "contoso-sydney",
        WindowsServer,
        true,
        None,
    ),
    (
        "CONTOSO-SQL01",
        "Contoso SQL Server",
        "contoso-sydney",
        WindowsServer,
        true,
        None,
    ),
    (
        "CONTOSO-WEB01",
        "Contoso Intranet (Ubuntu)",
        "contoso-sydney",
        LinuxServer,
        true,
        None,
    ),
    (
        "CONTOSO-LT-MARIA",
        "Maria's Laptop",
        "contoso-sydney",
        WindowsLaptop,
        true,
        Some("CONTOSO\\maria.garcia"),
    ),
    (
        "CONTOSO-LT-JAMES",
        "James's Laptop",
        "contoso-sydney",
        WindowsLaptop,
        true,
        Some("CONTOSO\\james.wong"),
    ),
    (
        "CONTOSO-LT-PRIYA",
        "Priya's Laptop",
        "contoso-sydney",
        WindowsLaptop,
        false,
        None,
    ),
    (
        "CONTOSO-MBP-LIAM",
        "Liam's MacBook Pro",
        "contoso-sydney",
        MacLaptop,
        true,
        Some("liam.oconnor"),
    ),
    (
        "CONTOSO-WS-01",
        "Reception PC",
        "contoso-sydney",
        WindowsDesktop,
        true,
        Some("CONTOSO\\reception"),
    ),
    (
        "CONTOSO-WS-02",
        "Accounts PC 1",
        "contoso-sydney",
        WindowsDesktop,
        true,
        Some("CONTOSO\\sarah.kim"),
    ),
    (
        "CONTOSO-WS-03",
        "Accounts PC 2",
        "contoso-sydney",
        WindowsDesktop,
        true,
        Some("CONTOSO\\tom.baker"),
    ),
    (
        "CONTOSO-WS-04",
        "Boardroom PC",
        "contoso-sydney",
        WindowsDesktop,
        false,
        None,
    ),
    (
        "DC02",
        "DC02",
        "contoso-melbourne",
        WindowsServer,
        true,
        None,
    ),
    (
        "CONTOSO-MEL-FS01",
        "Melbourne File Server",
        "contoso-melbourne",
        WindowsServer,
        true,
        None,
    ),
    (
        "CONTOSO-MEL-WS-01",
        "Melbourne Front Desk",
        "contoso-melbourne",
        WindowsDesktop,
        true,
        Some("CONTOSO\\mel.frontdesk"),
    ),
    (
        "CONTOSO-MEL-WS-02",
        "Melbourne Design PC",
        "contoso-melbourne",
        WindowsDesktop,
        false,
        None,
    ),
    (
        "CONTOSO-MEL-LT-ANNA",
        "Anna's Laptop",
        "contoso-melbourne",
        WindowsLaptop,
        true,
        Some("CONTOSO\\anna.lee"),
    ),
    (
        "CONTOSO-MEL-MBP-ZOE",
        "Zoe's MacBook Air",
        "contoso-melbourne",
        MacLaptop,
        false,
        None,
    ),
    (
        "FAB-DC01",
        "Fabrikam Domain Controller",
        "fabrikam-brisbane",
        WindowsServer,
        true,
        None,
    ),
    (
        "FAB-APP01",
        "Fabrikam ERP Server",
        "fabrikam-brisbane",
        WindowsServer,
        true,
        None,
    ),
    (
        "FAB-LNX01",
        "Fabrikam Build Server",
        "fabrikam-brisbane",
        LinuxServer,
        true,
        None,
    ),
    (
        "FAB-WS-01",
        "Engineering Workstation 1",
        "fabrikam-brisbane",
        WindowsDesktop,
        true,
        Some("FABRIKAM\\d.nguyen"),
    ),
    (
        "FAB-WS-02",
        "Engineering Workstation 2",
        "fabrikam-brisbane",
        WindowsDesktop,
        true,
        Some("FABRIKAM\\r.patel"),
    ),
    (
        "FAB-WS-03",
        "CAD Workstation",
        "fabrikam-brisbane",
        WindowsDesktop,
        true,
        Some("FABRIKAM\\k.smith"),
    ),
    (
        "FAB-LT-CEO",
        "CEO Laptop",
        "fabrikam-brisbane",
        WindowsLaptop,
        true,
        Some("FABRIKAM\\j.doe"),
    ),
    (
        "FAB-LT-SALES1",
        "Sales Laptop 1",
        "fabrikam-brisbane",
        WindowsLaptop,
        false,
        None,
    ),
    (
        "FAB-MBP-MKT",
        "Marketing MacBook",
        "fabrikam-brisbane",
        MacLaptop,
        true,
        Some("marketing"),
    ),
    (
        "FAB-WH-SRV01",
        "Warehouse Server",
        "fabrikam-warehouse",
        WindowsServer,
        true,
        None,
    ),
    (
        "FAB-WH-LNX01",
        "Warehouse Scanner Gateway",
        "fabrikam-warehouse",
        LinuxServer,
        true,
        None,
    ),
    (
        "FAB-WS-07",
        "Warehouse Office PC",
        "fabrikam-warehouse",
        WindowsDesktop,
        false,
        None,
    ),
    (
        "FAB-WS-08",
        "Dispatch PC",
        "fabrikam-warehouse",
        WindowsDesktop,
        true,
        Some("FABRIKAM\\dispatch"),
    ),
    (
        "FAB-WS-09",
        "Forklift Terminal",
        "fabrikam-warehouse",
        WindowsDesktop,
        true,
        Some("FABRIKAM\\forklift"),
    ),
    (
        "NW-DC01",
        "Northwind DC",
        "northwind-perth",
        WindowsServer,
        true,
        None,
    ),
    (
        "NW-SQL01",
        "Northwind Orders DB",
        "northwind-perth",
        WindowsServer,
        true,
        None,
    ),
    (
        "NW-LNX01",
        "Northwind Web Shop",
        "northwind-perth",
        LinuxServer,
        true,
        None,
    ),
    (
        "NW-WS-01",
        "Perth Office PC 1",
        "northwind-perth",
        WindowsDesktop,
        true,
        Some("NORTHWIND\\amy.chen"),
    ),
    (
        "NW-WS-02",
        "Perth Office PC 2",
        "northwind-perth",
        WindowsDesktop,
        false,
        None,
    ),
    (
        "NW-LT-BEN",
        "Ben's Laptop",
        "northwind-perth",
        WindowsLaptop,
        true,
        Some("NORTHWIND\\ben.harris"),
    ),
    (
        "NW-AKL-SRV01",
        "Auckland Server",
        "northwind-auckland",
        WindowsServer,
        true,
        None,
    ),
    (
        "NW-AKL-WS-01",
        "Auckland Office PC",
        "northwind-auckland",
        WindowsDesktop,
        true,
        Some("NORTHWIND\\hemi.walker"),
    ),
    (
        "NW-AKL-LT-01",
        "Auckland Sales Laptop",
        "northwind-auckland",
        WindowsLaptop,
        false,
        None,
    ),
    (
        "NW-AKL-MBP-01",
        "Auckland MacBook",
        "northwind-auckland",
        MacLaptop,
        true,
        Some("mia.taylor"),
    ),
];

pub fn build(sites: &[Site], endpoint_count: usize) -> Vec<Endpoint> {
    let mut out: Vec<Endpoint> = SEEDED
        .iter()
        .map(|&(name, friendly, site_key, kind, online, user)| {
            let site_id = derive("site", site_key);
            let company_id = sites
                .iter()
                .find(|s| s.id == site_id)
                .map(|s| s.company_id)
                .unwrap_or_default();
            make(
                name,
                friendly,
                company_id,
                site_id,
                kind,
                online,
                user.map(str::to_string),
            )
        })
        .collect();
    // Extra endpoints rotate over sites and kinds; every fifth one is offline.
    let kinds = [
        WindowsDesktop,
        WindowsLaptop,
        WindowsDesktop,
        WindowsServer,
        LinuxServer,
        MacLaptop,
        WindowsLaptop,
    ];
    for n in out.len()..endpoint_count {
        let site = &sites[n % sites.len()];
        let kind = kinds[n % kinds.len()];
        let prefix = match site.company_id {
            id if id == derive("company", "contoso") => "CONTOSO",
            id if id == derive("company", "fabrikam") => "FAB",
            _ => "NW",
        };
        let role = match kind {
            WindowsServer | LinuxServer => "SRV",
            WindowsLaptop | MacLaptop => "LT",
            WindowsDesktop => "WS",
        };
        let name = format!("{prefix}-{role}-{n:05}");
        let online = n % 5 != 0;
        let user = (online && role != "SRV").then(|| format!("user{n:05}"));
        let friendly = name.clone();
        out.push(make(
            &name,
            &friendly,
            site.company_id,
            site.id,
            kind,
            online,
            user,
        ));
    }
    out
}

fn make(
    name: &str,
    friendly: &str,
    company_id: Uuid,
    site_id: Uuid,
    kind: DeviceKind,
    online: bool,
    user: Option<String>,
) -> Endpoint {
    let (os_product, os_version, os_build) = match kind {
        WindowsServer => (
            "Microsoft Windows Server 2022 Standard",
            "10.0.20348",
            "20348",
        ),
        WindowsDesktop if pick(name, "win10", 0, 2) == 0 => {
            ("Microsoft Windows 10 Pro", "10.0.19045", "19045")
        }
        WindowsDesktop | WindowsLaptop => ("Microsoft Windows 11 Pro", "10.0.22631", "22631"),
        LinuxServer => ("Ubuntu 22.04.4 LTS", "22.04", "5.15.0-105-generic"),
        MacLaptop => ("macOS Sonoma", "14.5", "23F79"),
    };
    let server = matches!(kind, WindowsServer | LinuxServer);
    let memory_total_bytes = if server {
        pick(name, "mem", 2, 4) * 8 * GIB
    } else {
        pick(name, "mem", 1, 2) * 8 * GIB
    };
    let mem_pct = pick(name, "mempct", 35, 78);
    let disk_total = if server {
        pick(name, "disk", 1, 4) * 128 * GIB
    } else {
        pick(name, "disk", 1, 2) * 256 * GIB
    };
    let free_pct = pick(name, "free", 22, 70);
    let (root_name, root_mount, fs) = match kind {
        LinuxServer => ("/dev/sda1", "/", "ext4"),
        MacLaptop => ("disk1s1", "/", "apfs"),
        _ => ("C:", "C:\\", "NTFS"),
    };
    let mut volumes = vec![Volume {
        name: root_name.to_string(),
        mount_point: root_mount.to_string(),
        file_system: fs,
        total_bytes: disk_total,
        free_bytes: disk_total / 100 * free_pct,
    }];
    if kind == WindowsServer {
        let data = pick(name, "data", 2, 8) * 256 * GIB;
        volumes.push(Volume {
            name: "D:".into(),
            mount_point: "D:\\".into(),
            file_system: "NTFS",
            total_bytes: data,
            free_bytes: data / 100 * pick(name, "datafree", 30, 80),
        });
    }
    let n = pick(name, "ip", 10, 250);
    let mut e = Endpoint {
        id: derive("endpoint", name),
        company_id,
        site_id,
        device_name: name.to_string(),
        friendly_name: friendly.to_string(),
        kind,
        os_product,
        os_version,
        os_build,
        online,
        domain_controller: false,
        created_at: crate::time::fixed(
            2023,
            1 + pick(name, "month", 0, 11) as u32,
            1 + pick(name, "day", 0, 27) as u32,
            8,
        ),
        last_seen_ago: if online {
            Duration::seconds(pick(name, "seen", 5, 55) as i64)
        } else {
            Duration::hours(pick(name, "offline", 6, 24 * 21) as i64)
        },
        uptime: Duration::hours(pick(name, "uptime", 3, 24 * 30) as i64),
        ip_address: format!(
            "10.{}.{}.{}",
            pick(name, "net", 1, 9),
            pick(name, "subnet", 0, 3),
            n
        ),
        mac_address: format!(
            "00:15:5D:{:02X}:{:02X}:{:02X}",
            pick(name, "m1", 0, 255),
            pick(name, "m2", 0, 255),
            pick(name, "m3", 0, 255)
        ),
        cpu_percent: pick(name, "cpu", 3, 45) as f64 + pick(name, "cpufrac", 0, 9) as f64 / 10.0,
        process_count: if server {
            pick(name, "procs", 90, 180)
        } else {
            pick(name, "procs", 150, 320)
        },
        cores: if server { 8 } else { 4 },
        memory_total_bytes,
        memory_used_bytes: memory_total_bytes / 100 * mem_pct,
        volumes,
        logged_on_user: user,
        patches_missing: pick(name, "missing", 0, 4) as u32,
        patches_installed: pick(name, "installed", 40, 160) as u32,
        patches_pending_reboot: 0,
        roles: if kind == WindowsServer {
            vec!["File and Storage Services"]
        } else {
            vec![]
        },
    };
    if name == "DC01" || name == "DC02" || name.ends_with("-DC01") {
        e.domain_controller = true;
        e.roles = vec![
            "Active Directory Domain Services",
            "DNS Server",
            "File and Storage Services",
        ];
    }
    if name == "DC01" {
        // The "is DC01 healthy?" story: C: nearly full, reboot pending after patching, busy CPU.
        e.volumes[0].total_bytes = 128 * GIB;
        e.volumes[0].free_bytes = 128 * GIB / 100 * 6;
        e.cpu_percent = 71.4;
        e.memory_total_bytes = 16 * GIB;
        e.memory_used_bytes = 16 * GIB / 100 * 82;
        e.patches_missing = 3;
        e.patches_pending_reboot = 2;
        e.uptime = Duration::days(47);
    }
    e
}
