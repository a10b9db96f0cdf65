//! The few facts of an upstream response that a terminal's progress shows: whether a listing
//! has another page, its total count and page size, and a task's status counts.
//!
//! Only when the call has an observer, the gate copies the body it hands to the plugin (at
//! most [`MAX_OBSERVED_BODY`] bytes; a larger one yields no facts) and, once it has been read
//! to its end, keeps nothing of it but numbers: the headers, the query, the body's strings
//! and the token never reach the observer, a log or the ledger.

use super::body_hooks::{BodyHooks, HookedBody};
use bytes::{Bytes, BytesMut};
use serde_json::Value;
use wasmtime_wasi_http::{Error as HttpError, WasiBody};

/// Largest body whose facts are read: a page of 500 devices is well below it.
pub const MAX_OBSERVED_BODY: usize = 1 << 20;

/// What progress may know about one response, and nothing more.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseFacts {
    /// The request path, without the query (as in [`UpstreamExchange`](super::UpstreamExchange)).
    pub path: String,
    /// The request asked for a page: it carried a numeric `limit` or `pageSize`.
    pub page_size: Option<u64>,
    /// The response's `Link` header has a `rel="next"` target (only that bit is kept).
    pub more_pages: bool,
    /// A top-level `totalCount` (or `TotalCount`) of the body: items over every page.
    pub total_count: Option<u64>,
    /// The status counts of a task run, when the body is a task's instances or results.
    pub task_counts: Option<TaskCounts>,
}

/// How the endpoints of one task run stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskCounts {
    /// Finished without error.
    pub succeeded: u64,
    /// Scheduled, waiting or running.
    pub running: u64,
    /// Finished with an error.
    pub failed: u64,
    /// Anything else (postponed, canceled, disabled, an unknown status).
    pub other: u64,
}

/// Completion states meaning an endpoint has not finished (asio-api.md §2.11).
const IN_PROGRESS: &[&str] = &[
    "scheduled",
    "running",
    "waiting",
    "pending",
    "queued",
    "inprogress",
    "in progress",
];
const SUCCEEDED: &[&str] = &[
    "success",
    "succeeded",
    "successful",
    "completed",
    "complete",
];
const FAILED: &[&str] = &["failed", "failure", "error", "errored"];

impl TaskCounts {
    fn add_status(&mut self, status: &str) {
        let status = status.trim().to_ascii_lowercase();
        let status = status.as_str();
        if SUCCEEDED.contains(&status) {
            self.succeeded += 1;
        } else if FAILED.contains(&status) {
            self.failed += 1;
        } else if IN_PROGRESS.contains(&status) {
            self.running += 1;
        } else {
            self.other += 1;
        }
    }
}

impl ResponseFacts {
    /// The facts known from the request and the response head; the body adds the rest.
    pub(crate) fn from_head(request: &http::request::Parts, headers: &http::HeaderMap) -> Self {
        let page_size = request.uri.query().and_then(|q| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(q)
                .ok()?
                .into_iter()
                .find(|(k, _)| k == "limit" || k == "pageSize")
                .and_then(|(_, v)| v.parse().ok())
        });
        ResponseFacts {
            path: request.uri.path().to_string(),
            page_size,
            more_pages: headers
                .get_all(http::header::LINK)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .any(has_next_link),
            total_count: None,
            task_counts: None,
        }
    }

    /// Reads the numbers progress shows from `body`; the parsed body is dropped here.
    fn read_body(&mut self, body: &[u8]) {
        let Ok(Value::Object(top)) = serde_json::from_slice::<Value>(body) else {
            return;
        };
        self.total_count = ["totalCount", "TotalCount"]
            .iter()
            .find_map(|k| top.get(*k).and_then(Value::as_u64));
        self.task_counts = instance_counts(&top).or_else(|| result_counts(&top));
    }
}

/// `rel="next"` among the links of one `Link` header value.
fn has_next_link(header: &str) -> bool {
    header.split(',').any(|link| {
        link.split(';').skip(1).any(|param| {
            let Some((key, value)) = param.split_once('=') else {
                return false;
            };
            key.trim().eq_ignore_ascii_case("rel")
                && value
                    .trim()
                    .trim_matches('"')
                    .split_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("next"))
        })
    })
}

/// A task's instances summary (`{"Results": [{SuccessCount, ...}]}`): the counts of its
/// newest instance (newest execution, then newest creation), as get-task-results reports.
fn instance_counts(top: &serde_json::Map<String, Value>) -> Option<TaskCounts> {
    let instances = top.get("Results")?.as_array()?;
    let when = |i: &Value, key: &str| i.get(key).and_then(Value::as_str).unwrap_or("").to_string();
    let newest = instances
        .iter()
        .filter(|i| i.get("SuccessCount").is_some() || i.get("RunningCount").is_some())
        .max_by_key(|i| (when(i, "ExecutedOn"), when(i, "CreatedOn")))?;
    let n = |key: &str| newest.get(key).and_then(Value::as_u64).unwrap_or(0);
    Some(TaskCounts {
        succeeded: n("SuccessCount"),
        running: n("ScheduledCount") + n("WaitingCount") + n("RunningCount"),
        failed: n("FailedCount"),
        other: n("PostponedCount") + n("CanceledCount") + n("DisabledCount"),
    })
}

