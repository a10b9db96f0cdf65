//! Graceful shutdown: on SIGTERM or SIGINT the listener stops accepting, MCP requests in
//! flight (a `tools/call` until its answer is fully sent) finish within a deadline, then the
//! MCP sessions close and the process exits. A call's audit record is one write of one line
//! on an append-mode file, made synchronously when the call ends, so no record is ever left
//! half-written whichever side of the deadline a call ends on.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use futures_util::StreamExt;
use std::time::Duration;
use tokio::sync::watch;

/// How many MCP requests are being answered.
#[derive(Clone)]
pub struct InFlight(watch::Sender<usize>);

impl Default for InFlight {
    fn default() -> InFlight {
        InFlight(watch::Sender::new(0))
    }
}

/// Held while one request is answered; dropping it (the answer's body sent or abandoned)
/// counts the request as finished.
pub struct Entered(watch::Sender<usize>);

impl Drop for Entered {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl InFlight {
    pub fn enter(&self) -> Entered {
        self.0.send_modify(|n| *n += 1);
        Entered(self.0.clone())
    }

    pub fn count(&self) -> usize {
        *self.0.borrow()
    }

    /// Resolves when nothing is in flight, or `false` after `deadline` if something still is.
    pub async fn drained_within(&self, deadline: Duration) -> bool {
        let mut receiver = self.0.subscribe();
        let drained = tokio::time::timeout(deadline, receiver.wait_for(|n| *n == 0)).await;
        drained.is_ok()
    }
}

/// Middleware: counts each POST (JSON-RPC requests, `tools/call` among them) until its
/// response body, an SSE stream that ends after the answer, is finished. GET streams (server
/// notifications, open as long as a session) are not calls and are not waited for.
pub async fn track(State(in_flight): State<InFlight>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let entered = in_flight.enter();
    let response = next.run(request).await;
    let (parts, body) = response.into_parts();
    let body = body.into_data_stream().map(move |chunk| {
        // The guard lives as long as the stream: dropped when the body ends or is dropped.
        let _ = &entered;
        chunk
    });
    Response::from_parts(parts, Body::from_stream(body))
}

/// Resolves on the first SIGTERM (how Kubernetes and systemd stop a process) or SIGINT.
pub async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn drains_when_the_last_request_ends_and_times_out_otherwise() {
        let in_flight = InFlight::default();
        assert!(in_flight.drained_within(Duration::from_millis(10)).await);
        let entered = in_flight.enter();
        assert_eq!(in_flight.count(), 1);
        assert!(!in_flight.drained_within(Duration::from_millis(20)).await);
        let waiter = {
            let in_flight = in_flight.clone();
            tokio::spawn(async move { in_flight.drained_within(Duration::from_secs(5)).await })
        };
        drop(entered);
        assert!(waiter.await.unwrap());
        assert_eq!(in_flight.count(), 0);
    }
}
