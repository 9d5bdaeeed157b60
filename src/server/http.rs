//! The HTTP channel listener: `POST` (any path) with one fixed-width message as the body; the
//! reply body is the fixed-width reply (`application/octet-stream`), with an HTTP status that
//! matches the response code (200, or 400/413/502/503/504 for the gateway's own errors), and
//! headers naming the upstream that answered or failed ([`UPSTREAM_HEADER`]), the route table
//! generation ([`GENERATION_HEADER`]) and, for the gateway's own errors, the whole reason
//! ([`ERROR_HEADER`]).
//!
//! Hostile requests end here, before any upstream: headers must arrive within
//! `read_timeout_ms` (hyper's header timeout) and the body within `read_timeout_ms` too; bodies
//! over `max_message_bytes` are refused whatever the headers claim; only `Content-Length`
//! framing is accepted (`Transfer-Encoding` gets 411, several `Content-Length`s 400), and a
//! refused request closes its connection, so nothing smuggled behind it is ever read.
//!
//! On shutdown no channel is stranded mid-conversation: every reply from the stop signal on says
//! `Connection: close` and its connection closes after it; a keep-alive connection between
//! requests closes at once; a request already received (or arriving) is answered; a fresh
//! connection still gets the read timeout to send its first request.

use super::keepalive::{DrainingIo, Exchange, Tracked};
use super::shutdown::accept_loop;
use super::{Channel, Shutdown};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderName, CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::OwnedSemaphorePermit;
use tracing::{debug, warn};

/// The header carrying the whole reason of the gateway's own error replies, e.g.
/// `Ficus-Error: FC01 MALFORMED: message is 5 bytes, shorter than the 85-byte header`.
pub const ERROR_HEADER: &str = "ficus-error";

/// The header naming the upstream that answered the message, or that failed (absent when none
/// was tried), e.g. `Ficus-Upstream: accounts`.
pub const UPSTREAM_HEADER: &str = "ficus-upstream";

/// The header carrying the generation of the route table that served the message.
pub const GENERATION_HEADER: &str = "ficus-generation";

/// Largest request head (request line and headers) hyper buffers for one connection.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Serves HTTP on `listener` until `shutdown` fires, then drains.
pub async fn serve(listener: TcpListener, channel: Channel, shutdown: Shutdown) {
    accept_loop(listener, channel, shutdown, "http", connection).await;
}

