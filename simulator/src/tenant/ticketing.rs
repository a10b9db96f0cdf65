//! Ticketing lookups (boards, sources, priorities, statuses) and the seeded tickets.

use super::endpoints::Endpoint;
use super::ids::derive;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Clone, Debug, Serialize, Deserialize, Default)]
pub struct IdRef {
    #[serde(default)]
    pub id: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, Default)]
pub struct IdName {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl IdName {
    pub fn new(id: Uuid, name: &str) -> IdName {
        IdName {
            id: Some(id.to_string()),
            name: Some(name.to_string()),
        }
    }
}

/// The `Ticket` schema. Optional references are omitted when unset.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    pub id: String,
    pub number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noc_ticket_id: Option<String>,
    pub version: u32,
    pub summary: String,
    pub description: String,
    pub service_board: IdName,
    pub source: IdName,
    pub status: IdName,
    pub priority: IdName,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<IdName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<IdName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<IdRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<IdRef>,
    pub assets: Vec<IdRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<IdRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee_team: Option<IdName>,
    pub tags: Vec<IdName>,
    pub extended_attributes: Vec<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    #[serde(with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    pub created_by: IdRef,
    #[serde(with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
    pub updated_by: IdRef,
}

mod rfc3339 {
    use chrono::{DateTime, Utc};
    pub fn serialize<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::time::rfc3339(*t))
    }
}

pub struct ServiceBoard {
    pub id: Uuid,
    pub name: &'static str,
    pub description: &'static str,
    pub default_priority: usize,
    pub inactive: bool,
}

pub struct Lookup {
    pub id: Uuid,
    pub name: &'static str,
}

pub struct StatusLookup {
    pub id: Uuid,
    pub name: &'static str,
    /// `New`, `InProgress` or `Closed`.
    pub category: &'static str,
    pub sla_status: &'static str,
}

pub struct Ticketing {
    pub boards: Vec<ServiceBoard>,
    pub sources: Vec<Lookup>,
    pub priorities: Vec<Lookup>,
    pub statuses: Vec<StatusLookup>,
    pub tickets: Vec<Ticket>,
}

/// The user id the simulator attributes seeded and API-created tickets to.
pub fn api_user_id() -> Uuid {
    derive("user", "api-integration")
}

fn lookups(kind: &str, names: &[&'static str]) -> Vec<Lookup> {
    names
        .iter()
        .map(|&name| Lookup {
            id: derive(kind, name),
            name,
        })
        .collect()
}

impl Ticketing {
    pub fn build(endpoints: &[Endpoint]) -> Ticketing {
        let priorities = lookups("priority", &["Critical", "High", "Medium", "Low"]);
        let sources = lookups("source", &["Portal", "Email", "Phone", "RMM Alert", "API"]);
        let statuses: Vec<StatusLookup> = [
            ("New", "New", "NotResponded"),
            ("In Progress", "InProgress", "Responded"),
            ("Waiting on Client", "InProgress", "Waiting"),
            ("Resolved", "Closed", "Resolved"),
            ("Closed", "Closed", "Resolved"),
        ]
        .into_iter()
        .map(|(name, category, sla_status)| StatusLookup {
            id: derive("status", name),
            name,
            category,
            sla_status,
        })
        .collect();
        let boards = vec![
            ServiceBoard {
                id: derive("board", "service-desk"),
                name: "Service Desk",
                description: "Day-to-day support requests",
                default_priority: 2,
                inactive: false,
            },
            ServiceBoard {
                id: derive("board", "noc"),
                name: "NOC Alerts",
                description: "Tickets raised from RMM monitoring",
                default_priority: 1,
                inactive: false,
            },
            ServiceBoard {
                id: derive("board", "projects"),
                name: "Projects",
                description: "Project work (retired board)",
                default_priority: 3,
                inactive: true,
            },
        ];
        let by_name = |name: &str| endpoints.iter().find(|e| e.device_name == name);
        // (summary, device, board, source, status, priority, hours ago)
        let rows: [(&str, &str, usize, usize, usize, usize, i64); 12] = [
            ("DC01 low disk space on C:", "DC01", 1, 3, 1, 1, 5),
            ("DC01 reboot pending after patching", "DC01", 1, 3, 0, 2, 3),
            (
                "Maria cannot connect to VPN",
                "CONTOSO-LT-MARIA",
                0,
                1,
                1,
                2,
                30,
            ),
            (
                "New starter laptop setup for Priya",
                "CONTOSO-LT-PRIYA",
                0,
                0,
                3,
                3,
                200,
            ),
            (
                "Printer in Sydney office jamming",
                "CONTOSO-WS-01",
                0,
                2,
                2,
                3,
                50,
            ),
            (
                "Melbourne file server backup warning",
                "CONTOSO-MEL-FS01",
                1,
                3,
                4,
                2,
                400,
            ),
            ("ERP server slow at month end", "FAB-APP01", 0, 1, 1, 1, 12),
            ("Warehouse office PC offline", "FAB-WS-07", 1, 3, 0, 2, 8),
            (
                "CAD workstation graphics driver update",
                "FAB-WS-03",
                0,
                0,
                3,
                3,
                120,
            ),
            ("Orders DB high CPU alert", "NW-SQL01", 1, 3, 1, 0, 2),
            (
                "Auckland laptop stolen - disable account",
                "NW-AKL-LT-01",
                0,
                2,
                4,
                0,
                700,
            ),
            (
                "Web shop TLS certificate expires soon",
                "NW-LNX01",
                0,
                1,
                0,
                2,
                20,
            ),
        ];
        let origin = crate::time::fixed(2026, 1, 15, 0);
        let user = IdRef {
            id: Some(api_user_id().to_string()),
        };
        let tickets = rows
            .iter()
            .enumerate()
            .map(
                |(i, &(summary, device, board, source, status, priority, hours))| {
                    let e = by_name(device);
                    let created = origin - Duration::hours(hours);
                    Ticket {
                        id: derive("ticket", summary).to_string(),
                        number: (1001 + i).to_string(),
                        noc_ticket_id: None,
                        version: 1,
                        summary: summary.to_string(),
                        description: format!("{summary}. Raised for {device}."),
                        service_board: IdName::new(boards[board].id, boards[board].name),
                        source: IdName::new(sources[source].id, sources[source].name),
                        status: IdName::new(statuses[status].id, statuses[status].name),
                        priority: IdName::new(priorities[priority].id, priorities[priority].name),
                        r#type: None,
                        category: None,
                        company: e.map(|e| IdRef {
                            id: Some(e.company_id.to_string()),
                        }),
                        site: e.map(|e| IdRef {
                            id: Some(e.site_id.to_string()),
                        }),
                        assets: e
                            .map(|e| {
                                vec![IdRef {
                                    id: Some(e.id.to_string()),
                                }]
                            })
                            .unwrap_or_default(),
                        assignee: None,
                        assignee_team: None,
                        tags: vec![],
                        extended_attributes: vec![],
                        due_date: None,
                        created_at: created,
                        created_by: user.clone(),
                        updated_at: created + Duration::minutes(30),
                        updated_by: user.clone(),
                    }
                },
            )
            .collect();
        Ticketing {
            boards,
            sources,
            priorities,
            statuses,
            tickets,
        }
    }
}
