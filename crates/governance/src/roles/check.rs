//! [`RoleTable::check`]: may this role make this call at all? Asked before policy.

use super::role::Role;
use super::table::RoleTable;
use crate::tool::ToolFacts;
use serde_json::Value;

/// Why a role may not make a call. Every message names what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleDenied {
    /// The role is not in the table; the message lists the ones that are.
    #[error("unknown role `{role}`: known roles are {}", known.join(", "))]
    UnknownRole {
        /// The role as given.
        role: String,
        /// Every role's display name, in table order.
        known: Vec<String>,
    },
    /// The role has AI Assist off, so it may use no tool through the agent.
    #[error("role `{role}` has AI Assist off: it cannot use any tool through the agent")]
    AiAssistOff {
        /// The role's display name.
        role: String,
    },
    /// The tool declares a permission the role does not hold.
    #[error("role `{role}` lacks the permission `{permission}` that `{tool}` requires")]
    MissingPermission {
        /// The role's display name.
        role: String,
        /// The namespaced tool name.
        tool: String,
        /// The first declared permission the role lacks.
        permission: String,
    },
    /// A limited-access role called without any company or site argument: with none, the
    /// call could reach the whole tenant, so it is refused rather than trusted.
    #[error(
        "role `{role}` has limited access: pass `companyId` (or `siteId`) of a company it is \
         scoped to; without one, `{tool}` cannot be proven to stay in scope"
    )]
    NoScopeArgument {
        /// The role's display name.
        role: String,
        /// The namespaced tool name.
        tool: String,
    },
    /// A company or site argument outside a limited role's scope.
    #[error("`{field}` `{value}` is outside the companies and sites role `{role}` is scoped to")]
    OutOfScope {
        /// The role's display name.
        role: String,
        /// The argument: `companyId`, `companyIds`, `siteId` or `siteIds`.
        field: String,
        /// The id that is out of scope.
        value: String,
    },
    /// A scope argument of the wrong JSON type: it cannot be checked, so it is refused.
    #[error("`{field}` must be {expected} for a limited-access role")]
    BadScopeArgument {
        /// The argument.
        field: String,
        /// What it must be: "a string" or "an array of strings".
        expected: &'static str,
    },
    /// A single-object result whose company or site is outside a limited role's scope
    /// (see [`RoleTable::check_result`]).
    #[error("`{tool}` returned `{field}` `{value}`, outside the scope of role `{role}`")]
    ResultOutOfScope {
        /// The role's display name.
        role: String,
        /// The namespaced tool name.
        tool: String,
        /// `companyId` or `siteId`.
        field: String,
        /// The id that is out of scope.
        value: String,
    },
}

