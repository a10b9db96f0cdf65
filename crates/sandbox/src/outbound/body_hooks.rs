//! One response-body wrapper for every concern the gate hangs on a body (the in-flight slot,
//! the pooled connection and its between-bytes timeout, the observer's copy, the size cap).
//!
//! Each concern implements [`BodyHooks`]: what it does when a frame passes, when the inner
//! body ends, when it fails and, if it must, while it waits. [`HookedBody`] is the single
//! [`http_body::Body`] that calls them, so the polling plumbing is written once. What a
//! concern holds (a slot, a connection, an observer) lives in its hooks value and is
//! dropped with the body: a body dropped half-read releases it without any hook running.

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};
use wasmtime_wasi_http::Error as HttpError;

/// What one concern does around the frames of the body it wraps. `E` is the inner body's
/// error; every hooked body fails with an [`HttpError`].
pub(crate) trait BodyHooks<E: Into<HttpError> = HttpError> {
    /// A data or trailers frame arrived; `inner_ended` says the inner body reports its end
    /// with it. An `Err` is passed on in place of the frame (the frame is dropped).
    fn on_frame(&mut self, frame: &Frame<Bytes>, inner_ended: bool) -> Result<(), HttpError> {
        let _ = (frame, inner_ended);
        Ok(())
    }

    /// The inner body was read to its end (it yielded no further frame).
    fn on_end(&mut self) {}

    /// The inner body failed with `error`; returns the error passed on.
    fn on_error(&mut self, error: E) -> HttpError {
        error.into()
    }

    /// The inner body has nothing yet. `Ready(error)` fails the body with `error` (a timeout);
    /// the hooks register `cx`'s waker for whatever they wait on.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<HttpError> {
        let _ = cx;
        Poll::Pending
    }

    /// The size hint passed on, given the inner body's.
    fn size_hint(&self, inner: SizeHint) -> SizeHint {
        inner
    }
}

/// `inner` with `hooks` called around each of its frames, its end and its errors. Each
/// concern names its body with a type alias (`HeldBody`, `CappedBody`, ...) and gives that
/// body a `new` of its own.
pub(crate) struct HookedBody<B, H> {
    inner: B,
    hooks: H,
}

impl<B, H> HookedBody<B, H> {
    /// `inner` with `hooks` around it.
    pub(crate) fn with_hooks(inner: B, hooks: H) -> HookedBody<B, H> {
        HookedBody { inner, hooks }
    }
}

