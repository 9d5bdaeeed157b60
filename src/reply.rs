//! The one place where failures become replies on the wire: a fixed-width error reply (the
//! request's header with a response code and message) and, on HTTP, a matching status.
//!
//! Every cause has its own code, listed in the README; codes never change meaning.

use crate::codec::{DecodeError, EncodeError};
use crate::frame::FrameError;
use crate::header::HeaderError;
use crate::journal::Refusal;
use crate::upstream::UpstreamError;

/// Why the gateway could not serve a message itself.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The frame could not be read (bad length, truncated).
    #[error("{0}")]
    Frame(#[from] FrameError),
    /// The common header could not be read.
    #[error("{0}")]
    Header(#[from] HeaderError),
    /// The message is larger than the limit.
    #[error("message of {len} bytes is over the limit of {max}")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The body does not fit the operation's request copybook.
    #[error("{0}")]
    Body(DecodeError),
    /// The operation is switched off (`enabled = false`).
    #[error("operation {0} is disabled")]
    Disabled(String),
    /// The operation is switched off with a configured reply (code, message).
    #[error("operation {op} is disabled")]
    DisabledWith {
        /// The operation.
        op: String,
        /// The configured response code.
        code: String,
        /// The configured response message.
        message: String,
    },
    /// The upstream failed.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// The new service's reply does not fit the response copybook.
    #[error("{0}")]
    ReplyEncode(EncodeError),
    /// Too much in flight: shed instead of queueing.
    #[error("gateway busy")]
    Busy,
    /// A write (not `read_only`) reached the upstream, but no answer it could be given came back
    /// (none in time, another message's, one that does not fit the response copybook): whether
    /// it was applied is unknown (reconcile before retrying).
    #[error("outcome unknown: {0}")]
    OutcomeUnknown(Box<GatewayError>),
    /// The transaction journal answered instead of the upstream (never sent).
    #[error(transparent)]
    Journal(#[from] Refusal),
    /// A message could not be converted between its channel's code page and the host's (a
    /// character with no mapping, text that no longer fits its field): the error names the field.
    #[error("{0}")]
    Convert(#[from] crate::codec::convert::ConvertError),
    /// A message with a body, on a channel whose code page is not the host's, for an operation
    /// without the layout to convert it with: never sent unconverted.
    #[error(
        "operation {op} has no {which} layout: its body cannot be converted between {channel} and the host's code page"
    )]
    NoLayout {
        /// The operation.
        op: String,
        /// `request` or `response`.
        which: &'static str,
        /// The channel.
        channel: String,
    },
    /// A part of a multi-part message (장전문) that does not continue its message, or a reply
    /// that cannot be split into parts: nothing of the message is routed.
    #[error("{0}")]
    Part(#[from] crate::header::PartError),
}

/// How an error appears on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WireError {
    /// The response code written into the header.
    pub code: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// A short label for metrics and logs.
    pub cause: &'static str,
}

impl GatewayError {
    /// The code, status and label of this error.
    pub fn wire(&self) -> WireError {
        if let GatewayError::OutcomeUnknown(e) = self {
            // Same code and status as the failure itself; the cause says what it means.
            return WireError { cause: "outcome_unknown", ..e.wire() };
        }
        let (code, status, cause) = match self {
            GatewayError::Part(e) => {
                let (code, cause) = e.wire();
                let status = match code {
                    "FC42" => 413,
                    "FC43" => 408,
                    _ => 400,
                };
                (code, status, cause)
            }
            GatewayError::Frame(FrameError::TooLarge { .. }) | GatewayError::TooLarge { .. } => {
                ("FC02", 413, "too_large")
            }
            GatewayError::Frame(_) | GatewayError::Header(_) => ("FC01", 400, "malformed"),
            GatewayError::Body(_) | GatewayError::Upstream(UpstreamError::Unsendable { .. }) => {
                ("FC03", 400, "bad_body")
            }
            GatewayError::Disabled(_) | GatewayError::DisabledWith { .. } => ("FC04", 503, "disabled"),
            GatewayError::Upstream(UpstreamError::Timeout { .. }) => ("FC11", 504, "timeout"),
            GatewayError::Upstream(
                UpstreamError::Connect { .. }
                | UpstreamError::Io { .. }
                | UpstreamError::Open { .. }
                | UpstreamError::ReceiveDown { .. },
            ) => ("FC10", 502, "unavailable"),
            GatewayError::Upstream(UpstreamError::Status { .. }) => ("FC13", 502, "upstream_status"),
            GatewayError::Upstream(UpstreamError::BadReply { .. } | UpstreamError::Uncorrelated { .. })
            | GatewayError::ReplyEncode(_) => ("FC12", 502, "bad_reply"),
            GatewayError::Journal(Refusal::Key(_)) => ("FC05", 400, "bad_key"),
            GatewayError::Journal(Refusal::Unresolved { .. }) => ("FC21", 409, "duplicate_unresolved"),
            GatewayError::Journal(Refusal::KeyReused { .. }) => ("FC22", 409, "key_reused"),
            GatewayError::Journal(Refusal::OriginalMissing { .. } | Refusal::OriginalTargetGone { .. }) => {
                ("FC23", 422, "original_missing")
            }
            GatewayError::Journal(Refusal::Store(_)) => ("FC24", 503, "journal_unavailable"),
            GatewayError::Journal(Refusal::Continuation { .. }) => ("FC26", 422, "continuation_unknown"),
            GatewayError::Convert(_) => ("FC31", 400, "code_conversion"),
            GatewayError::NoLayout { .. } => ("FC32", 400, "no_layout"),
            GatewayError::Journal(Refusal::Moving { .. } | Refusal::OwnerGone { .. }) => ("FC25", 503, "owner_moving"),
            GatewayError::Upstream(UpstreamError::MatchKeyInUse { .. }) => ("FC45", 409, "match_key_in_use"),
            GatewayError::Upstream(UpstreamError::MatchKeyBlank { .. }) => ("FC46", 400, "match_key_blank"),
            GatewayError::Upstream(UpstreamError::Busy { .. } | UpstreamError::NoSpare { .. })
            | GatewayError::Busy
            | GatewayError::OutcomeUnknown(_) => ("FC20", 503, "busy"),
        };
        WireError { code, status, cause }
    }

    /// True when a write that failed this way may have been applied by its upstream: it was
    /// sent, and no answer that could be given to the channel came back.
    pub fn maybe_applied(&self) -> bool {
        match self {
            GatewayError::Upstream(e) => !e.not_sent(),
            GatewayError::ReplyEncode(_) => true,
            _ => false,
        }
    }

    /// The (code, message) written into the reply's header.
    pub fn wire_reply(&self) -> (String, String) {
        match self {
            GatewayError::DisabledWith { code, message, .. }
            | GatewayError::Journal(Refusal::OriginalMissing { configured: Some((code, message)), .. }) => {
                (code.clone(), message.clone())
            }
            _ => (self.wire().code.to_string(), self.wire_message()),
        }
    }

    /// The message written into the header's response-message field.
    pub fn wire_message(&self) -> String {
        let prefix = match self.wire().cause {
            "too_large" => "TOO LARGE",
            "malformed" => "MALFORMED",
            "bad_body" => "BAD REQUEST",
            "disabled" => "DISABLED",
            "timeout" => "TIMEOUT",
            "unavailable" => "HOST UNAVAILABLE",
            "upstream_status" => "SERVICE ERROR",
            "bad_reply" => "BAD REPLY",
            "bad_key" => "BAD KEY",
            "key_reused" => "KEY REUSED",
            "original_missing" => "ORIGINAL NOT FOUND",
            "journal_unavailable" => "JOURNAL UNAVAILABLE, NOT SENT",
            "owner_moving" => "ACCOUNT MOVING, NOT SENT",
            // The field is short: what to do, then the key (the whole reason is in the log
            // and HTTP's Ficus-Error).
            "continuation_unknown" => {
                let GatewayError::Journal(Refusal::Continuation { key, .. }) = self else { unreachable!() };
                return format!("START AGAIN: KEY {key} UNKNOWN");
            }
            // The field first: the header's message field is short.
            "code_conversion" => {
                if let GatewayError::Convert(crate::codec::convert::ConvertError::Field {
                    path, offset, cause, ..
                }) = self
                {
                    return format!("CODE CONVERSION: {path} at offset {offset}: {cause}");
                }
                "CODE CONVERSION"
            }
            "no_layout" => "NO LAYOUT TO CONVERT",
            "part_order" => "PART ORDER",
            "part_missing" => "PART MISSING",
            "parts_too_large" => "PARTS TOO LARGE",
            "parts_timeout" => "PARTS TIMEOUT",
            "part_refused" => "PART REFUSED",
            "match_key_in_use" => "KEY IN USE, NOT SENT",
            "match_key_blank" => "NO MATCH KEY, NOT SENT",
            // The words a teller must see first: do not send it again.
            "duplicate_unresolved" => {
                let GatewayError::Journal(Refusal::Unresolved { key, state, .. }) = self else { unreachable!() };
                return format!("OUTCOME UNKNOWN, DO NOT RESEND: {key} {state}");
            }
            // The message field is short: the words that matter come first.
            "outcome_unknown" => {
                let GatewayError::OutcomeUnknown(e) = self else { unreachable!() };
                return format!("OUTCOME UNKNOWN: {e}");
            }
            _ => "BUSY",
        };
        format!("{prefix}: {self}")
    }
}

/// What goes back to the channel.
#[derive(Debug)]
pub struct Reply {
    /// The fixed-width reply bytes.
    pub bytes: Vec<u8>,
    /// HTTP status (200 for a served message).
    pub status: u16,
    /// The operation, when this is an upstream's answer to a write: if it cannot be delivered,
    /// the channel never learns the outcome (see `Gateway::undelivered`).
    pub write: Option<String>,
    /// For the gateway's own error replies: the code and the whole reason, which the
    /// fixed-width message field may cut (HTTP sends it as `Ficus-Error`).
    pub error: Option<String>,
    /// The upstream that answered, or that failed (the last one tried): none when the message
    /// never reached one (malformed, disabled, shed). HTTP sends it as `Ficus-Upstream`. Inline
    /// when the name is short (up to 24 bytes): no allocation per message.
    pub upstream: Option<crate::header::Short>,
    /// The route table generation that served the message (HTTP: `Ficus-Generation`).
    pub generation: Option<u64>,
}

impl Reply {
    /// A reply that is not a write's answer.
    pub fn new(bytes: Vec<u8>, status: u16) -> Reply {
        Reply { bytes, status, write: None, error: None, upstream: None, generation: None }
    }

    /// The gateway's error reply for `error`: `bytes` (fixed width) and the whole reason.
    pub fn error(bytes: Vec<u8>, error: &GatewayError) -> Reply {
        let (code, text) = error.wire_reply();
        Reply { error: Some(format!("{code} {text}")), ..Reply::new(bytes, error.wire().status) }
    }

    /// This reply, saying which upstream answered or failed (if one was tried) and which route
    /// table generation served it.
    pub fn via(self, upstream: Option<&str>, generation: u64) -> Reply {
        Reply { upstream: upstream.map(crate::header::Short::from), generation: Some(generation), ..self }
    }

    /// [`Reply::error`]'s reason as an HTTP header value: visible ASCII, anything else as `?`.
    pub fn error_header(&self) -> Option<String> {
        let reason = self.error.as_ref()?;
        Some(reason.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' }).collect())
    }
}
