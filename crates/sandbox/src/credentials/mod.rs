//! Credentials the host holds so the plugin never does.

pub(crate) mod oauth2;

pub use oauth2::{
    AccessToken, BodyEncoding, ClientCredentials, CredentialError, TokenEndpoint, TokenProvider,
};
