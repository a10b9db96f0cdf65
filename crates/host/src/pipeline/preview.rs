//! Previews of held calls: what a call would do, in words, computed by the plugin with reads
//! only (the sandbox drops the tool's write routes for it) when the call is held for
//! approval, shown to the person who decides and kept with the approval. Approving computes
//! it again: a call whose preview changed since (the device moved to another company, the
//! script was renamed) or now fails is refused, its approval void, and nothing is sent.
//!
//! A preview fails as the call would (invalid arguments, a script that is gone, a request the
//! gate refused): that failure is the caller's answer, and nothing is held.

use super::admission::{Admitted, CallRequest};
use crate::error::HostError;
use crate::host::ToolHost;
use toolhost_governance::{Approval, Preview};

impl ToolHost {
    /// The plugin's preview of an admitted call, cleaned for showing; `None` when the tool
    /// has none or no tenant is connected (nothing could be read, and nothing can run). A
    /// failed preview is a [`HostError::Call`] failure, as the call's own would be.
    pub(super) async fn preview(
        &self,
        request: &CallRequest<'_>,
        admitted: &Admitted,
    ) -> Result<Option<Preview>, HostError> {
        let Some(connection) = self.connection.as_ref() else {
            return Ok(None);
        };
        let entry = &admitted.entry;
        let outcome = self
            .runtime
            .preview_call(
                // No progress: a preview is a few reads before a question, and a spinner
                // would draw over the prompt that follows.
                connection
                    .context
                    .clone()
                    .scoped(entry.descriptor.routes_for(&entry.name)),
                &entry.descriptor.name,
                request.arguments,
            )
            .await;
        match outcome.result {
            Ok(preview) => Ok(preview.map(|p| Preview::sanitized(&p.summary, p.facts))),
            Err(failure) => Err(HostError::Call {
                tool: entry.name.clone(),
                failure,
                upstream_statuses: outcome.exchanges.iter().filter_map(|e| e.status).collect(),
            }),
        }
    }

    /// Refuses to run `approval` unless the preview it was granted on still holds.
    pub(super) async fn confirm_preview(
        &self,
        request: &CallRequest<'_>,
        admitted: &Admitted,
        approval: &Approval,
    ) -> Result<(), HostError> {
        let Some(granted) = &approval.preview else {
            return Ok(());
        };
        let changes = match self.preview(request, admitted).await {
            Ok(Some(now)) => now.changes_since(granted),
            Ok(None) => vec!["the tool no longer gives a preview".to_string()],
            Err(HostError::Call { failure, .. }) => {
                vec![format!("its preview now fails: {failure}")]
            }
            Err(other) => return Err(other),
        };
        if changes.is_empty() {
            return Ok(());
        }
        let err = HostError::PreviewChanged {
            tool: admitted.entry.name.clone(),
            id: approval.id.clone(),
            changes: changes.join("; "),
        };
        self.refuse(
            &admitted.attempt(request),
            toolhost_governance::AuditDecision::Invalid,
            err,
        )
        .await
    }
}
