//! The W3C trace context across ficus: a channel's `traceparent` (and `tracestate`) becomes the
//! message span's parent; an HTTP upstream call carries the upstream span's own. Every function
//! here is called only when [`super::on`] says traces are on.
//!
//! What is propagated: `traceparent` and `tracestate` (W3C Trace Context), nothing else —
//! no baggage. TCP channels have no headers, so each of their messages starts a new trace; TCP
//! upstreams (the host) get the bytes untouched, never a trace context.

use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::Status;
use opentelemetry::Context;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The context a channel sent in its request headers (empty if none, or not valid W3C).
pub fn extract_http(headers: &hyper::HeaderMap) -> Context {
    struct Headers<'a>(&'a hyper::HeaderMap);
    impl Extractor for Headers<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).and_then(|v| v.to_str().ok())
        }
        fn keys(&self) -> Vec<&str> {
            self.0.keys().map(|k| k.as_str()).collect()
        }
    }
    opentelemetry::global::get_text_map_propagator(|p| p.extract(&Headers(headers)))
}

tokio::task_local! {
    /// The trace context an HTTP channel sent with the message this task serves. A task-local,
    /// not OpenTelemetry's thread-local current context: tasks interleave on a worker thread, and
    /// a thread's "current" context can then be another message's.
    static CHANNEL_PARENT: Context;
}

/// Runs `serve` (one message's handling, in this task) with `parent` as the context its message
/// span adopts.
pub async fn with_channel_parent<F: std::future::Future>(parent: Context, serve: F) -> F::Output {
    CHANNEL_PARENT.scope(parent, serve).await
}

/// Makes `span` (a message's) a child of the context its channel sent (see `server/http.rs`),
/// or the root of a new trace when there is none — never a child of the connection it arrived
/// on, nor of whatever else ran on this thread.
pub fn adopt_parent(span: &tracing::Span) {
    let parent = CHANNEL_PARENT.try_with(Context::clone).unwrap_or_default();
    let parent = if opentelemetry::trace::TraceContextExt::has_active_span(&parent) { parent } else { Context::new() };
    if let Err(e) = span.set_parent(parent) {
        tracing::debug!(error = %e, "message span not traced");
    }
}

/// Records how a message ended on its span: `outcome` (`ok`, or the error's cause) and the
/// reply's error code; an error sets the span's status too.
pub fn finish_msg(span: &tracing::Span, outcome: &str, code: Option<&str>) {
    span.record("outcome", outcome);
    if let Some(code) = code {
        span.record("code", code);
        span.set_status(Status::error(format!("{code} {outcome}")));
    }
}

/// Marks an upstream call's span (given only when traced) with an error status if it failed.
pub fn call_ended<T, E: std::fmt::Display>(span: Option<&tracing::Span>, result: &Result<T, E>) {
    if let (Some(span), Err(e)) = (span, result) {
        span.set_status(Status::error(e.to_string()));
    }
}

/// The headers an HTTP upstream call carries, naming `span` (the call's) as the parent.
#[derive(Debug, Default, PartialEq)]
pub struct TraceHeaders {
    /// `traceparent`: version, trace id, this span's id, flags.
    pub traceparent: String,
    /// `tracestate`, if the channel sent one.
    pub tracestate: Option<String>,
}

/// `span`'s trace context as W3C headers; `None` when traces are off or the span is not traced.
pub fn trace_headers(span: &tracing::Span) -> Option<TraceHeaders> {
    if !super::on() {
        return None;
    }
    #[derive(Default)]
    struct Out(TraceHeaders);
    impl Injector for Out {
        fn set(&mut self, key: &str, value: String) {
            match key {
                "traceparent" => self.0.traceparent = value,
                "tracestate" if !value.is_empty() => self.0.tracestate = Some(value),
                _ => {}
            }
        }
    }
    let cx = span.context();
    let mut out = Out::default();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&cx, &mut out));
    (!out.0.traceparent.is_empty()).then_some(out.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_context_is_read_from_its_headers() {
        opentelemetry::global::set_text_map_propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new());
        let mut headers = hyper::HeaderMap::new();
        headers.insert("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap());
        headers.insert("tracestate", "bank=core".parse().unwrap());
        let cx = extract_http(&headers);
        let span = opentelemetry::trace::TraceContextExt::span(&cx);
        let sc = span.span_context();
        assert_eq!(format!("{:032x}", sc.trace_id()), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(format!("{:016x}", sc.span_id()), "00f067aa0ba902b7");
        assert!(sc.is_remote() && sc.is_sampled());
        assert_eq!(sc.trace_state().header(), "bank=core");
        // A malformed one is no parent at all: the message starts its own trace.
        headers.insert("traceparent", "00-zz-00f067aa0ba902b7-01".parse().unwrap());
        let cx = extract_http(&headers);
        assert!(!opentelemetry::trace::TraceContextExt::span(&cx).span_context().is_valid());
    }

    #[test]
    fn nothing_is_injected_while_traces_are_off() {
        assert_eq!(trace_headers(&tracing::info_span!("modern")), None);
    }
}
