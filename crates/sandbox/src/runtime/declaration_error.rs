//! Why the host refuses what a plugin declares about itself.

/// A declaration the host refuses, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid plugin declaration: {field}: {message}")]
pub struct DeclarationError {
    /// The offending field, e.g. `regions[0].api` or ``tool `x`.input-schema``.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> DeclarationError {
    DeclarationError {
        field: field.into(),
        message: message.into(),
    }
}
