//! Upstream connections kept open between requests, one pool per process shared by every
//! call: keep-alive HTTP/1.1, HTTP/2 when the server offers it by ALPN, and the process's
//! one TLS configuration (so sessions resume).
//!
//! Connections are keyed by the exact [`Origin`] the gate decided to connect to (scheme,
//! host and port of the route's target), never by the origin the plugin addressed or the
//! `Host` header: a request only ever travels over a connection opened to its own target.
//! Timeouts are applied per request: connect (TCP, TLS and the HTTP handshake together)
//! only when a new connection is opened, first byte on every request.

use super::origin::{Origin, Scheme};
use super::tls;
use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use wasmtime_wasi_http::Error as HttpError;

/// Idle HTTP/1.1 connections kept per target; more are closed when they come back.
const MAX_IDLE_PER_TARGET: usize = 8;
/// An idle connection older than this is closed rather than reused: servers commonly drop
/// idle keep-alive connections after a minute, and a reused dead one costs a failed send.
const IDLE_FOR_AT_MOST: Duration = Duration::from_secs(30);

type RequestBody = Full<Bytes>;

/// The process's pool: every call, every connection, the host's own token requests.
static PROCESS_POOL: LazyLock<Arc<Pool>> = LazyLock::new(|| Arc::new(Pool::default()));

/// The pool every upstream request of this process goes through.
pub(crate) fn process_pool() -> &'static Arc<Pool> {
    &PROCESS_POOL
}

/// Open connections per target origin.
#[derive(Default)]
pub(crate) struct Pool {
    idle: Mutex<HashMap<Origin, Idle>>,
}

/// What a target has open and unused: any number of HTTP/1.1 connections, and at most one
/// HTTP/2 connection (which carries many requests at once, so it is shared, not lent).
#[derive(Default)]
struct Idle {
    h1: Vec<(http1::SendRequest<RequestBody>, Instant)>,
    h2: Option<http2::SendRequest<RequestBody>>,
}

/// A connection lent to one request.
enum Lease {
    H1(http1::SendRequest<RequestBody>),
    H2(http2::SendRequest<RequestBody>),
}

/// An HTTP/1.1 connection on its way back to the pool once its response body has been
/// read to the end (only then can it carry the next request).
pub(crate) struct Checkin {
    pool: Weak<Pool>,
    target: Origin,
    sender: http1::SendRequest<RequestBody>,
}

impl Checkin {
    pub(crate) fn done(self) {
        if let Some(pool) = self.pool.upgrade() {
            pool.put_back(self.target, self.sender);
        }
    }
}

/// A request without its body, so it can be sent again on a fresh connection when a reused
/// one turns out to be closed before anything was written.
pub(crate) struct Head {
    pub method: http::Method,
    pub uri: http::Uri,
    pub headers: http::HeaderMap,
}

/// Why a send on a lent connection failed.
enum SendFailure {
    /// Nothing was written: the connection was already closed. Safe to send elsewhere.
    NotSent(HttpError),
    /// The request may have left; the caller decides whether to retry.
    Failed(HttpError),
}

impl Pool {
    /// Sends `head` and `body` to `target` over an idle connection to exactly that target,
    /// or a new one. The response's body, when it came over HTTP/1.1, hands the connection
    /// back through the [`Checkin`] once it has been read to the end.
    pub(crate) async fn send(
        self: &Arc<Self>,
        head: &Head,
        body: &Bytes,
        target: &Origin,
        connect_timeout: Duration,
        first_byte_timeout: Duration,
    ) -> Result<(http::Response<hyper::body::Incoming>, Option<Checkin>), HttpError> {
        if let Some(lease) = self.checkout(target) {
            match self
                .send_on(lease, head, body, target, first_byte_timeout)
                .await
            {
                Ok(sent) => return Ok(sent),
                Err(SendFailure::Failed(err)) => return Err(err),
                Err(SendFailure::NotSent(err)) => {
                    tracing::debug!(%target, %err, "idle connection was closed; opening a new one");
                }
            }
        }
        let lease = match tokio::time::timeout(connect_timeout, self.open(target)).await {
            Ok(lease) => lease?,
            Err(_) => return Err(HttpError::ConnectionTimeout),
        };
        match self
            .send_on(lease, head, body, target, first_byte_timeout)
            .await
        {
            Ok(sent) => Ok(sent),
            Err(SendFailure::NotSent(err) | SendFailure::Failed(err)) => Err(err),
        }
    }

