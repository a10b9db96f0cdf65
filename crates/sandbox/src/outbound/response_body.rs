//! An upstream response body as the gate hands it on: the between-bytes timeout applied,
//! hyper's errors translated, and the HTTP/1.1 connection returned to the pool the moment
//! the body has been read to the end (a body dropped half-read closes its connection).

use super::body_hooks::{BodyHooks, HookedBody};
use super::pool::Checkin;
use bytes::Bytes;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use wasmtime_wasi_http::Error as HttpError;

/// The body of one upstream response.
pub(crate) type ResponseBody = HookedBody<hyper::body::Incoming, ConnectionHooks>;

/// The hooks of a [`ResponseBody`]: the silence allowed between frames, and the connection
/// going back to the pool at the end (dropped, so closed, on a failure or with the body).
pub(crate) struct ConnectionHooks {
    between_bytes: tokio::time::Interval,
    checkin: Option<Checkin>,
}

impl HookedBody<hyper::body::Incoming, ConnectionHooks> {
    pub(crate) fn new(
        incoming: hyper::body::Incoming,
        between_bytes: Duration,
        checkin: Option<Checkin>,
    ) -> ResponseBody {
        // Tokio panics on a zero interval; a nanosecond is as good as none.
        let between_bytes = between_bytes.max(Duration::from_nanos(1));
        let mut interval = tokio::time::interval(between_bytes);
        interval.reset();
        let mut hooks = ConnectionHooks {
            between_bytes: interval,
            checkin,
        };
        // An empty body (a 204, a HEAD) is already complete.
        if http_body::Body::is_end_stream(&incoming) {
            hooks.return_connection();
        }
        HookedBody::with_hooks(incoming, hooks)
    }
}

impl ConnectionHooks {
    fn return_connection(&mut self) {
        if let Some(checkin) = self.checkin.take() {
            checkin.done();
        }
    }
}

impl BodyHooks<hyper::Error> for ConnectionHooks {
    fn on_frame(
        &mut self,
        _frame: &http_body::Frame<Bytes>,
        inner_ended: bool,
    ) -> Result<(), HttpError> {
        self.between_bytes.reset();
        if inner_ended {
            self.return_connection();
        }
        Ok(())
    }

    fn on_end(&mut self) {
        self.return_connection();
    }

    fn on_error(&mut self, error: hyper::Error) -> HttpError {
        self.checkin = None;
        if error.is_timeout() {
            HttpError::HttpResponseTimeout
        } else {
            HttpError::from(error)
        }
    }

    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<HttpError> {
        ready!(self.between_bytes.poll_tick(cx));
        self.checkin = None;
        Poll::Ready(HttpError::ConnectionReadTimeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::origin::Origin;
    use crate::outbound::pool::{Head, Pool};
    use http_body_util::BodyExt;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// An HTTP/1.1 server on loopback that counts the connections it accepts. `/stall` gets
    /// 3 of 10 promised bytes and then silence; any other path gets `hello`.
    async fn server() -> (Origin, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let mut seen = Vec::new();
                    while let Ok(n @ 1..) = socket.read(&mut buf).await {
                        seen.extend_from_slice(&buf[..n]);
                        while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                            let stall = seen.starts_with(b"GET /stall ");
                            seen.drain(..end + 4);
                            let reply: &[u8] = if stall {
                                b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"
                            } else {
                                b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"
                            };
                            if socket.write_all(reply).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        (Origin::parse(&format!("http://{addr}")).unwrap(), accepted)
    }

    async fn get(pool: &Arc<Pool>, target: &Origin, path: &str, silence: Duration) -> ResponseBody {
        let head = Head {
            method: http::Method::GET,
            uri: format!("{}{path}", target.url()).parse().unwrap(),
            headers: http::HeaderMap::new(),
        };
        let (response, checkin) = pool
            .send(
                &head,
                &Bytes::new(),
                target,
                Duration::from_secs(5),
                Duration::from_secs(5),
            )
            .await
            .unwrap();
        ResponseBody::new(response.into_body(), silence, checkin)
    }

    /// Reads a whole `/` answer, then says how many connections the server has accepted.
    async fn connections_after_a_full_read(
        pool: &Arc<Pool>,
        target: &Origin,
        accepted: &AtomicUsize,
    ) -> usize {
        let body = get(pool, target, "/", Duration::from_secs(30)).await;
        assert_eq!(&body.collect().await.unwrap().to_bytes()[..], b"hello");
        accepted.load(Ordering::SeqCst)
    }

    /// A `/stall` body with its three bytes read.
    async fn stalled(pool: &Arc<Pool>, target: &Origin, silence: Duration) -> ResponseBody {
        let mut body = get(pool, target, "/stall", silence).await;
        let first = body.frame().await.unwrap().unwrap();
        assert_eq!(&first.into_data().unwrap()[..], b"abc");
        body
    }

    #[tokio::test]
    async fn a_body_read_to_its_end_returns_its_connection_and_one_dropped_half_read_closes_it() {
        let (target, accepted) = server().await;
        let pool = Arc::new(Pool::default());
        assert_eq!(
            connections_after_a_full_read(&pool, &target, &accepted).await,
            1
        );
        let reused = connections_after_a_full_read(&pool, &target, &accepted).await;
        assert_eq!(reused, 1, "the connection was reused");
        drop(stalled(&pool, &target, Duration::from_secs(30)).await);
        let after_drop = connections_after_a_full_read(&pool, &target, &accepted).await;
        assert_eq!(after_drop, 2, "a half-read body's connection is not reused");
    }

    #[tokio::test]
    async fn a_silent_upstream_fails_the_body_with_the_read_timeout_and_loses_its_connection() {
        let (target, accepted) = server().await;
        let pool = Arc::new(Pool::default());
        let mut body = stalled(&pool, &target, Duration::from_millis(100)).await;
        let err = body.frame().await.unwrap().unwrap_err();
        assert!(matches!(err, HttpError::ConnectionReadTimeout), "{err:?}");
        let after_timeout = connections_after_a_full_read(&pool, &target, &accepted).await;
        assert_eq!(after_timeout, 2, "a timed-out connection is not reused");
    }
}
