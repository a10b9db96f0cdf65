pub mod credentials;
pub mod outbound;
pub mod runtime;
