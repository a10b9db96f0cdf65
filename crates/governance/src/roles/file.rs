//! `roles.toml`: change a default role or add one.
//!
//! ```toml
//! [roles."Client Site Manager"]
//! companies = ["6f1c…"]          # the scope of a limited-access role
//! sites = ["0a9e…"]
//!
//! [roles.Auditor]                 # a new role: unset fields are off / empty
//! ai_assist = true
//! permissions = ["companies:view", "devices:view"]
//! ```
//!
//! For a role of the default table, the fields given replace the default's, the others
//! stay. Role names are case-insensitive. Super Admin's "Always ON" (AI Assist, Tasks,
//! Scheduled Task) and "Always OFF" (Limited Access) cells cannot be changed.

use super::role::{
    is_valid_permission, normalize_role_name, Role, Scope, FIXED_AI_ASSIST, FIXED_LIMITED_ACCESS,
};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use toml::Spanned;
use toolhost_base::{TomlError, TomlText};

/// Why the roles file could not be used. Always an error, never a fallback to the
/// defaults: a scope the operator wrote must not silently disappear.
#[derive(Debug, thiserror::Error)]
pub enum RolesFileError {
    /// The file exists but could not be read.
    #[error("cannot read roles file {}: {source}", path.display())]
    Read {
        /// The roles file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The text is not a valid roles file (TOML syntax, unknown key, bad permission, a
    /// change to an "Always" cell), with the line and column.
    #[error("invalid roles file {0}")]
    Invalid(#[from] TomlError),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    roles: BTreeMap<Spanned<String>, RawRole>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    ai_assist: Option<Spanned<bool>>,
    limited_access: Option<Spanned<bool>>,
    permissions: Option<Spanned<Vec<Spanned<String>>>>,
    companies: Option<Spanned<Vec<Spanned<String>>>>,
    sites: Option<Spanned<Vec<Spanned<String>>>>,
}

/// Applies the roles file `text` to `roles`.
pub(super) fn apply(roles: &mut Vec<Role>, path: &Path, text: &str) -> Result<(), RolesFileError> {
    let toml = TomlText::new(path, text);
    let invalid =
        |offset: usize, message: String| RolesFileError::from(toml.error_at(offset, message));
    let raw: RawFile = toml.parse()?;
    let mut entries: Vec<_> = raw.roles.into_iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);

    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (key, raw) in entries {
        let name = key.get_ref().trim();
        let normalized = normalize_role_name(name);
        if normalized.is_empty() {
            return Err(invalid(key.span().start, "empty role name".into()));
        }
        if let Some(first) = seen.insert(normalized.clone(), name.to_string()) {
            return Err(invalid(
                key.span().start,
                format!("role `{name}` is defined twice (also as `{first}`): names are case-insensitive"),
            ));
        }
        let index = match roles
            .iter()
            .position(|r| normalize_role_name(&r.name) == normalized)
        {
            Some(i) => i,
            None => {
                roles.push(Role::new(name, false, false, &[]));
                roles.len() - 1
            }
        };
        let role = &mut roles[index];

        if let Some(v) = raw.ai_assist {
            if role.is_fixed(FIXED_AI_ASSIST) && *v.get_ref() != role.ai_assist {
                return Err(invalid(
                    v.span().start,
                    always(role, "AI Assist", role.ai_assist),
                ));
            }
            role.ai_assist = *v.get_ref();
        }
        if let Some(v) = raw.limited_access {
            if role.is_fixed(FIXED_LIMITED_ACCESS) && *v.get_ref() != role.limited_access {
                let message = always(role, "Limited Access", role.limited_access);
                return Err(invalid(v.span().start, message));
            }
            role.limited_access = *v.get_ref();
        }
        if let Some(list) = raw.permissions {
            let mut permissions = BTreeSet::new();
            for p in list.get_ref() {
                if !is_valid_permission(p.get_ref()) {
                    return Err(invalid(
                        p.span().start,
                        format!(
                            "invalid permission `{}`: expected `area:action` such as `devices:view`",
                            p.get_ref()
                        ),
                    ));
                }
                permissions.insert(p.get_ref().clone());
            }
            let kept = |p: &&String| role.permissions.contains(*p) && role.is_fixed(p);
            if let Some(missing) = role
                .fixed
                .iter()
                .filter(kept)
                .find(|p| !permissions.contains(*p))
            {
                return Err(invalid(
                    list.span().start,
                    format!(
                        "{}'s permission `{missing}` is Always ON in the permission matrix: it must \
                         stay",
                        role.name
                    ),
                ));
            }
            role.permissions = permissions;
        }
        let scope_list = |list: Option<Spanned<Vec<Spanned<String>>>>| {
            let Some(list) = list else {
                return Ok(None);
            };
            let mut ids = BTreeSet::new();
            for id in list.get_ref() {
                if id.get_ref().trim().is_empty() {
                    return Err(invalid(id.span().start, "empty company or site id".into()));
                }
                ids.insert(id.get_ref().trim().to_ascii_lowercase());
            }
            Ok(Some((list.span().start, ids)))
        };
        let companies = scope_list(raw.companies)?;
        let sites = scope_list(raw.sites)?;
        for (offset, _) in companies.iter().chain(sites.iter()) {
            if !role.limited_access {
                return Err(invalid(
                    *offset,
                    format!(
                        "`companies` and `sites` scope a limited-access role; role `{}` does not \
                         have `limited_access = true`",
                        role.name
                    ),
                ));
            }
        }
        if let Some((_, ids)) = companies {
            role.scope.companies = ids;
        }
        if let Some((_, ids)) = sites {
            role.scope.sites = ids;
        }
        if !role.limited_access {
            role.scope = Scope::default();
        }
    }
    Ok(())
}

/// Why an operator may not change a cell the plugin's permission matrix fixes.
fn always(role: &Role, cell: &str, value: bool) -> String {
    let on_off = if value { "ON" } else { "OFF" };
    format!(
        "{}'s {cell} is Always {on_off} in the permission matrix",
        role.name
    )
}

#[cfg(test)]
mod tests {
    use crate::roles::{RoleTable, RolesFileError};
    use std::path::Path;
    use toolhost_base::TomlError;

