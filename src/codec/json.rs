//! JSON from decoded records: a [`JsonWriter`] that writes JSON text straight into a `String`
//! (the fast path, no intermediate tree) and a [`ValueBuilder`] that builds a
//! `serde_json::Value` (for code that inspects fields).
//!
//! Numbers are written exactly as decimal text (serde_json is built with
//! `arbitrary_precision`, so values never pass through `f64`).

use super::charset::CodePage;
use super::decimal::Decimal;
use super::decode::{Leafish, Sink};
use serde_json::{Map, Number, Value};
use std::fmt::Write;

/// Writes JSON text for a record into `out`.
pub struct JsonWriter<'a> {
    out: &'a mut String,
    /// Open containers (the record's object included).
    depth: u32,
    /// Bit `d - 1`: the container at depth `d` has had no member yet. A record nests at most
    /// 49 levels, each with at most one table: 128 bits hold any of them.
    first: u128,
    /// The same flags beyond depth 128 (never used by a copybook; kept so nothing is lost).
    deeper: Vec<bool>,
}

impl<'a> JsonWriter<'a> {
    /// A writer appending to `out`.
    pub fn new(out: &'a mut String) -> Self {
        JsonWriter { out, depth: 0, first: 0, deeper: Vec::new() }
    }

    /// Appends `text` as it is (JSON text made by a writer like this one).
    pub(crate) fn raw(&mut self, text: &str) {
        self.out.push_str(text);
    }

    /// Length of the text so far.
    pub(crate) fn len(&self) -> usize {
        self.out.len()
    }

    /// Starts a member of the open container: a comma unless it is the first, then `key`.
    pub(crate) fn member(&mut self, key: Option<&Leafish>) {
        if self.depth > 0 {
            let first = match self.depth {
                d @ 1..=128 => {
                    let bit = 1u128 << (d - 1);
                    let first = self.first & bit != 0;
                    self.first &= !bit;
                    first
                }
                _ => self.deeper.last_mut().map(|f| std::mem::replace(f, false)).unwrap_or(true),
            };
            if !first {
                self.out.push(',');
            }
        }
        if let Some(k) = key {
            self.out.push_str(k.json_key);
        }
    }

    fn open(&mut self) {
        self.depth += 1;
        match self.depth {
            d @ 1..=128 => self.first |= 1 << (d - 1),
            _ => self.deeper.push(true),
        }
    }

    fn close(&mut self) {
        if self.depth > 128 {
            self.deeper.pop();
        }
        self.depth = self.depth.saturating_sub(1);
    }
}

/// Appends `s` as a JSON string literal, escaped as serde_json escapes it (`\b`, `\f`, `\n`,
/// `\r`, `\t`, `\"`, `\\`, other controls as `\u00xx`), so the text is the same either way.
pub fn write_json_string(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    // The common case, nothing to escape, checked eight bytes at a time.
    if !needs_escape(bytes) {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0C => "\\f",
            0..=0x1F => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// True if any byte of `bytes` is a control character, `"` or `\\` (SWAR over 8-byte words:
/// a byte below 0x20, or equal to 0x22 or 0x5C, sets its high bit in the mask).
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let x = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        // Below 0x20: (x - 0x20 per byte) borrows into the high bit for those bytes; bytes of
        // 0x80 and above are excluded by `!x`.
        let low = x.wrapping_sub(0x20 * ONES) & !x & HIGHS;
        if low | zero_byte(x ^ (0x22 * ONES)) | zero_byte(x ^ (0x5C * ONES)) != 0 {
            return true;
        }
    }
    chunks.remainder().iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

impl Sink for JsonWriter<'_> {
    fn begin_object(&mut self, key: Option<&Leafish>) {
        self.member(key);
        self.out.push('{');
        self.open();
    }
    fn end_object(&mut self) {
        self.close();
        self.out.push('}');
    }
    fn begin_array(&mut self, key: &Leafish, _len: usize) {
        self.member(Some(key));
        self.out.push('[');
        self.open();
    }
    fn end_array(&mut self) {
        self.close();
        self.out.push(']');
    }
    fn text(&mut self, key: Option<&Leafish>, value: &str) {
        self.member(key);
        write_json_string(self.out, value);
    }
    fn single_byte_text(&mut self, key: Option<&Leafish>, page: CodePage, bytes: &[u8], _: &mut String) {
        self.member(key);
        // Decoded straight into the JSON text; escaped afterwards in the rare case it needs it.
        self.out.push('"');
        let start = self.out.len();
        let _ = page.decode_into(bytes, self.out);
        if needs_escape(&self.out.as_bytes()[start..]) {
            let text = self.out.split_off(start);
            self.out.truncate(start - 1);
            write_json_string(self.out, &text);
        } else {
            self.out.push('"');
        }
    }
    fn number(&mut self, key: Option<&Leafish>, value: Decimal) {
        self.member(key);
        value.append_to(self.out);
    }
    fn float(&mut self, key: Option<&Leafish>, value: &str) {
        self.member(key);
        self.out.push_str(value);
    }
    fn null(&mut self, key: Option<&Leafish>) {
        self.member(key);
        self.out.push_str("null");
    }
}

