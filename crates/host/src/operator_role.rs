//! The CLI operator's own role, and `--as`, which may only lower it.
//!
//! The operator's role is set in the operator's private home (`toolhost.toml` `[operator]
//! role`), else it is the role a caller who names none runs as. `toolhost call --as ROLE`
//! names a role to act in for one call; it is refused unless ROLE holds nothing the
//! operator's role lacks (no permission, company, site or AI Assist) and, when it holds
//! exactly the same, comes after the operator's role in the role table (the vendor's matrix
//! lists roles from most to least authority: Super Admin, Manager, Technician, ...), so a
//! command line cannot even put a grander name in the audit log.

use crate::error::HostError;
use crate::host::ToolHost;
use toolhost_governance::{normalize_role_name, Role};

/// `--as` named a role the operator may not act in. Nothing was sent.
#[derive(Debug, thiserror::Error)]
pub enum OperatorRoleError {
    /// The role table or policy file could not be read.
    #[error(transparent)]
    Host(#[from] HostError),
    /// A role (the operator's, or the one `--as` names) is not in the role table.
    #[error("{what} `{role}` is not a role: use one of {}", known.join(", "))]
    UnknownRole {
        /// Which role this was ("--as" or the operator's role and where it is set).
        what: &'static str,
        /// The name as given.
        role: String,
        /// The roles the table knows.
        known: Vec<String>,
    },
    /// The role named holds something the operator's role does not.
    #[error("`--as {requested}` refused: it would raise your role, {own}, which does not hold {excess}. `--as` may only lower your role; your role is `[operator] role` in {settings}")]
    Raises {
        /// The role `--as` named, in the table's spelling.
        requested: String,
        /// The operator's role.
        own: String,
        /// What the requested role holds that the operator's does not.
        excess: String,
        /// The settings file that sets the operator's role.
        settings: String,
    },
    /// The role named holds exactly what the operator's role holds and ranks above it.
    #[error("`--as {requested}` refused: it holds what your role, {own}, holds and ranks above it in the role table, so it would not lower your role. Leave out --as to act as {own}, or name a role with less")]
    NotLower {
        /// The role `--as` named, in the table's spelling.
        requested: String,
        /// The operator's role.
        own: String,
    },
}

impl ToolHost {
    /// The operator's own role, in the table's spelling when the table knows it:
    /// `[operator] role` of `toolhost.toml`, else the role a caller who names none runs as.
    pub fn operator_role(&self) -> Result<String, HostError> {
        let roles = self.roles()?;
        let role = match &self.config.operator_role {
            Some(role) => role.clone(),
            None => {
                let engine = self.policy_engine()?;
                engine
                    .default_role()
                    .or(self.config.default_role.as_deref())
                    .unwrap_or_else(|| self.plugin_default_role())
                    .to_string()
            }
        };
        Ok(roles.get(&role).map_or(role, |r| r.name.clone()))
    }