    fn parse(text: &str) -> Result<RoleTable, RolesFileError> {
        crate::roles::testing::matrix().with_roles_text(Path::new("/cfg/roles.toml"), text)
    }

    fn position(err: RolesFileError) -> (usize, usize, String) {
        match err {
            RolesFileError::Invalid(TomlError {
                line,
                column,
                message,
                ..
            }) => (line, column, message),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn scopes_a_default_role_and_keeps_its_other_fields() {
        let t = parse(
            "[roles.\"client site manager\"]\ncompanies = [\"C1\", \"c2\"]\nsites = [\"s1\"]\n",
        )
        .unwrap();
        let csm = t.get("Client Site Manager").unwrap();
        assert_eq!(csm.name, "Client Site Manager");
        assert!(csm.ai_assist && csm.limited_access);
        assert!(csm.scope.has_company("c1") && csm.scope.has_company("C2"));
        assert!(csm.scope.has_site("S1"));
        assert!(csm.has_permission("devices:view"));
    }

    #[test]
    fn adds_roles_and_changes_defaults() {
        let t = parse(
            "[roles.Auditor]\nai_assist = true\npermissions = [\"devices:view\"]\n\n[roles.sales]\nai_assist = true\n",
        )
        .unwrap();
        let a = t.get("auditor").unwrap();
        assert!(a.ai_assist && !a.limited_access);
        assert_eq!(a.permissions.len(), 1);
        assert!(t.get("Sales").unwrap().ai_assist);
        assert_eq!(t.names().len(), 7);
    }

    #[test]
    fn errors_carry_line_and_column() {
        let (line, column, message) =
            position(parse("[roles.Auditor]\npermissions = [\"devices\"]\n").unwrap_err());
        assert_eq!((line, column), (2, 16));
        assert!(message.contains("invalid permission `devices`"));

        let (line, column, _) =
            position(parse("[roles.Auditor]\nai_assist = \"yes\"\n").unwrap_err());
        assert_eq!((line, column), (2, 13));

        let (line, _, message) = position(parse("[roles.Technician]\nscope = []\n").unwrap_err());
        assert_eq!(line, 2);
        assert!(message.contains("scope"), "{message}");

        let err = parse("[roles.Technician]\ncompanies = [\"c1\"]\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid roles file /cfg/roles.toml, line 2, column 13:"),
            "{err}"
        );
    }

    #[test]
    fn duplicate_names_differing_in_case_are_an_error() {
        let (line, _, message) = position(parse("[roles.Auditor]\n[roles.auditor]\n").unwrap_err());
        assert_eq!(line, 2);
        assert!(message.contains("defined twice"));
    }

    #[test]
    fn super_admin_always_cells_cannot_change() {
        assert!(parse("[roles.\"Super Admin\"]\nai_assist = false\n").is_err());
        assert!(parse("[roles.\"super-admin\"]\nlimited_access = true\n").is_err());
        let (_, _, message) = position(
            parse("[roles.\"Super Admin\"]\npermissions = [\"devices:view\"]\n").unwrap_err(),
        );
        assert!(message.contains("Always ON"));
        assert!(parse("[roles.\"Super Admin\"]\nai_assist = true\n").is_ok());
    }

    #[test]
    fn turning_limited_access_off_drops_the_scope() {
        let t = parse("[roles.\"Client Site Manager\"]\nlimited_access = false\n").unwrap();
        assert!(t.get("client site manager").unwrap().scope.is_empty());
    }
}
