//! How the simulator's socket behaves: plain HTTP or TLS (HTTP/2 and HTTP/1.1 by ALPN),
//! an optional round-trip delay, and a count of accepted TCP connections (so tests can
//! see whether a client reuses its connections).

use crate::delay::Delayed;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The certificate and key the simulator serves over TLS.
#[derive(Clone)]
pub struct TlsIdentity {
    /// The server certificate first, then any intermediates (DER).
    pub cert_chain: Vec<Vec<u8>>,
    /// The server's PKCS#8 private key (DER).
    pub private_key: Vec<u8>,
}

/// A certificate authority made up at run time, and a server certificate it issued for
/// `127.0.0.1`, `::1` and `localhost`. Nothing of it is ever written to disk; a client
/// trusts [`TestCertificates::root`] only when a test tells it to.
pub struct TestCertificates {
    /// The authority's certificate (DER): the root a test client trusts.
    pub root: Vec<u8>,
    /// What the simulator serves.
    pub identity: TlsIdentity,
}

impl TestCertificates {
    /// A fresh authority and server certificate.
    pub fn generate() -> Result<TestCertificates, rcgen::Error> {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
        };
        let ca_key = KeyPair::generate()?;
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "asio-simulator test root");
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let root = ca.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca, ca_key);
        let server_key = KeyPair::generate()?;
        let mut server = CertificateParams::new(vec![
            "127.0.0.1".to_string(),
            "::1".to_string(),
            "localhost".to_string(),
        ])?;
        server
            .distinguished_name
            .push(DnType::CommonName, "asio-simulator");
        let server_cert = server.signed_by(&server_key, &issuer)?;
        Ok(TestCertificates {
            root: root.der().to_vec(),
            identity: TlsIdentity {
                cert_chain: vec![server_cert.der().to_vec()],
                private_key: server_key.serialize_der(),
            },
        })
    }
}

/// How the simulator listens; the default is plain HTTP without delay.
#[derive(Default)]
pub struct Network {
    /// Serve TLS with this identity (https), offering `h2` and `http/1.1`.
    pub tls: Option<TlsIdentity>,
    /// Added to every round trip: bytes from a client reach the server this much later,
    /// and a new connection's first bytes one more round trip later (the TCP handshake).
    pub round_trip_delay: Duration,
}

/// Why the network could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("invalid TLS identity: {0}")]
pub struct TlsSetupError(String);

/// Accepts connections for axum: counted, delayed, and wrapped in TLS when configured.
pub(crate) struct SimListener {
    inner: TcpListener,
    accepted: Arc<AtomicU64>,
    delay: Duration,
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl SimListener {
    pub(crate) fn new(
        inner: TcpListener,
        network: Network,
        accepted: Arc<AtomicU64>,
    ) -> Result<SimListener, TlsSetupError> {
        let tls = network.tls.map(acceptor).transpose()?;
        Ok(SimListener {
            inner,
            accepted,
            delay: network.round_trip_delay,
            tls,
        })
    }
}

fn acceptor(identity: TlsIdentity) -> Result<tokio_rustls::TlsAcceptor, TlsSetupError> {
    let chain = identity
        .cert_chain
        .into_iter()
        .map(CertificateDer::from)
        .collect();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.private_key));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSetupError(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsSetupError(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

impl axum::serve::Listener for SimListener {
    type Io = SimStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (SimStream, SocketAddr) {
        loop {
            match self.inner.accept().await {
                Ok((tcp, addr)) => {
                    self.accepted.fetch_add(1, Ordering::SeqCst);
                    let _ = tcp.set_nodelay(true);
                    let io = Delayed::new(tcp, self.delay);
                    let stream = match &self.tls {
                        Some(tls) => SimStream::Handshaking(Box::new(tls.accept(io))),
                        None => SimStream::Plain(io),
                    };
                    return (stream, addr);
                }
                // Out of descriptors and the like: wait rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// One accepted connection. The TLS handshake runs on first use, so a slow client never
/// holds up the accept loop.
pub(crate) enum SimStream {
    Plain(Delayed),
    Handshaking(Box<tokio_rustls::Accept<Delayed>>),
    Tls(Box<tokio_rustls::server::TlsStream<Delayed>>),
    Failed,
}

impl SimStream {
    fn poll_handshake(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let SimStream::Handshaking(accept) = self {
            match ready!(Pin::new(accept.as_mut()).poll(cx)) {
                Ok(tls) => *self = SimStream::Tls(Box::new(tls)),
                Err(err) => {
                    *self = SimStream::Failed;
                    return Poll::Ready(Err(err));
                }
            }
        }
        Poll::Ready(Ok(()))
    }
}

fn failed() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "TLS handshake failed")
}

impl AsyncRead for SimStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        ready!(self.poll_handshake(cx))?;
        match &mut *self {
            SimStream::Plain(io) => Pin::new(io).poll_read(cx, buf),
            SimStream::Tls(io) => Pin::new(io.as_mut()).poll_read(cx, buf),
            SimStream::Handshaking(_) | SimStream::Failed => Poll::Ready(Err(failed())),
        }
    }
}

impl AsyncWrite for SimStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_handshake(cx))?;
        match &mut *self {
            SimStream::Plain(io) => Pin::new(io).poll_write(cx, buf),
            SimStream::Tls(io) => Pin::new(io.as_mut()).poll_write(cx, buf),
            SimStream::Handshaking(_) | SimStream::Failed => Poll::Ready(Err(failed())),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_handshake(cx))?;
        match &mut *self {
            SimStream::Plain(io) => Pin::new(io).poll_flush(cx),
            SimStream::Tls(io) => Pin::new(io.as_mut()).poll_flush(cx),
            SimStream::Handshaking(_) | SimStream::Failed => Poll::Ready(Err(failed())),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut *self {
            SimStream::Plain(io) => Pin::new(io).poll_shutdown(cx),
            SimStream::Tls(io) => Pin::new(io.as_mut()).poll_shutdown(cx),
            SimStream::Handshaking(_) | SimStream::Failed => Poll::Ready(Ok(())),
        }
    }
}
