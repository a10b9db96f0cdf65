//! The per-call cap on requests in flight. A plugin can start several outgoing requests
//! before awaiting any; each holds a connection upstream until its answer has been read.
//! A request is in flight from admission until its response body has been read to the end,
//! failed, or been dropped by the plugin (or until it failed without a response).

use super::body_hooks::{BodyHooks, HookedBody};
use super::ledger::CallLedger;
use std::sync::Arc;
use wasmtime_wasi_http::Error as HttpError;

/// One taken in-flight slot; dropping it gives the slot back.
pub(crate) struct InFlight {
    ledger: Arc<CallLedger>,
}

impl InFlight {
    /// A slot of `ledger`'s call, if fewer than `limit` are taken.
    pub(crate) fn enter(ledger: &Arc<CallLedger>, limit: u32) -> Option<InFlight> {
        ledger.enter_flight(limit).then(|| InFlight {
            ledger: ledger.clone(),
        })
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.ledger.leave_flight();
    }
}

/// A response body that keeps its request's slot until the body ends, fails or is dropped.
pub(crate) type HeldBody<B> = HookedBody<B, SlotHold>;

/// The hooks of a [`HeldBody`]: the slot, let go at the body's end or failure (a dropped
/// body drops it with these hooks).
pub(crate) struct SlotHold {
    slot: Option<InFlight>,
}

impl<B> HookedBody<B, SlotHold> {
    pub(crate) fn new(inner: B, slot: InFlight) -> HeldBody<B> {
        HookedBody::with_hooks(inner, SlotHold { slot: Some(slot) })
    }
}

impl BodyHooks for SlotHold {
    fn on_end(&mut self) {
        self.slot = None;
    }

    fn on_error(&mut self, error: HttpError) -> HttpError {
        self.slot = None;
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};

    fn body(text: &'static str) -> impl http_body::Body<Data = Bytes, Error = HttpError> + Unpin {
        Full::new(Bytes::from_static(text.as_bytes())).map_err(|never| match never {})
    }

    #[tokio::test]
    async fn the_slot_is_held_until_the_body_is_read_to_the_end() {
        let ledger = Arc::new(CallLedger::default());
        let slot = InFlight::enter(&ledger, 1).expect("a free slot");
        assert!(InFlight::enter(&ledger, 1).is_none());
        let held = HeldBody::new(body("answer"), slot);
        assert!(InFlight::enter(&ledger, 1).is_none());
        let read = held.collect().await.unwrap().to_bytes();
        assert_eq!(&read[..], b"answer");
        assert!(InFlight::enter(&ledger, 1).is_some());
    }

    #[tokio::test]
    async fn a_dropped_body_gives_its_slot_back() {
        let ledger = Arc::new(CallLedger::default());
        let held = HeldBody::new(body("unread"), InFlight::enter(&ledger, 1).unwrap());
        assert!(InFlight::enter(&ledger, 1).is_none());
        drop(held);
        assert!(InFlight::enter(&ledger, 1).is_some());
    }
}
