//! HTTP upstreams: HTTP/1.1 connections driven by each exchange's own task ([`super::h1`]), a
//! deadline per exchange and a bound on requests in flight, behind a circuit breaker (connection
//! failures, timeouts and 5xx open it).
//! `HttpBytes` POSTs fixed-width bytes to a legacy HTTP front and returns the reply body
//! untouched, only when it carries the request's message id.
//!
//! Retries follow the same rule as the TCP pool ([`super::lane::Gate::may_retry`]): a read-only
//! message is sent again once, within the budget, when the service answered nothing — the
//! classic case is a kept-alive connection the service closes just as the next request arrives
//! ("connection closed before message completed"). A write is never sent twice.

use super::h1::{H1Error, H1Pool};
use super::lane::{Call, Correlation, Gate, Lane};
use super::{Limits, UpstreamError};
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::Uri;
use tokio::time::{timeout_at, Instant};

/// W3C Trace Context's request headers (lowercase, as HTTP/1 sends every name here).
pub static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
/// See [`TRACEPARENT`].
pub static TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// A request's own headers: a name made once and the value's text, held inline (at most four).
pub type Headers<'a> = smallvec::SmallVec<[(&'a HeaderName, &'a str); 4]>;

/// A POST-only HTTP/1.1 client bound to one URL; its connections are driven by the task of
/// each exchange ([`super::h1`]).
pub struct HttpClient {
    name: String,
    uri: Uri,
    pool: H1Pool,
    limits: Limits,
    gate: Gate,
}

/// How one POST is to be handled: may it be retried, is it a shadow, and must a 2xx reply
/// body carry the request's message id.
#[derive(Clone, Copy, Debug)]
pub struct PostKind<'a> {
    /// Read-only: may be sent again when nothing was answered.
    pub read_only: bool,
    /// Primary or shadow.
    pub lane: Lane,
    /// For fixed-width bodies: the request, and where its message id is.
    pub correlate: Option<(Correlation, &'a [u8])>,
    /// Set when the request is about to leave (for a write: from then on its outcome is not
    /// known unless its reply comes back).
    pub sent: Option<&'a std::sync::atomic::AtomicBool>,
}

impl PostKind<'_> {
    /// A primary POST, not retried, not correlated.
    pub fn primary() -> PostKind<'static> {
        PostKind { read_only: false, lane: Lane::Primary, correlate: None, sent: None }
    }
}

impl HttpClient {
    /// A client for `url` (must be `http://`).
    pub fn new(name: &str, url: &str, limits: Limits) -> Result<HttpClient, String> {
        let uri: Uri = url.parse().map_err(|e| format!("{url:?} is not a URL: {e}"))?;
        if uri.scheme_str() != Some("http") || uri.host().is_none() {
            return Err(format!("{url:?} must be an http:// URL with a host"));
        }
        let pool = H1Pool::new(&uri, limits.connect_timeout, limits.max_connections)?;
        let gate = Gate::new(name, &limits);
        Ok(HttpClient { name: name.into(), uri, pool, limits, gate })
    }

    /// Its breakers, permits and retry budget (see [`super::lane::Gate`]).
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// Requests holding a permit right now.
    pub fn in_use(&self) -> usize {
        self.gate.in_use()
    }

    /// The circuit breaker's state.
    pub fn breaker_state(&self) -> super::breaker::BreakerState {
        self.gate.breaker().state()
    }

