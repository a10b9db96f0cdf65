//! TLS to the state database: the URL's `sslmode` read as libpq reads it (`disable`,
//! `prefer` (the default), `require`, `verify-ca`, `verify-full`), and the roots a server's
//! certificate is checked against: the private CA the operator names
//! (`TOOLHOST_DATABASE_CA_FILE`, PEM) or else the public web roots.
//!
//! The driver knows only disable/prefer/require and checks no certificate itself: the
//! verifying modes are taken out of the URL here and become the rustls configuration.

use crate::error::StateError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_postgres::config::SslMode as DriverSslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The environment variable naming the PEM file of the CA that signed the database server's
/// certificate (a private CA; without it the public web roots are trusted).
pub const DATABASE_CA_FILE_ENV: &str = "TOOLHOST_DATABASE_CA_FILE";

/// The values `sslmode` may take, as an error lists them.
const SSL_MODES: &str = "disable, prefer, require, verify-ca or verify-full";

/// How much TLS a URL asks for (libpq's `sslmode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SslMode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it, its certificate unchecked (libpq's default).
    Prefer,
    /// TLS or nothing, the certificate unchecked unless a private CA is named (then as
    /// `verify-ca`, as libpq does when a root certificate file exists).
    Require,
    /// TLS, the certificate signed by a trusted CA, whatever host it names.
    VerifyCa,
    /// TLS, the certificate signed by a trusted CA and naming the host connected to.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<SslMode, StateError> {
        match value {
            "disable" => Ok(SslMode::Disable),
            "prefer" => Ok(SslMode::Prefer),
            "require" => Ok(SslMode::Require),
            "verify-ca" => Ok(SslMode::VerifyCa),
            "verify-full" => Ok(SslMode::VerifyFull),
            // The value is not repeated: a mangled URL may have put a password there.
            _ => Err(StateError::InvalidUrl {
                reason: format!("its sslmode is none of {SSL_MODES}"),
            }),
        }
    }

    /// What the driver is told: it negotiates TLS, rustls checks the certificate.
    pub(crate) fn driver(self) -> DriverSslMode {
        match self {
            SslMode::Disable => DriverSslMode::Disable,
            SslMode::Prefer => DriverSslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => DriverSslMode::Require,
        }
    }
}

/// `url` without its `sslmode` (which the driver would refuse for the verifying modes) and
/// the mode it asked for: `prefer` when it names none. Both the URL form
/// (`postgres://…?sslmode=verify-full`) and the key/value form (`host=… sslmode=…`) are read.
pub(crate) fn split_ssl_mode(url: &str) -> Result<(String, SslMode), StateError> {
    let mut mode = SslMode::Prefer;
    let is_url = url.starts_with("postgres://") || url.starts_with("postgresql://");
    let rest = if is_url {
        let Some((base, query)) = url.split_once('?') else {
            return Ok((url.to_string(), mode));
        };
        let mut kept = Vec::new();
        for pair in query.split('&') {
            match pair.strip_prefix("sslmode=") {
                Some(value) => mode = SslMode::parse(value)?,
                None => kept.push(pair),
            }
        }
        match kept.is_empty() {
            true => base.to_string(),
            false => format!("{base}?{}", kept.join("&")),
        }
    } else {
        let mut kept = Vec::new();
        for word in url.split(' ') {
            match word.strip_prefix("sslmode=") {
                Some(value) => mode = SslMode::parse(value.trim_matches('\''))?,
                None => kept.push(word),
            }
        }
        kept.join(" ")
    };
    Ok((rest, mode))
}

/// The certificates a database server's must chain to when it is checked.
#[derive(Clone)]
pub struct DatabaseTrust {
    roots: Arc<RootCertStore>,
    /// The private CA's file; `None`: the public web roots.
    ca_file: Option<PathBuf>,
}

impl fmt::Debug for DatabaseTrust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseTrust")
            .field("ca_file", &self.ca_file)
            .field("roots", &self.roots.len())
            .finish()
    }
}

impl Default for DatabaseTrust {
    fn default() -> Self {
        DatabaseTrust::public()
    }
}

impl DatabaseTrust {
    /// The public web roots (webpki-roots, compiled in).
    pub fn public() -> DatabaseTrust {
        DatabaseTrust {
            roots: Arc::new(RootCertStore::from_iter(
                webpki_roots::TLS_SERVER_ROOTS.iter().cloned(),
            )),
            ca_file: None,
        }
    }

