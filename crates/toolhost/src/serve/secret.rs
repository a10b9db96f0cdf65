//! The tenant's client secret for `toolhost serve`: from the environment, or from a file
//! (as Kubernetes mounts a Secret). It is never printed, and errors name only where it was
//! looked for.

use std::path::{Path, PathBuf};
use toolhost_base::SecretString;

/// The secret itself, in the environment (as `toolhost connect` reads it).
pub const SECRET_ENV: &str = "TOOLHOST_CLIENT_SECRET";
/// A file holding the secret (a mounted Kubernetes Secret).
pub const SECRET_FILE_ENV: &str = "TOOLHOST_CLIENT_SECRET_FILE";

/// Why no secret could be read; never carries the secret.
#[derive(Debug, thiserror::Error)]
pub enum SecretSourceError {
    #[error("no client secret: set {SECRET_ENV}, or {SECRET_FILE_ENV} (--client-secret-file) to a file holding it")]
    Missing,
    #[error("both {SECRET_ENV} and a client secret file are set: keep one, so it is clear which secret is in use")]
    Both,
    #[error("cannot read the client secret file {path}: {source}")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the client secret file {0} is empty")]
    EmptyFile(PathBuf),
    #[error("{SECRET_ENV} is set but empty")]
    EmptyEnv,
}

/// The secret from `file` (trailing line breaks dropped: editors and `kubectl create secret
/// --from-file` often leave one) or from `env_value`; exactly one must be given.
pub fn client_secret(
    file: Option<&Path>,
    env_value: Option<String>,
) -> Result<SecretString, SecretSourceError> {
    match (file, env_value) {
        (Some(_), Some(_)) => Err(SecretSourceError::Both),
        (None, None) => Err(SecretSourceError::Missing),
        (None, Some(value)) if value.is_empty() => Err(SecretSourceError::EmptyEnv),
        (None, Some(value)) => Ok(SecretString::new(value)),
        (Some(path), None) => {
            let text =
                std::fs::read_to_string(path).map_err(|source| SecretSourceError::Unreadable {
                    path: path.to_path_buf(),
                    source,
                })?;
            let secret = text.trim_end_matches(['\r', '\n']);
            if secret.trim().is_empty() {
                return Err(SecretSourceError::EmptyFile(path.to_path_buf()));
            }
            Ok(SecretString::new(secret.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_secret_loses_its_trailing_newline_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, " s3cret \n").unwrap();
        let secret = client_secret(Some(&path), None).unwrap();
        assert_eq!(secret.expose(), " s3cret ");
    }

    #[test]
    fn missing_both_empty_and_unreadable_are_refused_without_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        assert!(matches!(
            client_secret(None, None),
            Err(SecretSourceError::Missing)
        ));
        std::fs::write(&path, "hunter2").unwrap();
        let both = client_secret(Some(&path), Some("hunter2".into())).unwrap_err();
        assert!(!both.to_string().contains("hunter2"));
        std::fs::write(&path, "\n").unwrap();
        assert!(matches!(
            client_secret(Some(&path), None),
            Err(SecretSourceError::EmptyFile(_))
        ));
        let gone = dir.path().join("gone");
        let err = client_secret(Some(&gone), None).unwrap_err();
        assert!(err.to_string().contains("gone"), "{err}");
        assert!(matches!(
            client_secret(None, Some(String::new())),
            Err(SecretSourceError::EmptyEnv)
        ));
    }
}
