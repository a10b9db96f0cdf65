//! Bearer tokens: 32 bytes from the operating system's random source, hex, with a prefix
//! that secret scanners and people recognise.

use super::error::ClientError;
use sha2::{Digest, Sha256};
use toolhost_base::SecretString;

/// What every client token starts with.
pub const TOKEN_PREFIX: &str = "thc_";

/// A client's bearer token, shown to the operator once. Never prints (`Debug` and `Display`
/// are redacted); [`ClientToken::expose`] is the one way to the text.
#[derive(Debug, Clone)]
pub struct ClientToken(SecretString);

impl ClientToken {
    /// A fresh token.
    pub(super) fn generate() -> Result<ClientToken, ClientError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| ClientError::Random(e.to_string()))?;
        Ok(ClientToken(SecretString::new(format!(
            "{TOKEN_PREFIX}{}",
            hex::encode(bytes)
        ))))
    }

    /// The token's text, for the one place that shows it to the operator.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

/// Lowercase hex SHA-256 of `token`: what the registry stores and compares.
pub(super) fn token_sha256(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Equal without an early exit, so the time taken says nothing about how much matched.
pub(super) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_hash_to_hex() {
        let a = ClientToken::generate().unwrap();
        let b = ClientToken::generate().unwrap();
        assert!(a.expose().starts_with(TOKEN_PREFIX));
        assert_eq!(a.expose().len(), TOKEN_PREFIX.len() + 64);
        assert_ne!(a.expose(), b.expose());
        assert!(!format!("{a:?}").contains(a.expose()));
        let hash = token_sha256(a.expose());
        assert_eq!(hash.len(), 64);
        assert!(same(&hash, &token_sha256(a.expose())));
        assert!(!same(&hash, &token_sha256(b.expose())));
    }
}
