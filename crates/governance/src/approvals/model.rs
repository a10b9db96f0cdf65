//! An approval record and its states.

use crate::approvers::PasskeyEvidence;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// Where an approval is in its life. Only `Pending` can move, to `Denied` or `Executing`;
/// `Executing` moves to `Executed`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum ApprovalState {
    /// Waiting for an operator (possibly past its expiry; see [`ApprovalStatus`]).
    Pending,
    /// An operator refused it; it never runs.
    Denied {
        /// Who denied it.
        by: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Approved and claimed: its single run is under way (or the process died during it).
    Executing {
        /// Who approved it.
        by: String,
        /// When it was claimed.
        at: DateTime<Utc>,
    },
    /// Approved and run.
    Executed {
        /// Who approved it.
        by: String,
        /// When the run finished.
        at: DateTime<Utc>,
        /// How the run ended, as the host reported it (`ok` or `error: ...`).
        outcome: String,
        /// What the run returned, kept for the requester that retries its call (an MCP
        /// 2026-07-28 client holding the round's `requestState`): absent when the run
        /// failed, when the result was larger than [`MAX_KEPT_RESULT`], and in approvals
        /// written before results were kept. Never listed ([`Approval::without_result`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        result: Option<Value>,
    },
}

/// The largest run result (as JSON text) an approval keeps: 1 MiB.
pub const MAX_KEPT_RESULT: usize = 1 << 20;

/// A pending approval: the call, exactly as requested, and who asked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Approval {
    /// UUID v4.
    pub id: String,
    /// Namespaced tool name.
    pub tool: String,
    /// The exact JSON text of the arguments; this is what runs.
    pub arguments: String,
    /// Lowercase hex SHA-256 of `arguments`, checked whenever the record is read.
    pub arguments_sha256: String,
    /// Who made the call; the run is audited under this caller, not the approver.
    pub requester: String,
    /// The requester's role, checked again when the approved call runs.
    pub role: String,
    /// Digest of the tool's declaration as it was when the call was held (for a script tool
    /// it names the script template): the approval runs only while the tool is unchanged.
    /// Absent in approvals written before tools were bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_digest: Option<String>,
    /// What the call would do, as the plugin previewed it when the call was held: what the
    /// person approves. Approving runs the preview again and refuses when it changed.
    /// Absent for tools without a preview and in approvals written before previews.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<super::preview::Preview>,
    /// When the call was held.
    pub created_at: DateTime<Utc>,
    /// After this it can no longer be approved (only denied).
    pub expires_at: DateTime<Utc>,
    /// Where it is in its life; flattened, so the record reads `"state": "denied", "by": ...`.
    #[serde(flatten)]
    pub state: ApprovalState,
    /// The approver's passkey assertion, when it was approved with one (see
    /// [`crate::PasskeyEvidence`]): bound to [`Approval::digest`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passkey: Option<PasskeyEvidence>,
}

impl Approval {
    /// The arguments to run with, parsed from the exact approved text.
    pub fn arguments_value(&self) -> Result<Value, serde_json::Error> {
        serde_json::from_str(&self.arguments)
    }

    /// Whether `now` is at or past [`Approval::expires_at`] (whatever the state).
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at
    }

    /// The state as listed at `now`: a pending approval past its expiry is `Expired`.
    pub fn status(&self, now: DateTime<Utc>) -> ApprovalStatus {
        match self.state {
            ApprovalState::Pending if self.is_expired(now) => ApprovalStatus::Expired,
            ApprovalState::Pending => ApprovalStatus::Pending,
            ApprovalState::Denied { .. } => ApprovalStatus::Denied,
            ApprovalState::Executing { .. } => ApprovalStatus::Executing,
            ApprovalState::Executed { .. } => ApprovalStatus::Executed,
        }
    }

    /// Lowercase hex SHA-256 over what an approver approves: the id, the tool, the exact
    /// arguments text, the script identity ([`Approval::tool_digest`]), the requester and the
    /// role, each length-prefixed so no two records share a digest by shifting text between
    /// fields. A passkey approval signs a challenge derived from it.
    pub fn digest(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(b"toolhost-approval-v1");
        let fields = [
            self.id.as_str(),
            self.tool.as_str(),
            self.arguments.as_str(),
            self.tool_digest.as_deref().unwrap_or(""),
            self.requester.as_str(),
            self.role.as_str(),
        ];
        for field in fields {
            hash.update((field.len() as u64).to_be_bytes());
            hash.update(field.as_bytes());
        }
        hex::encode(hash.finalize())
    }

    /// The record as listed: without the run's result, which is the requester's data,
    /// not the operator's list.
    pub fn without_result(mut self) -> Approval {
        if let ApprovalState::Executed { result, .. } = &mut self.state {
            *result = None;
        }
        self
    }

    /// The command that approves (and so runs) this call.
    pub fn approve_command(&self) -> String {
        format!("toolhost approvals approve {}", self.id)
    }
}

