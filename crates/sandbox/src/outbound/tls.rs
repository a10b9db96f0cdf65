//! The process's one TLS client configuration: the webpki root store, HTTP/2 and HTTP/1.1
//! offered by ALPN, and an in-memory session cache so a new connection to an upstream the
//! process already talked to resumes its TLS session instead of a full handshake.
//!
//! Building a configuration parses the whole root store, so it is built once and shared by
//! every connection of the process. Only test code compiled with the `test-trust` feature
//! can add a root ([`trust_root_for_tests`]); no setting, file or variable can.

use super::origin::Origin;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::ClientConfig;
use std::sync::{Arc, RwLock};

/// The configuration every https connection uses; `None` until the first one is made (and,
/// in tests, after a root was added).
static CONFIG: RwLock<Option<Arc<ClientConfig>>> = RwLock::new(None);

/// Roots test code added on top of the webpki store (always empty without `test-trust`).
static EXTRA_ROOTS: RwLock<Vec<CertificateDer<'static>>> = RwLock::new(Vec::new());

/// Why a certificate could not be trusted.
#[derive(Debug, thiserror::Error)]
#[error("not a usable root certificate: {0}")]
pub struct RootError(String);

/// The shared client configuration, built on first use.
pub(crate) fn client_config() -> Arc<ClientConfig> {
    if let Some(config) = CONFIG.read().unwrap_or_else(|p| p.into_inner()).as_ref() {
        return config.clone();
    }
    let mut slot = CONFIG.write().unwrap_or_else(|p| p.into_inner());
    slot.get_or_insert_with(|| Arc::new(build())).clone()
}

fn build() -> ClientConfig {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for extra in EXTRA_ROOTS.read().unwrap_or_else(|p| p.into_inner()).iter() {
        // Checked when it was added.
        let _ = roots.add(extra.clone());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config
}

/// Trusts `der` (a root certificate) for every https connection this process makes from
/// now on. For tests against a simulator serving a certificate generated at test time.
#[cfg(feature = "test-trust")]
pub fn trust_root_for_tests(der: &[u8]) -> Result<(), RootError> {
    let cert = CertificateDer::from(der.to_vec());
    rustls::RootCertStore::empty()
        .add(cert.clone())
        .map_err(|e| RootError(e.to_string()))?;
    EXTRA_ROOTS
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .push(cert);
    // The next connection builds a configuration that includes it.
    *CONFIG.write().unwrap_or_else(|p| p.into_inner()) = None;
    Ok(())
}

/// The name the server's certificate must carry: the target's host, or its IP address.
pub(crate) fn server_name(target: &Origin) -> Result<ServerName<'static>, HttpNameError> {
    if let Ok(ip) = target.host().parse::<std::net::IpAddr>() {
        return Ok(ServerName::IpAddress(ip.into()));
    }
    ServerName::try_from(target.host().to_string()).map_err(HttpNameError)
}

/// A host that is not a valid DNS name for TLS.
#[derive(Debug)]
pub(crate) struct HttpNameError(pub rustls::pki_types::InvalidDnsNameError);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names_are_the_targets_host_or_ip() {
        let name = |s: &str| server_name(&Origin::parse(s).unwrap()).unwrap();
        assert_eq!(
            name("https://api.example.com:8443"),
            ServerName::try_from("api.example.com").unwrap()
        );
        assert_eq!(
            name("https://127.0.0.1:4000"),
            ServerName::from(std::net::Ipv4Addr::LOCALHOST)
        );
        assert_eq!(
            name("https://[::1]:4000"),
            ServerName::from(std::net::Ipv6Addr::LOCALHOST)
        );
    }

    #[test]
    fn one_configuration_offers_h2_and_http1_and_resumes_sessions() {
        let first = client_config();
        let second = client_config();
        assert!(Arc::ptr_eq(&first, &second), "built once per process");
        assert_eq!(
            first.alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        assert!(first.enable_sni);
    }
}
