//! The deterministic hardware, health and patch profile of an endpoint, derived from its name.

use super::model::DeviceKind::{self, *};
use super::model::{Endpoint, Volume};
use crate::tenant::ids::{derive, pick};
use chrono::Duration;
use uuid::Uuid;

const GIB: u64 = 1024 * 1024 * 1024;

pub fn make(
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
