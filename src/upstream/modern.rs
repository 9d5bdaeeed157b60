//! A new service speaking JSON: the gateway POSTs `{"operation", "header", "request"}` and
//! expects `{"response": {...} | null, "header": {...}}` back.
//!
//! This file only moves JSON; decoding the request and encoding the reply into the response
//! copybook happen in the gateway, so the channel sees the bytes the host would have sent.

use super::http::{HttpClient, PostKind};
use super::UpstreamError;
use bytes::Bytes;
use serde_json::{json, Map, Value};
use tracing::Instrument;

/// The header carrying the message id to the service, for tracing one message end to end.
pub const MESSAGE_ID_HEADER: &str = "Ficus-Message-Id";
/// The header marking a shadow request that must not change anything.
pub const SHADOW_HEADER: &str = "Ficus-Shadow";

/// `id` as an HTTP header value: itself when visible ASCII, else `hex:` and its UTF-8 bytes.
pub fn header_value(id: &str) -> String {
    if id.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        id.to_string()
    } else {
        format!("hex:{}", id.bytes().map(|b| format!("{b:02X}")).collect::<String>())
    }
}

/// A new service's answer.
#[derive(Debug, Default)]
pub struct ModernReply {
    /// Header fields to override in the reply.
    pub header: Map<String, Value>,
    /// The response body, or `None` for a header-only reply (e.g. a business error code).
    pub response: Option<Value>,
}

/// A JSON service upstream.
pub struct JsonService(pub HttpClient);

impl JsonService {
    /// Calls the service for one message.
    pub async fn call(
        &self,
        operation: &str,
        header: Value,
        request: Value,
        message_id: Option<&str>,
        dry_run: bool,
        kind: PostKind<'_>,
    ) -> Result<ModernReply, UpstreamError> {
        let bad = |reason: String| UpstreamError::BadReply { upstream: self.0.name().to_string(), reason };
        let body = json!({ "operation": operation, "header": header, "request": request });
        let body = Bytes::from(serde_json::to_vec(&body).map_err(|e| bad(e.to_string()))?);
        let mut headers: Vec<(&str, &str)> = Vec::with_capacity(2);
        // An id that is not visible ASCII (LOW-VALUES padding, say) cannot be an HTTP header
        // value: it goes as `hex:` and its bytes.
        let id = message_id.map(header_value);
        if let Some(id) = &id {
            headers.push((MESSAGE_ID_HEADER, id));
        }
        if dry_run {
            headers.push((SHADOW_HEADER, "dry-run"));
        }
        let span = tracing::debug_span!("modern", uri = %self.0.uri());
        let (status, body) = self.0.post(body, "application/json", &headers, kind).instrument(span).await?;
        if !(200..300).contains(&status) {
            return Err(UpstreamError::Status { upstream: self.0.name().to_string(), status });
        }
        let value: Value = serde_json::from_slice(&body).map_err(|e| bad(format!("reply is not JSON: {e}")))?;
        let Value::Object(mut map) = value else {
            return Err(bad("reply is not a JSON object".into()));
        };
        let header = match map.remove("header") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(h)) => h,
            Some(_) => return Err(bad("\"header\" is not an object".into())),
        };
        let response = match map.remove("response") {
            None | Some(Value::Null) => None,
            Some(v @ Value::Object(_)) => Some(v),
            Some(_) => return Err(bad("\"response\" is not an object".into())),
        };
        Ok(ModernReply { header, response })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_http_cannot_carry_go_as_hex() {
        assert_eq!(header_value("0000000042"), "0000000042");
        assert_eq!(header_value("AB 12"), "AB 12");
        assert_eq!(header_value("X0\0\0"), "hex:58300000");
        assert_eq!(header_value("a\r\nb"), "hex:610D0A62");
    }
}