/// A task instance's per-endpoint results (`{"Result": [{completionStatus}]}`).
fn result_counts(top: &serde_json::Map<String, Value>) -> Option<TaskCounts> {
    let results = ["Result", "results"]
        .iter()
        .find_map(|k| top.get(*k).and_then(Value::as_array))?;
    let mut counts = TaskCounts::default();
    let mut any = false;
    for status in results
        .iter()
        .filter_map(|r| r.get("completionStatus").and_then(Value::as_str))
    {
        counts.add_status(status);
        any = true;
    }
    any.then_some(counts)
}

/// Who hears a response's facts: the call's observer, once.
pub(crate) type FactsTeller = Box<dyn FnOnce(&ResponseFacts) + Send>;

/// `response` with a body that tells `teller` its facts once read to the end. Without a
/// teller (nobody watches the call), or for a failed response, it is passed on untouched.
pub(crate) fn observe(
    teller: Option<FactsTeller>,
    request: &http::request::Parts,
    response: http::Response<WasiBody>,
) -> http::Response<WasiBody> {
    let Some(teller) = teller.filter(|_| response.status().is_success()) else {
        return response;
    };
    let facts = ResponseFacts::from_head(request, response.headers());
    response.map(|inner| {
        let hooks = Observation {
            copy: Some(BytesMut::new()),
            told: Some((facts, teller)),
        };
        http_body_util::BodyExt::boxed_unsync(HookedBody::with_hooks(inner, hooks))
    })
}

/// The hooks of a response body passed on unchanged, with a bounded copy for
/// [`ResponseFacts`]. A body dropped before its end tells nobody.
struct Observation {
    /// `None` once the body outgrew [`MAX_OBSERVED_BODY`].
    copy: Option<BytesMut>,
    /// Taken when told, so the observer hears of a body once.
    told: Option<(ResponseFacts, FactsTeller)>,
}

impl Observation {
    fn finish(&mut self) {
        let Some((mut facts, teller)) = self.told.take() else {
            return;
        };
        if let Some(copy) = self.copy.take() {
            facts.read_body(&copy);
        }
        teller(&facts);
    }
}

impl BodyHooks for Observation {
    fn on_frame(
        &mut self,
        frame: &http_body::Frame<Bytes>,
        inner_ended: bool,
    ) -> Result<(), HttpError> {
        if let Some(data) = frame.data_ref() {
            let fits = self
                .copy
                .as_ref()
                .is_some_and(|c| c.len() + data.len() <= MAX_OBSERVED_BODY);
            match (&mut self.copy, fits) {
                (Some(copy), true) => copy.extend_from_slice(data),
                _ => self.copy = None,
            }
        }
        if inner_ended {
            self.finish();
        }
        Ok(())
    }

    fn on_end(&mut self) {
        self.finish();
    }

