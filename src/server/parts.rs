//! Multi-part messages (장전문) on a TCP channel connection: each framed message goes through the
//! connection's [`Reassembler`] before the pipeline sees it, and a JSON service's long reply is
//! split into parts. Only with `[header] multipart`; without it every message is served as it
//! comes, byte for byte as before.
//!
//! Which operations are reassembled: an operation whose every upstream is fixed-width (its
//! target, a canary's, or the default target without a route) and that is not journaled has its
//! parts passed to the host one by one, each answered by the host and its answer relayed as it
//! is. Any other is reassembled here and served as one message (a JSON service sees one JSON
//! message; a journaled write is keyed once). Refusals are error replies on the part's header
//! (FC40–FC44); nothing of a refused message is routed. HTTP channels take whole messages only.

use super::Channel;
use crate::header::reassemble::{Reassembler, Step};
use crate::header::{MultipartPlan, PartError, PartKind};
use crate::reply::{GatewayError, Reply};
use crate::route::RouteTable;
use smallvec::smallvec;
use std::sync::Arc;
use tracing::{debug, warn};

/// The replies to one framed message, in order: one held inline (no allocation per message),
/// none for a part held, several for a reply split into parts.
pub type Replies = smallvec::SmallVec<[Reply; 1]>;

/// A connection's open message: if the connection ends with one (the channel closed, a bad
/// frame, a shutdown), its parts are dropped, said once and counted — nothing of it was routed.
pub struct ConnectionParts {
    channel: Arc<str>,
    /// The reassembler.
    pub open: Reassembler,
}

impl ConnectionParts {
    /// No message open yet, on `channel`.
    pub fn new(channel: &Channel) -> ConnectionParts {
        ConnectionParts { channel: channel.name.clone(), open: Reassembler::default() }
    }
}

impl Drop for ConnectionParts {
    fn drop(&mut self) {
        if let Some((id, part)) = self.open.abandon() {
            warn!(channel = %self.channel, id, part, "connection ended mid-message: parts dropped, nothing routed");
            metrics::counter!("ficus_multipart_errors_total", "channel" => self.channel.to_string(), "cause" => "closed")
                .increment(1);
        }
    }
}

impl Channel {
    /// Serves one framed message of a TCP connection whose open message (if any) `parts` holds:
    /// the replies to write, in order — none for a part held without an ack, several for a
    /// reply split into parts.
    pub async fn serve_parts(&self, parts: &mut Reassembler, message: Vec<u8>) -> Replies {
        let table = self.gateway.table();
        let Some(plan) = table.header.multipart.clone() else {
            let holding = parts.is_holding();
            if let Some((id, part)) = parts.abandon() {
                warn!(channel = %self.name, id, part, "multipart removed by a reload mid-message: parts dropped");
                // What follows a held part is the next part: served alone, a fragment would be
                // taken for a whole message (a JSON service decoding the tail of a body, a
                // write posted from half of one). Parts passed to the host go on as they came.
                if holding {
                    let error = PartError::Unconfigured { id, expected: part };
                    return smallvec![self.refuse_part(&table, &message, error)];
                }
            }
            return smallvec![self.serve(message).await];
        };
        let header = &table.header;
        // A link test may come between two parts: answered, and the message stays open.
        if parts.is_open() && plan.kind(header, &message) == Ok(PartKind::Single) {
            if let Some(reply) =
                table.channel(&self.name).and_then(|c| self.gateway.heartbeat_on(&table, c, &message, &self.listener))
            {
                return smallvec![reply];
            }
        }
        let passes = || header.operation(&message).is_ok_and(|op| passes_through(&table, &op));
        match parts.push(&plan, header, &message, passes) {
            Ok(Step::Single) => {
                let reply = self.serve(message).await;
                self.split(&table, &plan, reply)
            }
            Ok(Step::Held { part }) => {
                debug!(channel = %self.name, part, "part held");
                match plan.settings.ack_each {
                    true => smallvec![Reply::new(plan.ack(header, &message), 200).via(None, table.generation)],
                    false => Replies::new(),
                }
            }
            Ok(Step::Pass { part, last }) => {
                if part > 1 && !passes() {
                    parts.abandon();
                    let op = header.operation(&message).unwrap_or_default();
                    return smallvec![self.refuse_part(&table, &message, PartError::Rerouted { part, op })];
                }
                if last {
                    counted(&self.name, "passed");
                }
                // The host answers each part; its answer is relayed as it is.
                smallvec![self.serve(message).await]
            }
            Ok(Step::Complete { message, parts: n }) => {
                debug!(channel = %self.name, parts = n, bytes = message.len(), "message reassembled");
                counted(&self.name, "reassembled");
                let reply = self.serve(message).await;
                self.split(&table, &plan, reply)
            }
            Err(e) => smallvec![self.refuse_part(&table, &message, e)],
        }
    }