/// Builds a `serde_json::Value` for a record.
#[derive(Default)]
pub struct ValueBuilder {
    stack: Vec<(Option<String>, Value)>,
    done: Option<Value>,
}

impl ValueBuilder {
    /// The finished value (the record's object), once decoding has ended.
    pub fn finish(self) -> Value {
        self.done.unwrap_or(Value::Null)
    }

    fn put(&mut self, key: Option<&Leafish>, value: Value) {
        match self.stack.last_mut() {
            Some((_, Value::Object(map))) => {
                map.insert(key.map_or_else(String::new, |k| k.name.to_string()), value);
            }
            Some((_, Value::Array(items))) => items.push(value),
            _ => self.done = Some(value),
        }
    }
}

/// A JSON number holding the exact decimal text.
pub fn number_value(text: &str) -> Value {
    text.parse::<Number>().map_or(Value::Null, Value::Number)
}

impl Sink for ValueBuilder {
    fn begin_object(&mut self, key: Option<&Leafish>) {
        self.stack.push((key.map(|k| k.name.to_string()), Value::Object(Map::new())));
    }
    fn end_object(&mut self) {
        if let Some((name, value)) = self.stack.pop() {
            let key = name.as_deref().map(|n| Leafish { name: n, json_key: "" });
            self.put(key.as_ref(), value);
        }
    }
    fn begin_array(&mut self, key: &Leafish, len: usize) {
        self.stack.push((Some(key.name.to_string()), Value::Array(Vec::with_capacity(len))));
    }
    fn end_array(&mut self) {
        self.end_object();
    }
    fn text(&mut self, key: Option<&Leafish>, value: &str) {
        self.put(key, Value::String(value.to_string()));
    }
    fn number(&mut self, key: Option<&Leafish>, value: Decimal) {
        self.put(key, number_value(&value.to_string()));
    }
    fn float(&mut self, key: Option<&Leafish>, value: &str) {
        self.put(key, number_value(value));
    }
    fn null(&mut self, key: Option<&Leafish>) {
        self.put(key, Value::Null);
    }
}

/// A sink that keeps nothing: decoding into it only validates the record.
pub struct NullSink;

impl Sink for NullSink {
    fn begin_object(&mut self, _: Option<&Leafish>) {}
    fn end_object(&mut self) {}
    fn begin_array(&mut self, _: &Leafish, _: usize) {}
    fn end_array(&mut self) {}
    fn text(&mut self, _: Option<&Leafish>, _: &str) {}
    fn number(&mut self, _: Option<&Leafish>, _: Decimal) {}
    fn float(&mut self, _: Option<&Leafish>, _: &str) {}
    fn null(&mut self, _: Option<&Leafish>) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// The word-at-a-time check finds exactly the bytes the byte loop escapes, and the text
        /// is serde_json's for any string.
        #[test]
        fn escaping_is_serde_json_s(bytes in prop::collection::vec(prop_oneof![0u8..0x30, 0x58u8..0x60, any::<u8>()], 0..40)) {
            let naive = bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
            prop_assert_eq!(needs_escape(&bytes), naive);
            let s = String::from_utf8_lossy(&bytes);
            let mut out = String::new();
            write_json_string(&mut out, &s);
            prop_assert_eq!(out, serde_json::to_string(&s).unwrap());
        }
    }
}
