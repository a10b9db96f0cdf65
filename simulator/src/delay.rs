//! A simulated network round trip on the server's side of a connection.
//!
//! Bytes from the client are read as they arrive but handed to the server only
//! `round_trip` later, so every request/response exchange costs one round trip, the TLS
//! handshake its round trip, and (by holding a new connection's first bytes one more
//! round trip) the TCP handshake its own. The delay is a latency, not a bandwidth limit:
//! bytes sent back to back arrive back to back, one round trip late.

use bytes::Bytes;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, Sleep};

/// A server-side connection, delayed or not.
pub(crate) enum Delayed {
    Direct(TcpStream),
    Late(Box<Late>),
}

/// Bytes from the client, each chunk with the time it may be read.
pub(crate) struct Late {
    arrivals: mpsc::UnboundedReceiver<io::Result<(Instant, Bytes)>>,
    pending: Option<(Instant, Bytes)>,
    timer: Pin<Box<Sleep>>,
    write: OwnedWriteHalf,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Late {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Delayed {
    pub(crate) fn new(tcp: TcpStream, round_trip: Duration) -> Delayed {
        if round_trip.is_zero() {
            return Delayed::Direct(tcp);
        }
        let (mut read, write) = tcp.into_split();
        let (tx, arrivals) = mpsc::unbounded_channel();
        let reader = tokio::spawn(async move {
            // The TCP handshake's round trip: the client's first bytes cannot arrive sooner.
            tokio::time::sleep(round_trip).await;
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                match read.read(&mut buf).await {
                    Ok(n) => {
                        let chunk = Bytes::copy_from_slice(&buf[..n]);
                        if tx.send(Ok((Instant::now() + round_trip, chunk))).is_err() || n == 0 {
                            return;
                        }
                    }
                    Err(err) => {
                        let _ = tx.send(Err(err));
                        return;
                    }
                }
            }
        });
        Delayed::Late(Box::new(Late {
            arrivals,
            pending: None,
            timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
            write,
            reader,
        }))
    }
}

impl AsyncRead for Delayed {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let late = match self.get_mut() {
            Delayed::Direct(tcp) => return Pin::new(tcp).poll_read(cx, buf),
            Delayed::Late(late) => late,
        };
        loop {
            if let Some((due, chunk)) = &mut late.pending {
                if Instant::now() < *due {
                    late.timer.as_mut().reset(*due);
                    ready!(late.timer.as_mut().poll(cx));
                }
                // An empty chunk is the client's end of stream.
                let n = chunk.len().min(buf.remaining());
                buf.put_slice(&chunk.split_to(n));
                if chunk.is_empty() {
                    late.pending = None;
                }
                return Poll::Ready(Ok(()));
            }
            match ready!(late.arrivals.poll_recv(cx)) {
                Some(Ok(arrival)) => late.pending = Some(arrival),
                Some(Err(err)) => return Poll::Ready(Err(err)),
                None => return Poll::Ready(Ok(())),
            }
        }
    }
}

impl AsyncWrite for Delayed {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Delayed::Direct(tcp) => Pin::new(tcp).poll_write(cx, data),
            Delayed::Late(late) => Pin::new(&mut late.write).poll_write(cx, data),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Delayed::Direct(tcp) => Pin::new(tcp).poll_flush(cx),
            Delayed::Late(late) => Pin::new(&mut late.write).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Delayed::Direct(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Delayed::Late(late) => Pin::new(&mut late.write).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn bytes_arrive_one_round_trip_late_and_the_first_two() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let round_trip = Duration::from_millis(40);
        let mut server = Delayed::new(server, round_trip);
        let started = std::time::Instant::now();
        client.write_all(b"hello").await.unwrap();
        let mut buf = [0u8; 5];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello");
        assert!(started.elapsed() >= round_trip * 2, "handshake + one trip");
        let again = std::time::Instant::now();
        client.write_all(b"again").await.unwrap();
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"again");
        assert!(again.elapsed() >= round_trip);
        drop(client);
        assert_eq!(server.read(&mut buf).await.unwrap(), 0, "end of stream");
    }
}