    /// The answer for a connection that sent nothing within the parts timeout mid-message (the
    /// error on the first part's header); `None` when no message is open.
    pub fn parts_timed_out(&self, parts: &mut Reassembler) -> Option<Reply> {
        let table = self.gateway.table();
        let ms = table.header.multipart.as_ref().map_or(0, |p| p.settings.timeout_ms);
        let (error, first) = parts.expire(&table.header, ms)?;
        Some(self.refuse_part(&table, &first, error))
    }

    /// The error reply for a part (or a message sent in parts over HTTP), logged and counted.
    pub fn refuse_part(&self, table: &RouteTable, message: &[u8], error: PartError) -> Reply {
        let (code, cause) = error.wire();
        metrics::counter!("ficus_multipart_errors_total", "channel" => self.name.to_string(), "cause" => cause)
            .increment(1);
        let id = table.header.message_id(message);
        warn!(channel = %self.name, code, id = id.as_deref().unwrap_or("-"), %error, "part refused: nothing routed");
        let error = GatewayError::Part(error);
        let (code, text) = error.wire_reply();
        Reply::error(self.error_reply(message, &code, &text), &error).via(None, table.generation)
    }

    /// On HTTP, where one POST is one whole message: the refusal of a part, if `message` is one.
    pub fn refuse_part_on_http(&self, message: &[u8]) -> Option<Reply> {
        let table = self.gateway.table();
        let plan = table.header.multipart.as_ref()?;
        let kind = match plan.kind(&table.header, message) {
            Ok(PartKind::Single) | Err(_) => return None,
            Ok(kind) => kind.name(),
        };
        Some(self.refuse_part(&table, message, PartError::OnHttp { kind }))
    }

    /// `reply` in parts when it is a JSON service's answer longer than a part; a fixed-width
    /// upstream's answer (or ficus's own) goes as it is.
    fn split(&self, table: &RouteTable, plan: &MultipartPlan, reply: Reply) -> Replies {
        let translated =
            reply.upstream.as_deref().and_then(|u| table.upstreams.get(u)).is_some_and(|e| e.upstream.is_json());
        if !translated || reply.status != 200 {
            return smallvec![reply];
        }
        match plan.split(&table.header, &reply.bytes) {
            Ok(None) => smallvec![reply],
            Ok(Some(bytes)) => {
                metrics::counter!("ficus_multipart_reply_parts_total", "channel" => self.name.to_string())
                    .increment(bytes.len() as u64);
                let (write, upstream, generation) = (reply.write, reply.upstream, reply.generation);
                bytes
                    .into_iter()
                    .map(|b| Reply {
                        write: write.clone(),
                        upstream: upstream.clone(),
                        generation,
                        ..Reply::new(b, 200)
                    })
                    .collect()
            }
            Err(e) => {
                warn!(channel = %self.name, error = %e, "reply cannot be split into parts: replaced by an error reply");
                // A write's answer that cannot be delivered leaves its outcome unknown to the channel.
                self.gateway.undelivered(&reply);
                let error = match reply.write.is_some() {
                    true => GatewayError::OutcomeUnknown(Box::new(GatewayError::Part(e))),
                    false => GatewayError::Part(e),
                };
                let (code, text) = error.wire_reply();
                let bytes = self.error_reply(&reply.bytes, &code, &text);
                smallvec![Reply::error(bytes, &error).via(reply.upstream.as_deref(), table.generation)]
            }
        }
    }
}

/// True when `op`'s parts go to the host one by one: every upstream it can be routed to is
/// fixed-width, and it is not journaled (a journal keys one message, not its parts).
fn passes_through(table: &Arc<RouteTable>, op: &str) -> bool {
    let Some(route) = table.routes.get(op) else { return table.default_target.upstream.is_bytes() };
    route.journal.is_none()
        && route.target.upstream.is_bytes()
        && route.canary.as_ref().is_none_or(|c| c.to.upstream.is_bytes())
}

fn counted(channel: &str, mode: &'static str) {
    metrics::counter!("ficus_multipart_messages_total", "channel" => channel.to_string(), "mode" => mode).increment(1);
}