    /// A failed body has no facts worth showing.
    fn on_error(&mut self, error: HttpError) -> HttpError {
        self.told = None;
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parts(uri: &str) -> http::request::Parts {
        let mut request = http::Request::new(());
        *request.uri_mut() = uri.parse().unwrap();
        request.into_parts().0
    }

    fn facts(uri: &str, link: Option<&str>, body: &Value) -> ResponseFacts {
        let mut headers = http::HeaderMap::new();
        if let Some(link) = link {
            headers.insert(http::header::LINK, link.parse().unwrap());
        }
        let mut facts = ResponseFacts::from_head(&parts(uri), &headers);
        facts.read_body(body.to_string().as_bytes());
        facts
    }

    #[test]
    fn a_device_page_says_whether_another_follows_and_keeps_nothing_else() {
        let body = json!({"platform": [{"companyID": "c", "endpoints": [{"friendlyName": "secret-host"}]}]});
        let f = facts(
            "https://api.example.com/v2/endpoints?limit=500&cursor=0&filter=name%20eq%20x",
            Some("<https://h/x?cursor=500&limit=500>; rel=\"next\""),
            &body,
        );
        assert_eq!(
            f,
            ResponseFacts {
                path: "/v2/endpoints".into(),
                page_size: Some(500),
                more_pages: true,
                total_count: None,
                task_counts: None,
            }
        );
        assert!(!format!("{f:?}").contains("secret-host") && !format!("{f:?}").contains("cursor"));
        let last = facts("https://h/v2/endpoints?limit=500&cursor=500", None, &body);
        assert!(!last.more_pages);
        let prev = facts("https://h/x", Some("<https://h/x?c=1>; rel=prev"), &body);
        assert!(!prev.more_pages);
    }

    #[test]
    fn a_ticket_page_carries_its_total() {
        let f = facts(
            "https://h/tickets?pageSize=100&pageNum=2",
            None,
            &json!({"tickets": [], "totalCount": 250}),
        );
        assert_eq!((f.page_size, f.total_count), (Some(100), Some(250)));
    }

    #[test]
    fn a_task_summary_counts_its_newest_instance() {
        let body = json!({"Results": [
            {"Id": "old", "CreatedOn": "2026-01-01T00:00:00Z", "SuccessCount": 9, "FailedCount": 9},
            {"Id": "new", "CreatedOn": "2026-02-01T00:00:00Z", "SuccessCount": 2, "FailedCount": 0,
             "RunningCount": 1, "WaitingCount": 1, "ScheduledCount": 0, "CanceledCount": 1},
        ], "Count": 2});
        let f = facts("https://h/tasks/t/instances/summary", None, &body);
        let want = TaskCounts {
            succeeded: 2,
            running: 2,
            failed: 0,
            other: 1,
        };
        assert_eq!(f.task_counts, Some(want));
    }

    #[test]
    fn task_results_are_counted_by_status() {
        let body = json!({"Result": [
            {"completionStatus": "Success", "resultDetails": "password=hunter2"},
            {"completionStatus": "Running"}, {"completionStatus": "Failed"},
            {"completionStatus": "\u{1b}[31mweird"},
        ]});
        let f = facts("https://h/results", None, &body);
        let want = TaskCounts {
            succeeded: 1,
            running: 1,
            failed: 1,
            other: 1,
        };
        assert_eq!(f.task_counts, Some(want));
        assert!(!format!("{f:?}").contains("hunter2"));
    }

    type Told = std::sync::Arc<std::sync::Mutex<Vec<ResponseFacts>>>;

    /// A teller that keeps the facts it is told in `told`.
    fn teller(told: &Told) -> Option<FactsTeller> {
        let keep = told.clone();
        Some(Box::new(move |f: &ResponseFacts| {
            keep.lock().unwrap().push(f.clone())
        }))
    }

    fn response(status: u16, body: Vec<u8>) -> http::Response<WasiBody> {
        let body = http_body_util::Full::new(Bytes::from(body))
            .map_err(|never| match never {})
            .boxed_unsync();
        let mut response = http::Response::new(body);
        *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
        response
    }

    use http_body_util::BodyExt;

    #[tokio::test]
    async fn the_body_reaches_the_plugin_unchanged_and_the_observer_hears_once() {
        let told = Told::default();
        let text = json!({"tickets": [{"summary": "printer"}], "totalCount": 3}).to_string();
        let request = parts("https://h/tickets?pageSize=1&pageNum=1");
        let observed = observe(
            teller(&told),
            &request,
            response(200, text.clone().into_bytes()),
        );
        let read = observed.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(read, text.as_bytes());
        let told = told.lock().unwrap().clone();
        assert_eq!(told.len(), 1, "{told:?}");
        assert_eq!((told[0].page_size, told[0].total_count), (Some(1), Some(3)));
    }

    #[tokio::test]
    async fn a_large_body_or_a_failure_status_yields_no_body_facts() {
        let told = Told::default();
        let mut big = br#"{"totalCount": 5, "pad": ""#.to_vec();
        big.extend(std::iter::repeat_n(b'x', MAX_OBSERVED_BODY));
        big.extend(br#""}"#);
        let observed = observe(
            teller(&told),
            &parts("https://h/t"),
            response(200, big.clone()),
        );
        let read = observed.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(read.len(), big.len());
        assert_eq!(told.lock().unwrap()[0].total_count, None);
        let failed = observe(
            teller(&told),
            &parts("https://h/t"),
            response(500, b"{}".to_vec()),
        );
        failed.into_body().collect().await.unwrap();
        assert_eq!(told.lock().unwrap().len(), 1, "a 500 is not observed");
        // Without a teller (nobody watches) the body passes untouched.
        let plain = observe(None, &parts("https://h/t"), response(200, b"{}".to_vec()));
        assert_eq!(
            plain.into_body().collect().await.unwrap().to_bytes(),
            &b"{}"[..]
        );
    }

    #[test]
    fn anything_else_yields_no_body_facts() {
        for body in [json!([1, 2]), json!("text"), json!({"totalCount": "many"})] {
            let f = facts("https://h/x", None, &body);
            assert_eq!((f.total_count, f.task_counts), (None, None));
        }
        let mut f = ResponseFacts::from_head(&parts("https://h/x"), &http::HeaderMap::new());
        f.read_body(b"{not json");
        assert_eq!(f.total_count, None);
    }
}