impl<B, H> http_body::Body for HookedBody<B, H>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<HttpError>,
    H: BodyHooks<B::Error> + Unpin,
{
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let inner_ended = this.inner.is_end_stream();
                Poll::Ready(Some(
                    this.hooks.on_frame(&frame, inner_ended).map(|()| frame),
                ))
            }
            Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(this.hooks.on_error(error)))),
            Poll::Ready(None) => {
                this.hooks.on_end();
                Poll::Ready(None)
            }
            Poll::Pending => this.hooks.poll_pending(cx).map(|error| Some(Err(error))),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.hooks.size_hint(self.inner.size_hint())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body::Body as _;
    use http_body_util::{BodyExt, Full};
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    type Events = Arc<Mutex<Vec<String>>>;

    /// Hooks that write down what they are told; the drop is written down too.
    struct Recorder {
        events: Events,
        refuse_over: Option<usize>,
        timeout_when_pending: bool,
    }

    impl Recorder {
        fn new(events: &Events) -> Recorder {
            Recorder {
                events: events.clone(),
                refuse_over: None,
                timeout_when_pending: false,
            }
        }

        fn note(&self, event: String) {
            self.events.lock().unwrap().push(event);
        }
    }

    impl Drop for Recorder {
        fn drop(&mut self) {
            self.note("dropped".into());
        }
    }

    impl BodyHooks for Recorder {
        fn on_frame(&mut self, frame: &Frame<Bytes>, inner_ended: bool) -> Result<(), HttpError> {
            let len = frame.data_ref().map_or(0, Bytes::len);
            self.note(format!("frame {len} ended={inner_ended}"));
            match self.refuse_over {
                Some(limit) if len > limit => Err(HttpError::HttpResponseBodySize(Some(7))),
                _ => Ok(()),
            }
        }

        fn on_end(&mut self) {
            self.note("end".into());
        }

        fn on_error(&mut self, error: HttpError) -> HttpError {
            self.note(format!("error {error:?}"));
            HttpError::HttpResponseTimeout
        }

        fn poll_pending(&mut self, _cx: &mut Context<'_>) -> Poll<HttpError> {
            self.note("pending".into());
            if self.timeout_when_pending {
                Poll::Ready(HttpError::ConnectionReadTimeout)
            } else {
                Poll::Pending
            }
        }

        fn size_hint(&self, inner: SizeHint) -> SizeHint {
            SizeHint::with_exact(inner.lower() + 1)
        }
    }

    /// One answer of a scripted body to a poll.
    type Step = Poll<Option<Result<Frame<Bytes>, HttpError>>>;

    /// A body that answers each poll with the next scripted step, then ends.
    struct Script(VecDeque<Step>);

    impl http_body::Body for Script {
        type Data = Bytes;
        type Error = HttpError;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
            self.0.pop_front().unwrap_or(Poll::Ready(None))
        }
    }

    fn data(text: &'static str) -> Step {
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(text.as_bytes())))))
    }

    fn events(events: &Events) -> Vec<String> {
        events.lock().unwrap().clone()
    }

    #[tokio::test]
    async fn frames_pass_unchanged_and_the_end_is_told_once_the_inner_body_ends() {
        let log = Events::default();
        let full = Full::new(Bytes::from_static(b"answer"));
        let body =
            HookedBody::with_hooks(full.map_err(|never| match never {}), Recorder::new(&log));
        let read = body.collect().await.unwrap().to_bytes();
        assert_eq!(&read[..], b"answer");
        assert_eq!(events(&log), ["frame 6 ended=true", "end", "dropped"]);
    }

    #[tokio::test]
    async fn an_inner_error_goes_through_the_hooks_and_a_refused_frame_fails_the_body() {
        let log = Events::default();
        let script = Script(
            [
                data("ab"),
                Poll::Ready(Some(Err(HttpError::ConnectionTerminated))),
            ]
            .into(),
        );
        let err = HookedBody::with_hooks(script, Recorder::new(&log))
            .collect()
            .await
            .unwrap_err();
        assert!(matches!(err, HttpError::HttpResponseTimeout), "{err:?}");
        assert_eq!(
            events(&log),
            [
                "frame 2 ended=false",
                "error ConnectionTerminated",
                "dropped"
            ]
        );

        let log = Events::default();
        let mut refusing = Recorder::new(&log);
        refusing.refuse_over = Some(3);
        let script = Script([data("abc"), data("defg")].into());
        let err = HookedBody::with_hooks(script, refusing)
            .collect()
            .await
            .unwrap_err();
        assert!(
            matches!(err, HttpError::HttpResponseBodySize(Some(7))),
            "{err:?}"
        );
        assert_eq!(
            events(&log),
            ["frame 3 ended=false", "frame 4 ended=false", "dropped"]
        );
    }

    #[tokio::test]
    async fn a_body_dropped_half_read_drops_its_hooks_without_an_end() {
        let log = Events::default();
        let script = Script([data("a"), data("b")].into());
        let mut body = HookedBody::with_hooks(script, Recorder::new(&log));
        let first = body.frame().await.unwrap().unwrap();
        assert_eq!(first.into_data().unwrap(), "a");
        drop(body);
        assert_eq!(events(&log), ["frame 1 ended=false", "dropped"]);
    }

    #[test]
    fn pending_asks_the_hooks_which_may_fail_the_body() {
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let log = Events::default();
        let mut waiting =
            HookedBody::with_hooks(Script([Poll::Pending].into()), Recorder::new(&log));
        assert!(Pin::new(&mut waiting).poll_frame(&mut cx).is_pending());
        assert_eq!(events(&log), ["pending"]);

        let mut timing_out = Recorder::new(&log);
        timing_out.timeout_when_pending = true;
        let mut timed_out = HookedBody::with_hooks(Script([Poll::Pending].into()), timing_out);
        let polled = Pin::new(&mut timed_out).poll_frame(&mut cx);
        assert!(
            matches!(
                polled,
                Poll::Ready(Some(Err(HttpError::ConnectionReadTimeout)))
            ),
            "{polled:?}"
        );
    }

    /// Hooks that change nothing: the defaults.
    struct Unhooked;

    impl BodyHooks for Unhooked {}

    #[test]
    fn the_end_of_stream_is_the_inner_bodys_and_the_size_hint_the_hooks_say() {
        let five = || Full::new(Bytes::from_static(b"12345")).map_err(|never| match never {});
        let plain = HookedBody::with_hooks(five(), Unhooked);
        assert_eq!(plain.size_hint().exact(), Some(5));
        assert!(!plain.is_end_stream());
        let log = Events::default();
        let hinted = HookedBody::with_hooks(five(), Recorder::new(&log));
        assert_eq!(hinted.size_hint().exact(), Some(6));
        let empty = HookedBody::with_hooks(
            http_body_util::Empty::<Bytes>::new().map_err(|never| match never {}),
            Recorder::new(&log),
        );
        assert!(empty.is_end_stream());
    }
}
