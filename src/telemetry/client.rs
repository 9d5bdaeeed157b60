//! The OTLP exporter's HTTP client: ficus's own hyper client, on a runtime of its own (one
//! thread), so the SDK's export thread can drive it and exports never take a worker from the
//! channels. Made only when traces are on.
//!
//! A failed export is logged once when exports start failing and once when they recover — a
//! collector that is down never floods the log, and never touches a message.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use opentelemetry_http::{HttpClient, HttpError, Request, Response};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A collector's answer is small; more than this is not read.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Posts export batches to the collector; see the module docs.
pub struct OtlpClient {
    client: Client<HttpConnector, Full<Bytes>>,
    runtime: Option<tokio::runtime::Runtime>,
    timeout: Duration,
    failing: AtomicBool,
}

impl std::fmt::Debug for OtlpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpClient").field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

impl OtlpClient {
    /// A client whose every export gives up after `timeout`.
    pub fn new(timeout: Duration) -> std::io::Result<OtlpClient> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("ficus-otlp")
            .enable_all()
            .build()?;
        let client = {
            let _enter = runtime.enter();
            Client::builder(hyper_util::rt::TokioExecutor::new()).build_http()
        };
        Ok(OtlpClient { client, runtime: Some(runtime), timeout, failing: AtomicBool::new(false) })
    }

    fn settle<T>(&self, uri: &str, result: Result<T, String>) -> Result<T, HttpError> {
        match &result {
            Ok(_) if self.failing.swap(false, Ordering::Relaxed) => {
                tracing::info!(collector = %uri, "traces are reaching the collector again");
            }
            Err(why) if !self.failing.swap(true, Ordering::Relaxed) => {
                tracing::warn!(collector = %uri, error = %why, "traces not delivered (spans are dropped until the collector answers; messages are unaffected)");
            }
            _ => {}
        }
        result.map_err(HttpError::from)
    }
}

impl Drop for OtlpClient {
    fn drop(&mut self) {
        // The provider may be dropped inside another runtime, where a blocking drop panics.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

#[async_trait::async_trait]
impl HttpClient for OtlpClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let uri = request.uri().to_string();
        let Some(runtime) = &self.runtime else { return self.settle(&uri, Err("the exporter is shut down".into())) };
        let (client, timeout) = (self.client.clone(), self.timeout);
        let request = request.map(Full::new);
        let exchange = async move {
            let response =
                client.request(request).await.map_err(|e| format!("{e}: {:?}", std::error::Error::source(&e)))?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_ANSWER_BYTES).collect().await.map_err(|e| e.to_string())?.to_bytes();
            Ok::<_, String>(Response::from_parts(parts, body))
        };
        let spawned = runtime.spawn(async move {
            tokio::time::timeout(timeout, exchange)
                .await
                .unwrap_or_else(|_| Err(format!("no answer within {} ms", timeout.as_millis())))
        });
        let result = spawned.await.map_err(|e| e.to_string()).and_then(|r| r);
        let result = result.and_then(|response| {
            if response.status().is_success() {
                Ok(response)
            } else {
                Err(format!("the collector answered {}", response.status()))
            }
        });
        self.settle(&uri, result)
    }
}
