//! HTTP/1.1 connections to one service, each driven by the task whose exchange it carries.
//!
//! hyper's own connection API (`hyper::client::conn::http1`) gives a request handle and a
//! connection future. hyper-util's pooled client spawns that future as a task of its own, so
//! every exchange crossed tasks four times (request in, bytes out, head back, body back), each a
//! wake-up and a scheduling. Here the task making the exchange polls the connection itself,
//! beside its request, until the reply's body is complete; an idle connection is polled by
//! nobody, and it is checked when next taken: a service that closed it, or sent bytes nobody
//! asked for, is noticed before anything is written to it (the readiness the runtime recorded
//! meanwhile tells, without a system call when there was none), as in the TCP pool
//! ([`super::pool`]).
//!
//! A connection goes back to the pool only after a complete reply; one whose exchange failed,
//! timed out or was cancelled (its future dropped) is closed. The caller bounds exchanges in
//! flight (the [`super::lane::Gate`]'s permits), so at most that many connections exist; at
//! most `max_idle` wait idle, the least recently used going first.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{self, Connection, SendRequest};
use hyper::header::HeaderValue;
use hyper::{Request, Response, Uri};
use hyper_util::rt::TokioIo;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// One connection: the request handle and the connection future that does its I/O.
struct H1Conn {
    sender: SendRequest<Full<Bytes>>,
    /// `None` once it finished (the service closed it, or it failed).
    conn: Option<Connection<TokioIo<TcpStream>, Full<Bytes>>>,
    /// When it last went idle.
    since: Instant,
}

impl H1Conn {
    /// Polls the connection, if it still runs; true when it runs on.
    fn drive(&mut self, cx: &mut Context<'_>) -> bool {
        if let Some(conn) = self.conn.as_mut() {
            if Pin::new(conn).poll(cx).is_ready() {
                // Dropping it answers anything still waiting with hyper's error.
                self.conn = None;
            }
        }
        self.conn.is_some()
    }
}

/// Why an exchange failed; the caller names the upstream and counts the cause.
#[derive(Debug)]
pub(super) enum H1Error {
    /// No connection could be made (refused, unreachable, the connect timeout).
    Connect(String),
    /// The request was sent, or may have been, and no reply head came back.
    NoReply(String),
    /// A head came back, then the body failed or was too long.
    Body(String),
}

/// The idle connections to one `http://host:port` and how to make more.
pub(super) struct H1Pool {
    /// `host:port` to connect to.
    address: String,
    /// The `Host` header: the URL's authority.
    host: HeaderValue,
    /// The request target in origin form (`/path?query`).
    path: Uri,
    connect_timeout: Duration,
    max_idle: usize,
    /// [`super::IDLE_LIMIT`] (shorter in tests).
    idle_limit: Duration,
    idle: Mutex<Vec<H1Conn>>,
}

