//! Approval ids: a UUID in its canonical form, so an id can name a file and nothing else.

use super::error::ApprovalError;

/// A UUID in its canonical lowercase hyphenated form: never a path.
pub(crate) fn canonical_id(id: &str) -> Result<String, ApprovalError> {
    uuid::Uuid::parse_str(id)
        .ok()
        .filter(|_| id.len() == 36)
        .map(|u| u.hyphenated().to_string())
        .ok_or_else(|| ApprovalError::InvalidId(id.to_string()))
}
