//! A new service speaking JSON: the gateway POSTs `{"operation", "header", "request"}` and
//! expects `{"response": {...} | null, "header": {...}}` back.
//!
//! This file only moves JSON text; building the request and reading and encoding the reply
//! into the response copybook happen in the gateway (`gateway/translate.rs`), so the channel
//! sees the bytes the host would have sent.

use super::http::{Headers, HttpClient, PostKind, TRACEPARENT, TRACESTATE};
use super::UpstreamError;
use bytes::Bytes;
use hyper::header::HeaderName;
use std::borrow::Cow;
use tracing::Instrument;

/// The header carrying the message id to the service, for tracing one message end to end
/// (`Ficus-Message-Id`; made once, and sent lowercase as HTTP/1 names are here).
pub static MESSAGE_ID_HEADER: HeaderName = HeaderName::from_static("ficus-message-id");
/// The header marking a shadow request that must not change anything (`Ficus-Shadow`).
pub static SHADOW_HEADER: HeaderName = HeaderName::from_static("ficus-shadow");

/// `id` as an HTTP header value: itself (borrowed) when visible ASCII, else `hex:` and its
/// UTF-8 bytes.
pub fn header_value(id: &str) -> Cow<'_, str> {
    if id.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        Cow::Borrowed(id)
    } else {
        Cow::Owned(format!("hex:{}", hex::encode_upper(id)))
    }
}

/// A JSON service upstream.
pub struct JsonService(pub HttpClient);

impl JsonService {
    /// POSTs one message's JSON `body` (built by the gateway: `{"operation", "header",
    /// "request"}`) and returns the reply body of a 2xx answer, unparsed.
    ///
    /// Errors: the HTTP client's, and [`UpstreamError::Status`] for any other status.
    pub async fn call(
        &self,
        body: Bytes,
        message_id: Option<&str>,
        dry_run: bool,
        kind: PostKind<'_>,
    ) -> Result<Bytes, UpstreamError> {
        // An id that is not visible ASCII (LOW-VALUES padding, say) cannot be an HTTP header
        // value: it goes as `hex:` and its bytes.
        let id = message_id.map(header_value);
        let span = tracing::debug_span!("modern", uri = %self.0.uri());
        // Traced: the service's work joins the message's trace, under this call's span.
        let trace = crate::telemetry::trace_headers(&span);
        let mut headers = Headers::new();
        if let Some(id) = &id {
            headers.push((&MESSAGE_ID_HEADER, id));
        }
        if dry_run {
            headers.push((&SHADOW_HEADER, "dry-run"));
        }
        if let Some(t) = &trace {
            headers.push((&TRACEPARENT, &t.traceparent));
            if let Some(state) = &t.tracestate {
                headers.push((&TRACESTATE, state));
            }
        }
        let traced = trace.is_some().then(|| span.clone());
        let result =
            self.0.post(body, "application/json", &headers, kind).instrument(span).await.and_then(|(status, body)| {
                if !(200..300).contains(&status) {
                    return Err(UpstreamError::Status { upstream: self.0.name().to_string(), status });
                }
                Ok(body)
            });
        crate::telemetry::call_ended(traced.as_ref(), &result);
        result
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
