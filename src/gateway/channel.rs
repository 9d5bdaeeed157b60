//! A channel whose code page is not the host's: its messages are converted to the host's code
//! page before the pipeline sees them (so routing, journal keys, canary and owner keys, JSON
//! services and shadows all read host bytes), and every reply — the upstream's, or the error
//! reply ficus builds from the request's header — is converted back. Conversion is exact or an
//! error: a message that cannot be converted gets the FC31 reply naming the field (FC32 for an
//! operation without the layout to convert its body) and never reaches an upstream; a reply
//! that cannot be converted back is never delivered unconverted. Channels on the host's code
//! page never come here: their bytes pass through untouched.

use super::Gateway;
use crate::codec::convert::{convert_body, convert_message, ConvertError};
use crate::reply::{GatewayError, Reply};
use crate::route::channel::{ChannelConversion, ChannelPlan};
use crate::route::RouteTable;
use std::borrow::Cow;
use tracing::{debug, warn};

impl Gateway {
    /// The header of `message` (in `plan`'s code page) in the host's code page — `message` itself
    /// when the channel is on the host's page — or the error reply to send back instead (in the
    /// channel's code page). Converted once per message: the heartbeat check reads it, and
    /// [`Gateway::body_to_host`] appends the body to it.
    pub fn header_to_host<'m>(
        &self,
        table: &RouteTable,
        plan: &ChannelPlan,
        message: &'m [u8],
    ) -> Result<Cow<'m, [u8]>, Reply> {
        let Some(conv) = &plan.conversion else { return Ok(Cow::Borrowed(message)) };
        let size = table.header.size;
        let mut header = Vec::with_capacity(message.len());
        let head = message.get(..size).unwrap_or(message);
        if let Err(e) = conv.header_to_host.convert(head, &mut header) {
            // A header that does not convert: nothing of the request can be trusted in the reply.
            let error = match message.len() < size {
                true => GatewayError::Header(crate::header::HeaderError::Short { len: message.len(), need: size }),
                false => GatewayError::Convert(e),
            };
            return Err(self.refuse(table, plan, &[], error));
        }
        Ok(Cow::Owned(header))
    }

    /// `message` in the host's code page: `host`, its header as [`Gateway::header_to_host`] gave
    /// it, with the body converted by the operation's request layout appended; or the error reply
    /// to send back instead (in the channel's code page).
    pub fn body_to_host(
        &self,
        table: &RouteTable,
        plan: &ChannelPlan,
        message: &[u8],
        mut host: Vec<u8>,
    ) -> Result<Vec<u8>, Reply> {
        let Some(conv) = &plan.conversion else { return Ok(host) };
        let op = table.header.operation(&host).ok();
        let body = op.as_deref().and_then(|op| conv.routes.get(op)).and_then(|r| r.request.as_ref());
        match convert_body(&conv.header_to_host, body, message, &mut host) {
            Ok(()) => Ok(host),
            // `host` still holds just the header: a failed conversion appends nothing.
            Err(ConvertError::NoLayout { .. }) => {
                let op = op.unwrap_or_default();
                let error = GatewayError::NoLayout { op, which: "request", channel: plan.name.to_string() };
                Err(self.refuse(table, plan, &host, error))
            }
            Err(e) => Err(self.refuse(table, plan, &host, GatewayError::Convert(e))),
        }
    }

    /// `reply` (the host's code page) in `plan`'s code page, with the response layout of the
    /// operation of `request` (the host's bytes of the request it answers): a reply is correlated
    /// with its request, not recognised by the operation code its header carries (hosts that mark
    /// replies with another code are answered alike on every channel). A reply that cannot be
    /// converted is replaced by an error reply (a write's is an unknown outcome to the channel).
    pub fn to_channel(&self, table: &RouteTable, plan: &ChannelPlan, request: &[u8], reply: Reply) -> Reply {
        let Some(conv) = &plan.conversion else { return reply };
        let op = table.header.operation(request).ok();
        let body = op.as_deref().and_then(|op| conv.routes.get(op)).and_then(|r| r.response.as_ref());
        let mut out = Vec::with_capacity(reply.bytes.len());
        let cause = match convert_message(&conv.header_to_channel, body, &reply.bytes, &mut out) {
            Ok(()) => return Reply { bytes: out, ..reply },
            Err(ConvertError::NoLayout { .. }) => {
                GatewayError::NoLayout { op: op.unwrap_or_default(), which: "response", channel: plan.name.to_string() }
            }
            Err(e) => GatewayError::Convert(e),
        };
        metrics::counter!("ficus_conversion_errors_total", "channel" => plan.name.to_string(), "direction" => "to_channel")
            .increment(1);
        let error = match reply.write.is_some() {
            true => GatewayError::OutcomeUnknown(Box::new(cause)),
            false => cause,
        };
        warn!(channel = %plan.name, code = error.wire().code, %error, "reply cannot be converted for the channel");
        self.undelivered(&reply);
        let (code, text) = error.wire_reply();
        let bytes = table.header.error_reply(request, &code, &text);
        let converted = back(conv, bytes).unwrap_or_else(|| blank(table, conv, &code, &text));
        Reply::error(converted, &error).via(reply.upstream.as_deref(), reply.generation.unwrap_or(table.generation))
    }

    /// The error reply for a request that cannot be converted: built on the request's header in
    /// the host's code page (`host_header`; empty when that did not convert), then converted.
    fn refuse(&self, table: &RouteTable, plan: &ChannelPlan, host_header: &[u8], error: GatewayError) -> Reply {
        let Some(conv) = &plan.conversion else { unreachable!("only converting channels refuse") };
        let wire = error.wire();
        metrics::counter!("ficus_conversion_errors_total", "channel" => plan.name.to_string(), "direction" => "to_host")
            .increment(1);
        warn!(channel = %plan.name, code = wire.code, %error, "request cannot be converted for the host: not sent");
        let (code, text) = error.wire_reply();
        let bytes = table.header.error_reply(host_header, &code, &text);
        let bytes = back(conv, bytes).unwrap_or_else(|| blank(table, conv, &code, &text));
        Reply::error(bytes, &error).via(None, table.generation)
    }

    /// An error reply on the header of `message` (in `plan`'s code page), in `plan`'s code page.
    pub fn error_on(&self, table: &RouteTable, plan: &ChannelPlan, message: &[u8], code: &str, text: &str) -> Vec<u8> {
        let Some(conv) = &plan.conversion else { return table.header.error_reply(message, code, text) };
        let mut header = Vec::new();
        let head = message.get(..table.header.size).unwrap_or_default();
        if conv.header_to_host.convert(head, &mut header).is_err() {
            header.clear();
        }
        back(conv, table.header.error_reply(&header, code, text)).unwrap_or_else(|| blank(table, conv, code, text))
    }

    /// The answer to `message` (in `plan`'s code page) when it is `plan`'s heartbeat, in the
    /// channel's code page; `None` for every other message. Every channel's heartbeats (the
    /// default channel's too) are answered here: never routed, shadowed or journaled, counted
    /// on their own (`ficus_heartbeats_total{listener, channel}`) and logged at debug level only
    /// (a link test every few seconds would drown everything else).
    pub fn heartbeat_on(&self, table: &RouteTable, plan: &ChannelPlan, host: &[u8], listener: &str) -> Option<Reply> {
        let heartbeat = plan.heartbeat.as_ref()?;
        if table.header.operation(host).ok()? != heartbeat.op {
            return None;
        }
        metrics::counter!("ficus_heartbeats_total", "listener" => listener.to_string(), "channel" => plan.name.to_string())
            .increment(1);
        let id = table.header.message_id(host);
        debug!(listener, channel = %plan.name, op = %heartbeat.op, id = id.as_deref().unwrap_or("-"), "heartbeat answered");
        let mut bytes = heartbeat.reply(&table.header, host);
        if let Some(conv) = &plan.conversion {
            bytes = back(conv, bytes)?;
        }
        Some(Reply::new(bytes, 200).via(None, table.generation))
    }
}

/// A header-only message in the host's code page, converted to the channel's.
fn back(conv: &ChannelConversion, host: Vec<u8>) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(host.len());
    convert_message(&conv.header_to_channel, None, &host, &mut out).ok().map(|()| out)
}

/// The last resort: an error reply on a blank header (every field ficus writes itself), whose
/// message is cut to what converts; never the host's bytes.
fn blank(table: &RouteTable, conv: &ChannelConversion, code: &str, text: &str) -> Vec<u8> {
    let plain: String = text.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').collect();
    back(conv, table.header.error_reply(&[], code, &plain))
        .or_else(|| back(conv, table.header.error_reply(&[], code, "")))
        .unwrap_or_default()
}
