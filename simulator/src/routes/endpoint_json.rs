//! The v2 endpoint object: every projectable field of one endpoint, and field projection.

use crate::tenant::{DeviceKind, Endpoint};
use crate::time::rfc3339;
use serde_json::{json, Map, Value};

/// Fields always returned (the "minimal fields" / metadata of the v2 device API).
pub const METADATA_FIELDS: &[&str] = &[
    "endpointID",
    "deviceName",
    "friendlyName",
    "resourceType",
    "endpointType",
    "ipAddress",
    "macAddress",
    "createdAt",
    "createdBy",
    "modifiedAt",
    "modifiedBy",
    "remoteAddress",
    "type",
    "subResourceType",
    "virtualType",
];

const GIB: u64 = 1024 * 1024 * 1024;

/// All fields of an endpoint, keyed by their v2 names.
pub fn all_fields(e: &Endpoint) -> Map<String, Value> {
    let server = matches!(e.kind, DeviceKind::WindowsServer | DeviceKind::LinuxServer);
    let (manufacturer, model, chassis) = match e.kind {
        DeviceKind::WindowsServer => ("Dell Inc.", "PowerEdge R650", "Rack Mount Chassis"),
        DeviceKind::LinuxServer => ("Microsoft Corporation", "Virtual Machine", "Other"),
        DeviceKind::WindowsDesktop => ("HP", "EliteDesk 800 G6", "Desktop"),
        DeviceKind::WindowsLaptop => ("Lenovo", "ThinkPad T14 Gen 3", "Notebook"),
        DeviceKind::MacLaptop => ("Apple Inc.", "MacBook Pro (14-inch, 2023)", "Notebook"),
    };
    let serial = format!("SN{}", &e.id.simple().to_string()[..10].to_uppercase());
    let domain = e
        .device_name
        .split('-')
        .next()
        .unwrap_or("WORKGROUP")
        .to_lowercase()
        + ".local";
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put("endpointID", json!(e.id.to_string()));
    put("deviceName", json!(e.device_name));
    put("friendlyName", json!(e.friendly_name));
    put("resourceType", json!("Managed Endpoint"));
    put("endpointType", json!(e.kind.endpoint_type()));
    put("ipAddress", json!([e.ip_address]));
    put("macAddress", json!([e.mac_address]));
    put("createdAt", json!(rfc3339(e.created_at)));
    put("createdBy", json!("agent-installer"));
    put(
        "modifiedAt",
        json!(rfc3339(e.created_at + chrono::Duration::days(30))),
    );
    put("modifiedBy", json!("agent"));
    put(
        "remoteAddress",
        json!(format!("203.0.113.{}", 1 + e.ip_address.len() * 7 % 200)),
    );
    put("type", json!(if server { "server" } else { "workstation" }));
    put("subResourceType", json!(e.kind.os_type()));
    put(
        "virtualType",
        json!(if e.kind == DeviceKind::LinuxServer {
            "Guest"
        } else {
            "Physical"
        }),
    );
    put(
        "os",
        json!({
            "product": e.os_product, "manufacturer": match e.kind.os_type() { "linux" => "Canonical", "mac" => "Apple Inc.", _ => "Microsoft Corporation" },
            "version": e.os_version, "buildNumber": e.os_build, "type": e.kind.os_type(), "arch": if e.kind == DeviceKind::MacLaptop { "arm64" } else { "x86_64" },
            "servicePack": "", "installDate": rfc3339(e.created_at), "serialNumber": serial, "language": "en-AU",
            "releaseID": "", "displayVersion": if e.os_product.contains("11") { "23H2" } else { "" },
            "kernelVersion": if e.kind == DeviceKind::LinuxServer { e.os_build } else { "" },
            "userName": e.logged_on_user.clone().unwrap_or_default(),
        }),
    );
    put(
        "system",
        json!({
            "product": model, "model": model, "serialNumber": serial, "systemName": e.device_name,
            "domain": domain, "domainRole": if e.domain_controller { 5 } else if server { 3 } else { 1 },
            "chassis": chassis, "timeZone": "AUS Eastern Standard Time", "hypervisorName": "", "category": if server { "Server" } else { "Workstation" },
        }),
    );
    put(
        "bios",
        json!({"product": "BIOS", "manufacturer": manufacturer, "version": "1.14.2", "serialNumber": serial, "smbiosVersion": "3.3"}),
    );
    put(
        "baseboard",
        json!({"product": model, "manufacturer": manufacturer, "model": model, "serialNumber": serial, "hardwareUUID": e.id.to_string(), "tpmDetails": [{"manufacturerId": "1229870147", "manufacturerVersion": "7.2", "isEnabled": true, "specVersion": "2.0"}]}),
    );
    put(
        "processors",
        json!([{
            "product": if e.kind == DeviceKind::MacLaptop { "Apple M3 Pro" } else if server { "Intel(R) Xeon(R) Silver 4314 CPU @ 2.40GHz" } else { "Intel(R) Core(TM) i7-1265U" },
            "numberOfProcessors": 1, "numberOfCores": e.cores, "numberOfLogicalProcessors": e.cores * 2,
            "clockSpeedMhz": if server { 2400.0 } else { 1800.0 }, "manufacturer": if e.kind == DeviceKind::MacLaptop { "Apple" } else { "GenuineIntel" },
        }]),
    );
    put(
        "physicalMemory",
        json!([
            {"manufacturer": "Samsung", "sizeBytes": e.memory_total_bytes / 2, "slot": "DIMM 0", "speed": "3200", "type": "DDR4"},
            {"manufacturer": "Samsung", "sizeBytes": e.memory_total_bytes / 2, "slot": "DIMM 1", "speed": "3200", "type": "DDR4"},
        ]),
    );
    let total_disk: u64 = e.volumes.iter().map(|v| v.total_bytes).sum();
    put(
        "drives",
        json!([{
            "product": "NVMe SSD", "manufacturer": "Samsung", "mediaType": "SSD", "interfaceType": "NVMe",
            "logicalName": "PHYSICALDRIVE0", "serialNumber": serial, "sizeBytes": total_disk,
            "numberOfPartitions": e.volumes.len(),
            "partitionData": e.volumes.iter().map(|v| json!({"name": v.name, "sizeBytes": v.total_bytes, "fileSystem": v.file_system})).collect::<Vec<_>>(),
        }]),
    );
    put("logicalVolume", Value::Array(e.volumes.iter().map(|v| json!({
        "name": v.name, "description": "Local Fixed Disk", "capacity": v.total_bytes,
        "freeSpaceBytes": v.free_bytes, "usedSpaceBytes": v.total_bytes - v.free_bytes,
    })).collect()));
    let gateway = e
        .ip_address
        .rsplit_once('.')
        .map(|(net, _)| format!("{net}.1"))
        .unwrap_or_default();
    put(
        "networks",
        json!([{
            "product": "Intel(R) Ethernet Connection", "vendor": "Intel", "ipv4": e.ip_address, "ipv4List": [e.ip_address],
            "ipv6": "", "macAddress": e.mac_address, "dhcpEnabled": !server, "dhcpServer": if server { "" } else { gateway.as_str() },
            "dnsServers": ["10.1.0.10"], "defaultIPGateway": gateway, "subnetMask": "255.255.255.0", "logicalName": "Ethernet0", "speed": 1_000_000_000,
        }]),
    );
    put(
        "installedSoftwares",
        json!([
            {"name": "ConnectWise RMM Agent", "publisher": "ConnectWise", "version": "2.29.1", "installDate": rfc3339(e.created_at)},
            {"name": if e.kind == DeviceKind::MacLaptop { "Microsoft Office for Mac" } else { "Microsoft 365 Apps for business" }, "publisher": "Microsoft Corporation", "version": "16.0.17328", "installDate": rfc3339(e.created_at)},
        ]),
    );
    put("users", Value::Array(e.logged_on_user.iter().map(|u| json!({
        "username": u, "userType": "Local", "accountType": "User", "userDisabled": false, "lastLogonTimestamp": 0,
    })).collect()));
    put(
        "antiViruses",
        json!([{"name": "Microsoft Defender Antivirus", "version": "4.18.24050.7", "applicationName": "Windows Defender"}]),
    );
    put(
        "firewall",
        json!([{"name": "Windows Firewall", "enabled": true}]),
    );
    put("monitors", json!([]));
    put("usbs", json!([]));
    put(
        "graphicCards",
        json!([{"name": "Intel(R) UHD Graphics", "memoryBytes": GIB}]),
    );
    put("rolesFeatures", json!(e.roles));
    put("agentInstalledUTC", json!(rfc3339(e.created_at)));
    put("createTimeUTC", json!(rfc3339(e.created_at)));
    put(
        "power",
        json!({"powerType": if server { "AC" } else { "Battery" }}),
    );
    put("services", json!([]));
    m
}

/// Metadata plus the requested fields, in metadata-then-request order. Unknown names are ignored.
pub fn project(all: &Map<String, Value>, extra: &[String]) -> Map<String, Value> {
    let mut out = Map::new();
    for name in METADATA_FIELDS
        .iter()
        .copied()
        .chain(extra.iter().map(String::as_str))
    {
        if let Some(v) = all.get(name) {
            out.insert(name.to_string(), v.clone());
        }
    }
    out
}
