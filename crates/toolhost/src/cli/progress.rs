//! Progress of a long call on a terminal: elapsed time, the upstream requests made so far and
//! the last one (a listing's page, a task's poll), redrawn in place on stderr and cleared when
//! the call ends.

use super::display::escape;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use toolhost_sandbox::{ExchangeObserver, UpstreamExchange};

/// A spinner on stderr.
pub struct Progress {
    bar: ProgressBar,
    requests: Arc<AtomicU64>,
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
            requests: Arc::new(AtomicU64::new(0)),
        })
    }

    /// What the host calls with each upstream exchange.
    pub fn observer(&self) -> ExchangeObserver {
        let bar = self.bar.clone();
        let requests = self.requests.clone();
        Arc::new(move |exchange: &UpstreamExchange| {
            let n = requests.fetch_add(1, Ordering::Relaxed) + 1;
            if n == 1 {
                bar.set_draw_target(ProgressDrawTarget::stderr());
                bar.enable_steady_tick(Duration::from_millis(120));
            }
            let status = exchange
                .status
                .map_or_else(|| "no answer".to_string(), |s| s.to_string());
            bar.set_message(format!(
                "{n} request{} so far; last: {} {} -> {status}",
                if n == 1 { "" } else { "s" },
                exchange.method,
                escape(&exchange.path)
            ));
        })
    }

    /// Clears the spinner so the result prints on a clean screen.
    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}
