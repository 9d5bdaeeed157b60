//! Decode: walks a [`Plan`] over a record's bytes and reports each value to a [`Sink`].
//!
//! Tables with `DEPENDING ON` slide what follows them, so positions are computed as the walk
//! goes (`base + offset + shift`). Strict mode fails on the first invalid field with its path and
//! offset; lenient mode (and any REDEFINES view) reports `null` for it instead.

use super::binary::decode_binary;
use super::charset::{CharsetError, CodePage};
use super::decimal::Decimal;
use super::float::decode_float;
use super::packed::decode_packed;
use super::plan::{Leaf, LeafKind, Op, Plan};
use super::zoned::decode_zoned;
use super::NumError;

/// Receives decoded values in record order. Names are `None` for array elements.
pub trait Sink {
    /// A group (or array element group) starts.
    fn begin_object(&mut self, key: Option<&Leafish>);
    /// The group ends.
    fn end_object(&mut self);
    /// A table starts with `len` elements.
    fn begin_array(&mut self, key: &Leafish, len: usize);
    /// The table ends.
    fn end_array(&mut self);
    /// A text value (already trimmed).
    fn text(&mut self, key: Option<&Leafish>, value: &str);
    /// A text value on a single-byte page ([`CodePage::single_byte_space`]), its padding
    /// already trimmed from `bytes`: decoding it cannot fail. By default decoded into
    /// `scratch` and given to [`Sink::text`]; a sink writing text may decode it in place.
    fn single_byte_text(&mut self, key: Option<&Leafish>, page: CodePage, bytes: &[u8], scratch: &mut String) {
        scratch.clear();
        let _ = page.decode_into(bytes, scratch);
        self.text(key, scratch);
    }
    /// A numeric value.
    fn number(&mut self, key: Option<&Leafish>, value: Decimal);
    /// A floating-point value as exact decimal text.
    fn float(&mut self, key: Option<&Leafish>, value: &str);
    /// An invalid value (lenient mode or a REDEFINES view).
    fn null(&mut self, key: Option<&Leafish>);
}

/// The name of a member as a sink sees it: plain and pre-escaped for JSON.
pub struct Leafish<'a> {
    /// The name as written in the copybook.
    pub name: &'a str,
    /// `"NAME":`, escaped.
    pub json_key: &'a str,
}

/// Why a record could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A field's bytes are invalid for its type.
    #[error("{path} at offset {offset}: {cause}")]
    Field {
        /// Field path with table indexes, e.g. `TXN-ROW[2].TXN-AMT`.
        path: String,
        /// Offset of the field in the record.
        offset: usize,
        /// What was wrong.
        cause: FieldError,
    },
    /// The record ends before a field does.
    #[error("record is {len} bytes, but {path} needs bytes up to {needed}")]
    Short {
        /// Field path.
        path: String,
        /// Bytes needed.
        needed: usize,
        /// Bytes present.
        len: usize,
    },
    /// A `DEPENDING ON` counter outside its table's bounds.
    #[error("{path}: counter {counter} = {count}, outside the table's {min} to {max} elements")]
    BadCount {
        /// The table's path.
        path: String,
        /// The counter field's path.
        counter: String,
        /// The counter's value.
        count: String,
        /// Fewest elements.
        min: u32,
        /// Most elements.
        max: u32,
    },
}

/// What was wrong with one field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// A number.
    #[error(transparent)]
    Num(#[from] NumError),
    /// Text.
    #[error(transparent)]
    Text(#[from] CharsetError),
}

/// Scratch state reused across records so decoding allocates nothing in steady state.
#[derive(Default)]
pub struct Scratch {
    pub(super) text: String,
    counters: Vec<Option<u128>>,
    indexes: Vec<usize>,
}

thread_local! {
    static LOCAL: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

impl Scratch {
    /// Runs `f` with this thread's scratch (buffers kept from one record to the next, so a
    /// decode allocates nothing for them once warm); a fresh one if the thread's is in use.
    pub fn with_local<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
        LOCAL.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => f(&mut scratch),
            Err(_) => f(&mut Scratch::default()),
        })
    }
}

struct Walk<'p, 's, S: Sink> {
    plan: &'p Plan,
    bytes: &'s [u8],
    sink: &'s mut S,
    scratch: &'s mut Scratch,
}

