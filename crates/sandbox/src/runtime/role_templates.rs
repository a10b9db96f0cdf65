//! The vendor's roles as a plugin declares them: the default role table the host starts from.
//! Checked here for shape (names, the default role, fixed cells); what a permission means is
//! the host's governance.

use super::bindings::wit;
use super::declaration_error::DeclarationError;
use std::collections::BTreeSet;

/// A fixed cell naming the role's AI Assist.
const AI_ASSIST: &str = "ai-assist";
/// A fixed cell naming the role's Limited Access.
const LIMITED_ACCESS: &str = "limited-access";

/// One role of the vendor's permission model.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleTemplate {
    /// The vendor's name, e.g. `Technician`.
    pub name: String,
    /// May use tools through an agent at all.
    pub ai_assist: bool,
    /// Reaches only the companies and sites an operator scopes it to.
    pub limited_access: bool,
    /// Permissions held (`area:action`).
    pub permissions: Vec<String>,
    /// Cells an operator may not change: `ai-assist`, `limited-access`, or a held permission.
    pub fixed: Vec<String>,
}

/// Role names compare case-insensitively, spaces, `-` and `_` alike (as the host's role table
/// compares them).
fn normalized(name: &str) -> String {
    name.split(|c: char| c.is_whitespace() || c == '-' || c == '_')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

fn invalid(field: String, message: String) -> DeclarationError {
    DeclarationError { field, message }
}

/// The declared roles and default role, checked.
pub(crate) fn role_templates(
    roles: Vec<wit::RoleTemplate>,
    default_role: Option<String>,
) -> Result<(Vec<RoleTemplate>, Option<String>), DeclarationError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(roles.len());
    for (i, r) in roles.into_iter().enumerate() {
        let field = format!("roles[{i}]");
        let key = normalized(&r.name);
        if key.is_empty() {
            return Err(invalid(format!("{field}.name"), "is empty".into()));
        }
        if !seen.insert(key) {
            return Err(invalid(
                format!("{field}.name"),
                format!(
                    "`{}` is declared twice (names are case-insensitive)",
                    r.name
                ),
            ));
        }
        for cell in &r.fixed {
            if cell != AI_ASSIST && cell != LIMITED_ACCESS && !r.permissions.contains(cell) {
                return Err(invalid(
                    format!("{field}.fixed"),
                    format!(
                        "`{cell}` is neither `{AI_ASSIST}`, `{LIMITED_ACCESS}` nor a permission \
                         the role holds"
                    ),
                ));
            }
        }
        out.push(RoleTemplate {
            name: r.name,
            ai_assist: r.ai_assist,
            limited_access: r.limited_access,
            permissions: r.permissions,
            fixed: r.fixed,
        });
    }
    if let Some(role) = &default_role {
        if !out.iter().any(|r| normalized(&r.name) == normalized(role)) {
            return Err(invalid(
                "default-role".into(),
                format!("`{role}` is not one of the declared roles"),
            ));
        }
    }
    Ok((out, default_role))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(name: &str, permissions: &[&str], fixed: &[&str]) -> wit::RoleTemplate {
        wit::RoleTemplate {
            name: name.into(),
            ai_assist: true,
            limited_access: false,
            permissions: permissions.iter().map(|p| p.to_string()).collect(),
            fixed: fixed.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn accepts_a_matrix_and_its_default_role() {
        let roles = vec![
            role("Super Admin", &["tasks:view"], &["ai-assist", "tasks:view"]),
            role("Technician", &["tasks:view"], &[]),
        ];
        let (roles, default) = role_templates(roles, Some("technician".into())).unwrap();
        assert_eq!(roles.len(), 2);
        assert_eq!(default.as_deref(), Some("technician"));
    }

    #[test]
    fn refuses_duplicates_unknown_fixed_cells_and_a_foreign_default() {
        let twice = vec![role("Tech", &[], &[]), role("tech", &[], &[])];
        assert_eq!(
            role_templates(twice, None).unwrap_err().field,
            "roles[1].name"
        );
        let fixed = vec![role("Tech", &["a:b"], &["c:d"])];
        assert_eq!(
            role_templates(fixed, None).unwrap_err().field,
            "roles[0].fixed"
        );
        let empty = vec![role(" ", &[], &[])];
        assert_eq!(
            role_templates(empty, None).unwrap_err().field,
            "roles[0].name"
        );
        let foreign = vec![role("Tech", &[], &[])];
        let err = role_templates(foreign, Some("Admin".into())).unwrap_err();
        assert_eq!(err.field, "default-role");
    }
}
