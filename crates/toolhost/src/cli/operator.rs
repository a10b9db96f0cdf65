//! Who is at the keyboard: how the CLI names its operator in audit records and approvals.

/// Who is at the keyboard, for audit records and approvals.
pub fn operator_name() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "operator".into())
}
