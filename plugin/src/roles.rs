//! The vendor's permission matrix, declared to the host as its default role table: who may
//! use which tool is ConnectWise knowledge, like the tools themselves. The seed's matrix for
//! Asio > Automation > Tasks and Scheduled Tasks:
//!
//! | | Super Admin | Manager | Technician | Office Staff | Sales | Client Site Manager |
//! |---|---|---|---|---|---|---|
//! | AI Assist | Always ON | ON | ON | OFF | OFF | ON |
//! | Limited Access | Always OFF | OFF | OFF | OFF | OFF | ON |
//! | Tasks View/Create/Update/Delete | Always ON | ON | ON | OFF | OFF | OFF |
//! | Scheduled Task View/Create/Update/Delete | Always ON | ON | ON | OFF | OFF | OFF |
//!
//! The matrix says nothing about the other permissions the tools declare
//! ([`OTHER_TOOL_PERMISSIONS`]). Decision: every role with AI Assist on gets them (a Client
//! Site Manager only within its scope, which the host enforces); roles with AI Assist off get
//! none, which changes nothing since they cannot use any tool. "Always" cells are declared
//! fixed: an operator's roles file cannot change them.

/// The role a caller who names none runs as: least privilege that still runs every tool.
pub const DEFAULT_ROLE: &str = "Technician";

/// The matrix's Tasks and Scheduled Task rows.
pub const TASK_PERMISSIONS: [&str; 8] = [
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
pub const OTHER_TOOL_PERMISSIONS: [&str; 4] = [
    "companies:view",
    "devices:view",
    "tickets:view",
    "tickets:create",
];

/// One column of the matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixRole {
    pub name: &'static str,
    pub ai_assist: bool,
    pub limited_access: bool,
    pub permissions: Vec<&'static str>,
    /// Cells an operator may not change (`ai-assist`, `limited-access`, or a permission).
    pub fixed: Vec<&'static str>,
}

/// The six roles, in the matrix's column order.
pub fn matrix() -> Vec<MatrixRole> {
    let all: Vec<&str> = TASK_PERMISSIONS
        .iter()
        .chain(OTHER_TOOL_PERMISSIONS.iter())
        .copied()
        .collect();
    let role = |name, ai_assist, limited_access, permissions: &[&'static str]| MatrixRole {
        name,
        ai_assist,
        limited_access,
        permissions: permissions.to_vec(),
        fixed: Vec::new(),
    };
    let always = ["ai-assist", "limited-access"]
        .into_iter()
        .chain(TASK_PERMISSIONS)
        .collect();
    vec![
        MatrixRole {
            fixed: always,
            ..role("Super Admin", true, false, &all)
        },
        role("Manager", true, false, &all),
        role(DEFAULT_ROLE, true, false, &all),
        role("Office Staff", false, false, &[]),
        role("Sales", false, false, &[]),
        role("Client Site Manager", true, true, &OTHER_TOOL_PERMISSIONS),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_seed_matrix() {
        let roles = matrix();
        let row = |name: &str| roles.iter().find(|r| r.name == name).unwrap();
        for name in ["Super Admin", "Manager", DEFAULT_ROLE] {
            let r = row(name);
            assert!(r.ai_assist && !r.limited_access);
            assert!(TASK_PERMISSIONS.iter().all(|p| r.permissions.contains(p)));
        }
        for name in ["Office Staff", "Sales"] {
            let r = row(name);
            assert!(!r.ai_assist && !r.limited_access && r.permissions.is_empty());
        }
        let csm = row("Client Site Manager");
        assert!(csm.ai_assist && csm.limited_access);
        assert!(TASK_PERMISSIONS
            .iter()
            .all(|p| !csm.permissions.contains(p)));
        let admin = row("Super Admin");
        assert!(admin.fixed.contains(&"ai-assist") && admin.fixed.contains(&"tasks:create"));
        assert!(roles.iter().filter(|r| !r.fixed.is_empty()).count() == 1);
    }

    #[test]
    fn every_permission_a_tool_declares_is_in_the_matrix() {
        let known: Vec<&str> = TASK_PERMISSIONS
            .iter()
            .chain(OTHER_TOOL_PERMISSIONS.iter())
            .copied()
            .collect();
        for tool in crate::catalog::static_tools() {
            for p in &tool.permissions {
                assert!(known.contains(&p.as_str()), "{}: {p}", tool.name);
            }
        }
    }
}
