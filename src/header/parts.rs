//! Multi-part messages (장전문) in the common header: the part indicator and part number read
//! from a message, written into the parts of a reply ficus splits, and the errors a part can
//! be refused with. Pure: no I/O, no clock (the reassembly itself is [`super::reassemble`]).
//!
//! Values are compared as bytes: each configured flag value is written into the flag field once,
//! at load, in the header's code page, so `"1"` matches a PIC X(1) `'1'` and a PIC 9(1) `1` alike.

use super::{HeaderError, HeaderField, HeaderLayout};
use crate::codec::charset::Overflow;
use crate::codec::decimal::Decimal;
use crate::codec::number::encode_number;
use crate::codec::plan::LeafKind;

/// What a message's part indicator says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartKind {
    /// A message in one part (the configured `single` value, or a blank field).
    Single,
    /// The first part of a long message.
    First,
    /// A part between the first and the last.
    Middle,
    /// The last part.
    Last,
}

impl PartKind {
    /// `single`, `first`, `middle` or `last`, as routes.toml names them.
    pub fn name(self) -> &'static str {
        match self {
            PartKind::Single => "single",
            PartKind::First => "first",
            PartKind::Middle => "middle",
            PartKind::Last => "last",
        }
    }
}

/// Why a part (or a reply to split) was refused. Every one is answered with an error reply on
/// the part's header; nothing of a refused message is ever routed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PartError {
    /// A part whose number is not the next one (a duplicate included).
    #[error("expected part {expected}, got {got} (message {id})")]
    OutOfOrder {
        /// The part number the open message needs next.
        expected: u32,
        /// The part number that came.
        got: u32,
        /// The message id (or operation) of the open message.
        id: String,
    },
    /// A first part while another message waits for its next part.
    #[error("first part of a new message while message {id} waits for part {expected}: both dropped")]
    FirstWhileOpen {
        /// The open message.
        id: String,
        /// The part it waits for.
        expected: u32,
    },
    /// A single message while another message waits for its next part.
    #[error("single message while message {id} waits for part {expected}: both dropped")]
    SingleWhileOpen {
        /// The open message.
        id: String,
        /// The part it waits for.
        expected: u32,
    },
    /// The message that came while another waited for its next part, after a reload took
    /// `multipart` away: most likely that part, which alone is not a message.
    #[error("multipart was turned off while message {id} waited for part {expected}: both dropped")]
    Unconfigured {
        /// The open message.
        id: String,
        /// The part it waited for.
        expected: u32,
    },
    /// A middle or last part with no message open (its first part never came).
    #[error("{kind} part {got} with no message open: part 1 (first) is missing")]
    NotOpen {
        /// `middle` or `last`.
        kind: &'static str,
        /// Its part number.
        got: u32,
    },
    /// The message grew past the bound on a reassembled message.
    #[error("{bytes} bytes at part {part}, over the limit of {max} for a reassembled message")]
    TooLarge {
        /// Bytes so far (header and every body).
        bytes: usize,
        /// The bound.
        max: usize,
        /// The part that crossed it.
        part: u32,
    },
    /// The reassembled message is longer than the header's length field can state.
    #[error("reassembled message of {bytes} bytes cannot be stated in {field}")]
    Unstatable {
        /// Its length.
        bytes: usize,
        /// The length field.
        field: String,
    },
    /// More parts than the bound allows.
    #[error("part {part} is over the limit of {max} parts")]
    TooManyParts {
        /// The part number that came.
        part: u32,
        /// The bound.
        max: u32,
    },
    /// The channel stopped sending mid-message.
    #[error("part {expected} of message {id} did not arrive within {ms} ms")]
    Timeout {
        /// The part waited for.
        expected: u32,
        /// The open message.
        id: String,
        /// The parts timeout.
        ms: u64,
    },
    /// A part of another operation or message id, mid-message.
    #[error("part {part} carries {field} {got}, but message {open} is open: both dropped")]
    Foreign {
        /// The part's number.
        part: u32,
        /// The header field that differs.
        field: String,
        /// The open message's value.
        open: String,
        /// The part's value.
        got: String,
    },
    /// A flag value that is none of the configured ones.
    #[error("{field} is {value:?}, none of single/first/middle/last")]
    BadFlag {
        /// The flag field.
        field: String,
        /// What it holds.
        value: String,
    },
    /// A part number that is not a number.
    #[error("{field} is {value:?}, not a part number")]
    BadPartNo {
        /// The part number field.
        field: String,
        /// What it holds.
        value: String,
    },
    /// A part's own header is malformed (its length field wrong).
    #[error("part {part}: {error}")]
    Malformed {
        /// The part's number.
        part: u32,
        /// What is wrong.
        error: HeaderError,
    },
    /// The operation's route no longer goes to the legacy upstream its first part went to.
    #[error("part {part}: the route of {op} changed since part 1 (parts already passed to the host stay there)")]
    Rerouted {
        /// The part's number.
        part: u32,
        /// The operation.
        op: String,
    },
    /// A part sent over HTTP, where each POST is one whole message.
    #[error("{kind} part on HTTP: POST the whole message in one body (parts are for TCP channels)")]
    OnHttp {
        /// The part's kind.
        kind: &'static str,
    },
    /// A reply too long for the parts `part_no` can number.
    #[error("reply of {bytes} bytes needs {parts} parts, {field} numbers at most {max}")]
    ReplyTooLong {
        /// The reply's length.
        bytes: usize,
        /// The parts it needs.
        parts: usize,
        /// The part number field.
        field: String,
        /// The most parts it can number.
        max: u32,
    },
}

