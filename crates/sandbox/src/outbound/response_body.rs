//! An upstream response body as the gate hands it on: the between-bytes timeout applied,
//! hyper's errors translated, and the HTTP/1.1 connection returned to the pool the moment
//! the body has been read to the end (a body dropped half-read closes its connection).

use super::pool::Checkin;
use bytes::Bytes;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use wasmtime_wasi_http::Error as HttpError;

/// The body of one upstream response.
pub(crate) struct ResponseBody {
    incoming: hyper::body::Incoming,
    between_bytes: tokio::time::Interval,
    checkin: Option<Checkin>,
}

impl ResponseBody {
    pub(crate) fn new(
        incoming: hyper::body::Incoming,
        between_bytes: Duration,
        checkin: Option<Checkin>,
    ) -> ResponseBody {
        // Tokio panics on a zero interval; a nanosecond is as good as none.
        let between_bytes = between_bytes.max(Duration::from_nanos(1));
        let mut interval = tokio::time::interval(between_bytes);
        interval.reset();
        let mut body = ResponseBody {
            incoming,
            between_bytes: interval,
            checkin,
        };
        // An empty body (a 204, a HEAD) is already complete.
        body.return_connection_if_done();
        body
    }

    fn return_connection_if_done(&mut self) {
        if http_body::Body::is_end_stream(&self.incoming) {
            if let Some(checkin) = self.checkin.take() {
                checkin.done();
            }
        }
    }
}

impl http_body::Body for ResponseBody {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, HttpError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.incoming).poll_frame(cx) {
            Poll::Ready(None) => {
                if let Some(checkin) = this.checkin.take() {
                    checkin.done();
                }
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(err))) => {
                this.checkin = None;
                let err = if err.is_timeout() {
                    HttpError::HttpResponseTimeout
                } else {
                    HttpError::from(err)
                };
                Poll::Ready(Some(Err(err)))
            }
            Poll::Ready(Some(Ok(frame))) => {
                this.between_bytes.reset();
                this.return_connection_if_done();
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => {
                ready!(this.between_bytes.poll_tick(cx));
                this.checkin = None;
                Poll::Ready(Some(Err(HttpError::ConnectionReadTimeout)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.incoming.size_hint()
    }
}
