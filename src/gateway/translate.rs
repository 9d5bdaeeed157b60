//! The http-json path: a message translated for a new service, and the service's answer encoded
//! into the response copybook, without a tree of JSON values on either side.
//!
//! The request's header and body are decoded once, straight into the JSON text the service
//! gets ([`JsonRequest`]); that pass is also the message's validation. The service's reply is
//! parsed into a borrowed [`Doc`] and encoded from it in copybook order; the reply's header is
//! the request's (read back from the text already built) with the service's overrides on top.

use super::Exchange;
use crate::codec::json::write_json_string;
use crate::codec::json_doc::{Doc, Val};
use crate::codec::json_read::{JsonRead, Scalar};
use crate::codec::{Codec, EncodeError, Scratch};
use crate::reply::GatewayError;
use crate::route::RouteTable;
use crate::upstream::http::PostKind;
use crate::upstream::modern::JsonService;
use crate::upstream::{Correlation, Lane, UpstreamError};
use bytes::Bytes;
use std::ops::Range;
use tracing::debug;

/// The JSON a service gets for one message: `{"operation": OP, "header": {…}, "request": {…}}`.
/// It depends on the message only, not on which service gets it (primary, fallback, shadow).
pub struct JsonRequest {
    /// The whole body, as sent.
    pub body: Bytes,
    /// Where the header object is in `body`.
    header: Range<usize>,
}

impl JsonRequest {
    /// Decodes `message`'s header (with the table's header codec) and body (with `request`) in
    /// one pass into the JSON text; the strict decode is the body's validation.
    ///
    /// Errors: [`GatewayError::Body`] naming the first field that does not fit its picture.
    pub fn build(table: &RouteTable, op: &str, request: &Codec, message: &[u8]) -> Result<JsonRequest, GatewayError> {
        let body = message.get(table.header.size..).unwrap_or_default();
        let room = 64 + op.len() + table.header.codec.json_text_hint() + request.json_text_hint();
        let mut out = String::with_capacity(room);
        out.push_str("{\"operation\":");
        write_json_string(&mut out, op);
        out.push_str(",\"header\":");
        let start = out.len();
        Scratch::with_local(|scratch| {
            table.header.codec.decode_json_text(message, &mut out, scratch)?;
            let header = start..out.len();
            out.push_str(",\"request\":");
            request.decode_json_text(body, &mut out, scratch)?;
            out.push('}');
            Ok(JsonRequest { body: Bytes::from(out), header })
        })
        .map_err(GatewayError::Body)
    }

    /// The header object's text.
    fn header_text(&self) -> &[u8] {
        &self.body[self.header.clone()]
    }
}

/// Serves a message through a JSON service: its JSON (`prepared`, or built now), the call, the
/// reply encoded. The reply carries the request's operation and message id, byte for byte.
pub(super) async fn translate(
    x: Exchange<'_>,
    service: &JsonService,
    lane: Lane,
    dry_run: bool,
) -> Result<Vec<u8>, GatewayError> {
    let (Some(request_codec), Some(response_codec)) = (&x.route.request, &x.route.response) else {
        return Err(GatewayError::Disabled(x.op.into()));
    };
    let table = x.table;
    let built;
    let request = match x.json {
        Some(prepared) => prepared,
        None => {
            built = JsonRequest::build(table, x.op, request_codec, x.message)?;
            &built
        }
    };
    let kind = PostKind { read_only: x.route.read_only, lane, correlate: None, sent: x.sent };
    let reply = service.call(request.body.clone(), x.id, dry_run, kind).await?;
    let bad = |reason: String| -> GatewayError {
        UpstreamError::BadReply { upstream: service.0.name().to_string(), reason }.into()
    };
    let doc = Doc::parse(&reply).map_err(|e| bad(format!("reply is not JSON: {e}")))?;
    let (overrides, response) = reply_parts(doc.root()).map_err(bad)?;
    debug!(has_body = response.is_some(), "service replied");
    let base = Doc::parse(request.header_text()).map_err(|e| bad(format!("request header: {e}")))?;
    let mut bytes = encode_reply(table, response_codec, base.root(), overrides, response)?;
    // The reply answers this request: its operation and message id are the request's, byte for
    // byte. A service may echo them in any form that encodes to the same bytes; one that names
    // another operation or message gets no reply delivered.
    for field in table.header.identity() {
        let (at, len) = (field.offset, field.len);
        let Some(src) = x.message.get(at..at + len) else { continue };
        let overridden = overrides.is_some_and(|o| o.get(&field.name).is_some());
        if bytes.get(at..at + len).is_some_and(|dst| dst != src) && overridden {
            // The same value in other bytes (a sign nibble the encoder writes as C) is an echo.
            let (mine, theirs) = (table.header.value(x.message, field), table.header.value(&bytes, field));
            if mine.is_none() || mine != theirs {
                let ids = Correlation { offset: at, len }.check(x.message, &bytes).unwrap_err();
                return Err(Correlation::error(service.0.name(), ids).into());
            }
        }
        if let Some(dst) = bytes.get_mut(at..at + len) {
            dst.copy_from_slice(src);
        }
    }
    Ok(bytes)
}