impl PartError {
    /// The response code and short label of this refusal (FC40–FC44; a malformed part FC01).
    pub fn wire(&self) -> (&'static str, &'static str) {
        match self {
            PartError::OutOfOrder { .. } => ("FC40", "part_order"),
            PartError::FirstWhileOpen { .. }
            | PartError::SingleWhileOpen { .. }
            | PartError::NotOpen { .. }
            | PartError::Unconfigured { .. } => ("FC41", "part_missing"),
            PartError::TooLarge { .. }
            | PartError::Unstatable { .. }
            | PartError::TooManyParts { .. }
            | PartError::ReplyTooLong { .. } => ("FC42", "parts_too_large"),
            PartError::Timeout { .. } => ("FC43", "parts_timeout"),
            PartError::Malformed { .. } => ("FC01", "malformed"),
            PartError::Foreign { .. }
            | PartError::BadFlag { .. }
            | PartError::BadPartNo { .. }
            | PartError::Rerouted { .. }
            | PartError::OnHttp { .. } => ("FC44", "part_refused"),
        }
    }
}

/// The settings of `[header] multipart` besides its fields, defaults applied.
#[derive(Clone, Debug)]
pub struct MultipartSettings {
    /// Answer first and middle parts at once with `ack_code`.
    pub ack_each: bool,
    /// The response code of those answers.
    pub ack_code: String,
    /// Longest wait for the next part, in milliseconds.
    pub timeout_ms: u64,
    /// Most parts of one message (at most what `part_no` can number).
    pub max_parts: Option<u32>,
    /// Most bytes of a reassembled message.
    pub max_bytes: usize,
    /// Most body bytes in one part of a reply ficus splits.
    pub reply_part_bytes: usize,
}

/// `[header] multipart`, compiled against the header.
#[derive(Clone, Debug)]
pub struct MultipartPlan {
    flag: HeaderField,
    /// The flag field's bytes for single, first, middle, last.
    values: [Vec<u8>; 4],
    /// The flag field's bytes in a blank header (read as single).
    blank: Vec<u8>,
    part_no: HeaderField,
    /// The largest number `part_no` holds.
    part_no_max: u32,
    /// Settings, defaults applied; `max_parts` resolved.
    pub settings: MultipartSettings,
}

const KINDS: [PartKind; 4] = [PartKind::Single, PartKind::First, PartKind::Middle, PartKind::Last];

