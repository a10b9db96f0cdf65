//! Well-known names and ids of the seeded demo tenant. Ids are UUID v5 values derived from a
//! fixed namespace (see `ids.rs`), so they are identical on every run; a unit test keeps these
//! literals in sync with the derivation.

pub const CONTOSO_ID: &str = "611d3611-d67d-58d2-8e75-b09c5b79edfb";
pub const CONTOSO_NAME: &str = "Contoso Ltd";
pub const FABRIKAM_ID: &str = "87bdeeb9-f9c2-5a34-afdb-c58f6bbd7a15";
pub const FABRIKAM_NAME: &str = "Fabrikam Inc";
pub const NORTHWIND_ID: &str = "a8fbb700-0a35-5cf1-b11a-795ee54355f6";
pub const NORTHWIND_NAME: &str = "Northwind Traders";

pub const CONTOSO_SYDNEY_SITE_ID: &str = "ba065735-3e77-556f-925c-910c4a46769e";
pub const CONTOSO_SYDNEY_SITE_NAME: &str = "Contoso Sydney HQ";
pub const CONTOSO_MELBOURNE_SITE_ID: &str = "31524327-4109-5cfc-b979-5fce646b945e";
pub const CONTOSO_MELBOURNE_SITE_NAME: &str = "Contoso Melbourne Office";
pub const FABRIKAM_BRISBANE_SITE_ID: &str = "869dac02-9f2a-5c2b-b58e-6711b22fb4c6";
pub const FABRIKAM_BRISBANE_SITE_NAME: &str = "Fabrikam Brisbane Head Office";
pub const FABRIKAM_WAREHOUSE_SITE_ID: &str = "d963bab5-3602-5546-a15e-b8d6e406772c";
pub const FABRIKAM_WAREHOUSE_SITE_NAME: &str = "Fabrikam Warehouse";
pub const NORTHWIND_PERTH_SITE_ID: &str = "c4054f70-8c2d-561d-89f3-62026a5f05bb";
pub const NORTHWIND_PERTH_SITE_NAME: &str = "Northwind Perth";
pub const NORTHWIND_AUCKLAND_SITE_ID: &str = "adeaa30b-49d2-5bf9-92d4-1db8d4195ebe";
pub const NORTHWIND_AUCKLAND_SITE_NAME: &str = "Northwind Auckland";

/// Contoso's domain controller (Windows Server 2022, Sydney). Online but slightly unhealthy:
/// C: is ~94% full and two installed patches are waiting for a reboot.
pub const DC01_ID: &str = "4a8dfb71-629b-505e-ae50-db07526843ed";
pub const DC01_NAME: &str = "DC01";

/// Maria Garcia's Windows 11 laptop in Contoso Sydney; online.
pub const MARIA_LAPTOP_ID: &str = "0b2ceb55-aa09-59d7-a04d-9c56e1f1e309";
pub const MARIA_LAPTOP_FRIENDLY_NAME: &str = "Maria's Laptop";
pub const MARIA_LAPTOP_DEVICE_NAME: &str = "CONTOSO-LT-MARIA";

/// A Contoso server whose name contains "DC01", listed before DC01: name-ranking tests.
pub const DC01_BACKUP_NAME: &str = "DC01-BACKUP";

/// An offline Contoso laptop named by its asset tag whose last logged-on user is Maria (the
/// same account as on her laptop): resolving "Maria's laptop" by user, not by name.
pub const ASSET_TAG_LAPTOP_NAME: &str = "AT-000123";
pub const MARIA_USER: &str = "CONTOSO\\maria.garcia";

/// An offline Windows 10 desktop at Fabrikam, handy for next-check-in and RunNow-offline tests.
pub const OFFLINE_DESKTOP_ID: &str = "3cc600e0-db27-53c6-8d07-adc8fdc2bae6";
pub const OFFLINE_DESKTOP_NAME: &str = "FAB-WS-07";

/// The "Disk Cleanup" shell script. Parameters (its `jsonSchema`): `drive` (string, required,
/// pattern `^[A-Za-z]:$`, default `C:`), `minFileAgeDays` (integer 0..3650, default 7) and
/// `emptyRecycleBin` (boolean, default true).
pub const DISK_CLEANUP_SCRIPT_ID: &str = "f13c89e9-3a05-51b1-940f-803b502d557c";
pub const DISK_CLEANUP_SCRIPT_NAME: &str = "Disk Cleanup";

/// A read-only shell script by its name ("check"): its tool defaults to `auto`.
pub const CHECK_DISK_SPACE_SCRIPT_NAME: &str = "Check Disk Space";
/// A French shell script ("reset the print spooler"): an accented name whose slug keeps its
/// letters, and a French verb the policy classifier reads as a reset.
pub const FRENCH_SPOOLER_SCRIPT_NAME: &str = "Réinitialiser le spouleur d'impression";

/// `state` of a shell script that can be scheduled.
pub const SCRIPT_STATE_ACTIVE: &str = "active";
/// `state` of a shell script that is listed but cannot be scheduled.
pub const SCRIPT_STATE_INACTIVE: &str = "inactive";

/// Built-in "custom script" templates (same ids across partners per ConnectWise's tasking code).
pub const POWERSHELL_TEMPLATE_ID: &str = "51a74346-e19b-11e7-9809-0800279505d9";
pub const CMD_TEMPLATE_ID: &str = "e3d2c26b-c5ba-49cf-a089-7637f6de949e";
pub const BASH_TEMPLATE_ID: &str = "37f7f19f-40e8-11e9-a643-e0d55e1ce78a";

/// Number of hand-seeded tickets (created tickets get numbers after these).
pub const SEEDED_TICKET_COUNT: usize = 12;
