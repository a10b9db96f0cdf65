//! Credentials the host holds so the plugin never does.

pub(crate) mod error;
pub(crate) mod mint;
pub(crate) mod oauth2;
pub(crate) mod token_file;
pub(crate) mod token_store;

pub use error::CredentialError;
pub use mint::{BodyEncoding, ClientCredentials, TokenEndpoint};
pub use oauth2::{AccessToken, TokenProvider};
pub use token_file::{TOKEN_FILE, TOKEN_LOCK_FILE};
pub use token_store::{
    SharedToken, StoreError, StoreGuard, StoredToken, TokenBackend, TokenBinding, TokenLock,
    TokenStore,
};