impl MultipartPlan {
    /// Compiles the flag field `flag` with its values (single, first, middle, last) and the
    /// part number field `part_no` against `header`. Errors name the field and the value.
    pub fn new(
        header: &HeaderLayout,
        flag: &str,
        values: [&str; 4],
        part_no: &str,
        mut settings: MultipartSettings,
    ) -> Result<MultipartPlan, String> {
        let flag = header.field(flag)?;
        let part_no = header.field(part_no)?;
        let mut encoded: [Vec<u8>; 4] = Default::default();
        for ((kind, value), slot) in KINDS.iter().zip(values).zip(&mut encoded) {
            *slot = header.field_bytes(&flag, value, false).map_err(|e| format!("{} = {value:?}: {e}", kind.name()))?;
        }
        for i in 0..4 {
            for j in i + 1..4 {
                if encoded[i] == encoded[j] {
                    let (a, b) = (KINDS[i].name(), KINDS[j].name());
                    return Err(format!("{a} and {b} are the same value in {} ({:?})", flag.name, values[i]));
                }
            }
        }
        let blank = header.blank[flag.offset..flag.offset + flag.len].to_vec();
        for (kind, value) in KINDS.iter().zip(&encoded).skip(1) {
            if *value == blank {
                return Err(format!("{} is the blank {}: a blank flag is read as single", kind.name(), flag.name));
            }
        }
        let part_no_max = part_number_capacity(&part_no)?;
        if part_no.offset < flag.offset + flag.len && flag.offset < part_no.offset + part_no.len {
            return Err(format!("{} and {} overlap", flag.name, part_no.name));
        }
        let max_parts = settings.max_parts.unwrap_or(part_no_max.min(9999));
        if max_parts < 2 || max_parts > part_no_max {
            return Err(format!("max_parts = {max_parts} must be 2 to {part_no_max} (what {} holds)", part_no.name));
        }
        settings.max_parts = Some(max_parts);
        Ok(MultipartPlan { flag, values: encoded, blank, part_no, part_no_max, settings })
    }

    /// The most parts one message may have.
    pub fn max_parts(&self) -> u32 {
        self.settings.max_parts.unwrap_or(self.part_no_max)
    }

    /// What `message`'s flag says; a message too short to hold it is single (the header check
    /// refuses it). A value that is none of the configured ones is refused.
    pub fn kind(&self, header: &HeaderLayout, message: &[u8]) -> Result<PartKind, PartError> {
        let Some(bytes) = message.get(self.flag.offset..self.flag.offset + self.flag.len) else {
            return Ok(PartKind::Single);
        };
        if let Some(i) = self.values.iter().position(|v| v == bytes) {
            return Ok(KINDS[i]);
        }
        if bytes == self.blank {
            return Ok(PartKind::Single);
        }
        let value = header.value(message, &self.flag).unwrap_or_else(|| format!("{bytes:02X?}"));
        Err(PartError::BadFlag { field: self.flag.name.clone(), value })
    }

    /// The part number of `message`.
    pub fn part_no(&self, header: &HeaderLayout, message: &[u8]) -> Result<u32, PartError> {
        let text = header.value(message, &self.part_no);
        text.as_deref().and_then(|t| t.parse().ok()).ok_or_else(|| PartError::BadPartNo {
            field: self.part_no.name.clone(),
            value: text.unwrap_or_else(|| "(unreadable)".into()),
        })
    }

    /// Marks `message` (a reassembled one) as a single message, with its length field right.
    pub fn mark_single(&self, header: &HeaderLayout, message: &mut [u8]) {
        self.mark(header, message, PartKind::Single, 1);
    }

    /// Writes `kind` and part number `n` into `message`'s header and sets its length field.
    fn mark(&self, header: &HeaderLayout, message: &mut [u8], kind: PartKind, n: u32) {
        let i = KINDS.iter().position(|k| *k == kind).unwrap_or(0);
        message[self.flag.offset..self.flag.offset + self.flag.len].copy_from_slice(&self.values[i]);
        if let Ok(bytes) = header.field_bytes(&self.part_no, &n.to_string(), true) {
            message[self.part_no.offset..self.part_no.offset + self.part_no.len].copy_from_slice(&bytes);
        }
        header.set_length(message);
    }

