//! Scriptable fault injection: an axum middleware that makes chosen requests misbehave on
//! purpose (error statuses, latency, broken bodies, cut connections, expired tokens), so the
//! resilience of clients can be tested against the real server over loopback.
//!
//! Faults are checked in order of injection; the first armed fault matching the request's
//! method and path (no query) wins. The layer sits inside request recording, so every
//! faulted request still appears in [`crate::Simulator::requests`], with the status the
//! client saw (0 when the connection was cut), and outside the bearer-token gate, so faults
//! apply to every route including `POST /v1/token`.

mod bodies;
mod gathering;
pub(crate) mod layer;

pub use gathering::Gathering;

use crate::lock::lock;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// One scripted misbehaviour.
#[derive(Clone, Debug)]
pub struct Fault {
    /// HTTP method to match (case-insensitive); `None` matches any method.
    pub method: Option<String>,
    pub path: PathMatch,
    pub action: FaultAction,
    /// `None`: every matching request; `Some(n)`: the next `n` matching requests, after
    /// which the fault disarms (its hit count stays readable).
    pub times: Option<u32>,
}

impl Fault {
    /// A fault on every request (any method) whose path matches; refine with the builders.
    pub fn on_path(path: PathMatch, action: FaultAction) -> Fault {
        Fault {
            method: None,
            path,
            action,
            times: None,
        }
    }

    /// Only requests with this method (e.g. `"GET"`, `"POST"`).
    pub fn method(mut self, method: impl Into<String>) -> Fault {
        self.method = Some(method.into());
        self
    }

    /// Only the next `n` matching requests.
    pub fn times(mut self, n: u32) -> Fault {
        self.times = Some(n);
        self
    }

    /// Only the next matching request.
    pub fn once(self) -> Fault {
        self.times(1)
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self.path.matches(path)
    }
}

/// How a fault selects request paths (the path only, never the query string).
#[derive(Clone, Debug)]
pub enum PathMatch {
    Exact(String),
    Prefix(String),
    Contains(String),
}

impl PathMatch {
    pub fn matches(&self, path: &str) -> bool {
        match self {
            PathMatch::Exact(p) => path == p,
            PathMatch::Prefix(p) => path.starts_with(p.as_str()),
            PathMatch::Contains(p) => path.contains(p.as_str()),
        }
    }
}

/// What a fault does to a matching request.
#[derive(Clone, Debug)]
pub enum FaultAction {
    /// Answers `status` instead of the real handler. `body: None` gives the path's area error
    /// shape (code `SIMULATED_FAULT`); a given body is sent as is, as `application/json` when
    /// it parses as JSON, else `text/plain`. `retry_after` is the raw `Retry-After` value.
    /// Statuses outside 200..=999 are answered as 500.
    Status {
        status: u16,
        body: Option<String>,
        retry_after: Option<String>,
    },
    /// Waits, then serves normally (lets clients trip first-byte timeouts).
    Latency(Duration),
    /// 200 with `content-type: application/json` and a body that is not JSON.
    MalformedJson,
    /// Runs the real handler, then sends its status and headers with a `Content-Length`
    /// of the full body (at least 1) but only the first half of the body bytes, then
    /// closes the connection. A hyper/reqwest client gets the headers and status fine,
    /// then reading the body fails (reqwest `bytes()`/`text()`: an `is_decode()` error whose
    /// source is hyper's "end of file before message length reached"); a raw socket reads
    /// the head, half the body, then an orderly close (FIN). Recorded with status 0.
    TruncatedBody,
    /// 200 with a valid JSON body `{"data":"xxx…"}` of exactly `bytes` bytes (at least 11),
    /// streamed in 64 KiB chunks with chunked transfer encoding (no `Content-Length`), so
    /// only a streaming size cap can stop it.
    OversizedBody { bytes: usize },
    /// Closes the connection without sending a single byte of response; the real handler
    /// never runs (a write does not happen). A hyper/reqwest
    /// client sees `send()` fail (reqwest: `is_request()`, source hyper's "connection
    /// closed before message completed", i.e. an incomplete message); a raw socket reads
    /// zero bytes then an orderly close (FIN, not an RST). Recorded with status 0.
    ConnectionReset,
    /// Like `ConnectionReset`, but only after the real handler ran, so a write (e.g. a
    /// ticket or task creation, a token mint) takes effect while the client gets no
    /// answer: the "outcome unknown" case. Recorded with status 0.
    ResetAfterHandling,
    /// Expires every issued token before the request is handled, so a bearer call gets 401
    /// (token expiry mid-run); the request is then served normally.
    ExpireTokensFirst,
    /// Holds each matching request until the gathering's expected number have arrived (or
    /// its longest wait passed), then serves them normally: concurrent clients overlap for
    /// certain. Pair with `times(n)` so only the first `n` are held.
    Gather(Gathering),
}

