//! How an HTTP keep-alive connection ends when its listener stops, without stranding a channel.
//!
//! hyper knows when a connection is between requests, but its graceful shutdown also closes a
//! connection whose next request is already on its way (in the kernel's queue, not yet read),
//! and it cannot tell us its state. So the connection's socket is wrapped ([`DrainingIo`]) and
//! its replies' bodies are tracked ([`Tracked`]): a connection is *between requests* once the
//! last byte of a reply has been flushed to the socket and no request has been read or started
//! since. From the stop signal on, such a connection's socket reads as ended — unless the kernel
//! holds bytes from the peer ([`input_waiting`]), which are read and served as usual — and hyper
//! closes an idle connection at end of stream. Replies themselves say `Connection: close` from
//! the stop signal on (see `http.rs`), so a connection being served closes after its reply.
//!
//! This file knows nothing of requests and replies beyond where one ends; `http.rs` serves them.

use super::shutdown::input_waiting;
use super::Shutdown;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// A request is being received or served (or none has come yet).
const BUSY: u8 = 0;
/// hyper has taken the last frame of a reply's body; its bytes may still be buffered.
const ENCODED: u8 = 1;
/// The whole reply is flushed to the socket and nothing has been read since.
const BETWEEN: u8 = 2;

/// Where one connection is in its exchange, as its socket and its replies see it.
#[derive(Debug, Default)]
pub struct Exchange {
    state: AtomicU8,
}

impl Exchange {
    /// True between requests: the last reply is wholly written and nothing was read since.
    pub fn between_requests(&self) -> bool {
        self.state.load(Ordering::SeqCst) == BETWEEN
    }

    /// A request has started: hyper parsed its head (perhaps from bytes read with the last one).
    pub fn request_started(&self) {
        self.state.store(BUSY, Ordering::SeqCst);
    }

    fn read(&self) {
        self.state.store(BUSY, Ordering::SeqCst);
    }

    fn encoded(&self) {
        self.state.store(ENCODED, Ordering::SeqCst);
    }

    fn flushed(&self) {
        // Only a reply's last flush ends an exchange: a request read meanwhile keeps it busy.
        let _ = self.state.compare_exchange(ENCODED, BETWEEN, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// A connection's socket as hyper sees it: once the listener stops, it reads as ended while the
/// connection is between requests with nothing from the peer waiting.
pub struct DrainingIo {
    stream: TcpStream,
    exchange: Arc<Exchange>,
    shutdown: Shutdown,
}

impl DrainingIo {
    /// Wraps `stream`; `exchange` is shared with the connection's replies ([`Tracked`]).
    pub fn new(stream: TcpStream, exchange: Arc<Exchange>, shutdown: Shutdown) -> DrainingIo {
        DrainingIo { stream, exchange, shutdown }
    }
}

impl AsyncRead for DrainingIo {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if *this.shutdown.borrow() && this.exchange.between_requests() && !input_waiting(&this.stream) {
            // End of stream: hyper closes a connection that ends between requests, cleanly.
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let read = Pin::new(&mut this.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.exchange.read();
        }
        read
    }
}

impl AsyncWrite for DrainingIo {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    /// hyper flushes the socket only once its own buffer is empty: after a reply's last frame,
    /// that is the reply wholly written.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let flushed = Pin::new(&mut this.stream).poll_flush(cx);
        if matches!(flushed, Poll::Ready(Ok(()))) {
            this.exchange.flushed();
        }
        flushed
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// A reply body that tells its connection's [`Exchange`] when hyper has taken its last frame.
pub struct Tracked {
    inner: Full<Bytes>,
    exchange: Arc<Exchange>,
}

impl Tracked {
    /// Tracks `inner` for `exchange`.
    pub fn new(inner: Full<Bytes>, exchange: Arc<Exchange>) -> Tracked {
        Tracked { inner, exchange }
    }
}

impl Body for Tracked {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        let frame = Pin::new(&mut this.inner).poll_frame(cx);
        if matches!(frame, Poll::Ready(None)) || this.inner.is_end_stream() {
            this.exchange.encoded();
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        // hyper asks this before the first frame and after each one, and stops polling at true.
        let end = self.inner.is_end_stream();
        if end {
            self.exchange.encoded();
        }
        end
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exchange_is_between_requests_only_after_a_whole_reply_with_nothing_read_since() {
        let e = Exchange::default();
        assert!(!e.between_requests(), "a fresh connection is not between requests");
        e.flushed();
        assert!(!e.between_requests(), "a flush without a reply (e.g. 100 Continue) ends nothing");
        e.encoded();
        assert!(!e.between_requests(), "the reply may still sit in hyper's buffer");
        e.flushed();
        assert!(e.between_requests());
        e.read();
        assert!(!e.between_requests(), "a next request has started");
        e.encoded();
        e.read();
        e.flushed();
        assert!(!e.between_requests(), "a request read while the reply was written keeps it busy");
        e.encoded();
        e.flushed();
        e.request_started();
        assert!(!e.between_requests(), "a request read along with the last one, served after its reply");
    }
}
