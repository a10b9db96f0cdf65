//! Admission: may this call run at all, and under which mode? The same steps, in the same
//! order, for a fresh call and for an approved one:
//!
//! the role may use the agent -> the tool exists -> the role may use the tool with these
//! arguments -> the policy's mode -> the arguments match the tool's schema -> not `never`.
//!
//! The policy and roles files are read once, the arguments parsed once; the admitted call
//! keeps what it was admitted with. A refusal is audited here, so callers only see errors.

use super::record::Attempt;
use crate::arguments::parse_arguments;
use crate::catalog::{qualified_name, resolve, ToolEntry};
use crate::error::HostError;
use crate::host::ToolHost;
use serde_json::Value;
use toolhost_governance::{AuditDecision, Decision, Mode, PolicyEngine, RoleTable, ToolKind};

/// What is asked: a tool, its arguments as sent, on whose behalf.
pub(crate) struct CallRequest<'a> {
    pub tool: &'a str,
    pub arguments: &'a str,
    pub caller: &'a str,
    /// The role claimed for a fresh call (`None`: the default), or an approval's role.
    pub role: Option<&'a str>,
    /// Set when running an approval.
    pub approval_id: Option<&'a str>,
    /// The declaration an approval was granted on: the tool must still be exactly that.
    pub tool_digest: Option<&'a str>,
    /// Told of each upstream exchange as it completes.
    pub progress: Option<toolhost_sandbox::ExchangeObserver>,
}

/// A call that may run: everything after admission acts on exactly this.
pub(crate) struct Admitted {
    pub entry: ToolEntry,
    pub role: String,
    pub roles: RoleTable,
    pub decision: Decision,
    /// The validated arguments.
    pub arguments: Value,
}

impl Admitted {
    pub fn attempt<'a>(&'a self, request: &'a CallRequest<'_>) -> Attempt<'a> {
        Attempt {
            tool: &self.entry.name,
            caller: request.caller,
            role: &self.role,
            arguments: &self.arguments,
            approval_id: request.approval_id,
        }
    }
}

impl ToolHost {
    pub(crate) async fn admit(&self, request: &CallRequest<'_>) -> Result<Admitted, HostError> {
        // Unparseable arguments are still recorded, as the text that was sent.
        let parsed = parse_arguments(request.arguments);
        let recorded = match &parsed {
            Ok(value) => value.clone(),
            Err(_) => Value::String(request.arguments.to_string()),
        };
        let roles = self.role_table();
        let engine = self.policy_engine();
        let role = self.resolve_role(request.role, roles.as_ref().ok(), engine.as_ref().ok());
        let mut attempt = Attempt {
            tool: request.tool,
            caller: request.caller,
            role: &role,
            arguments: &recorded,
            approval_id: request.approval_id,
        };
        let (roles, engine) = match (roles, engine) {
            (Ok(roles), Ok(engine)) => (roles, engine),
            (Err(err), _) | (_, Err(err)) => {
                return self.refuse(&attempt, AuditDecision::Invalid, err).await
            }
        };
        let plugin_id = &self.metadata().id;
        // A role that may not use the agent learns nothing, not even which tools exist.
        if let Err(denied) = roles.agent_role(&role) {
            let tool = qualified_name(plugin_id, request.tool);
            let err = HostError::RoleDenied {
                tool: tool.clone(),
                denied,
            };
            attempt.tool = &tool;
            return self.refuse(&attempt, AuditDecision::RoleDenied, err).await;
        }
        // A component that does not match its grant runs nothing, not even a lookup.
        if let Err(err) = self.refuse_ungranted() {
            return self.refuse(&attempt, AuditDecision::Invalid, err).await;
        }
        let found = match request.tool_digest {
            Some(digest) => self.find_approved_tool(request, digest, &engine).await,
            None => self.find_tool(request.tool, &engine).await,
        };
        let entry = match found {
            Ok(entry) => entry,
            Err(err) => return self.refuse(&attempt, AuditDecision::Invalid, err).await,
        };
        attempt.tool = &entry.name;
        if let Err(denied) = roles.check(&role, &entry.facts(), &recorded) {
            let err = HostError::RoleDenied {
                tool: entry.name.clone(),
                denied,
            };
            return self.refuse(&attempt, AuditDecision::RoleDenied, err).await;
        }
        let decision = engine.decide(&entry.facts());
        let checked =
            parsed.and_then(|value| self.catalog.check_arguments(&entry, &value).map(|()| value));
        let arguments = match checked {
            Ok(value) => value,
            Err(error) => {
                let err = HostError::InvalidArguments {
                    tool: entry.name.clone(),
                    error,
                };
                return self.refuse(&attempt, AuditDecision::Invalid, err).await;
            }
        };
        if decision.mode == Mode::Never {
            let err = HostError::Refused {
                tool: entry.name.clone(),
                reason: decision.explanation.clone(),
            };
            return self.refuse(&attempt, AuditDecision::Never, err).await;
        }
        Ok(Admitted {
            entry,
            role,
            roles,
            decision,
            arguments,
        })
    }