    /// An open connection to `target`: its HTTP/2 connection, else the most recently used
    /// idle HTTP/1.1 one. Closed and stale connections are dropped on the way.
    fn checkout(&self, target: &Origin) -> Option<Lease> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let entry = idle.get_mut(target)?;
        if let Some(h2) = &entry.h2 {
            if h2.is_closed() {
                entry.h2 = None;
            } else {
                return Some(Lease::H2(h2.clone()));
            }
        }
        while let Some((sender, since)) = entry.h1.pop() {
            if !sender.is_closed() && since.elapsed() < IDLE_FOR_AT_MOST {
                return Some(Lease::H1(sender));
            }
        }
        None
    }

    fn put_back(&self, target: Origin, sender: http1::SendRequest<RequestBody>) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let entry = idle.entry(target).or_default();
        entry
            .h1
            .retain(|(s, since)| !s.is_closed() && since.elapsed() < IDLE_FOR_AT_MOST);
        if entry.h1.len() < MAX_IDLE_PER_TARGET {
            entry.h1.push((sender, Instant::now()));
        }
    }

    /// Opens a connection to `target` (TCP, then TLS for https) and shakes hands in the
    /// protocol the server chose by ALPN. A new HTTP/2 connection is shared at once.
    async fn open(&self, target: &Origin) -> Result<Lease, HttpError> {
        let tcp = TcpStream::connect(target.authority())
            .await
            .map_err(HttpError::Connect)?;
        // Requests are small and latency-bound: never wait for Nagle.
        let _ = tcp.set_nodelay(true);
        let (io, h2): (Box<dyn Stream>, bool) = match target.scheme() {
            Scheme::Http => (Box::new(tcp), false),
            Scheme::Https => {
                let name =
                    tls::server_name(target).map_err(|e| HttpError::InvalidDnsNameError(e.0))?;
                let connector = tokio_rustls::TlsConnector::from(tls::client_config());
                let stream = connector.connect(name, tcp).await.map_err(HttpError::Tls)?;
                let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                (Box::new(stream), h2)
            }
        };
        let io = TokioIo::new(io);
        if h2 {
            let (sender, connection) = http2::handshake(TokioExecutor::new(), io).await?;
            tokio::spawn(drive(connection, target.clone()));
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            idle.entry(target.clone()).or_default().h2 = Some(sender.clone());
            Ok(Lease::H2(sender))
        } else {
            let (sender, connection) = http1::handshake(io).await?;
            tokio::spawn(drive(connection, target.clone()));
            Ok(Lease::H1(sender))
        }
    }

    async fn send_on(
        self: &Arc<Self>,
        lease: Lease,
        head: &Head,
        body: &Bytes,
        target: &Origin,
        first_byte_timeout: Duration,
    ) -> Result<(http::Response<hyper::body::Incoming>, Option<Checkin>), SendFailure> {
        let exchange = async {
            match lease {
                Lease::H1(mut sender) => {
                    sender
                        .ready()
                        .await
                        .map_err(|e| SendFailure::NotSent(e.into()))?;
                    let request = http1_request(head, body);
                    let response = sender
                        .try_send_request(request)
                        .await
                        .map_err(sent_or_not)?;
                    let checkin = Checkin {
                        pool: Arc::downgrade(self),
                        target: target.clone(),
                        sender,
                    };
                    Ok((response, Some(checkin)))
                }
                Lease::H2(mut sender) => {
                    sender
                        .ready()
                        .await
                        .map_err(|e| SendFailure::NotSent(e.into()))?;
                    let request = http2_request(head, body, target);
                    let response = sender
                        .try_send_request(request)
                        .await
                        .map_err(sent_or_not)?;
                    Ok((response, None))
                }
            }
        };
        match tokio::time::timeout(first_byte_timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(SendFailure::Failed(HttpError::ConnectionReadTimeout)),
        }
    }
}

fn sent_or_not(
    mut err: hyper::client::conn::TrySendError<http::Request<RequestBody>>,
) -> SendFailure {
    if err.take_message().is_some() {
        SendFailure::NotSent(err.into_error().into())
    } else {
        SendFailure::Failed(err.into_error().into())
    }
}

/// HTTP/1.1 wants the path and query only (the absolute form is for proxies); the `Host`
/// header the gate set says which site is meant.
fn http1_request(head: &Head, body: &Bytes) -> http::Request<RequestBody> {
    let path = head.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = http::Request::new(Full::new(body.clone()));
    *request.method_mut() = head.method.clone();
    *request.uri_mut() = http::Uri::try_from(path).unwrap_or_else(|_| http::Uri::from_static("/"));
    *request.headers_mut() = head.headers.clone();
    request
}

