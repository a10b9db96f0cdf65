//! The host's side of grants: checking the component against its grant when it opens,
//! recording a grant at connect, and `toolhost grant show` / `accept`.

use super::diff::GrantDiff;
use super::model::Grant;
use super::origins::needs_explicit_allow;
use crate::catalog::ToolEntry;
use crate::error::HostError;
use crate::host::{Connection, ToolHost};
use toolhost_sandbox::Origin;

/// What `toolhost grant show` reports.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantReview {
    /// What was accepted, if anything.
    pub granted: Option<Grant>,
    /// What the component and the tenant offer now.
    pub current: Grant,
    /// Every difference, one line each.
    pub changes: GrantDiff,
    /// Reads sent with another method than GET or HEAD.
    pub warnings: Vec<String>,
}

impl ToolHost {
    /// At open: compare the component with the connection's grant. A difference, or no grant
    /// at all, keeps every call refused until the operator accepts.
    pub(crate) async fn check_grant(&mut self) -> Result<(), HostError> {
        let Some(connection) = &self.connection else {
            return Ok(());
        };
        let now = self.grant_facts(connection, &[])?;
        self.grant =
            super::stored::load(&self.config)
                .await
                .map_err(|detail| HostError::NotGranted {
                    what: "the connection".into(),
                    changes: detail,
                })?;
        self.grant_mismatch = match &self.grant {
            None => Some(GrantDiff(vec![
                "no grant is recorded for this connection".into()
            ])),
            Some(granted) => Some(GrantDiff::component(granted, &now)).filter(|d| !d.is_empty()),
        };
        Ok(())
    }

    /// Refuses while the component does not match its grant.
    pub(crate) fn refuse_ungranted(&self) -> Result<(), HostError> {
        match &self.grant_mismatch {
            Some(diff) => Err(HostError::NotGranted {
                what: format!("plugin `{}`", self.metadata().id),
                changes: diff.to_string(),
            }),
            None => Ok(()),
        }
    }

    /// A tool that exists but is withheld because its declaration changed since it was
    /// granted: the error to give instead of "unknown tool".
    pub(crate) fn withheld(&self, entries: &[ToolEntry], name: &str) -> Option<HostError> {
        let grant = self.grant.as_ref()?;
        let entry = crate::catalog::resolve(&self.metadata().id, entries, name).ok()?;
        (!grant.serves(entry)).then(|| HostError::NotGranted {
            what: format!("`{}`", entry.name),
            changes: "its declaration changed since it was granted (not served until accepted)"
                .into(),
        })
    }

    /// The declared extra origins of `region` that need the operator's explicit consent and
    /// did not get it.
    pub(crate) fn check_extra_origins(
        &self,
        region: &str,
        allowed: &[Origin],
    ) -> Result<(), HostError> {
        let Some(r) = self.metadata().region(region) else {
            return Ok(());
        };
        for origin in &r.extra_origins {
            if let Some(reason) = needs_explicit_allow(origin) {
                if !allowed.contains(origin) {
                    return Err(HostError::OriginNotAllowed {
                        origin: origin.url(),
                        reason: reason.to_string(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The component's facts now, with `tools`.
    pub(crate) fn grant_facts(
        &self,
        connection: &Connection,
        tools: &[ToolEntry],
    ) -> Result<Grant, HostError> {
        let sha = &self.runtime.compile_report().component_sha256;
        let region = &connection.settings.region;
        Grant::of(sha, self.metadata(), region, tools, &self.operator_label()).ok_or_else(|| {
            HostError::UnknownRegion {
                region: region.clone(),
                known: self.metadata().region_ids().join(", "),
            }
        })
    }

    /// The facts of `connection` with every tool it offers now (the tenant's discovered).
    pub(crate) async fn current_grant(&self, connection: &Connection) -> Result<Grant, HostError> {
        let engine = self.policy_engine()?;
        let tenant = connection.tenant();
        let tools = self
            .catalog
            .list(&self.runtime, Some(&tenant), &engine, false)
            .await?;
        self.grant_facts(connection, &tools)
    }

    pub(crate) async fn record_grant(&mut self, grant: Grant) -> Result<(), HostError> {
        super::stored::save(&self.config, &grant)
            .await
            .map_err(|e| HostError::NotGranted {
                what: "the connection".into(),
                changes: format!("the grant could not be saved: {e}"),
            })?;
        self.grant = Some(grant);
        self.grant_mismatch = None;
        Ok(())
    }

    fn operator_label(&self) -> String {
        std::env::var("USER").unwrap_or_else(|_| "operator".into())
    }

    /// `toolhost grant show`: the grant, what the component and tenant offer now, and every
    /// difference.
    pub async fn grant_review(&self) -> Result<GrantReview, HostError> {
        let connection = self.connection.as_ref().ok_or(HostError::NotConnected)?;
        let current = self.current_grant(connection).await?;
        let changes = match &self.grant {
            Some(granted) => GrantDiff::full(granted, &current),
            None => GrantDiff(vec!["no grant is recorded for this connection".into()]),
        };
        Ok(GrantReview {
            warnings: current.warnings(),
            granted: self.grant.clone(),
            current,
            changes,
        })
    }

    /// `toolhost grant accept`: records what the component and tenant offer now as the
    /// grant, keeping the origins the operator allowed before; calls run again.
    pub async fn accept_grant(&mut self, by: &str) -> Result<GrantReview, HostError> {
        let mut review = self.grant_review().await?;
        let connection = self.connection.as_ref().ok_or(HostError::NotConnected)?;
        let allowed = self
            .grant
            .as_ref()
            .map(|g| g.allowed_origins.clone())
            .unwrap_or_default();
        self.check_extra_origins(&connection.settings.region, &allowed)?;
        review.current.allowed_origins = allowed;
        review.current.accepted_by = by.to_string();
        self.record_grant(review.current.clone()).await?;
        Ok(review)
    }
}