impl FaultAction {
    /// `Status` with the area's error body and no `Retry-After`.
    pub fn status(status: u16) -> FaultAction {
        FaultAction::Status {
            status,
            body: None,
            retry_after: None,
        }
    }

    /// `Status` with the area's error body and a raw `Retry-After` header value.
    pub fn status_retry_after(status: u16, retry_after: impl Into<String>) -> FaultAction {
        FaultAction::Status {
            status,
            body: None,
            retry_after: Some(retry_after.into()),
        }
    }

    /// `Gather`: hold requests until `expected` have arrived, each for at most `at_most`.
    pub fn gather(expected: usize, at_most: Duration) -> FaultAction {
        FaultAction::Gather(Gathering::new(expected, at_most))
    }
}

/// Identifies an injected fault, for [`crate::Simulator::remove_fault`] and hit counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FaultId(u64);

#[derive(Default)]
pub(crate) struct FaultStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    armed: Vec<(FaultId, Fault)>,
    hits: HashMap<FaultId, u32>,
}

impl FaultStore {
    pub fn inject(&self, fault: Fault) -> FaultId {
        let mut inner = lock(&self.inner);
        inner.next_id += 1;
        let id = FaultId(inner.next_id);
        inner.hits.insert(id, 0);
        if fault.times != Some(0) {
            inner.armed.push((id, fault));
        }
        id
    }

    pub fn remove(&self, id: FaultId) {
        lock(&self.inner).armed.retain(|(fid, _)| *fid != id);
    }

    pub fn clear(&self) {
        lock(&self.inner).armed.clear();
    }

    pub fn hits(&self, id: FaultId) -> u32 {
        lock(&self.inner).hits.get(&id).copied().unwrap_or(0)
    }

    /// The action of the first armed fault matching the request, counting the hit and
    /// disarming a fault whose `times` ran out.
    fn take(&self, method: &str, path: &str) -> Option<FaultAction> {
        let mut inner = lock(&self.inner);
        let pos = inner
            .armed
            .iter()
            .position(|(_, f)| f.matches(method, path))?;
        let (id, fault) = &mut inner.armed[pos];
        let (id, action) = (*id, fault.action.clone());
        let exhausted = match fault.times.as_mut() {
            Some(n) => {
                *n = n.saturating_sub(1);
                *n == 0
            }
            None => false,
        };
        if exhausted {
            inner.armed.remove(pos);
        }
        *inner.hits.entry(id).or_insert(0) += 1;
        Some(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_armed_match_wins_and_times_disarm() {
        let store = FaultStore::default();
        let any = PathMatch::Prefix("/".into());
        let a = store.inject(Fault::on_path(any.clone(), FaultAction::MalformedJson).once());
        let b = store.inject(Fault::on_path(any, FaultAction::status(503)).method("GET"));
        assert!(matches!(
            store.take("GET", "/x"),
            Some(FaultAction::MalformedJson)
        ));
        assert!(matches!(
            store.take("get", "/x"),
            Some(FaultAction::Status { status: 503, .. })
        ));
        assert!(store.take("POST", "/x").is_none());
        store.remove(b);
        assert!(store.take("GET", "/x").is_none());
        assert_eq!((store.hits(a), store.hits(b)), (1, 1));
    }
}
