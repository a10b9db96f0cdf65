//! What the gate saw during one tool call: how many requests it sent or admitted, how many
//! are in flight, why it stopped any, and each exchange that went upstream. The guest only sees WASI error codes, so this
//! record is how the host explains a failure and audits the call.

use super::failure::GateFailure;
use super::origin::Origin;
use super::response_facts::{FactsTeller, ResponseFacts};
use std::sync::Mutex;
use std::time::Duration;

/// One request as it went upstream (for audit and tests).
#[derive(Debug, Clone, serde::Serialize)]
pub struct UpstreamExchange {
    /// The HTTP method.
    pub method: String,
    /// The origin the plugin addressed (routes do not change it).
    pub origin: String,
    /// The request path, without the query (which may carry search terms).
    pub path: String,
    /// The response status; `None` when no response arrived.
    pub status: Option<u16>,
    /// Time from sending to the response head (or the failure).
    pub elapsed_ms: u64,
    /// Whether this was the one replay with a fresh token after a 401.
    pub replayed_after_401: bool,
    /// 0 for the first attempt, n for the n-th retry.
    pub retry: u32,
}

/// Which send of one plugin request an exchange was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attempt {
    First,
    ReplayAfter401,
    Retry(u32),
}

impl UpstreamExchange {
    pub(crate) fn new(
        parts: &http::request::Parts,
        origin: &Origin,
        status: Option<u16>,
        elapsed: Duration,
        attempt: Attempt,
    ) -> UpstreamExchange {
        UpstreamExchange {
            method: parts.method.to_string(),
            origin: origin.to_string(),
            path: parts.uri.path().to_string(),
            status,
            elapsed_ms: elapsed.as_millis() as u64,
            replayed_after_401: attempt == Attempt::ReplayAfter401,
            retry: match attempt {
                Attempt::Retry(n) => n,
                _ => 0,
            },
        }
    }
}

