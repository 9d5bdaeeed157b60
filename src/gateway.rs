//! The pipeline both listeners feed: header → route → upstream → (encode) → reply.
//!
//! Each message loads the route table once. Legacy targets get the request bytes untouched and
//! their reply passes back untouched; JSON targets get the decoded request and their reply is
//! encoded into the response copybook. Every failure becomes a fixed-width error reply via
//! [`crate::reply`]; nothing here panics on input.

use crate::codec::json::ValueBuilder;
use crate::codec::{Codec, Scratch};
use crate::reply::{GatewayError, Reply};
use crate::route::{Route, RouteTable, UpstreamEntry};
use crate::upstream::Upstream;
use arc_swap::ArcSwap;
use serde_json::{Map, Value};
use std::sync::Arc;
use tracing::{debug, info_span, warn, Instrument};

/// The running gateway: the current route table and what every message shares.
pub struct Gateway {
    table: ArcSwap<RouteTable>,
}

/// The outcome of one message, for logs and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Served by its target.
    Ok,
    /// Answered with an error reply.
    Error(&'static str),
}

impl Gateway {
    /// A gateway serving `table`.
    pub fn new(table: RouteTable) -> Arc<Gateway> {
        Arc::new(Gateway { table: ArcSwap::from_pointee(table) })
    }

    /// The current table.
    pub fn table(&self) -> Arc<RouteTable> {
        self.table.load_full()
    }

    /// Swaps in a new table (already validated); returns the old one.
    pub fn swap(&self, table: RouteTable) -> Arc<RouteTable> {
        self.table.swap(Arc::new(table))
    }

    /// Serves one message.
    pub async fn handle(&self, message: Vec<u8>) -> Reply {
        let started = std::time::Instant::now();
        let table = self.table.load_full();
        let op = table.header.operation(&message).ok();
        // Label sets stay bounded: an operation without a route is "unknown", whatever it says.
        let op_label = op.as_deref().filter(|o| table.routes.contains_key(*o)).unwrap_or("unknown").to_string();
        let decision = op.as_deref().map(|o| table.decide(o, &message));
        let target = decision.as_ref().map_or("-", |d| d.target.name.as_str()).to_string();
        let span = info_span!("msg", op = op.as_deref().unwrap_or("?"), route = %target, generation = table.generation);
        metrics::gauge!("ficus_messages_in_flight").increment(1.0);
        let reply = async {
            match self.serve(&table, &message).await {
                Ok(bytes) => (Reply { bytes, status: 200 }, "ok"),
                Err(error) => {
                    let wire = error.wire();
                    warn!(code = wire.code, cause = wire.cause, %error, "error reply");
                    let (code, text) = error.wire_reply();
                    let bytes = table.header.error_reply(&message, &code, &text);
                    (Reply { bytes, status: wire.status }, wire.cause)
                }
            }
        }
        .instrument(span)
        .await;
        metrics::gauge!("ficus_messages_in_flight").decrement(1.0);
        let (reply, outcome) = reply;
        let labels = [("op", op_label), ("target", target)];
        metrics::counter!("ficus_messages_total", &labels).increment(1);
        metrics::counter!("ficus_message_outcomes_total", "op" => labels[0].1.clone(), "outcome" => outcome)
            .increment(1);
        metrics::histogram!("ficus_message_seconds", &labels).record(started.elapsed().as_secs_f64());
        if decision.is_some_and(|d| d.canary) {
            metrics::counter!("ficus_canary_messages_total", "op" => labels[0].1.clone()).increment(1);
        }
        reply
    }

    async fn serve(&self, table: &RouteTable, message: &[u8]) -> Result<Vec<u8>, GatewayError> {
        let max = table.limits.max_message_bytes;
        if message.len() > max {
            return Err(GatewayError::TooLarge { len: message.len(), max });
        }
        let op = table.header.operation(message)?;
        table.header.check_length(message)?;
        let decision = table.decide(&op, message);
        let body = &message[table.header.size..];
        let Some(route) = decision.route else {
            // No route: the default target, bytes untouched.
            return self.call_bytes(decision.target, message, false).await;
        };
        if !route.enabled {
            if let Some((code, message)) = &route.disabled_reply {
                return Err(GatewayError::DisabledWith { op, code: code.clone(), message: message.clone() });
            }
            return Err(GatewayError::Disabled(op));
        }
        // A message that does not fit its layout never reaches an upstream.
        if let Some(request) = &route.request {
            validate(request, body)?;
        }
        let message_id = table.header.message_id(message);
        let result = self.call(table, route, decision.target, &op, message, message_id.as_deref()).await;
        match (result, &route.fallback) {
            (Err(error), Some(fallback)) if route.read_only && !Arc::ptr_eq(fallback, decision.target) => {
                warn!(%error, fallback = %fallback.name, "target failed; answering from the fallback");
                metrics::counter!("ficus_fallbacks_total", "op" => route.op.clone()).increment(1);
                self.call(table, route, fallback, &op, message, message_id.as_deref()).await
            }
            (result, _) => result,
        }
    }