    /// The upstream's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// POSTs `body` with `headers` and returns the reply body (any status) with its status.
    pub async fn post(
        &self,
        body: Bytes,
        content_type: &'static str,
        headers: &[(&HeaderName, &str)],
        kind: PostKind<'_>,
    ) -> Result<(u16, Bytes), UpstreamError> {
        let deadline = Instant::now() + self.limits.timeout;
        // A request that cannot be built was never sent and says nothing about the service:
        // its headers are made (once) before the breaker is asked.
        let mut first = Some(self.headers(content_type, headers)?);
        let pass = self.gate.enter(kind.lane, deadline).await?;
        let call = Call { message: &[], read_only: kind.read_only, lane: kind.lane, correlation: None, sent: None };
        // One loop, one count: a message is sent at most twice whatever went wrong.
        let mut attempts = 0;
        let result = loop {
            attempts += 1;
            // A second attempt (read-only messages only, and rare) makes its headers again.
            let headers = match first.take() {
                Some(h) => h,
                None => self.headers(content_type, headers)?,
            };
            match self.post_once(body.clone(), headers, deadline, kind.correlate, kind.sent).await {
                Err((e, nothing_answered)) if self.gate.may_retry(&call, attempts, nothing_answered) => {
                    tracing::debug!(upstream = %self.name, error = %e, "nothing answered: sending the read-only request again");
                }
                other => break other.map_err(|(e, _)| e),
            }
        };
        let failed = match &result {
            Ok((status, _)) => *status >= 500,
            Err(e) => e.is_host_failure(),
        };
        pass.finish(failed);
        result
    }