async fn connection(stream: TcpStream, channel: Channel, mut shutdown: Shutdown, permit: OwnedSemaphorePermit) {
    let read_timeout = Duration::from_millis(channel.plan().limits.read_timeout_ms);
    let exchange = Arc::new(Exchange::default());
    let io = DrainingIo::new(stream, exchange.clone(), shutdown.clone());
    let stopped = shutdown.clone();
    let service =
        hyper::service::service_fn(move |req| serve_one(channel.clone(), stopped.clone(), exchange.clone(), req));
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(read_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let stopping = *shutdown.borrow();
    let stop_signal = async {
        if !stopping {
            let _ = shutdown.changed().await;
        }
    };
    tokio::select! {
        result = conn.as_mut() => if let Err(e) = result { debug!(error = %e, "connection ended"); },
        _ = stop_signal => {
            // Polled again from here on, the connection ends by itself: between requests its
            // socket reads as ended (`keepalive`), and a reply closes it. hyper's graceful
            // shutdown would also close a connection that has not sent its request yet, though
            // its client may have sent it already: such a connection gets the read timeout to
            // bring it (served as usual) before that. The listener's drain deadline bounds it all.
            if tokio::time::timeout(read_timeout, conn.as_mut()).await.is_err() {
                conn.as_mut().graceful_shutdown();
                let _ = conn.await;
            }
        }
    }
    drop(permit);
}

/// Serves one request; once the listener stops, every reply (the gateway's or the listener's
/// own refusals) says `Connection: close`, and hyper closes the connection after it.
async fn serve_one(
    channel: Channel,
    shutdown: Shutdown,
    exchange: Arc<Exchange>,
    req: Request<Incoming>,
) -> Result<Response<Tracked>, std::convert::Infallible> {
    // A request parsed from bytes already buffered is not seen by the socket: say it started.
    exchange.request_started();
    let mut response = handle(channel, req).await?;
    if *shutdown.borrow() {
        response.headers_mut().insert(CONNECTION, hyper::header::HeaderValue::from_static("close"));
    }
    Ok(response.map(|body| Tracked::new(body, exchange)))
}

fn plain(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(text.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("text/plain"));
    r
}

/// Why a request's framing is refused, if it is: a channel always knows its message's length,
/// so only `Content-Length` framing is accepted. hyper settles `Content-Length` together with
/// `Transfer-Encoding` in favour of the latter and drops the former before this point, so
/// refusing every `Transfer-Encoding` is what refuses that classic smuggling pair.
fn refused_framing(headers: &HeaderMap) -> Option<(StatusCode, &'static str)> {
    if headers.contains_key(TRANSFER_ENCODING) {
        return Some((StatusCode::LENGTH_REQUIRED, "Transfer-Encoding (send Content-Length)"));
    }
    if headers.get_all(CONTENT_LENGTH).iter().count() > 1 {
        return Some((StatusCode::BAD_REQUEST, "several Content-Length headers"));
    }
    None
}

/// A refusal that also closes the connection: after it, the byte stream cannot be trusted.
fn refuse(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut r = plain(status, text);
    r.headers_mut().insert(CONNECTION, hyper::header::HeaderValue::from_static("close"));
    r
}

async fn handle(channel: Channel, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    if req.method() != Method::POST {
        return Ok(plain(StatusCode::METHOD_NOT_ALLOWED, "POST one fixed-width message as the body\n"));
    }
    if let Some((status, why)) = refused_framing(req.headers()) {
        warn!(why, "request framing refused: closing");
        return Ok(refuse(status, &format!("request refused: {why}\n")));
    }
    let limits = channel.plan().limits.clone();
    let max = limits.max_message_bytes;
    if let Some(len) = req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok()) {
        if len > max {
            return Ok(refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("message of {len} bytes is over the limit of {max}\n"),
            ));
        }
    }
    let (parts, body) = req.into_parts();
    let headers = parts.headers;
    let read = tokio::time::timeout(Duration::from_millis(limits.read_timeout_ms), Limited::new(body, max).collect());
    let body = match read.await {
        Err(_) => return Ok(refuse(StatusCode::REQUEST_TIMEOUT, "body not received in time\n")),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return Ok(refuse(StatusCode::PAYLOAD_TOO_LARGE, &format!("body over the limit of {max} bytes\n")))
        }
        Ok(Err(e)) => return Ok(refuse(StatusCode::BAD_REQUEST, &format!("body rejected: {e}\n"))),
        Ok(Ok(b)) => b.to_bytes(),
    };
    // One POST is one whole message: a part of a multi-part message is refused (FC44).
    let reply = match channel.refuse_part_on_http(&body) {
        Some(refused) => refused,
        // Traced, the channel's `traceparent` is the message span's parent (gateway::handle_in).
        None if crate::telemetry::on() => {
            let parent = crate::telemetry::extract_http(&headers);
            crate::telemetry::with_channel_parent(parent, channel.serve(body.to_vec())).await
        }
        None => channel.serve(body.to_vec()).await,
    };
    let value = |v: &str| hyper::header::HeaderValue::from_str(v).ok();
    let error = reply.error_header().and_then(|e| value(&e));
    let upstream = reply.upstream.as_deref().and_then(recent::upstream);
    let generation = reply.generation.map(recent::generation);
    let mut response = Response::new(Full::new(Bytes::from(reply.bytes)));
    // The request's header map, emptied, holds the response's: no allocation for the map when
    // the request had as many headers (a client sends Host, Content-Length and Content-Type at
    // least); else room for every header at once, not one allocation per growth step. Names
    // from static text (a name given as a `&str` is copied into the map).
    let mut headers = headers;
    headers.clear();
    headers.reserve(
        1 + usize::from(error.is_some()) + usize::from(upstream.is_some()) + usize::from(generation.is_some()),
    );
    // The fixed-width message field may cut the reason; the whole of it rides in a header.
    if let Some(error) = error {
        headers.insert(HeaderName::from_static(ERROR_HEADER), error);
    }
    // Which side served it, so a channel (or `ficus send`) can tell during a migration.
    if let Some(upstream) = upstream {
        headers.insert(HeaderName::from_static(UPSTREAM_HEADER), upstream);
    }
    if let Some(generation) = generation {
        headers.insert(HeaderName::from_static(GENERATION_HEADER), generation);
    }
    headers.insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/octet-stream"));
    *response.headers_mut() = headers;
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::BAD_GATEWAY);
    Ok(response)
}

/// The `Ficus-Upstream` and `Ficus-Generation` values of recent replies, kept per thread: the
/// same few upstream names and one generation answer message after message, and a kept
/// `HeaderValue` is shared (cloned without allocating) where a new one copies its bytes.
mod recent {
    use hyper::header::HeaderValue;
    use std::cell::RefCell;

    /// Upstream names kept per thread (a table has a handful; beyond, values are made anew).
    const NAMES: usize = 16;

    thread_local! {
        static UPSTREAMS: RefCell<Vec<(Box<str>, HeaderValue)>> = const { RefCell::new(Vec::new()) };
        static GENERATION: RefCell<Option<(u64, HeaderValue)>> = const { RefCell::new(None) };
    }

    /// `name` as a header value (`None` when it cannot be one).
    pub(super) fn upstream(name: &str) -> Option<HeaderValue> {
        UPSTREAMS.with(|kept| {
            let mut kept = kept.borrow_mut();
            if let Some((_, v)) = kept.iter().find(|(n, _)| &**n == name) {
                return Some(v.clone());
            }
            let v = HeaderValue::from_str(name).ok()?;
            if kept.len() < NAMES {
                kept.push((name.into(), v.clone()));
            }
            Some(v)
        })
    }

    /// `generation` as a header value.
    pub(super) fn generation(generation: u64) -> HeaderValue {
        GENERATION.with(|kept| {
            let mut kept = kept.borrow_mut();
            match &*kept {
                Some((g, v)) if *g == generation => v.clone(),
                _ => {
                    let v = HeaderValue::from(generation);
                    *kept = Some((generation, v.clone()));
                    v
                }
            }
        })
    }

    #[cfg(test)]
    mod tests {
        /// A kept value is the value made anew, for any name and generation, and the cache
        /// stays bounded however many names pass.
        #[test]
        fn kept_values_are_the_values() {
            for round in 0..3 {
                for i in 0..40u64 {
                    let name = format!("upstream-{i}");
                    assert_eq!(super::upstream(&name).unwrap(), name.as_str(), "round {round}");
                    assert_eq!(super::generation(i % 3), (i % 3).to_string().as_str());
                }
            }
            assert!(super::upstream("bad\nname").is_none());
            super::UPSTREAMS.with(|k| assert_eq!(k.borrow().len(), super::NAMES));
        }
    }
}