impl Plan {
    /// Decodes one record from the start of `bytes` into `sink`; returns its length in bytes.
    pub fn decode<S: Sink>(&self, bytes: &[u8], sink: &mut S, scratch: &mut Scratch) -> Result<usize, DecodeError> {
        scratch.counters.clear();
        scratch.counters.resize(self.counters, None);
        scratch.indexes.clear();
        let mut walk = Walk { plan: self, bytes, sink, scratch };
        walk.sink.begin_object(None);
        let shift = walk.range(&self.ops, 0, 0)?;
        walk.sink.end_object();
        let len = (self.max_size as isize + shift).max(0) as usize;
        // Trailing FILLER and views are not read field by field; the record must still be whole.
        if len > bytes.len() && !self.options.lenient {
            return Err(DecodeError::Short { path: self.record.clone(), needed: len, len: bytes.len() });
        }
        Ok(len)
    }
}

impl<S: Sink> Walk<'_, '_, S> {
    /// Walks `ops` with positions relative to `base`; returns how far later items slide.
    fn range(&mut self, ops: &[Op], base: usize, mut shift: isize) -> Result<isize, DecodeError> {
        let mut i = 0;
        // (set, shift where the set's area starts): every alternative starts there, and only
        // the first one (the redefined item) decides how far what follows slides.
        let mut current_set: Option<(u16, isize)> = None;
        while i < ops.len() {
            let op = &ops[i];
            let next = i + 1 + body_len(op);
            let (start, later_alternative) = match op_alt(op) {
                Some(a) => match current_set {
                    Some((set, at)) if set == a.set => (at, true),
                    _ => {
                        current_set = Some((a.set, shift));
                        (shift, false)
                    }
                },
                None => {
                    current_set = None;
                    (shift, false)
                }
            };
            let body = &ops[i + 1..next];
            let end = match op {
                Op::Leaf { leaf, .. } => {
                    self.leaf(leaf, base, start, true)?;
                    start
                }
                Op::Group { name, json_key, .. } => {
                    self.sink.begin_object(Some(&Leafish { name, json_key }));
                    let s = self.range(body, base, start)?;
                    self.sink.end_object();
                    s
                }
                // A FILLER view's fields belong to the enclosing object.
                Op::Lifted { .. } => self.range(body, base, start)?,
                Op::Array { .. } => self.array(op, body, base, start)?,
                Op::Skip { path, stride, min, max, counter, .. } => {
                    let count = self.count(path, *counter, *min, *max)?;
                    start + (count as isize - *max as isize) * *stride as isize
                }
                Op::Fill { .. } => start,
            };
            if !later_alternative {
                shift = end;
            }
            i = next;
        }
        Ok(shift)
    }

    fn array(&mut self, op: &Op, body: &[Op], base: usize, shift: isize) -> Result<isize, DecodeError> {
        let Op::Array { name, json_key, offset, stride, min, max, counter, elements_are_objects, .. } = op else {
            return Ok(shift);
        };
        let count = match counter {
            None => *max as usize,
            Some(slot) => self.count(name, *slot, *min, *max)?,
        };
        self.sink.begin_array(&Leafish { name, json_key }, count);
        let start = (base as isize + *offset as isize + shift) as usize;
        let mut cursor = start;
        for index in 0..count {
            self.scratch.indexes.push(index);
            let inner = if *elements_are_objects {
                self.sink.begin_object(None);
                let s = self.range(body, cursor, 0)?;
                self.sink.end_object();
                s
            } else if let Some(Op::Leaf { leaf, .. }) = body.first() {
                self.leaf(leaf, cursor, 0, false)?;
                0
            } else {
                0
            };
            self.scratch.indexes.pop();
            cursor = (cursor as isize + *stride as isize + inner) as usize;
        }
        self.sink.end_array();
        let full = *stride as isize * *max as isize;
        Ok(shift + (cursor - start) as isize - full)
    }

    /// How many elements the counter in `slot` gives table `name` (`min` to `max`).
    fn count(&self, name: &str, slot: u8, min: u32, max: u32) -> Result<usize, DecodeError> {
        let value = self.scratch.counters.get(slot as usize).copied().flatten();
        match value {
            Some(v) if v >= min as u128 && v <= max as u128 => Ok(v as usize),
            other if self.plan.options.lenient => Ok(other.map_or(min as usize, |v| v.min(max as u128) as usize)),
            other => Err(DecodeError::BadCount {
                path: self.path_of(name),
                counter: self.plan.counter_names.get(slot as usize).cloned().unwrap_or_default(),
                count: other.map_or_else(|| "nothing".to_string(), |v| v.to_string()),
                min,
                max,
            }),
        }
    }

