//! The clock rule's evidence: is a field a time, date or sequence number by its name, and does
//! its primary value keep rising *from message to message*?
//!
//! Only one reading is taken per message — the field's first differing element — and a reading
//! is compared only with the previous message's reading of the same element. The elements of
//! one reply are never compared with each other: a table of dates listed oldest first rises
//! within every reply without any clock moving.

use serde_json::Value;

/// Name parts that mark a time, date or sequence field (`HDR-TIMESTAMP`, `TXN-DATE`, `SEQ-NO`).
const CLOCK_WORDS: &[&str] = &[
    "TIME",
    "TIMESTAMP",
    "TMSTMP",
    "TSTAMP",
    "STAMP",
    "TS",
    "TM",
    "HHMMSS",
    "DATE",
    "DT",
    "YMD",
    "YYYYMMDD",
    "SEQ",
    "SEQNO",
    "SEQUENCE",
    "SERIAL",
    "CLOCK",
];

/// True if the field's own name (its last part) reads like a clock or a sequence number.
pub fn clock_named(field: &str) -> bool {
    let last = field.rsplit('.').next().unwrap_or(field);
    let last = last.split('[').next().unwrap_or(last);
    last.split(['-', '_']).any(|w| CLOCK_WORDS.iter().any(|c| w.eq_ignore_ascii_case(c)))
}

/// A value as a clock reading, if it is a non-negative number or digits with date/time
/// separators: (width, digits as one number). Numbers have width 0 (a leading zero is not
/// written: `95959` then `100000`); text readings compare only at the same width.
pub fn clock_value(v: &Value) -> Option<(u32, u128)> {
    let (text, is_number) = match v {
        Value::Number(n) => (n.as_str(), true),
        Value::String(s) => (s.trim_end_matches([' ', '\0']), false),
        _ => return None,
    };
    let (mut count, mut value) = (0u32, 0u128);
    for c in text.bytes() {
        match c {
            b'0'..=b'9' => {
                count += 1;
                value = value.checked_mul(10)?.checked_add(u128::from(c - b'0'))?;
            }
            b'-' | b':' | b'.' | b' ' | b'/' | b'T' if count > 0 => {}
            _ => return None,
        }
    }
    (count > 0).then_some((if is_number { 0 } else { count }, value))
}

/// One reading: which element (its path, hashed), the width and the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Reading {
    path: u64,
    width: u32,
    value: u128,
}

/// Rises and falls of a field's primary value across successive messages (fixed size).
#[derive(Clone, Copy, Debug, Default)]
pub struct ClockRun {
    /// A message has started and its reading is not taken yet.
    open: bool,
    last: Option<Reading>,
    /// Readings higher than the previous message's.
    pub rises: u64,
    /// Readings lower than the previous message's, of another width, or of another element.
    pub falls: u64,
    /// Messages read.
    pub readings: u64,
    /// Differences whose primary value was no clock reading (any element of any message).
    pub unclocklike: u64,
}

impl ClockRun {
    /// A new message starts: its first differing element will be read.
    pub fn next_message(&mut self) {
        self.open = true;
    }

    /// One differing element (`path` hashed) with its primary value; read only if it is the
    /// first of its message.
    pub fn see(&mut self, path: u64, primary: &Value) {
        let now = clock_value(primary);
        self.unclocklike += u64::from(now.is_none());
        if !std::mem::take(&mut self.open) {
            return; // another element of the same reply: never compared with the first
        }
        let Some((width, value)) = now else { return };
        let now = Reading { path, width, value };
        self.readings += 1;
        if let Some(last) = self.last {
            // Another element or another width breaks a run as a fall does; an equal reading
            // (the same request asked again) neither rises nor falls.
            let comparable = last.path == now.path && last.width == now.width;
            self.rises += u64::from(comparable && now.value > last.value);
            self.falls += u64::from(!comparable || now.value < last.value);
        }
        self.last = Some(now);
    }
}