    /// Sends one message to `target`: bytes as they are for legacy, translated for JSON.
    async fn call(
        &self,
        table: &RouteTable,
        route: &Route,
        target: &UpstreamEntry,
        op: &str,
        message: &[u8],
        message_id: Option<&str>,
    ) -> Result<Vec<u8>, GatewayError> {
        match &target.upstream {
            Upstream::Json(_) => self.translate(table, route, target, op, message, message_id).await,
            _ => self.call_bytes(target, message, route.read_only).await,
        }
    }

    async fn call_bytes(
        &self,
        target: &UpstreamEntry,
        message: &[u8],
        read_only: bool,
    ) -> Result<Vec<u8>, GatewayError> {
        match &target.upstream {
            Upstream::Tcp(pool) => Ok(pool.call(message, read_only).await?),
            Upstream::Http(http) => Ok(http.call(message).await?),
            Upstream::Json(_) => Err(GatewayError::Disabled(format!("(no route, and {} speaks JSON)", target.name))),
        }
    }

    /// Serves a message through a JSON service: decode, call, encode.
    async fn translate(
        &self,
        table: &RouteTable,
        route: &Route,
        target: &UpstreamEntry,
        op: &str,
        message: &[u8],
        message_id: Option<&str>,
    ) -> Result<Vec<u8>, GatewayError> {
        let Upstream::Json(service) = &target.upstream else {
            return Err(GatewayError::Disabled(op.into()));
        };
        let (Some(request_codec), Some(response_codec)) = (&route.request, &route.response) else {
            return Err(GatewayError::Disabled(op.into()));
        };
        let header_json = decode_value(&table.header.codec, message).map_err(GatewayError::Body)?;
        let request_json = decode_value(request_codec, &message[table.header.size..]).map_err(GatewayError::Body)?;
        let reply = service.call(op, header_json.clone(), request_json, message_id, false).await?;
        debug!(has_body = reply.response.is_some(), "service replied");
        encode_reply(table, response_codec, header_json, reply.header, reply.response.as_ref())
    }
}

/// Checks that `body` decodes with `codec` (strict) without building anything.
fn validate(codec: &Codec, body: &[u8]) -> Result<(), GatewayError> {
    let mut sink = crate::codec::json::NullSink;
    codec.plan().decode(body, &mut sink, &mut Scratch::default()).map(|_| ()).map_err(GatewayError::Body)
}

fn decode_value(codec: &Codec, bytes: &[u8]) -> Result<Value, crate::codec::DecodeError> {
    let mut builder = ValueBuilder::default();
    codec.plan().decode(bytes, &mut builder, &mut Scratch::default())?;
    Ok(builder.finish())
}

/// Builds the fixed-width reply: the request's header with the service's overrides and the
/// length set, followed by the encoded response body (absent for a header-only reply).
pub fn encode_reply(
    table: &RouteTable,
    response: &Codec,
    mut header: Value,
    overrides: Map<String, Value>,
    body: Option<&Value>,
) -> Result<Vec<u8>, GatewayError> {
    if let Value::Object(h) = &mut header {
        for (k, v) in overrides {
            if h.contains_key(&k) {
                h.insert(k, v);
            } else {
                return Err(GatewayError::ReplyEncode(crate::codec::EncodeError::Missing {
                    path: format!("header {k} (not a header field)"),
                }));
            }
        }
        // The length is computed below; any value that fits will do for now.
        if let Some(len_field) = table.header.length_field() {
            h.insert(len_field.to_string(), Value::from(0));
        }
    }
    let mut reply = table.header.codec.encode_json(&header).map_err(GatewayError::ReplyEncode)?;
    if let Some(body) = body {
        let mut encoded = Vec::with_capacity(response.max_size());
        response.encode_json_into(body, &mut encoded).map_err(GatewayError::ReplyEncode)?;
        reply.extend_from_slice(&encoded);
    }
    table.header.set_length(&mut reply);
    Ok(reply)
}
