//! Test data: a vendor's permission matrix, shaped like the one the ConnectWise RMM plugin
//! declares (the seed's matrix for Asio > Automation > Tasks and Scheduled Tasks). The host
//! itself holds no vendor's matrix: plugins declare theirs.
//!
//! | | Super Admin | Manager | Technician | Office Staff | Sales | Client Site Manager |
//! |---|---|---|---|---|---|---|
//! | AI Assist | Always ON | ON | ON | OFF | OFF | ON |
//! | Limited Access | Always OFF | OFF | OFF | OFF | OFF | ON |
//! | Tasks View/Create/Update/Delete | Always ON | ON | ON | OFF | OFF | OFF |
//! | Scheduled Task View/Create/Update/Delete | Always ON | ON | ON | OFF | OFF | OFF |
//!
//! The matrix says nothing about the other permissions the tools declare
//! ([`OTHER_TOOL_PERMISSIONS`]: `companies:view`, `devices:view`, `tickets:view`,
//! `tickets:create`). Decision: every role with AI Assist on gets them (a Client Site Manager
//! only within its scope, which [`check`](super::RoleTable::check) enforces); roles with AI
//! Assist off get none, which changes nothing since they cannot use any tool.
//!
//! "Always" entries of Super Admin cannot be changed by `roles.toml`.

use super::role::{Role, FIXED_AI_ASSIST, FIXED_LIMITED_ACCESS};
use super::table::RoleTable;

/// The one role whose "Always" cells `roles.toml` may not change.
pub(crate) const SUPER_ADMIN: &str = "Super Admin";
/// Full Tasks access, like Technician.
pub(crate) const MANAGER: &str = "Manager";
/// Full Tasks access; the host's default role.
pub(crate) const TECHNICIAN: &str = "Technician";
/// AI Assist off: no tool through the agent.
pub(crate) const OFFICE_STAFF: &str = "Office Staff";
/// AI Assist off: no tool through the agent.
pub(crate) const SALES: &str = "Sales";
/// Limited access: only the companies and sites of its scope, and no Tasks permissions.
pub(crate) const CLIENT_SITE_MANAGER: &str = "Client Site Manager";

/// The matrix's Tasks and Scheduled Task rows.
pub(crate) const TASK_PERMISSIONS: [&str; 8] = [
    "tasks:view",
    "tasks:create",
    "tasks:update",
    "tasks:delete",
    "scheduled-task:view",
    "scheduled-task:create",
    "scheduled-task:update",
    "scheduled-task:delete",
];

/// Permissions the tools declare that the matrix does not cover.
pub(crate) const OTHER_TOOL_PERMISSIONS: [&str; 4] = [
    "companies:view",
    "devices:view",
    "tickets:view",
    "tickets:create",
];

/// The matrix as the default table.
pub(crate) fn matrix() -> RoleTable {
    RoleTable::from_roles(default_roles())
}

/// The six roles of the matrix, in its column order.
pub(crate) fn default_roles() -> Vec<Role> {
    let all: Vec<&str> = TASK_PERMISSIONS
        .iter()
        .chain(OTHER_TOOL_PERMISSIONS.iter())
        .copied()
        .collect();
    let always: Vec<&str> = [FIXED_AI_ASSIST, FIXED_LIMITED_ACCESS]
        .into_iter()
        .chain(TASK_PERMISSIONS)
        .collect();
    vec![
        Role::new(SUPER_ADMIN, true, false, &all).with_fixed(always),
        Role::new(MANAGER, true, false, &all),
        Role::new(TECHNICIAN, true, false, &all),
        Role::new(OFFICE_STAFF, false, false, &[]),
        Role::new(SALES, false, false, &[]),
        Role::new(CLIENT_SITE_MANAGER, true, true, &OTHER_TOOL_PERMISSIONS),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_seed_matrix() {
        let roles = default_roles();
        let row = |name: &str| roles.iter().find(|r| r.name == name).unwrap();
        for name in [SUPER_ADMIN, MANAGER, TECHNICIAN] {
            let r = row(name);
            assert!(r.ai_assist && !r.limited_access);
            assert!(TASK_PERMISSIONS.iter().all(|p| r.has_permission(p)));
        }
        for name in [OFFICE_STAFF, SALES] {
            let r = row(name);
            assert!(!r.ai_assist && !r.limited_access && r.permissions.is_empty());
        }
        let csm = row(CLIENT_SITE_MANAGER);
        assert!(csm.ai_assist && csm.limited_access);
        assert!(TASK_PERMISSIONS.iter().all(|p| !csm.has_permission(p)));
        assert!(csm.has_permission("devices:view") && csm.has_permission("tickets:create"));
        assert!(csm.scope.is_empty());
    }
}