/// A service's answer: `{"header": {…} | null, "response": {…} | null}` (either may be left
/// out) → (header overrides, response body).
fn reply_parts<'d, 'a>(root: Val<'d, 'a>) -> Result<(Option<Val<'d, 'a>>, Option<Val<'d, 'a>>), String> {
    if !root.is_object() {
        return Err("reply is not a JSON object".into());
    }
    let part = |name: &str| match root.get(name).map(|v| (v, v.scalar())) {
        None | Some((_, Scalar::Null)) => Ok(None),
        Some((v, Scalar::Object)) => Ok(Some(v)),
        Some(_) => Err(format!("\"{name}\" is not an object")),
    };
    Ok((part("header")?, part("response")?))
}

/// Builds the fixed-width reply: the request's header (`base`, as decoded) with the service's
/// `overrides` and the length set, followed by the encoded response body (absent for a
/// header-only reply).
///
/// Errors: [`GatewayError::ReplyEncode`] — an override that is not a header field, or a value
/// that does not fit its field.
pub fn encode_reply<'d, 'a>(
    table: &RouteTable,
    response: &Codec,
    base: Val<'d, 'a>,
    overrides: Option<Val<'d, 'a>>,
    body: Option<Val<'d, 'a>>,
) -> Result<Vec<u8>, GatewayError> {
    for (k, _) in overrides.into_iter().flat_map(Val::members) {
        if base.get(k).is_none() {
            let path = format!("header {k} (not a header field)");
            return Err(GatewayError::ReplyEncode(EncodeError::Missing { path }));
        }
    }
    let header = ReplyHeader::Top { base, overrides, length: table.header.length_field() };
    let mut reply = Vec::with_capacity(table.header.size + response.max_size());
    table.header.codec.plan().encode_from(header, &mut reply).map_err(GatewayError::ReplyEncode)?;
    if let Some(body) = body {
        let mut encoded = Vec::with_capacity(response.max_size());
        response.plan().encode_from(body, &mut encoded).map_err(GatewayError::ReplyEncode)?;
        reply.extend_from_slice(&encoded);
    }
    table.header.set_length(&mut reply);
    Ok(reply)
}

/// The reply's header as the encoder reads it: the request's header object, each member the
/// service overrides taken from its reply instead, and the length field 0 (set once the reply
/// is whole).
#[derive(Clone, Copy)]
enum ReplyHeader<'d, 'a> {
    Top { base: Val<'d, 'a>, overrides: Option<Val<'d, 'a>>, length: Option<&'d str> },
    Value(Val<'d, 'a>),
    Zero,
}

impl<'d, 'a> JsonRead<'d> for ReplyHeader<'d, 'a> {
    fn scalar(self) -> Scalar<'d> {
        match self {
            ReplyHeader::Top { .. } => Scalar::Object,
            ReplyHeader::Value(v) => v.scalar(),
            ReplyHeader::Zero => Scalar::Number("0"),
        }
    }
    fn get(self, key: &str) -> Option<Self> {
        match self {
            ReplyHeader::Top { length: Some(l), .. } if l == key => Some(ReplyHeader::Zero),
            ReplyHeader::Top { base, overrides, .. } => {
                overrides.and_then(|o| o.get(key)).or_else(|| base.get(key)).map(ReplyHeader::Value)
            }
            ReplyHeader::Value(v) => v.get(key).map(ReplyHeader::Value),
            ReplyHeader::Zero => None,
        }
    }
    fn array_len(self) -> usize {
        match self {
            ReplyHeader::Value(v) => v.array_len(),
            _ => 0,
        }
    }
    fn item(self, i: usize) -> Option<Self> {
        match self {
            ReplyHeader::Value(v) => v.item(i).map(ReplyHeader::Value),
            _ => None,
        }
    }
    fn abridge(self) -> String {
        match self {
            ReplyHeader::Top { base, .. } => base.abridge(),
            ReplyHeader::Value(v) => v.abridge(),
            ReplyHeader::Zero => "0".into(),
        }
    }
}
