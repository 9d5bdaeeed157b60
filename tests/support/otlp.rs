//! A collector in the test process: an OTLP/HTTP receiver on 127.0.0.1:0 that decodes each
//! `ExportTraceServiceRequest` ficus POSTs to `/v1/traces`, and a recording proxy that notes the
//! `traceparent` a JSON service receives.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use prost::Message;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// One exported span, flattened: ids as lowercase hex, attributes as strings.
#[derive(Clone, Debug)]
pub struct Got {
    pub name: String,
    pub trace_id: String,
    pub span_id: String,
    pub parent: String,
    pub service: String,
    pub attrs: HashMap<String, String>,
    /// The status code (0 unset, 1 ok, 2 error).
    pub status: i32,
}

/// The receiver: what it decoded, and a wake-up per request.
#[derive(Default)]
pub struct Receiver {
    pub spans: Mutex<Vec<Got>>,
    pub requests: Mutex<usize>,
    changed: Notify,
}

fn text(v: &Option<opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        Some(AnyValue::StringValue(s)) => s.clone(),
        Some(AnyValue::IntValue(i)) => i.to_string(),
        Some(AnyValue::BoolValue(b)) => b.to_string(),
        Some(AnyValue::DoubleValue(d)) => d.to_string(),
        other => format!("{other:?}"),
    }
}

impl Receiver {
    /// Starts a receiver; its base URL is `http://{addr}`.
    pub async fn start() -> (Arc<Receiver>, SocketAddr) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let receiver = Arc::new(Receiver::default());
        let r = receiver.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let r = r.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let r = r.clone();
                        async move { Ok::<_, std::convert::Infallible>(r.take(req).await) }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        });
        (receiver, addr)
    }

    async fn take(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        assert_eq!(req.uri().path(), "/v1/traces", "OTLP/HTTP traces path");
        assert_eq!(req.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("application/x-protobuf"));
        let body = req.into_body().collect().await.unwrap().to_bytes();
        let export = ExportTraceServiceRequest::decode(body).expect("an ExportTraceServiceRequest");
        let mut got = Vec::new();
        for rs in export.resource_spans {
            let service = rs
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|kv| kv.key == "service.name")
                .map(|kv| text(&kv.value))
                .unwrap_or_default();
            for ss in rs.scope_spans {
                for s in ss.spans {
                    got.push(Got {
                        name: s.name.clone(),
                        trace_id: hex(&s.trace_id),
                        span_id: hex(&s.span_id),
                        parent: hex(&s.parent_span_id),
                        service: service.clone(),
                        attrs: s.attributes.iter().map(|kv| (kv.key.clone(), text(&kv.value))).collect(),
                        status: s.status.as_ref().map_or(0, |st| st.code),
                    });
                }
            }
        }
        self.spans.lock().unwrap().extend(got);
        *self.requests.lock().unwrap() += 1;
        self.changed.notify_waiters();
        Response::new(Full::new(Bytes::from(ExportTraceServiceResponse::default().encode_to_vec())))
    }

    /// Waits (up to a generous deadline, a failure if reached) until `done` holds for the spans.
    pub async fn until(&self, what: &str, done: impl Fn(&[Got]) -> bool) -> Vec<Got> {
        let wait = async {
            loop {
                let changed = self.changed.notified();
                {
                    let spans = self.spans.lock().unwrap();
                    if done(&spans) {
                        return spans.clone();
                    }
                }
                changed.await;
            }
        };
        match tokio::time::timeout(Duration::from_secs(30), wait).await {
            Ok(spans) => spans,
            Err(_) => panic!("the collector never got {what}: {:#?}", self.spans.lock().unwrap()),
        }
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A proxy in front of a JSON service that records each request's `traceparent` (or "-").
pub async fn recording_proxy(to: SocketAddr) -> (Arc<Mutex<Vec<String>>>, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    tokio::spawn(async move {
        let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http::<Full<Bytes>>();
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let (s, client) = (s.clone(), client.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let (s, client) = (s.clone(), client.clone());
                    async move {
                        let parent = req.headers().get("traceparent").and_then(|v| v.to_str().ok()).unwrap_or("-");
                        s.lock().unwrap().push(parent.to_string());
                        let (mut parts, body) = req.into_parts();
                        let body = body.collect().await.unwrap().to_bytes();
                        parts.uri = format!("http://{to}{}", parts.uri.path()).parse().unwrap();
                        let answer = client.request(Request::from_parts(parts, Full::new(body))).await.unwrap();
                        let (parts, body) = answer.into_parts();
                        let body = body.collect().await.unwrap().to_bytes();
                        Ok::<_, std::convert::Infallible>(Response::from_parts(parts, Full::new(body)))
                    }
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
            });
        }
    });
    (seen, addr)
}
