//! A role: AI Assist, Limited Access, permissions and (for limited roles) a scope.

use std::collections::BTreeSet;

/// The companies and sites a limited-access role may see and act on (ids as the API
/// writes them; compared exactly, except that letter case is ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Scope {
    /// Company ids, stored lowercase (the lookups lowercase only the id asked about).
    pub companies: BTreeSet<String>,
    /// Site ids, stored lowercase. A site is not in scope because its company is: the host
    /// cannot tell which company a site id belongs to.
    pub sites: BTreeSet<String>,
}

impl Scope {
    /// No company and no site: a limited role with this scope can reach nothing.
    pub fn is_empty(&self) -> bool {
        self.companies.is_empty() && self.sites.is_empty()
    }

    /// Whether company `id` is in scope, ignoring its letter case.
    pub fn has_company(&self, id: &str) -> bool {
        self.companies.contains(&id.to_ascii_lowercase())
    }

    /// Whether site `id` is in scope, ignoring its letter case.
    pub fn has_site(&self, id: &str) -> bool {
        self.sites.contains(&id.to_ascii_lowercase())
    }
}

/// One row of the role table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Role {
    /// Display name, e.g. "Client Site Manager".
    pub name: String,
    /// Off: the role cannot use any tool through the agent.
    pub ai_assist: bool,
    /// On: the role sees and acts only within [`Role::scope`].
    pub limited_access: bool,
    /// e.g. `tasks:view`, `scheduled-task:create`, `devices:view`.
    pub permissions: BTreeSet<String>,
    /// What a limited-access role may reach; empty (and ignored) otherwise.
    pub scope: Scope,
    /// Cells an operator's roles file may not change: [`FIXED_AI_ASSIST`],
    /// [`FIXED_LIMITED_ACCESS`], or a permission the role always keeps.
    pub fixed: BTreeSet<String>,
}

/// In [`Role::fixed`]: AI Assist cannot be changed.
pub const FIXED_AI_ASSIST: &str = "ai-assist";
/// In [`Role::fixed`]: Limited Access cannot be changed.
pub const FIXED_LIMITED_ACCESS: &str = "limited-access";
/// The permission that stands for every permission: held by the built-in role only.
pub const ALL_PERMISSIONS: &str = "*";
/// The role of a plugin that declares none: AI Assist on, every permission, no scope.
pub const BUILTIN_ROLE: &str = "Operator";

impl Role {
    /// A role with an empty scope; `permissions` are taken as given (not validated).
    pub fn new(name: &str, ai_assist: bool, limited_access: bool, permissions: &[&str]) -> Role {
        Role {
            name: name.to_string(),
            ai_assist,
            limited_access,
            permissions: permissions.iter().map(|p| p.to_string()).collect(),
            scope: Scope::default(),
            fixed: BTreeSet::new(),
        }
    }

    /// The cells in `fixed` may not be changed by an operator's roles file.
    pub fn with_fixed<'a>(mut self, fixed: impl IntoIterator<Item = &'a str>) -> Role {
        self.fixed = fixed.into_iter().map(str::to_string).collect();
        self
    }

    /// The role of a plugin that declares none ([`BUILTIN_ROLE`]).
    pub fn builtin() -> Role {
        Role::new(BUILTIN_ROLE, true, false, &[ALL_PERMISSIONS])
    }

    /// Whether the role holds `permission`, compared exactly (the built-in role holds all).
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.contains(permission) || self.permissions.contains(ALL_PERMISSIONS)
    }

    /// Whether an operator's roles file may not change `cell`.
    pub fn is_fixed(&self, cell: &str) -> bool {
        self.fixed.contains(cell)
    }
}

/// Role names compare case-insensitively, and spaces, `-` and `_` are the same separator,
/// so `--as client-site-manager` names "Client Site Manager".
pub fn normalize_role_name(name: &str) -> String {
    role_name_words(name)
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `a` and `b` name the same role ([`normalize_role_name`] of both equal), without
/// allocating: every call looks its caller's role up by name.
pub fn same_role_name(a: &str, b: &str) -> bool {
    let (mut left, mut right) = (role_name_words(a), role_name_words(b));
    loop {
        match (left.next(), right.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if same_word(x, y) => {}
            _ => return false,
        }
    }
}

/// `x` and `y` equal once lowercased; only non-ASCII words (rare in role names) allocate,
/// since `str::to_lowercase` depends on context there (a final sigma).
fn same_word(x: &str, y: &str) -> bool {
    if x.is_ascii() && y.is_ascii() {
        x.eq_ignore_ascii_case(y)
    } else {
        x.to_lowercase() == y.to_lowercase()
    }
}

/// The words of a role name: split at whitespace, `-` and `_`, empty ones dropped.
fn role_name_words(name: &str) -> impl Iterator<Item = &str> {
    name.split(|c: char| c.is_whitespace() || c == '-' || c == '_')
        .filter(|w| !w.is_empty())
}

/// `area:action`, lowercase letters and `-`: `scheduled-task:create`.
pub fn is_valid_permission(p: &str) -> bool {
    let valid = |s: &str| {
        s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.chars().all(|c| c.is_ascii_lowercase() || c == '-')
    };
    matches!(p.split_once(':'), Some((area, action)) if valid(area) && valid(action))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_ignore_case_and_separators() {
        assert_eq!(
            normalize_role_name("Client Site Manager"),
            "client site manager"
        );
        assert_eq!(
            normalize_role_name("client-site_manager"),
            "client site manager"
        );
        assert_eq!(normalize_role_name("  SUPER   admin "), "super admin");
    }

    #[test]
    fn same_role_name_agrees_with_normalizing_both() {
        let names = [
            "Client Site Manager",
            "client-site_manager",
            "  CLIENT   site-MANAGER ",
            "Client Site",
            "Client Site Managers",
            "ÉDITEUR en chef",
            "éditeur-EN-chef",
            "",
            " - _ ",
            "İstanbul",
            "i̇stanbul",
            "ΟΔΟΣ",
            "οδος",
            "οδοσ",
        ];
        for a in names {
            for b in names {
                assert_eq!(
                    same_role_name(a, b),
                    normalize_role_name(a) == normalize_role_name(b),
                    "{a:?} / {b:?}"
                );
            }
        }
    }

    #[test]
    fn permissions_are_area_colon_action() {
        assert!(is_valid_permission("scheduled-task:create"));
        assert!(is_valid_permission("devices:view"));
        assert!(!is_valid_permission("devices"));
        assert!(!is_valid_permission("Devices:view"));
        assert!(!is_valid_permission("devices:"));
        assert!(!is_valid_permission("a:b:c"));
    }

    #[test]
    fn scope_ids_ignore_case() {
        let scope = Scope {
            companies: ["abc-1".to_string()].into(),
            sites: BTreeSet::new(),
        };
        assert!(scope.has_company("ABC-1"));
        assert!(!scope.has_site("abc-1"));
    }
}
