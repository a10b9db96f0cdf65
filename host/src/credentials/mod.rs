//! Credentials the host holds so the plugin never does.

pub mod oauth2;
pub mod secret;

pub use oauth2::{AccessToken, ClientCredentials, CredentialError, TokenEndpoint, TokenProvider};
pub use secret::SecretString;