/// What an [`ExchangeObserver`] is told while a call runs.
#[derive(Debug, Clone, Copy)]
pub enum Observed<'a> {
    /// A response head arrived (or the send failed).
    Exchange(&'a UpstreamExchange),
    /// A successful response body was read to its end: its paging and status numbers.
    Facts(&'a ResponseFacts),
}

/// Called as each upstream exchange completes: what a front end shows as progress while a
/// long call runs (the ledger itself is read once the call ends).
pub type ExchangeObserver = std::sync::Arc<dyn Fn(Observed<'_>) + Send + Sync>;

/// What the gate saw during one tool call. Shared between the call's gate (which writes)
/// and the runtime (which reads it once the call ends).
#[derive(Default)]
pub struct CallLedger {
    inner: Mutex<LedgerEntries>,
    observer: Option<ExchangeObserver>,
}

impl CallLedger {
    /// A ledger that also tells `observer` of each exchange as it completes.
    pub(crate) fn observed(observer: Option<ExchangeObserver>) -> CallLedger {
        CallLedger {
            observer,
            ..CallLedger::default()
        }
    }
}

#[derive(Default, Clone)]
struct LedgerEntries {
    requests: u32,
    in_flight: u32,
    failures: Vec<GateFailure>,
    exchanges: Vec<UpstreamExchange>,
}

impl CallLedger {
    fn with<R>(&self, f: impl FnOnce(&mut LedgerEntries) -> R) -> R {
        // A poisoned ledger only means a panic elsewhere; the record itself stays usable.
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    /// Who to tell a response's facts, when someone watches this call's progress (only then
    /// are they read). They are not kept in the ledger.
    pub(crate) fn facts_teller(&self) -> Option<FactsTeller> {
        let observer = self.observer.clone()?;
        Some(Box::new(move |facts: &ResponseFacts| {
            observer(Observed::Facts(facts))
        }))
    }

    /// Why the gate stopped requests during the call, in order.
    pub(crate) fn failures(&self) -> Vec<GateFailure> {
        self.with(|e| e.failures.clone())
    }

    /// Every exchange that went upstream during the call, in order.
    pub(crate) fn exchanges(&self) -> Vec<UpstreamExchange> {
        self.with(|e| e.exchanges.clone())
    }

    /// Counts one more request toward the per-call cap and returns the new count.
    /// Counting and reading happen under one lock, so concurrent requests of one call
    /// cannot both slip under the cap.
    pub(crate) fn count_request(&self) -> u32 {
        self.with(|e| {
            e.requests += 1;
            e.requests
        })
    }

    /// Takes one in-flight slot if fewer than `limit` are taken (checked and taken under
    /// one lock, like the request count). Give it back with [`CallLedger::leave_flight`].
    pub(crate) fn enter_flight(&self, limit: u32) -> bool {
        self.with(|e| {
            let admitted = e.in_flight < limit;
            if admitted {
                e.in_flight += 1;
            }
            admitted
        })
    }

    /// Gives back an in-flight slot.
    pub(crate) fn leave_flight(&self) {
        self.with(|e| e.in_flight = e.in_flight.saturating_sub(1));
    }

    /// Records `failure` and hands it back, so call sites can fail and return in one step.
    pub(crate) fn fail(&self, failure: GateFailure) -> GateFailure {
        tracing::warn!(%failure, "outbound gate");
        self.with(|e| e.failures.push(failure.clone()));
        failure
    }

    pub(crate) fn record(&self, exchange: UpstreamExchange) {
        tracing::debug!(method = %exchange.method, path = %exchange.path, status = ?exchange.status, "upstream");
        if let Some(observer) = &self.observer {
            observer(Observed::Exchange(&exchange));
        }
        self.with(|e| e.exchanges.push(exchange));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: http::Method, uri: &str) -> http::request::Parts {
        let mut request = http::Request::new(());
        *request.method_mut() = method;
        *request.uri_mut() = uri.parse().unwrap();
        request.into_parts().0
    }

    #[test]
    fn an_exchange_records_the_path_but_not_the_query() {
        let origin = Origin::parse("https://api.example.com").unwrap();
        let p = parts(
            http::Method::GET,
            "https://api.example.com/v1/devices?name=maria",
        );
        let x = UpstreamExchange::new(
            &p,
            &origin,
            Some(200),
            Duration::from_millis(12),
            Attempt::First,
        );
        assert_eq!(
            (x.method.as_str(), x.origin.as_str(), x.path.as_str()),
            ("GET", "https://api.example.com:443", "/v1/devices")
        );
        assert_eq!((x.status, x.elapsed_ms), (Some(200), 12));
        assert_eq!((x.replayed_after_401, x.retry), (false, 0));
    }

    #[test]
    fn an_exchange_says_which_attempt_it_was() {
        let origin = Origin::parse("https://api.example.com").unwrap();
        let p = parts(http::Method::POST, "https://api.example.com/v1/tasks");
        let x = |attempt| UpstreamExchange::new(&p, &origin, None, Duration::ZERO, attempt);
        let replay = x(Attempt::ReplayAfter401);
        assert_eq!((replay.replayed_after_401, replay.retry), (true, 0));
        let retry = x(Attempt::Retry(2));
        assert_eq!((retry.replayed_after_401, retry.retry), (false, 2));
    }

    #[test]
    fn in_flight_slots_are_capped_and_given_back() {
        let ledger = CallLedger::default();
        assert!(ledger.enter_flight(2) && ledger.enter_flight(2));
        assert!(!ledger.enter_flight(2));
        ledger.leave_flight();
        assert!(ledger.enter_flight(2));
        assert!(!CallLedger::default().enter_flight(0));
    }

    #[test]
    fn keeps_counts_failures_and_exchanges_in_order() {
        let ledger = CallLedger::default();
        assert_eq!((ledger.count_request(), ledger.count_request()), (1, 2));
        let first = GateFailure::RequestLimit { limit: 1 };
        let second = GateFailure::RequestBodyTooLarge { limit: 9 };
        assert_eq!(ledger.fail(first.clone()), first);
        ledger.fail(second.clone());
        assert_eq!(ledger.failures(), vec![first, second]);
        let origin = Origin::parse("https://api.example.com").unwrap();
        let p = parts(http::Method::GET, "https://api.example.com/a");
        ledger.record(UpstreamExchange::new(
            &p,
            &origin,
            Some(503),
            Duration::ZERO,
            Attempt::First,
        ));
        ledger.record(UpstreamExchange::new(
            &p,
            &origin,
            Some(200),
            Duration::ZERO,
            Attempt::Retry(1),
        ));
        let statuses: Vec<_> = ledger.exchanges().iter().map(|x| x.status).collect();
        assert_eq!(statuses, vec![Some(503), Some(200)]);
    }
}