    fn leaf(&mut self, leaf: &Leaf, base: usize, shift: isize, named: bool) -> Result<(), DecodeError> {
        let at = (base as isize + leaf.offset as isize + shift) as usize;
        let key = Leafish { name: &leaf.name, json_key: &leaf.json_key };
        let key = named.then_some(&key);
        let Some(bytes) = self.bytes.get(at..at + leaf.len as usize) else {
            if leaf.in_view || self.plan.options.lenient {
                self.sink.null(key);
                return Ok(());
            }
            return Err(DecodeError::Short {
                path: self.path_of(&leaf.path),
                needed: at + leaf.len as usize,
                len: self.bytes.len(),
            });
        };
        let cp = self.plan.options.codepage;
        let result = leaf_value(leaf.kind, bytes, cp, self.sink, key, &mut self.scratch.text).map(|number| {
            if let (Some(slot), Some((negative, magnitude))) = (leaf.counter_slot, number) {
                if let Some(c) = self.scratch.counters.get_mut(slot as usize) {
                    *c = (!negative || magnitude == 0).then_some(magnitude);
                }
            }
        });
        match result {
            Ok(()) => Ok(()),
            Err(_) if leaf.in_view || self.plan.options.lenient => {
                self.sink.null(key);
                Ok(())
            }
            Err(cause) => Err(DecodeError::Field { path: self.path_of(&leaf.path), offset: at, cause }),
        }
    }

    fn path_of(&self, path: &str) -> String {
        fill_path(path, &self.scratch.indexes)
    }
}

/// Decodes one elementary field's `bytes` (as `kind` and page `cp` say) and gives its value to
/// `sink` under `key`; `text` is scratch room for text that must be decoded before it is
/// trimmed. For a number, returns its sign and magnitude (a `DEPENDING ON` counter keeps it).
///
/// Errors: the field's [`FieldError`]; the caller decides whether that is `null` (lenient, a
/// REDEFINES view) or the record's error.
#[inline]
pub(crate) fn leaf_value<S: Sink>(
    kind: LeafKind,
    bytes: &[u8],
    cp: CodePage,
    sink: &mut S,
    key: Option<&Leafish>,
    text: &mut String,
) -> Result<Option<(bool, u128)>, FieldError> {
    match kind {
        LeafKind::Text { justified } => {
            // Spaces trimmed before decoding where a space is one byte of its own (most of a
            // fixed-width field is often padding): the same text, fewer bytes decoded.
            if let Some(space) = cp.single_byte_space() {
                let bytes = trim_byte(bytes, space, justified);
                sink.single_byte_text(key, cp, bytes, text);
                return Ok(None);
            }
            text.clear();
            cp.decode_into(bytes, text)?;
            let t = text.trim_end_matches(' ');
            let t = if justified { t.trim_start_matches(' ') } else { t };
            sink.text(key, t);
        }
        LeafKind::National => {
            text.clear();
            let units = bytes.chunks_exact(2).map(|p| u16::from_be_bytes([p[0], p[1]]));
            char::decode_utf16(units)
                .try_for_each(|c| c.map(|c| text.push(c)))
                .map_err(|_| CharsetError::InvalidBytes { codepage: "UTF-16BE", offset: 0 })?;
            sink.text(key, text.trim_end_matches(' '));
        }
        // SO/SI never occur inside double-byte pairs: in a PIC G field they are invalid, not
        // shifts (else single-byte text could hide in a DBCS field).
        LeafKind::Dbcs => {
            if let Some(offset) = bytes.iter().position(|&b| b == 0x0E || b == 0x0F) {
                return Err(CharsetError::InvalidBytes { codepage: cp.name(), offset }.into());
            }
            text.clear();
            let mut wrapped = Vec::with_capacity(bytes.len() + 2);
            wrapped.push(0x0E);
            wrapped.extend_from_slice(bytes);
            wrapped.push(0x0F);
            cp.decode_into(&wrapped, text)?;
            sink.text(key, text.trim_end_matches(['\u{3000}', ' ']));
        }
        LeafKind::Float(format) => sink.float(key, &decode_float(bytes, format)?),
        _ => {
            let (negative, magnitude, scale) = decode_number(kind, bytes, cp)?;
            sink.number(key, Decimal::signed(negative, magnitude, scale));
            return Ok(Some((negative, magnitude)));
        }
    }
    Ok(None)
}

