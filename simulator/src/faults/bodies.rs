//! Response bodies for faults: one that is cut off mid-message, one that is merely huge.

use axum::body::{Bytes, HttpBody};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
#[error("simulated fault: connection cut")]
pub struct Cut;

/// Yields `data` (if any), pauses so hyper flushes it, then fails: hyper then aborts the
/// connection without finishing the message.
pub struct CutBody {
    data: Option<Bytes>,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
    promised: Option<u64>,
}

impl CutBody {
    pub fn immediately() -> CutBody {
        CutBody {
            data: None,
            pause: None,
            promised: None,
        }
    }

    pub fn after(data: Bytes, promised: u64) -> CutBody {
        CutBody {
            data: (!data.is_empty()).then_some(data),
            pause: Some(Box::pin(tokio::time::sleep(Duration::from_millis(50)))),
            promised: Some(promised),
        }
    }
}

impl HttpBody for CutBody {
    type Data = Bytes;
    type Error = Cut;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Cut>>> {
        if let Some(data) = self.data.take() {
            return Poll::Ready(Some(Ok(http_body::Frame::data(data))));
        }
        if let Some(pause) = self.pause.as_mut() {
            if pause.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.pause = None;
        }
        Poll::Ready(Some(Err(Cut)))
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.promised
            .map(http_body::SizeHint::with_exact)
            .unwrap_or_default()
    }
}

const CHUNK: usize = 64 * 1024;
static FILLER: [u8; CHUNK] = [b'x'; CHUNK];
const OPEN: &[u8] = b"{\"data\":\"";
const CLOSE: &[u8] = b"\"}";

/// `{"data":"xxx…"}` of a given total size, generated chunk by chunk.
pub struct OversizedJson {
    opened: bool,
    filler_left: usize,
    closed: bool,
}

impl OversizedJson {
    pub fn new(bytes: usize) -> OversizedJson {
        OversizedJson {
            opened: false,
            filler_left: bytes.saturating_sub(OPEN.len() + CLOSE.len()),
            closed: false,
        }
    }
}

impl HttpBody for OversizedJson {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let chunk = if !self.opened {
            self.opened = true;
            Bytes::from_static(OPEN)
        } else if self.filler_left > 0 {
            let n = self.filler_left.min(CHUNK);
            self.filler_left -= n;
            Bytes::from_static(&FILLER[..n])
        } else if !self.closed {
            self.closed = true;
            Bytes::from_static(CLOSE)
        } else {
            return Poll::Ready(None);
        };
        Poll::Ready(Some(Ok(http_body::Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.closed
    }
}