/// Lowercase hex SHA-256.
pub(crate) fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// What `toolhost approvals list` shows: the state, with pending split by expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalStatus {
    /// Pending and still approvable.
    Pending,
    /// Pending but past its expiry: it can only be denied.
    Expired,
    /// Denied by an operator.
    Denied,
    /// Approved; its run is under way.
    Executing,
    /// Approved and run.
    Executed,
}

impl ApprovalStatus {
    /// The lowercase name `toolhost approvals list --status` takes and shows.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Expired => "expired",
            ApprovalStatus::Denied => "denied",
            ApprovalStatus::Executing => "executing",
            ApprovalStatus::Executed => "executed",
        }
    }
}

impl fmt::Display for ApprovalStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ApprovalStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<ApprovalStatus, String> {
        [
            ApprovalStatus::Pending,
            ApprovalStatus::Expired,
            ApprovalStatus::Denied,
            ApprovalStatus::Executing,
            ApprovalStatus::Executed,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
        .ok_or_else(|| {
            format!(
                "unknown approval status `{s}`: expected pending, expired, denied, executing or executed"
            )
        })
    }
}

/// Which approvals to list.
#[derive(Debug, Clone, Default)]
pub struct ApprovalFilter {
    /// Only approvals in this status (expiry counted at listing time).
    pub status: Option<ApprovalStatus>,
    /// Substring of the tool name.
    pub tool_contains: Option<String>,
}

impl ApprovalFilter {
    /// What is waiting for an operator: pending and not yet expired.
    pub fn pending() -> ApprovalFilter {
        ApprovalFilter {
            status: Some(ApprovalStatus::Pending),
            tool_contains: None,
        }
    }

    /// Whether `a` passes every set condition, with expiry judged at `now`.
    pub fn matches(&self, a: &Approval, now: DateTime<Utc>) -> bool {
        self.status.is_none_or(|s| a.status(now) == s)
            && self
                .tool_contains
                .as_deref()
                .is_none_or(|t| a.tool.contains(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(state: ApprovalState) -> Approval {
        let now = Utc::now();
        Approval {
            id: "00000000-0000-4000-8000-000000000000".into(),
            tool: "connectwise_rmm:cw-rmm-run-task".into(),
            arguments: r#"{"templateId":"t1"}"#.into(),
            arguments_sha256: sha256_hex(r#"{"templateId":"t1"}"#),
            requester: "agent".into(),
            role: "Technician".into(),
            tool_digest: None,
            preview: None,
            created_at: now,
            expires_at: now + chrono::Duration::hours(24),
            state,
            passkey: None,
        }
    }

    #[test]
    fn serializes_state_inline() {
        let a = sample(ApprovalState::Denied {
            by: "ops".into(),
            at: Utc::now(),
        });
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v["state"], "denied");
        assert_eq!(v["by"], "ops");
        assert_eq!(v["argumentsSha256"].as_str().unwrap().len(), 64);
        let back: Approval = serde_json::from_value(v).unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn status_splits_pending_by_expiry() {
        let a = sample(ApprovalState::Pending);
        assert_eq!(a.status(a.created_at), ApprovalStatus::Pending);
        assert_eq!(a.status(a.expires_at), ApprovalStatus::Expired);
        assert_eq!("executed".parse(), Ok(ApprovalStatus::Executed));
        assert!("done".parse::<ApprovalStatus>().is_err());
        assert_eq!(
            a.approve_command(),
            "toolhost approvals approve 00000000-0000-4000-8000-000000000000"
        );
    }

    #[test]
    fn the_digest_covers_every_approved_field() {
        let a = sample(ApprovalState::Pending);
        let digest = a.digest();
        assert_eq!(digest.len(), 64);
        // Only what the approver approves counts: the state does not.
        let decided = Approval {
            state: ApprovalState::Denied {
                by: "ops".into(),
                at: Utc::now(),
            },
            ..a.clone()
        };
        assert_eq!(decided.digest(), digest);
        let changes: [fn(&mut Approval); 6] = [
            |a| a.id = "00000000-0000-4000-8000-000000000001".into(),
            |a| a.tool.push('x'),
            |a| a.arguments = r#"{"templateId":"t2"}"#.into(),
            |a| a.tool_digest = Some("script-b".into()),
            |a| a.requester = "agent2".into(),
            |a| a.role = "Admin".into(),
        ];
        for change in changes {
            let mut b = a.clone();
            change(&mut b);
            assert_ne!(b.digest(), digest, "{b:?}");
        }
        // Text moved from one field to the next is another approval.
        let mut shifted = a.clone();
        shifted.requester = "agentT".into();
        shifted.role = "echnician".into();
        assert_ne!(shifted.digest(), digest);
    }

    #[test]
    fn sha256_is_lowercase_hex() {
        assert_eq!(
            sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