/// HTTP/2 names the site in `:authority`, which must agree with `Host` (RFC 9113 8.3.1):
/// it takes the `Host` the gate set, so a routed request still names the real site while
/// the connection goes to the gate's target.
fn http2_request(head: &Head, body: &Bytes, target: &Origin) -> http::Request<RequestBody> {
    let mut headers = head.headers.clone();
    let authority = headers
        .remove(http::header::HOST)
        .and_then(|h| h.to_str().ok().map(str::to_string))
        .unwrap_or_else(|| target.authority());
    let path = head.uri.path_and_query().map_or("/", |p| p.as_str());
    let uri = http::Uri::builder()
        .scheme(target.scheme().as_str())
        .authority(authority.as_str())
        .path_and_query(path)
        .build()
        .or_else(|_| {
            http::Uri::builder()
                .scheme(target.scheme().as_str())
                .authority(target.authority())
                .path_and_query(path)
                .build()
        })
        .unwrap_or_else(|_| http::Uri::from_static("/"));
    let mut request = http::Request::new(Full::new(body.clone()));
    *request.method_mut() = head.method.clone();
    *request.uri_mut() = uri;
    *request.version_mut() = http::Version::HTTP_2;
    *request.headers_mut() = headers;
    request
}

/// Runs a connection until it closes; its end is only worth a debug line, since each
/// request on it reports its own failure.
async fn drive<F>(connection: F, target: Origin)
where
    F: std::future::Future<Output = Result<(), hyper::Error>>,
{
    if let Err(err) = connection.await {
        tracing::debug!(%target, %err, "upstream connection closed");
    }
}

/// A TCP or TLS stream.
trait Stream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Stream for T {}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(uri: &str, host: Option<&str>) -> Head {
        let mut headers = http::HeaderMap::new();
        if let Some(host) = host {
            headers.insert(http::header::HOST, host.parse().unwrap());
        }
        headers.insert("x-request-id", "1".parse().unwrap());
        Head {
            method: http::Method::GET,
            uri: uri.parse().unwrap(),
            headers,
        }
    }

    #[test]
    fn http1_sends_the_path_and_keeps_the_host_header() {
        let head = head(
            "http://127.0.0.1:4000/v1/devices?name=dc01",
            Some("api.example.com"),
        );
        let request = http1_request(&head, &Bytes::new());
        assert_eq!(request.uri(), "/v1/devices?name=dc01");
        assert_eq!(request.headers()["host"], "api.example.com");
        assert_eq!(request.headers()["x-request-id"], "1");
    }

    #[test]
    fn http2_names_the_host_headers_site_in_authority_only() {
        let target = Origin::parse("https://127.0.0.1:4000").unwrap();
        let head = head(
            "https://127.0.0.1:4000/v1/devices?page=2",
            Some("api.example.com"),
        );
        let request = http2_request(&head, &Bytes::new(), &target);
        assert_eq!(request.uri(), "https://api.example.com/v1/devices?page=2");
        assert!(request.headers().get("host").is_none());
        assert_eq!(request.version(), http::Version::HTTP_2);
        let bare = self::head("https://127.0.0.1:4000/x", None);
        assert_eq!(
            http2_request(&bare, &Bytes::new(), &target).uri(),
            "https://127.0.0.1:4000/x"
        );
    }

    #[tokio::test]
    async fn connections_are_kept_per_exact_target() {
        // Two loopback servers answering one keep-alive request each, then reporting the
        // connections they accepted.
        let a = tiny_server().await;
        let b = tiny_server().await;
        let pool = Arc::new(Pool::default());
        let send = |target: Origin| {
            let pool = pool.clone();
            async move {
                let head = head(&format!("{}/", target.url()), Some("api.example.com"));
                let (response, checkin) = pool
                    .send(
                        &head,
                        &Bytes::new(),
                        &target,
                        Duration::from_secs(5),
                        Duration::from_secs(5),
                    )
                    .await
                    .unwrap();
                use http_body_util::BodyExt;
                let body = response.into_body().collect().await.unwrap().to_bytes();
                checkin.unwrap().done();
                String::from_utf8(body.to_vec()).unwrap()
            }
        };
        for _ in 0..3 {
            assert_eq!(send(a.0.clone()).await, a.0.authority());
            assert_eq!(send(b.0.clone()).await, b.0.authority());
        }
        assert_eq!(a.1.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(b.1.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    /// An HTTP/1.1 server on loopback that answers every request with its own address and
    /// counts the connections it accepted.
    async fn tiny_server() -> (Origin, Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = accepted.clone();
        let me = addr.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let me = me.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let mut seen = Vec::new();
                    loop {
                        let Ok(n) = socket.read(&mut buf).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        seen.extend_from_slice(&buf[..n]);
                        while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                            seen.drain(..end + 4);
                            let reply = format!(
                                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{me}",
                                me.len()
                            );
                            if socket.write_all(reply.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        (Origin::parse(&format!("http://{addr}")).unwrap(), accepted)
    }
}