    /// The role an operator's call runs as: `requested` (`--as`) when it lowers the operator's
    /// own role (or is that role), else `[operator] role`. `None`: neither is set, so the
    /// call runs as a caller who names none (admission resolves and audits it).
    pub fn operator_call_role(
        &self,
        requested: Option<&str>,
    ) -> Result<Option<String>, OperatorRoleError> {
        let Some(requested) = requested else {
            return Ok(self.config.operator_role.clone());
        };
        let own = self.operator_role()?;
        let roles = self.roles()?;
        let unknown = |what, role: &str| OperatorRoleError::UnknownRole {
            what,
            role: role.to_string(),
            known: roles.names().into_iter().map(str::to_string).collect(),
        };
        let asked = roles
            .get(requested)
            .ok_or_else(|| unknown("--as", requested))?;
        let mine = roles.get(&own).ok_or_else(|| {
            unknown(
                "your operator role ([operator] role in toolhost.toml)",
                &own,
            )
        })?;
        let rank = |r: &Role| roles.roles().iter().position(|x| x.name == r.name);
        let settings = crate::settings::settings_path(self.home());
        lowers((asked, rank(asked)), (mine, rank(mine)), &settings)?;
        Ok(Some(asked.name.clone()))
    }
}

/// Ok when `asked` is `own`, holds strictly less, or holds the same and ranks below it (each
/// role with its position in the role table).
fn lowers(
    (asked, asked_rank): (&Role, Option<usize>),
    (own, own_rank): (&Role, Option<usize>),
    settings: &std::path::Path,
) -> Result<(), OperatorRoleError> {
    if normalize_role_name(&asked.name) == normalize_role_name(&own.name) {
        return Ok(());
    }
    if let Some(excess) = excess(asked, own) {
        return Err(OperatorRoleError::Raises {
            requested: asked.name.clone(),
            own: own.name.clone(),
            excess,
            settings: settings.display().to_string(),
        });
    }
    if excess(own, asked).is_none() && asked_rank <= own_rank {
        return Err(OperatorRoleError::NotLower {
            requested: asked.name.clone(),
            own: own.name.clone(),
        });
    }
    Ok(())
}

/// The first thing `role` holds that `within` does not: AI Assist, a permission, or (when
/// `within` is limited to a scope) the whole tenant, a company or a site.
fn excess(role: &Role, within: &Role) -> Option<String> {
    if role.ai_assist && !within.ai_assist {
        return Some("AI Assist".to_string());
    }
    if let Some(p) = role.permissions.iter().find(|p| !within.has_permission(p)) {
        return Some(format!("the permission `{p}`"));
    }
    if !within.limited_access {
        return None;
    }
    if !role.limited_access {
        return Some("the whole tenant (it has no Limited Access)".to_string());
    }
    if let Some(c) = role
        .scope
        .companies
        .iter()
        .find(|c| !within.scope.has_company(c))
    {
        return Some(format!("the company `{c}`"));
    }
    if let Some(s) = role.scope.sites.iter().find(|s| !within.scope.has_site(s)) {
        return Some(format!("the site `{s}`"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use toolhost_governance::ALL_PERMISSIONS;

    fn role(name: &str, ai: bool, limited: bool, permissions: &[&str]) -> Role {
        Role::new(name, ai, limited, permissions)
    }

    /// `asked` ranks below `own` in the table.
    fn check(asked: &Role, own: &Role) -> Result<(), String> {
        let settings = std::path::Path::new("/home/t/toolhost.toml");
        lowers((asked, Some(1)), (own, Some(0)), settings).map_err(|e| e.to_string())
    }

    /// `asked` ranks above `own` in the table.
    fn check_upward(asked: &Role, own: &Role) -> Result<(), String> {
        let settings = std::path::Path::new("/home/t/toolhost.toml");
        lowers((asked, Some(0)), (own, Some(1)), settings).map_err(|e| e.to_string())
    }

    #[test]
    fn the_own_role_and_lesser_roles_pass() {
        let tech = role("Technician", true, false, &["a", "b"]);
        assert!(check(&tech, &tech).is_ok());
        assert!(check(&role("technician", true, false, &["a", "b"]), &tech).is_ok());
        assert!(check(&role("Viewer", true, false, &["a"]), &tech).is_ok());
        assert!(check(&role("Sales", false, false, &[]), &tech).is_ok());
        assert!(check(&role("CSM", true, true, &["a", "b"]), &tech).is_ok());
    }

    #[test]
    fn a_role_with_more_is_refused_naming_what_it_adds() {
        let tech = role("Technician", true, false, &["a"]);
        let err = check(&role("Super Admin", true, false, &["a", "b"]), &tech).unwrap_err();
        assert!(
            err.contains("--as Super Admin") && err.contains("`b`") && err.contains("Technician"),
            "{err}"
        );
        assert!(err.contains("/home/t/toolhost.toml"), "{err}");
        let off = role("Office", false, false, &[]);
        assert!(check(&role("Viewer", true, false, &[]), &off)
            .unwrap_err()
            .contains("AI Assist"));
        let all = role("Operator", true, false, &[ALL_PERMISSIONS]);
        assert!(check(&all, &tech).unwrap_err().contains("`*`"));
        assert!(check(&tech, &all).is_ok());
    }

    #[test]
    fn the_same_grants_pass_only_downward_in_the_table() {
        let tech = role("Technician", true, false, &["a"]);
        let admin = role("Super Admin", true, false, &["a"]);
        let err = check_upward(&admin, &tech).unwrap_err();
        assert!(err.contains("would not lower"), "{err}");
        assert!(check(&tech, &admin).is_ok());
        // A strictly lesser role passes wherever the table puts it.
        assert!(check_upward(&role("Viewer", true, false, &[]), &tech).is_ok());
    }

    #[test]
    fn a_limited_operator_keeps_its_scope() {
        let mut own = role("CSM", true, true, &["a"]);
        own.scope.companies.insert("c1".into());
        own.scope.sites.insert("s1".into());
        let whole = role("Technician", true, false, &["a"]);
        assert!(check(&whole, &own).unwrap_err().contains("whole tenant"));
        let mut other = role("Other", true, true, &["a"]);
        other.scope.companies.insert("c2".into());
        assert!(check(&other, &own).unwrap_err().contains("`c2`"));
        let mut site = role("Site", true, true, &["a"]);
        site.scope.sites.insert("s2".into());
        assert!(check(&site, &own).unwrap_err().contains("`s2`"));
        let mut narrower = role("Narrow", true, true, &["a"]);
        narrower.scope.companies.insert("C1".to_ascii_lowercase());
        assert!(check(&narrower, &own).is_ok());
    }
}
