//! The hand-seeded endpoints: the named machines of the demo stories and tests.

use super::model::DeviceKind::{self, *};

/// (device name, friendly name, site key, kind, online, logged-on user)
type SeedRow = (
    &'static str,
    &'static str,
    &'static str,
    DeviceKind,
    bool,
    Option<&'static str>,
);

#[rustfmt::skip]
pub const SEEDED: [SeedRow; 44] = [
    // Listed before DC01 so a substring search for "DC01" must rank to put DC01 first.
    ("DC01-BACKUP",         "DC01-BACKUP",                "contoso-sydney",     WindowsServer,  true,  None),
    ("DC01",                "DC01",                       "contoso-sydney",     WindowsServer,  true,  None),
    ("CONTOSO-FS01",        "Contoso File Server",        "contoso-sydney",     WindowsServer,  true,  None),
    ("CONTOSO-SQL01",       "Contoso SQL Server",         "contoso-sydney",     WindowsServer,  true,  None),
    ("CONTOSO-WEB01",       "Contoso Intranet (Ubuntu)",  "contoso-sydney",     LinuxServer,    true,  None),
    ("CONTOSO-LT-MARIA",    "Maria's Laptop",             "contoso-sydney",     WindowsLaptop,  true,  Some("CONTOSO\\maria.garcia")),
    // Named by its asset tag; offline, so Maria is its last (not current) logged-on user.
    ("AT-000123",           "AT-000123",                  "contoso-sydney",     WindowsLaptop,  false, Some("CONTOSO\\maria.garcia")),
    ("CONTOSO-LT-JAMES",    "James's Laptop",             "contoso-sydney",     WindowsLaptop,  true,  Some("CONTOSO\\james.wong")),
    ("CONTOSO-LT-PRIYA",    "Priya's Laptop",             "contoso-sydney",     WindowsLaptop,  false, None),
    ("CONTOSO-MBP-LIAM",    "Liam's MacBook Pro",         "contoso-sydney",     MacLaptop,      true,  Some("liam.oconnor")),
    ("CONTOSO-WS-01",       "Reception PC",               "contoso-sydney",     WindowsDesktop, true,  Some("CONTOSO\\reception")),
    ("CONTOSO-WS-02",       "Accounts PC 1",              "contoso-sydney",     WindowsDesktop, true,  Some("CONTOSO\\sarah.kim")),
    ("CONTOSO-WS-03",       "Accounts PC 2",              "contoso-sydney",     WindowsDesktop, true,  Some("CONTOSO\\tom.baker")),
    ("CONTOSO-WS-04",       "Boardroom PC",               "contoso-sydney",     WindowsDesktop, false, None),
    ("DC02",                "DC02",                       "contoso-melbourne",  WindowsServer,  true,  None),
    ("CONTOSO-MEL-FS01",    "Melbourne File Server",      "contoso-melbourne",  WindowsServer,  true,  None),
    ("CONTOSO-MEL-WS-01",   "Melbourne Front Desk",       "contoso-melbourne",  WindowsDesktop, true,  Some("CONTOSO\\mel.frontdesk")),
    ("CONTOSO-MEL-WS-02",   "Melbourne Design PC",        "contoso-melbourne",  WindowsDesktop, false, None),
    ("CONTOSO-MEL-LT-ANNA", "Anna's Laptop",              "contoso-melbourne",  WindowsLaptop,  true,  Some("CONTOSO\\anna.lee")),
    ("CONTOSO-MEL-MBP-ZOE", "Zoe's MacBook Air",          "contoso-melbourne",  MacLaptop,      false, None),
    ("FAB-DC01",            "Fabrikam Domain Controller", "fabrikam-brisbane",  WindowsServer,  true,  None),
    ("FAB-APP01",           "Fabrikam ERP Server",        "fabrikam-brisbane",  WindowsServer,  true,  None),
    ("FAB-LNX01",           "Fabrikam Build Server",      "fabrikam-brisbane",  LinuxServer,    true,  None),
    ("FAB-WS-01",           "Engineering Workstation 1",  "fabrikam-brisbane",  WindowsDesktop, true,  Some("FABRIKAM\\d.nguyen")),
    ("FAB-WS-02",           "Engineering Workstation 2",  "fabrikam-brisbane",  WindowsDesktop, true,  Some("FABRIKAM\\r.patel")),
    ("FAB-WS-03",           "CAD Workstation",            "fabrikam-brisbane",  WindowsDesktop, true,  Some("FABRIKAM\\k.smith")),
    ("FAB-LT-CEO",          "CEO Laptop",                 "fabrikam-brisbane",  WindowsLaptop,  true,  Some("FABRIKAM\\j.doe")),
    ("FAB-LT-SALES1",       "Sales Laptop 1",             "fabrikam-brisbane",  WindowsLaptop,  false, None),
    ("FAB-MBP-MKT",         "Marketing MacBook",          "fabrikam-brisbane",  MacLaptop,      true,  Some("marketing")),
    ("FAB-WH-SRV01",        "Warehouse Server",           "fabrikam-warehouse", WindowsServer,  true,  None),
    ("FAB-WH-LNX01",        "Warehouse Scanner Gateway",  "fabrikam-warehouse", LinuxServer,    true,  None),
    ("FAB-WS-07",           "Warehouse Office PC",        "fabrikam-warehouse", WindowsDesktop, false, None),
    ("FAB-WS-08",           "Dispatch PC",                "fabrikam-warehouse", WindowsDesktop, true,  Some("FABRIKAM\\dispatch")),
    ("FAB-WS-09",           "Forklift Terminal",          "fabrikam-warehouse", WindowsDesktop, true,  Some("FABRIKAM\\forklift")),
    ("NW-DC01",             "Northwind DC",               "northwind-perth",    WindowsServer,  true,  None),
    ("NW-SQL01",            "Northwind Orders DB",        "northwind-perth",    WindowsServer,  true,  None),
    ("NW-LNX01",            "Northwind Web Shop",         "northwind-perth",    LinuxServer,    true,  None),
    ("NW-WS-01",            "Perth Office PC 1",          "northwind-perth",    WindowsDesktop, true,  Some("NORTHWIND\\amy.chen")),
    ("NW-WS-02",            "Perth Office PC 2",          "northwind-perth",    WindowsDesktop, false, None),
    ("NW-LT-BEN",           "Ben's Laptop",               "northwind-perth",    WindowsLaptop,  true,  Some("NORTHWIND\\ben.harris")),
    ("NW-AKL-SRV01",        "Auckland Server",            "northwind-auckland", WindowsServer,  true,  None),
    ("NW-AKL-WS-01",        "Auckland Office PC",         "northwind-auckland", WindowsDesktop, true,  Some("NORTHWIND\\hemi.walker")),
    ("NW-AKL-LT-01",        "Auckland Sales Laptop",      "northwind-auckland", WindowsLaptop,  false, None),
    ("NW-AKL-MBP-01",       "Auckland MacBook",           "northwind-auckland", MacLaptop,      true,  Some("mia.taylor")),
];