    /// The answer to a first or middle part under `ack = "each"`: its header (flag and part
    /// number as sent) with `ack_code`, no body, length field right.
    pub fn ack(&self, header: &HeaderLayout, part: &[u8]) -> Vec<u8> {
        header.error_reply(part, &self.settings.ack_code, "")
    }

    /// `reply` in parts when its body is longer than `reply_part_bytes`: each part the reply's
    /// header with first/middle/last and part numbers 1..n, its share of the body, its length
    /// field right. `None` when it fits one message (sent as it is, byte for byte).
    pub fn split(&self, header: &HeaderLayout, reply: &[u8]) -> Result<Option<Vec<Vec<u8>>>, PartError> {
        let size = header.size;
        let per = self.settings.reply_part_bytes.max(1);
        let Some(body) = reply.get(size..).filter(|b| b.len() > per) else { return Ok(None) };
        let count = body.len().div_ceil(per);
        if count > self.part_no_max as usize {
            let (bytes, field, max) = (reply.len(), self.part_no.name.clone(), self.part_no_max);
            return Err(PartError::ReplyTooLong { bytes, parts: count, field, max });
        }
        let parts = body
            .chunks(per)
            .enumerate()
            .map(|(i, chunk)| {
                let kind = match i {
                    0 => PartKind::First,
                    i if i + 1 == count => PartKind::Last,
                    _ => PartKind::Middle,
                };
                let mut part = Vec::with_capacity(size + chunk.len());
                part.extend_from_slice(&reply[..size]);
                part.extend_from_slice(chunk);
                self.mark(header, &mut part, kind, i as u32 + 1);
                part
            })
            .collect();
        Ok(Some(parts))
    }
}

/// The largest part number `field` can hold: a whole number's digits, or a PIC X's width.
fn part_number_capacity(field: &HeaderField) -> Result<u32, String> {
    let digits = match field.kind {
        LeafKind::Text { .. } => field.len as u32,
        LeafKind::Zoned { digits, scale: 0, .. }
        | LeafKind::Packed { digits, scale: 0, .. }
        | LeafKind::Binary { digits, scale: 0, .. }
            if digits > 0 =>
        {
            digits
        }
        _ => return Err(format!("{} must be PIC 9(n) or PIC X(n) to hold a part number", field.name)),
    };
    Ok(10u64.pow(digits.min(9)).saturating_sub(1) as u32)
}

impl HeaderLayout {
    /// The header field `name` (a leaf of the header record), or why there is none.
    pub fn field(&self, name: &str) -> Result<HeaderField, String> {
        let leaf = self.codec.plan().lookup(name).map_err(|e| format!("{name} is not a field of the header: {e}"))?;
        Ok(HeaderField {
            name: leaf.path.to_string(),
            offset: leaf.offset as usize,
            len: leaf.len as usize,
            kind: leaf.kind,
        })
    }

    /// `value` as `field`'s bytes: text in the code page (padded, never cut; digits written
    /// zero-padded to the width when `pad_digits`), or a number in a numeric field.
    pub fn field_bytes(&self, field: &HeaderField, value: &str, pad_digits: bool) -> Result<Vec<u8>, String> {
        let mut dst = vec![0u8; field.len];
        if let LeafKind::Text { .. } = field.kind {
            let digits = pad_digits && !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
            let text = if digits { format!("{value:0>width$}", width = field.len) } else { value.to_string() };
            self.options
                .codepage
                .encode_into(&text, &mut dst, Overflow::Error)
                .map_err(|e| format!("does not fit {} ({} bytes): {e}", field.name, field.len))?;
            return Ok(dst);
        }
        let number: Decimal = value.parse().map_err(|e| format!("not a number for {}: {e}", field.name))?;
        encode_number(field.kind, number, self.options, &mut dst)
            .map_err(|e| format!("does not fit {}: {e}", field.name))?;
        Ok(dst)
    }
}