    /// The request's headers, or [`UpstreamError::Unsendable`] when one cannot go on the wire.
    /// Names are [`HeaderName`]s made once from static text (cloning one copies nothing;
    /// a name given as text would be copied into the map per message).
    fn headers(&self, content_type: &'static str, headers: &[(&HeaderName, &str)]) -> Result<HeaderMap, UpstreamError> {
        let mut map = HeaderMap::with_capacity(1 + headers.len());
        map.insert(hyper::header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        for &(name, v) in headers {
            let Ok(value) = HeaderValue::from_str(v) else {
                return Err(UpstreamError::Unsendable {
                    upstream: self.name.clone(),
                    reason: format!("header {name} cannot carry its value"),
                });
            };
            map.insert(name.clone(), value);
        }
        Ok(map)
    }

    /// One attempt; on failure, whether nothing at all was answered (safe to retry read-only).
    async fn post_once(
        &self,
        body: Bytes,
        headers: HeaderMap,
        deadline: Instant,
        correlate: Option<(Correlation, &[u8])>,
        sent: Option<&std::sync::atomic::AtomicBool>,
    ) -> Result<(u16, Bytes), (UpstreamError, bool)> {
        let ms = self.limits.timeout.as_millis() as u64;
        let timeout = || (UpstreamError::Timeout { upstream: self.name.clone(), ms }, false);
        let count = |cause: &'static str| {
            metrics::counter!("ficus_upstream_errors_total", "upstream" => self.name.clone(), "cause" => cause)
                .increment(1);
        };
        let mut request = hyper::Request::new(Full::new(body));
        *request.headers_mut() = headers;
        if let Some(sent) = sent {
            sent.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let (status, body) = match timeout_at(deadline, self.pool.exchange(request, self.limits.max_reply_bytes)).await
        {
            Err(_) => {
                count("timeout");
                return Err(timeout());
            }
            Ok(Err(H1Error::Connect(reason))) => {
                count("connect");
                return Err((UpstreamError::Connect { upstream: self.name.clone(), reason }, false));
            }
            Ok(Err(H1Error::NoReply(reason))) => {
                // No response head came back: closed or reset before answering.
                count("io");
                return Err((UpstreamError::Io { upstream: self.name.clone(), reason }, true));
            }
            Ok(Err(H1Error::Body(reason))) => {
                return Err((UpstreamError::BadReply { upstream: self.name.clone(), reason }, false))
            }
            Ok(Ok(reply)) => reply,
        };
        // Another message's answer: for this one, nothing was answered.
        match correlate.filter(|_| (200..300).contains(&status)) {
            Some((c, request)) => match c.check(request, &body) {
                Ok(()) => Ok((status, body)),
                Err(ids) => Err((Correlation::error(&self.name, ids), true)),
            },
            None => Ok((status, body)),
        }
    }
}

/// The legacy host behind HTTP: fixed-width bytes POSTed, reply bytes passed back untouched.
pub struct HttpBytes(pub HttpClient);

impl HttpBytes {
    /// Sends one message; a non-2xx status is an error, and so is a reply that does not carry
    /// the request's message id (a read-only message is then sent once more, within the budget,
    /// by the one retry loop in [`HttpClient::post`]).
    pub async fn call(&self, call: Call<'_>) -> Result<Vec<u8>, UpstreamError> {
        let span = tracing::debug_span!("legacy", addr = %self.0.uri());
        let correlate = call.correlation.map(|c| (c, call.message));
        let kind = PostKind { read_only: call.read_only, lane: call.lane, correlate, sent: call.sent };
        // Traced: the host's HTTP front (or whatever answers here) may join the trace too.
        let trace = crate::telemetry::trace_headers(&span);
        let mut headers = Headers::new();
        if let Some(t) = &trace {
            headers.push((&TRACEPARENT, &t.traceparent));
            if let Some(state) = &t.tracestate {
                headers.push((&TRACESTATE, state));
            }
        }
        let post = self.0.post(Bytes::copy_from_slice(call.message), "application/octet-stream", &headers, kind);
        let traced = trace.is_some().then(|| span.clone());
        let result = tracing::Instrument::instrument(post, span).await.and_then(|(status, body)| {
            if !(200..300).contains(&status) {
                return Err(UpstreamError::Status { upstream: self.0.name().to_string(), status });
            }
            Ok(body.to_vec())
        });
        crate::telemetry::call_ended(traced.as_ref(), &result);
        result
    }
}

/// hyper's error with every cause below it (`connection closed before message completed: …`).
pub(super) fn describe(e: &hyper::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_that_cannot_be_built_is_not_sent_and_no_verdict_on_the_service() {
        let limits = Limits::new(std::time::Duration::from_millis(200), std::time::Duration::from_millis(200), 2, 1024);
        let client = HttpClient::new("svc", "http://127.0.0.1:9/", limits).unwrap();
        for _ in 0..10 {
            let headers = [(&super::super::modern::MESSAGE_ID_HEADER, "a\nb")];
            let e = client.post(Bytes::new(), "application/json", &headers, PostKind::primary()).await.unwrap_err();
            assert!(matches!(e, UpstreamError::Unsendable { .. }), "{e}");
            assert!(e.not_sent() && !e.is_host_failure());
        }
        assert_eq!(client.breaker_state(), super::super::breaker::BreakerState::Closed);
    }

    /// A service that reads each request's head and closes without a word; counts the requests.
    async fn closes_mid_request() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::AsyncReadExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/ops", listener.local_addr().unwrap());
        let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let s = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let mut buf = [0u8; 64];
                if conn.read(&mut buf).await.unwrap_or(0) > 0 {
                    s.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                drop(conn);
            }
        });
        (url, seen)
    }

    #[tokio::test]
    async fn a_write_whose_connection_dies_mid_request_is_sent_once_a_read_twice() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let limits = Limits::new(std::time::Duration::from_secs(2), std::time::Duration::from_secs(1), 2, 1024);
        let (url, seen) = closes_mid_request().await;
        let client = HttpClient::new("svc", &url, limits.clone()).unwrap();
        let sent = AtomicBool::new(false);
        let write = PostKind { sent: Some(&sent), ..PostKind::primary() };
        let e = client.post(Bytes::from_static(b"{}"), "application/json", &[], write).await.unwrap_err();
        assert!(matches!(e, UpstreamError::Io { .. }), "{e}");
        assert!(sent.load(Ordering::Relaxed), "its outcome is not known");
        assert_eq!(seen.load(Ordering::SeqCst), 1, "a write is never sent twice");
        let (url, seen) = closes_mid_request().await;
        let client = HttpClient::new("svc", &url, limits).unwrap();
        let read = PostKind { read_only: true, ..PostKind::primary() };
        assert!(client.post(Bytes::from_static(b"{}"), "application/json", &[], read).await.is_err());
        assert_eq!(seen.load(Ordering::SeqCst), 2, "a read is sent once more, no more");
    }
}
