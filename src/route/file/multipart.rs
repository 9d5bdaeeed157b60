//! The `[header] multipart` key of routes.toml: which header fields mark the parts of a long
//! message (장전문) and how ficus treats them (checked against the header in
//! `config::build::multipart`; see README "Multi-part messages (장전문)").

use serde::{Deserialize, Serialize};

/// `multipart = { flag = "HDR-CONT-FLAG", single = "1", first = "2", middle = "3", last = "4",
/// part_no = "HDR-PART-NO" }`: a long message arrives on a TCP channel as consecutive parts;
/// ficus reassembles a request's parts before routing it to a JSON service, passes a legacy
/// route's parts to the host one by one, and splits a JSON service's long reply into parts.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MultipartSpec {
    /// The header field holding the part indicator (연속구분).
    pub flag: String,
    /// Its value for a message in one part (blank is read as single too).
    pub single: String,
    /// Its value for the first part.
    pub first: String,
    /// Its value for a middle part.
    pub middle: String,
    /// Its value for the last part.
    pub last: String,
    /// The header field holding the part's number, 1 for the first part.
    pub part_no: String,
    /// What a first or middle part is answered with: `"none"` (default: nothing until the last
    /// part's reply) or `"each"` (its header at once, with `ack_code`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack: Option<String>,
    /// The response code of an `ack = "each"` answer (default `"0000"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_code: Option<String>,
    /// Longest wait for the next part once a message has started, in milliseconds (default:
    /// `[limits] read_timeout_ms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Most parts in one message (default: the most `part_no` can hold, at most 9999).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_parts: Option<u32>,
    /// Most bytes of a reassembled message, header included (default, and at most:
    /// `[limits] max_message_bytes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<usize>,
    /// Most body bytes in one part of a reply ficus splits (default: `[limits]
    /// max_message_bytes` less the header: a reply part is never larger than a message the
    /// channel may send).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_part_bytes: Option<usize>,
}