/// The scope-bearing arguments of a call.
#[derive(Debug, Default)]
struct ScopeArguments {
    companies: Vec<(&'static str, String)>,
    sites: Vec<(&'static str, String)>,
}

impl RoleTable {
    /// In this order: unknown role, AI Assist off, each permission the tool declares, and for
    /// a limited-access role every `companyId`/`companyIds` argument must be a company of its
    /// scope and every `siteId`/`siteIds` a site of its scope (a site is not in scope because
    /// its company is: the host cannot tell which company a site id belongs to), with at
    /// least one of them present.
    pub fn check(
        &self,
        role: &str,
        tool: &ToolFacts<'_>,
        arguments: &Value,
    ) -> Result<(), RoleDenied> {
        let r = self.agent_role(role)?;
        if let Some(p) = tool.permissions.iter().find(|p| !r.has_permission(p)) {
            return Err(RoleDenied::MissingPermission {
                role: r.name.clone(),
                tool: tool.name.to_string(),
                permission: p.clone(),
            });
        }
        if !r.limited_access {
            return Ok(());
        }
        let args = scope_arguments(arguments)?;
        if args.companies.is_empty() && args.sites.is_empty() {
            return Err(RoleDenied::NoScopeArgument {
                role: r.name.clone(),
                tool: tool.name.to_string(),
            });
        }
        let out = |field: &str, value: &str| RoleDenied::OutOfScope {
            role: r.name.clone(),
            field: field.to_string(),
            value: value.to_string(),
        };
        for (field, id) in &args.companies {
            if !r.scope.has_company(id) {
                return Err(out(field, id));
            }
        }
        for (field, id) in &args.sites {
            if !r.scope.has_site(id) {
                return Err(out(field, id));
            }
        }
        Ok(())
    }

    /// For a single-object result (e.g. `cw-rmm-get-device` or `cw-rmm-create-ticket`): a
    /// limited role may not see one whose top-level `companyId`/`siteId` is out of scope.
    pub fn check_result(&self, role: &str, tool: &str, result: &Value) -> Result<(), RoleDenied> {
        let r = self.known(role)?;
        if !r.limited_access {
            return Ok(());
        }
        let field = |f: &str| result.get(f).and_then(Value::as_str);
        let bad = match (field("companyId"), field("siteId")) {
            (Some(c), _) if r.scope.has_company(c) => None,
            (_, Some(s)) if r.scope.has_site(s) => None,
            (Some(c), _) => Some(("companyId", c)),
            (None, Some(s)) => Some(("siteId", s)),
            (None, None) => None,
        };
        match bad {
            Some((field, value)) => Err(RoleDenied::ResultOutOfScope {
                role: r.name.clone(),
                tool: tool.to_string(),
                field: field.to_string(),
                value: value.to_string(),
            }),
            None => Ok(()),
        }
    }

    /// The role, if it may use tools through the agent at all (known, AI Assist on). Checked
    /// before anything else about a call, even before the tool is looked up.
    pub fn agent_role(&self, role: &str) -> Result<&Role, RoleDenied> {
        let r = self.known(role)?;
        if !r.ai_assist {
            return Err(RoleDenied::AiAssistOff {
                role: r.name.clone(),
            });
        }
        Ok(r)
    }

    pub(super) fn known(&self, role: &str) -> Result<&Role, RoleDenied> {
        self.get(role).ok_or_else(|| RoleDenied::UnknownRole {
            role: role.to_string(),
            known: self.names().into_iter().map(String::from).collect(),
        })
    }
}

fn scope_arguments(arguments: &Value) -> Result<ScopeArguments, RoleDenied> {
    let mut out = ScopeArguments::default();
    let Some(obj) = arguments.as_object() else {
        return Ok(out);
    };
    let bad = |field: &str, expected| RoleDenied::BadScopeArgument {
        field: field.to_string(),
        expected,
    };
    // (field, is a company, is a single id)
    for (field, company, single) in [
        ("companyId", true, true),
        ("companyIds", true, false),
        ("siteId", false, true),
        ("siteIds", false, false),
    ] {
        let ids: Vec<String> = match (obj.get(field), single) {
            (None | Some(Value::Null), _) => continue,
            (Some(Value::String(id)), true) => vec![id.clone()],
            (Some(Value::Array(ids)), false) => ids
                .iter()
                .map(|id| id.as_str().map(String::from))
                .collect::<Option<_>>()
                .ok_or_else(|| bad(field, "an array of strings"))?,
            (Some(_), true) => return Err(bad(field, "a string")),
            (Some(_), false) => return Err(bad(field, "an array of strings")),
        };
        let list = if company {
            &mut out.companies
        } else {
            &mut out.sites
        };
        list.extend(ids.into_iter().map(|id| (field, id)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::testing::tool_with_permissions;
    use serde_json::json;
    use std::path::Path;

    fn table() -> RoleTable {
        crate::roles::testing::matrix()
            .with_roles_text(
                Path::new("roles.toml"),
                "[roles.\"Client Site Manager\"]\ncompanies = [\"c1\"]\nsites = [\"s9\"]\n",
            )
            .unwrap()
    }

    #[test]
    fn unknown_role_lists_the_known_ones() {
        let tool = tool_with_permissions("cw-rmm-list-devices", &["devices:view"]);
        let err = table().check("Admin", &tool, &json!({})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown role `Admin`: known roles are Super Admin, Manager, Technician, Office \
             Staff, Sales, Client Site Manager"
        );
    }

    #[test]
    fn ai_assist_off_is_refused_before_permissions() {
        let tool = tool_with_permissions("cw-rmm-list-devices", &[]);
        let err = table().check("sales", &tool, &json!({})).unwrap_err();
        assert_eq!(
            err,
            RoleDenied::AiAssistOff {
                role: "Sales".into()
            }
        );
    }

    #[test]
    fn missing_permission_names_it_and_the_role() {
        let tool = tool_with_permissions("cw-rmm-run-task", &["scheduled-task:create"]);
        let err = table()
            .check("Client Site Manager", &tool, &json!({"companyId": "c1"}))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "role `Client Site Manager` lacks the permission `scheduled-task:create` that \
             `connectwise_rmm:cw-rmm-run-task` requires"
        );
        assert!(table().check("technician", &tool, &json!({})).is_ok());
    }

    #[test]
    fn limited_roles_must_name_an_in_scope_company_or_site() {
        let t = table();
        let tool = tool_with_permissions("cw-rmm-list-devices", &["devices:view"]);
        let csm = "client-site-manager";
        let err = t.check(csm, &tool, &json!({"name": "DC01"})).unwrap_err();
        assert!(matches!(err, RoleDenied::NoScopeArgument { .. }));
        assert!(err.to_string().contains("pass `companyId`"));
        assert!(t.check(csm, &tool, &json!({"companyId": "C1"})).is_ok());
        assert!(t.check(csm, &tool, &json!({"siteId": "s9"})).is_ok());
        assert!(t
            .check(
                csm,
                &tool,
                &json!({"companyIds": ["c1"], "siteIds": ["s9"]})
            )
            .is_ok());
        let err = t
            .check(csm, &tool, &json!({"companyId": "c2"}))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`companyId` `c2` is outside the companies and sites role `Client Site Manager` is \
             scoped to"
        );
        // A site of an in-scope company is not provably in scope.
        assert!(t
            .check(csm, &tool, &json!({"companyId": "c1", "siteId": "s2"}))
            .is_err());
        assert!(t
            .check(csm, &tool, &json!({"companyIds": ["c1", "c3"]}))
            .is_err());
        assert!(matches!(
            t.check(csm, &tool, &json!({"companyId": 7})),
            Err(RoleDenied::BadScopeArgument { .. })
        ));
        assert!(matches!(
            t.check(csm, &tool, &json!({"companyIds": "c1"})),
            Err(RoleDenied::BadScopeArgument { .. })
        ));
        // Unlimited roles need no scope argument.
        assert!(t.check("Manager", &tool, &json!({})).is_ok());
    }

    #[test]
    fn default_client_site_manager_has_an_empty_scope() {
        let tool = tool_with_permissions("cw-rmm-list-devices", &["devices:view"]);
        let t = crate::roles::testing::matrix();
        assert!(matches!(
            t.check("Client Site Manager", &tool, &json!({"companyId": "c1"})),
            Err(RoleDenied::OutOfScope { .. })
        ));
    }

    #[test]
    fn single_results_outside_the_scope_are_refused() {
        let t = table();
        let csm = "Client Site Manager";
        assert!(t
            .check_result(csm, "t", &json!({"companyId": "c1"}))
            .is_ok());
        assert!(t
            .check_result(csm, "t", &json!({"siteId": "s9", "companyId": "c5"}))
            .is_ok());
        assert!(t
            .check_result(csm, "t", &json!({"companyId": "c5"}))
            .is_err());
        assert!(t.check_result(csm, "t", &json!({"devices": []})).is_ok());
        assert!(t
            .check_result("Technician", "t", &json!({"companyId": "c5"}))
            .is_ok());
    }
}
