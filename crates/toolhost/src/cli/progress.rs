//! Progress of a long call on a terminal: elapsed time, the page a listing is on ("page 2 of
//! 5", or "page 2, more follow" when the API does not say how many), a task's status counts
//! ("2 succeeded, 1 running, 0 failed"), the upstream requests made so far and the last one,
//! redrawn in place on stderr and cleared when the call ends.
//!
//! The Asio device list pages through `Link: <…?cursor=N>; rel="next"` and never says how
//! many devices there are, so its pages are counted ("page n") but their number is unknown;
//! the ticket list gives a `totalCount`, so its pages read "page n of m".

use super::display::escape;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use toolhost_sandbox::{ExchangeObserver, Observed, ResponseFacts, TaskCounts};

/// A spinner on stderr.
pub struct Progress {
    bar: ProgressBar,
    state: Arc<Mutex<Seen>>,
}

/// What the call has done so far, as the spinner's message says it.
#[derive(Default)]
struct Seen {
    requests: u64,
    last: String,
    /// Pages read, per request path.
    pages: HashMap<String, u64>,
    /// The newest page or task status, e.g. "page 2 of 5".
    headline: Option<String>,
}

impl Seen {
    fn exchange(&mut self, method: &str, path: &str, status: Option<u16>) {
        self.requests += 1;
        let status = status.map_or_else(|| "no answer".to_string(), |s| s.to_string());
        self.last = format!("{method} {} -> {status}", escape(path));
    }

    fn facts(&mut self, facts: &ResponseFacts) {
        if let Some(counts) = facts.task_counts {
            self.headline = Some(task_line(counts));
        } else if facts.page_size.is_some() || facts.more_pages || facts.total_count.is_some() {
            let n = self.pages.entry(facts.path.clone()).or_default();
            *n += 1;
            self.headline = Some(page_line(*n, facts));
        }
    }

    fn message(&self) -> String {
        let requests = format!(
            "{} request{} so far; last: {}",
            self.requests,
            if self.requests == 1 { "" } else { "s" },
            self.last
        );
        match &self.headline {
            Some(headline) => format!("{headline} · {requests}"),
            None => requests,
        }
    }
}

/// "page 2 of 5" when the listing gives its total, else "page 2, more follow" or "page 2".
fn page_line(n: u64, facts: &ResponseFacts) -> String {
    let of = match (facts.total_count, facts.page_size) {
        (Some(total), Some(size)) if size > 0 => Some(total.div_ceil(size).max(n)),
        _ => None,
    };
    match of {
        Some(m) => format!("page {n} of {m}"),
        None if facts.more_pages => format!("page {n}, more follow"),
        None => format!("page {n}"),
    }
}

/// "2 succeeded, 1 running, 0 failed" (and how many are in another state, if any).
fn task_line(c: TaskCounts) -> String {
    let mut line = format!(
        "{} succeeded, {} running, {} failed",
        c.succeeded, c.running, c.failed
    );
    if c.other > 0 {
        line.push_str(&format!(", {} other", c.other));
    }
    line
}

impl Progress {
    /// A spinner that stays hidden until the first upstream request: a call that asks for
    /// approval first prompts on a clean screen, and a call that sends nothing draws nothing.
    /// `None` when the terminal asked for plain output (`NO_COLOR`, `TERM=dumb`): redrawing
    /// in place needs control sequences.
    pub fn new() -> Option<Progress> {
        let plain = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
            || std::env::var("TERM").is_ok_and(|t| t == "dumb");
        if plain {
            return None;
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
            bar.set_style(style);
        }
        Some(Progress {
            bar,
            state: Arc::default(),
        })
    }

    /// What the host calls with each upstream exchange and each response's facts.
    pub fn observer(&self) -> ExchangeObserver {
        let bar = self.bar.clone();
        let state = self.state.clone();
        Arc::new(move |observed: Observed<'_>| {
            // A poisoned lock only means a panic in another redraw; the counts stay usable.
            let mut seen = state.lock().unwrap_or_else(|p| p.into_inner());
            match observed {
                Observed::Exchange(x) => {
                    if seen.requests == 0 {
                        bar.set_draw_target(ProgressDrawTarget::stderr());
                        bar.enable_steady_tick(Duration::from_millis(120));
                    }
                    seen.exchange(&x.method, &x.path, x.status);
                }
                Observed::Facts(facts) => seen.facts(facts),
            }
            bar.set_message(seen.message());
        })
    }

    /// Clears the spinner so the result prints on a clean screen.
    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(path: &str, size: Option<u64>, more: bool, total: Option<u64>) -> ResponseFacts {
        ResponseFacts {
            path: path.into(),
            page_size: size,
            more_pages: more,
            total_count: total,
            task_counts: None,
        }
    }

    #[test]
    fn device_pages_are_counted_without_a_total() {
        let mut seen = Seen::default();
        seen.exchange("POST", "/endpoints", Some(200));
        seen.facts(&page("/endpoints", Some(500), true, None));
        assert!(seen
            .message()
            .starts_with("page 1, more follow · 1 request so far"));
        seen.exchange("POST", "/endpoints", Some(200));
        seen.facts(&page("/endpoints", Some(500), false, None));
        assert_eq!(
            seen.message(),
            "page 2 · 2 requests so far; last: POST /endpoints -> 200"
        );
    }

    #[test]
    fn ticket_pages_know_how_many_there_are() {
        let mut seen = Seen::default();
        seen.facts(&page("/tickets", Some(100), false, Some(250)));
        seen.facts(&page("/tickets", Some(100), false, Some(250)));
        assert!(
            seen.message().starts_with("page 2 of 3 ·"),
            "{}",
            seen.message()
        );
        // A total smaller than the pages read so far never reads "page 4 of 3".
        let mut seen = Seen::default();
        for _ in 0..4 {
            seen.facts(&page("/tickets", Some(100), false, Some(250)));
        }
        assert!(
            seen.message().starts_with("page 4 of 4"),
            "{}",
            seen.message()
        );
    }

    #[test]
    fn a_task_shows_its_status_counts() {
        let mut seen = Seen::default();
        let counts = TaskCounts {
            succeeded: 2,
            running: 1,
            failed: 0,
            other: 0,
        };
        seen.facts(&ResponseFacts {
            task_counts: Some(counts),
            ..page("/summary", None, false, None)
        });
        assert!(seen
            .message()
            .starts_with("2 succeeded, 1 running, 0 failed ·"));
        let other = TaskCounts { other: 3, ..counts };
        assert_eq!(
            task_line(other),
            "2 succeeded, 1 running, 0 failed, 3 other"
        );
    }

    #[test]
    fn a_response_without_paging_or_status_changes_no_headline() {
        let mut seen = Seen::default();
        seen.facts(&page("/companies", None, false, None));
        assert_eq!(seen.headline, None);
        seen.exchange("GET", "/a\u{1b}[2J", None);
        assert!(!seen.message().contains('\u{1b}'), "{}", seen.message());
        assert!(seen.message().ends_with("-> no answer"));
    }
}