/// `bytes` less trailing `space` bytes (and leading ones if `justified`).
#[inline]
fn trim_byte(bytes: &[u8], space: u8, justified: bool) -> &[u8] {
    // Eight bytes at a time while they are all spaces, then byte by byte.
    let mut bytes = bytes;
    let spaces = u64::from_ne_bytes([space; 8]);
    while let Some((head, tail)) = bytes.split_last_chunk::<8>() {
        if u64::from_ne_bytes(*tail) != spaces {
            break;
        }
        bytes = head;
    }
    let end = bytes.iter().rposition(|&b| b != space).map_or(0, |i| i + 1);
    let bytes = &bytes[..end];
    match justified {
        true => &bytes[bytes.iter().position(|&b| b != space).unwrap_or(bytes.len())..],
        false => bytes,
    }
}

/// Fills the `[]` of a static path (`TXN-ROW[].TXN-AMT`) with table indexes (`TXN-ROW[2]...`).
pub(crate) fn fill_path(path: &str, indexes: &[usize]) -> String {
    let mut out = String::with_capacity(path.len() + 8);
    let mut indexes = indexes.iter();
    let mut parts = path.split("[]").peekable();
    while let Some(part) = parts.next() {
        out.push_str(part);
        if parts.peek().is_some() {
            match indexes.next() {
                Some(i) => out.push_str(&format!("[{i}]")),
                None => out.push_str("[]"),
            }
        }
    }
    out
}

/// Decodes a zoned, packed or binary field into `(negative, magnitude, scale)`. A zoned or
/// packed field that is invalid because it is all HIGH-VALUES or LOW-VALUES says so
/// ([`NumError::Figurative`]); binary has no invalid bytes.
#[inline]
pub(crate) fn decode_number(kind: LeafKind, bytes: &[u8], cp: CodePage) -> Result<(bool, u128, i32), NumError> {
    decode_number_bytes(kind, bytes, cp).map_err(|e| match kind {
        LeafKind::Zoned { .. } | LeafKind::Packed { .. } => super::value::figurative_fill(bytes).unwrap_or(e),
        _ => e,
    })
}

#[inline]
fn decode_number_bytes(kind: LeafKind, bytes: &[u8], cp: CodePage) -> Result<(bool, u128, i32), NumError> {
    match kind {
        LeafKind::Zoned { sign, scale, blank_when_zero, .. } => {
            if blank_when_zero && bytes.iter().all(|&b| b == cp.space()) {
                return Ok((false, 0, scale));
            }
            decode_zoned(bytes, sign, cp.is_ebcdic()).map(|(n, m)| (n, m, scale))
        }
        // A negative sign nibble in an unsigned field is invalid (also on zero), as a signed
        // zone is in unsigned zoned data: the value could not be written back.
        // An even digit count leaves the first nibble unused: the host writes it as zero, and a
        // value there is beyond the picture (encode could not write it back).
        LeafKind::Packed { digits, .. }
            if digits % 2 == 0
                && bytes.len() == digits as usize / 2 + 1
                && bytes.first().is_some_and(|b| b >> 4 != 0) =>
        {
            Err(NumError::InvalidDigit { offset: 0, byte: bytes[0] })
        }
        LeafKind::Packed { scale, signed, .. } => match decode_packed(bytes)? {
            (true, _) if !signed => {
                let at = bytes.len().saturating_sub(1);
                Err(NumError::InvalidSign { offset: at, byte: bytes.get(at).copied().unwrap_or(0) })
            }
            (_, m) if !signed => Ok((false, m, scale)),
            (n, m) => Ok((n, m, scale)),
        },
        LeafKind::Binary { scale, signed, order, .. } => {
            decode_binary(bytes, signed, order).map(|(n, m)| (n, m, scale))
        }
        _ => Err(NumError::NotNumeric),
    }
}

/// Number of ops in `op`'s body.
pub(crate) fn body_len(op: &Op) -> usize {
    match op {
        Op::Group { body, .. } | Op::Array { body, .. } | Op::Lifted { body, .. } => *body as usize,
        Op::Leaf { .. } | Op::Fill { .. } | Op::Skip { .. } => 0,
    }
}

/// The REDEFINES set membership of `op`.
pub(crate) fn op_alt(op: &Op) -> Option<super::plan::Alt> {
    match op {
        Op::Leaf { alt, .. } | Op::Group { alt, .. } | Op::Array { alt, .. } | Op::Lifted { alt, .. } => *alt,
        Op::Fill { .. } | Op::Skip { .. } => None,
    }
}