    /// The CA certificates in the PEM file at `path` (and none else).
    pub fn from_ca_file(path: &Path) -> Result<DatabaseTrust, StateError> {
        let refused = |reason: String| StateError::CaFile {
            path: path.to_path_buf(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|e| refused(format!("cannot be read ({e})")))?;
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| refused(format!("is not valid PEM ({e})")))?;
            roots
                .add(cert)
                .map_err(|e| refused(format!("holds a certificate that is not a CA's ({e})")))?;
        }
        if roots.is_empty() {
            return Err(refused("holds no PEM certificate".into()));
        }
        Ok(DatabaseTrust {
            roots: Arc::new(roots),
            ca_file: Some(path.to_path_buf()),
        })
    }

    /// The CA of `TOOLHOST_DATABASE_CA_FILE` when it is set, else the public roots.
    pub fn from_env() -> Result<DatabaseTrust, StateError> {
        match std::env::var_os(DATABASE_CA_FILE_ENV).filter(|v| !v.is_empty()) {
            Some(path) => DatabaseTrust::from_ca_file(Path::new(&path)),
            None => Ok(DatabaseTrust::public()),
        }
    }

    /// The connector for `mode`: what it checks of the server's certificate.
    pub(crate) fn connector(&self, mode: SslMode) -> Result<MakeRustlsConnect, String> {
        let provider = Arc::new(ring::default_provider());
        let checked = || {
            WebPkiServerVerifier::builder_with_provider(self.roots.clone(), provider.clone())
                .build()
                .map_err(|e| format!("the trusted roots are unusable: {e}"))
        };
        // libpq: `require` with a root certificate file behaves as `verify-ca`.
        let chain_checked =
            mode == SslMode::VerifyCa || (mode == SslMode::Require && self.ca_file.is_some());
        let verifier: Arc<dyn ServerCertVerifier> = match mode {
            SslMode::VerifyFull => checked()?,
            _ => Arc::new(AnyName {
                chain: chain_checked.then(checked).transpose()?,
                provider: provider.clone(),
            }),
        };
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("no TLS version is usable: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(MakeRustlsConnect::new(config))
    }
}

/// What a failed connection's causes say of TLS, as a sentence naming the fix; `None` when
/// TLS is not why it failed.
pub(crate) fn tls_problem(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cause = Some(err);
    while let Some(err) = cause {
        let rustls_error = err.downcast_ref::<rustls::Error>().or_else(|| {
            err.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if let Some(tls) = rustls_error {
            return Some(describe(tls));
        }
        // The driver's own words when the server answers the TLS request with "no".
        if err.to_string() == "server does not support TLS" {
            return Some(
                "the server does not offer TLS, which its sslmode requires: turn ssl on in \
                 the server, or lower sslmode in the database URL"
                    .into(),
            );
        }
        cause = err.source();
    }
    None
}

fn describe(err: &rustls::Error) -> String {
    match err {
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => format!(
            "the server's certificate does not name the host connected to ({err}): connect by \
             a name it holds, or use sslmode=verify-ca"
        ),
        rustls::Error::InvalidCertificate(
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. },
        ) => format!("the server's certificate is out of date ({err}): renew it"),
        rustls::Error::InvalidCertificate(_) => format!(
            "the server's certificate is not trusted ({err}): set {DATABASE_CA_FILE_ENV} to \
             the PEM file of the CA that signed it"
        ),
        other => format!("TLS with the server failed: {other}"),
    }
}

/// The verifier of `prefer`, `require` and `verify-ca`: the host name is never checked; the
/// chain is checked when `chain` is set (`verify-ca`, or `require` with a private CA), else
/// not at all (encrypted, as libpq). The handshake's signatures are always verified (the
/// session is bound to the key the certificate holds).
#[derive(Debug)]
struct AnyName {
    chain: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        // The web verifier checks the name last, after the chain: its name error means the
        // chain passed.
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ssl_mode_is_taken_out_of_the_url_and_the_rest_kept() {
        let (rest, mode) =
            split_ssl_mode("postgres://u:pw@h:5432/db?application_name=x&sslmode=verify-full")
                .unwrap();
        assert_eq!(mode, SslMode::VerifyFull);
        assert_eq!(rest, "postgres://u:pw@h:5432/db?application_name=x");
        let (rest, mode) = split_ssl_mode("postgresql://h/db?sslmode=verify-ca").unwrap();
        assert_eq!(
            (rest.as_str(), mode),
            ("postgresql://h/db", SslMode::VerifyCa)
        );
        let (rest, mode) = split_ssl_mode("host=h dbname=db sslmode=disable").unwrap();
        assert_eq!(
            (rest.as_str(), mode),
            ("host=h dbname=db", SslMode::Disable)
        );
        let (_, mode) = split_ssl_mode("postgres://h/db").unwrap();
        assert_eq!(mode, SslMode::Prefer, "libpq's default");
    }

    #[test]
    fn an_unknown_ssl_mode_is_refused_naming_the_field_not_the_value() {
        let err = split_ssl_mode("postgres://u:s3cret@h/db?sslmode=s3cret").unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, StateError::InvalidUrl { .. }), "{text}");
        assert!(text.contains("sslmode"), "{text}");
        assert!(text.contains("verify-full"), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
    }

    #[test]
    fn a_ca_file_without_a_certificate_is_refused_naming_the_variable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate\n").unwrap();
        let err = DatabaseTrust::from_ca_file(&path).unwrap_err().to_string();
        assert!(err.contains(DATABASE_CA_FILE_ENV), "{err}");
        assert!(err.contains("no PEM certificate"), "{err}");
        let missing = DatabaseTrust::from_ca_file(&dir.path().join("absent.pem"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("cannot be read"), "{missing}");
    }
}