impl H1Pool {
    /// A pool for `uri` (an `http://` URL with a host; checked by the caller).
    pub(super) fn new(uri: &Uri, connect_timeout: Duration, max_idle: usize) -> Result<H1Pool, String> {
        let authority = uri.authority().ok_or_else(|| format!("{uri} has no host"))?;
        let address = format!("{}:{}", authority.host(), authority.port_u16().unwrap_or(80));
        let host = HeaderValue::from_str(authority.as_str()).map_err(|e| format!("{uri}: {e}"))?;
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).parse().map_err(|e| format!("{uri}: {e}"))?;
        let idle = Mutex::new(Vec::new());
        Ok(H1Pool {
            address,
            host,
            path,
            connect_timeout,
            max_idle: max_idle.max(1),
            idle_limit: super::IDLE_LIMIT,
            idle,
        })
    }

    /// Idle connections right now.
    #[cfg(test)]
    pub(super) fn idle(&self) -> usize {
        self.idle.lock().map_or(0, |idle| idle.len())
    }

    /// POSTs `request` (its method, target and `Host` are set here) and reads the whole reply
    /// body, at most `max_reply_bytes`. The caller puts the deadline around it; a dropped
    /// exchange closes its connection.
    pub(super) async fn exchange(
        &self,
        mut request: Request<Full<Bytes>>,
        max_reply_bytes: usize,
    ) -> Result<(u16, Bytes), H1Error> {
        *request.method_mut() = hyper::Method::POST;
        *request.uri_mut() = self.path.clone();
        request.headers_mut().insert(hyper::header::HOST, self.host.clone());
        let mut c = self.checkout().await?;
        let sent = c.sender.send_request(request);
        let response = beside(&mut c, sent).await.map_err(|e| H1Error::NoReply(super::http::describe(&e)))?;
        let status = response.status().as_u16();
        let body = read_body(&mut c, response, max_reply_bytes).await?;
        if c.conn.is_some() {
            self.put(c);
        }
        Ok((status, body))
    }

    /// An idle connection that is still usable, or a new one.
    async fn checkout(&self) -> Result<H1Conn, H1Error> {
        loop {
            let Some(mut c) = self.idle.lock().ok().and_then(|mut idle| idle.pop()) else { break };
            if c.since.elapsed() > self.idle_limit {
                tracing::debug!(address = %self.address, "connection idle too long: closed, not used");
                continue;
            }
            // Anything the service did while it sat idle — closed it, sent bytes nobody asked
            // for (hyper then fails it) — is seen by this one poll; a usable connection is
            // ready at once (its last reply was read whole), anything else is not used.
            let usable =
                poll_fn(|cx| Poll::Ready(c.drive(cx) && matches!(c.sender.poll_ready(cx), Poll::Ready(Ok(()))))).await;
            if usable {
                return Ok(c);
            }
            tracing::debug!(address = %self.address, "idle connection closed by the service: not used");
        }
        self.connect().await
    }

    async fn connect(&self) -> Result<H1Conn, H1Error> {
        let stream = match tokio::time::timeout(self.connect_timeout, TcpStream::connect(&self.address)).await {
            Err(_) => return Err(H1Error::Connect(format!("no connection within {:?}", self.connect_timeout))),
            Ok(Err(e)) => return Err(H1Error::Connect(format!("tcp connect error: {e}"))),
            Ok(Ok(s)) => s,
        };
        let _ = stream.set_nodelay(true);
        let (sender, conn) =
            http1::handshake(TokioIo::new(stream)).await.map_err(|e| H1Error::Connect(super::http::describe(&e)))?;
        Ok(H1Conn { sender, conn: Some(conn), since: Instant::now() })
    }

    /// Pools `c`, keeping at most `max_idle`: the least recently used goes first.
    fn put(&self, mut c: H1Conn) {
        c.since = Instant::now();
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() >= self.max_idle {
                idle.remove(0);
            }
            idle.push(c);
        }
    }
}

/// The reply's body, whole, while the connection is driven beside it.
async fn read_body(c: &mut H1Conn, response: Response<hyper::body::Incoming>, max: usize) -> Result<Bytes, H1Error> {
    let collect = Limited::new(response.into_body(), max).collect();
    let collected = beside(c, collect).await.map_err(|e| H1Error::Body(format!("reading the reply: {e}")))?;
    Ok(collected.to_bytes())
}

/// `work` (the request, then the body) with the connection driven beside it; once the
/// connection has ended, `work` is polled again: it then holds the connection's error (hyper
/// answers a dropped connection's waiting request with one).
async fn beside<F: Future>(c: &mut H1Conn, work: F) -> F::Output {
    let mut work = std::pin::pin!(work);
    poll_fn(|cx| {
        if let Poll::Ready(r) = work.as_mut().poll(cx) {
            return Poll::Ready(r);
        }
        if c.drive(cx) {
            Poll::Pending
        } else {
            work.as_mut().poll(cx)
        }
    })
    .await
}

#[cfg(test)]
mod tests;
