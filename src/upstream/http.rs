//! HTTP upstreams: a pooled hyper client with a deadline per exchange and a bound on requests
//! in flight, behind a circuit breaker (connection failures, timeouts and 5xx open it).
//! `HttpBytes` POSTs fixed-width bytes to a legacy HTTP front and returns the reply body
//! untouched. Nothing is retried here: a POST that may have been sent is never sent twice.

use super::breaker::Breaker;
use super::{Limits, UpstreamError};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::Uri;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::sync::Semaphore;
use tokio::time::{timeout_at, Instant};

/// A POST-only HTTP client bound to one URL.
pub struct HttpClient {
    name: String,
    uri: Uri,
    client: Client<HttpConnector, Full<Bytes>>,
    limits: Limits,
    permits: Semaphore,
    breaker: Breaker,
}

impl HttpClient {
    /// A client for `url` (must be `http://`).
    pub fn new(name: &str, url: &str, limits: Limits) -> Result<HttpClient, String> {
        let uri: Uri = url.parse().map_err(|e| format!("{url:?} is not a URL: {e}"))?;
        if uri.scheme_str() != Some("http") || uri.host().is_none() {
            return Err(format!("{url:?} must be an http:// URL with a host"));
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(limits.connect_timeout));
        let client =
            Client::builder(TokioExecutor::new()).pool_max_idle_per_host(limits.max_connections).build(connector);
        let permits = Semaphore::new(limits.max_connections.max(1));
        let breaker = Breaker::new(limits.breaker);
        Ok(HttpClient { name: name.into(), uri, client, limits, permits, breaker })
    }

    /// True while the circuit breaker fails calls fast.
    pub fn failing_fast(&self) -> bool {
        self.breaker.failing_fast()
    }

    /// The circuit breaker's state.
    pub fn breaker_state(&self) -> super::breaker::BreakerState {
        self.breaker.state()
    }

    /// The upstream's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// POSTs `body` and returns the reply body (any status) with its status.
    pub async fn post(
        &self,
        body: Bytes,
        content_type: &str,
        headers: &[(&str, &str)],
    ) -> Result<(u16, Bytes), UpstreamError> {
        let admit = self.breaker.admit().map_err(|wait| {
            metrics::counter!("ficus_upstream_errors_total", "upstream" => self.name.clone(), "cause" => "open")
                .increment(1);
            UpstreamError::Open { upstream: self.name.clone(), retry_in_ms: wait.as_millis() as u64 }
        })?;
        let result = self.post_admitted(body, content_type, headers).await;
        let failed = match &result {
            Ok((status, _)) => *status >= 500,
            Err(e) => e.is_host_failure(),
        };
        self.breaker.record(admit, failed);
        result
    }

    async fn post_admitted(
        &self,
        body: Bytes,
        content_type: &str,
        headers: &[(&str, &str)],
    ) -> Result<(u16, Bytes), UpstreamError> {
        let deadline = Instant::now() + self.limits.timeout;
        let ms = self.limits.timeout.as_millis() as u64;
        let timeout = || UpstreamError::Timeout { upstream: self.name.clone(), ms };
        let _permit = match timeout_at(deadline, self.permits.acquire()).await {
            Ok(Ok(p)) => p,
            _ => return Err(UpstreamError::Busy { upstream: self.name.clone(), max: self.limits.max_connections }),
        };
        let mut request = hyper::Request::post(self.uri.clone()).header(hyper::header::CONTENT_TYPE, content_type);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let request = request
            .body(Full::new(body))
            .map_err(|e| UpstreamError::Io { upstream: self.name.clone(), reason: e.to_string() })?;
        let response = match timeout_at(deadline, self.client.request(request)).await {
            Err(_) => return Err(timeout()),
            Ok(Err(e)) if e.is_connect() => {
                let reason = std::error::Error::source(&e).map_or_else(|| e.to_string(), |s| s.to_string());
                return Err(UpstreamError::Connect { upstream: self.name.clone(), reason });
            }
            Ok(Err(e)) => return Err(UpstreamError::Io { upstream: self.name.clone(), reason: e.to_string() }),
            Ok(Ok(r)) => r,
        };
        let status = response.status().as_u16();
        let body = Limited::new(response.into_body(), self.limits.max_reply_bytes);
        match timeout_at(deadline, body.collect()).await {
            Err(_) => Err(timeout()),
            Ok(Err(e)) => {
                Err(UpstreamError::BadReply { upstream: self.name.clone(), reason: format!("reading the reply: {e}") })
            }
            Ok(Ok(collected)) => Ok((status, collected.to_bytes())),
        }
    }
}

/// The legacy host behind HTTP: fixed-width bytes POSTed, reply bytes passed back untouched.
pub struct HttpBytes(pub HttpClient);

impl HttpBytes {
    /// Sends one message; a non-2xx status is an error.
    pub async fn call(&self, message: &[u8]) -> Result<Vec<u8>, UpstreamError> {
        let span = tracing::debug_span!("legacy", addr = %self.0.uri());
        let post = self.0.post(Bytes::copy_from_slice(message), "application/octet-stream", &[]);
        let (status, body) = tracing::Instrument::instrument(post, span).await?;
        if !(200..300).contains(&status) {
            return Err(UpstreamError::Status { upstream: self.0.name().to_string(), status });
        }
        Ok(body.to_vec())
    }
}