    /// The tool named `name` (namespaced or bare); a miss triggers one rediscovery, in
    /// case a script was added since the catalog was built.
    async fn find_tool(&self, name: &str, engine: &PolicyEngine) -> Result<ToolEntry, HostError> {
        // The common case: the tool is in the catalog and granted. Only that entry is built.
        let tenant = self.connection.as_ref().map(|c| c.tenant());
        let found = self
            .catalog
            .find(&self.runtime, tenant.as_ref(), engine, name)
            .await?;
        if let Some(entry) = found {
            if self.grant.as_ref().is_none_or(|grant| grant.serves(&entry)) {
                return Ok(entry);
            }
        }
        let plugin_id = &self.metadata().id;
        let unknown = |suggestion| HostError::UnknownTool {
            name: name.to_string(),
            suggestion,
        };
        let entries = self.list(engine, false).await?;
        let found = match resolve(plugin_id, &entries, name) {
            Ok(entry) => Ok(entry.clone()),
            Err(suggestion) if !self.is_connected() => Err(unknown(suggestion)),
            Err(_) => {
                let entries = self.list(engine, true).await?;
                resolve(plugin_id, &entries, name).cloned().map_err(unknown)
            }
        };
        if found.is_err() {
            // Not served is not the same as unknown: say why, and how to accept it.
            let all = self.list_all(engine, false).await?;
            if let Some(err) = self.withheld(&all, name) {
                return Err(err);
            }
        }
        found
    }

    /// The tool an approval was granted on, as the tenant has it now: a discovered tool is
    /// discovered again (a script may have been renamed or replaced since the call was held),
    /// and a tool whose declaration changed is refused, which voids the approval.
    async fn find_approved_tool(
        &self,
        request: &CallRequest<'_>,
        digest: &str,
        engine: &PolicyEngine,
    ) -> Result<ToolEntry, HostError> {
        let void = |change: &str| HostError::ToolChanged {
            tool: qualified_name(&self.metadata().id, request.tool),
            id: request.approval_id.unwrap_or_default().to_string(),
            change: change.to_string(),
        };
        let mut entry = self.find_tool(request.tool, engine).await?;
        if entry.kind == ToolKind::Discovered {
            // Every tool, withheld ones too: a changed declaration voids the approval with
            // that reason, not as if the tool were gone.
            let entries = self.list_all(engine, true).await?;
            entry = resolve(&self.metadata().id, &entries, request.tool)
                .cloned()
                .map_err(|_| void("it is no longer in the tenant"))?;
        }
        if entry.digest() != digest {
            return Err(void(
                "its declaration is not the one the approval was requested on (a script \
                 renamed or replaced in the tenant, or a changed plugin)",
            ));
        }
        Ok(entry)
    }

    fn role_table(&self) -> Result<RoleTable, HostError> {
        Ok(self
            .default_roles
            .clone()
            .with_roles_file(&self.config.roles_file)?)
    }

    /// The claimed role, else the policy file's default, else the configured default, else the
    /// plugin's; in the table's spelling when the table knows it (an unknown role is refused
    /// later, by name).
    fn resolve_role(
        &self,
        claimed: Option<&str>,
        roles: Option<&RoleTable>,
        engine: Option<&PolicyEngine>,
    ) -> String {
        let role = claimed
            .or_else(|| engine.and_then(PolicyEngine::default_role))
            .or(self.config.default_role.as_deref())
            .unwrap_or_else(|| self.plugin_default_role())
            .to_string();
        roles
            .and_then(|t| t.get(&role))
            .map_or(role, |r| r.name.clone())
    }
}
