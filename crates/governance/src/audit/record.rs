//! One audit line.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// What the host decided about a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditDecision {
    /// Policy auto: ran.
    Auto,
    /// Policy approval: recorded a pending approval, did nothing upstream.
    Approval,
    /// Policy never: refused.
    Never,
    /// The caller's role may not make the call; policy was not consulted.
    RoleDenied,
    /// An operator approved a pending approval: its single run.
    Approved,
    /// Refused before any decision: unknown tool, invalid arguments, unusable policy.
    Invalid,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditOutcome {
    /// Ran and succeeded.
    Ok,
    /// Ran (or tried to) and failed.
    Error,
    /// Waiting for an operator.
    PendingApproval,
    /// Refused by policy, role or validation.
    Refused,
    /// An operator denied the approval.
    Denied,
}

macro_rules! string_forms {
    ($ty:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order: what parsing accepts and errors list.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),*];

            /// The kebab-case name used in the log, on the command line and in messages.
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text),* }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = String;

            fn from_str(s: &str) -> Result<$ty, String> {
                $ty::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    let all: Vec<_> = $ty::ALL.iter().map(|v| v.as_str()).collect();
                    format!("unknown {} `{s}`: expected one of {}", stringify!($ty), all.join(", "))
                })
            }
        }
    };
}

string_forms!(AuditDecision {
    Auto => "auto",
    Approval => "approval",
    Never => "never",
    RoleDenied => "role-denied",
    Approved => "approved",
    Invalid => "invalid",
});

string_forms!(AuditOutcome {
    Ok => "ok",
    Error => "error",
    PendingApproval => "pending-approval",
    Refused => "refused",
    Denied => "denied",
});

/// One call attempt. Arguments are only ever stored redacted (see [`super::redact`]); the
/// digest is of the exact arguments, so an approval and its run can be matched.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// When the attempt was recorded (after it ran, for calls that ran).
    pub time: DateTime<Utc>,
    /// The tenant the attempt was made in (a tenant name, `default` for the default tenant).
    /// Empty in a record written before records named their tenant: such a record is the
    /// tenant's whose log holds it.
    #[serde(default)]
    pub tenant: String,
    /// Who made the call (the agent's session, or the operator approving it).
    pub caller: String,
    /// The role the call was judged under (for an approved run, the requester's).
    pub role: String,
    /// Namespaced tool name, as requested.
    pub tool: String,
    /// Lowercase hex SHA-256 of the exact arguments ([`arguments_sha256`]): the same digest
    /// an approval records, so a pending approval and its later run can be matched.
    pub arguments_sha256: String,
    /// The arguments after [`redact`](crate::redact): secret-looking keys and known secrets
    /// removed, so the log itself never becomes a place to steal credentials from.
    pub arguments_redacted: Value,
    /// What the host decided.
    pub decision: AuditDecision,
    /// The rule that made the decision, in words (a policy explanation or a refusal).
    pub rule: String,
    /// The approval this attempt created or ran, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
    /// What happened.
    pub outcome: AuditOutcome,
    /// The error message, scrubbed of secrets, when the call failed or was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// HTTP status of every upstream exchange, in order.
    #[serde(default)]
    pub upstream_status: Vec<u16>,
    /// Microseconds spent instantiating the plugin; 0 when nothing ran.
    #[serde(default)]
    pub instantiate_us: u64,
    /// Microseconds spent running the call in the plugin; 0 when nothing ran.
    #[serde(default)]
    pub execute_us: u64,
}

/// Lowercase hex SHA-256 of the arguments' JSON text (`serde_json::to_string`).
pub fn arguments_sha256(arguments: &Value) -> String {
    let text = serde_json::to_string(arguments).unwrap_or_default();
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn string_forms_round_trip() {
        for d in AuditDecision::ALL {
            assert_eq!(d.as_str().parse::<AuditDecision>(), Ok(*d));
            assert_eq!(serde_json::to_value(d).unwrap(), d.as_str());
        }
        for o in AuditOutcome::ALL {
            assert_eq!(o.as_str().parse::<AuditOutcome>(), Ok(*o));
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
        }
        assert!("allow"
            .parse::<AuditDecision>()
            .unwrap_err()
            .contains("role-denied"));
    }

    #[test]
    fn a_record_names_its_tenant_and_an_older_one_without_it_still_reads() {
        let older = json!({
            "time": "2026-01-02T03:04:05Z", "caller": "agent", "role": "Technician",
            "tool": "p:list", "argumentsSha256": "00", "argumentsRedacted": {},
            "decision": "auto", "rule": "auto", "outcome": "ok"
        });
        let mut record: AuditRecord = serde_json::from_value(older).unwrap();
        assert_eq!(record.tenant, "");
        record.tenant = "acme".into();
        let written = serde_json::to_value(&record).unwrap();
        assert_eq!(written["tenant"], "acme");
        let read: AuditRecord = serde_json::from_value(written).unwrap();
        assert_eq!(read, record);
    }

    #[test]
    fn digest_matches_the_approval_store() {
        let args = json!({"templateId": "t"});
        assert_eq!(
            arguments_sha256(&args),
            crate::approvals::model::sha256_hex(&serde_json::to_string(&args).unwrap())
        );
    }
}
