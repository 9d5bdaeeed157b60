//! Converting one record: walks the steps over the source bytes, writing each field into the
//! output (which starts as a copy of the source, so copied fields cost nothing).
//!
//! Positions follow `DEPENDING ON` tables as decode's do (`base + offset + shift`). Nothing
//! here allocates: text that needs the general path goes through a per-thread scratch buffer.

use std::cell::RefCell;

use super::build::zone;
use super::{Conversion, ConvertError, How, Seg, Step, NONE};
use crate::codec::charset::{CharsetError, CodePage, Overflow};
use crate::codec::decode::{decode_number, fill_path, FieldError};
use crate::codec::plan::MAX_COUNTERS;
use crate::codec::zoned::{overpunch, read_overpunch, separate_sign, separate_sign_byte, SignPosition};
use crate::codec::NumError;

/// Deepest nesting of variable tables whose indexes messages show.
const MAX_DEPTH: usize = 16;

const SO: u8 = 0x0E;
const SI: u8 = 0x0F;

thread_local! {
    /// Text on its way between code pages, and a PIC G field wrapped in SO/SI.
    static SCRATCH: RefCell<(String, Vec<u8>)> = const { RefCell::new((String::new(), Vec::new())) };
}

pub(super) struct Run<'a> {
    conv: &'a Conversion,
    src: &'a [u8],
    out: &'a mut [u8],
    /// Where the record starts in its message (for offsets in errors).
    origin: usize,
    counters: [u64; MAX_COUNTERS],
    /// Bit `slot` set: counter `slot` holds a whole number ≥ 0.
    valid: u64,
    indexes: [usize; MAX_DEPTH],
    depth: usize,
}

/// All X'FF' (HIGH-VALUES) or all X'00' (LOW-VALUES): the same bytes in every code page.
fn figurative(bytes: &[u8]) -> bool {
    match bytes.first() {
        Some(&b @ (0x00 | 0xFF)) => bytes.iter().all(|&x| x == b),
        _ => false,
    }
}

impl<'a> Run<'a> {
    pub(super) fn new(conv: &'a Conversion, src: &'a [u8], out: &'a mut [u8], origin: usize) -> Run<'a> {
        Run { conv, src, out, origin, counters: [0; MAX_COUNTERS], valid: 0, indexes: [0; MAX_DEPTH], depth: 0 }
    }

    /// Converts the whole record; `src` must be exactly as long as it.
    pub(super) fn record(mut self) -> Result<(), ConvertError> {
        let shift = self.steps(&self.conv.steps, 0, 0)?;
        let len = self.conv.max_size as isize + shift;
        let record = || self.conv.record.to_string();
        match usize::try_from(len) {
            Ok(len) if len == self.src.len() => Ok(()),
            Ok(len) if len < self.src.len() => Err(ConvertError::Long {
                record: record(),
                expected: self.origin + len,
                len: self.origin + self.src.len(),
            }),
            _ => Err(ConvertError::Short {
                record: record(),
                path: record(),
                needed: self.origin + usize::try_from(len).unwrap_or(0),
                len: self.origin + self.src.len(),
            }),
        }
    }

    fn path(&self, path: &str) -> String {
        fill_path(path, &self.indexes[..self.depth.min(MAX_DEPTH)])
    }

    /// Walks `steps` from `base`; returns how far what follows slides.
    fn steps(&mut self, steps: &[Step], base: usize, mut shift: isize) -> Result<isize, ConvertError> {
        for step in steps {
            match step {
                Step::Chunk { segs, counters } => {
                    for c in counters {
                        let value = self
                            .at(base, c.offset, shift)
                            .and_then(|at| self.src.get(at..at + c.len as usize))
                            .and_then(|b| decode_number(c.kind, b, self.conv.from).ok())
                            .filter(|(negative, m, _)| !negative || *m == 0);
                        let bit = 1u64 << (c.slot as usize % 64);
                        match value {
                            Some((_, m, _)) => {
                                self.counters[c.slot as usize % MAX_COUNTERS] = u64::try_from(m).unwrap_or(u64::MAX);
                                self.valid |= bit;
                            }
                            None => self.valid &= !bit,
                        }
                    }
                    for seg in segs {
                        self.seg(seg, base, shift)?;
                    }
                }
                Step::Table { path, offset, stride, min, max, counter, body } => {
                    let count = match counter {
                        None => *max as usize,
                        Some(slot) => self.count(path, *slot, *min, *max)?,
                    };
                    let start = self.at(base, *offset, shift).unwrap_or(usize::MAX / 2);
                    let mut cursor = start as isize;
                    for index in 0..count {
                        if let Some(slot) = self.indexes.get_mut(self.depth) {
                            *slot = index;
                        }
                        self.depth += 1;
                        let inner = self.steps(body, cursor.max(0) as usize, 0);
                        self.depth -= 1;
                        cursor += *stride as isize + inner?;
                    }
                    shift += cursor - start as isize - (*stride as isize) * (*max as isize);
                }
            }
        }
        Ok(shift)
    }

    fn at(&self, base: usize, offset: u32, shift: isize) -> Option<usize> {
        usize::try_from(base as isize + offset as isize + shift).ok()
    }

    fn count(&self, path: &str, slot: u8, min: u32, max: u32) -> Result<usize, ConvertError> {
        let value =
            (self.valid & (1u64 << (slot as usize % 64)) != 0).then(|| self.counters[slot as usize % MAX_COUNTERS]);
        match value {
            Some(v) if v >= u64::from(min) && v <= u64::from(max) => Ok(v as usize),
            other => Err(ConvertError::BadCount {
                record: self.conv.record.to_string(),
                path: self.path(path),
                counter: self.conv.counter_names.get(slot as usize).map(|n| n.to_string()).unwrap_or_default(),
                count: other.map_or_else(|| format!("not a whole number ≥ 0 in {}", self.conv.from), |v| v.to_string()),
                min,
                max,
            }),
        }
    }

    fn seg(&mut self, seg: &Seg, base: usize, shift: isize) -> Result<(), ConvertError> {
        let len = seg.len as usize;
        let at = self.at(base, seg.offset, shift).unwrap_or(usize::MAX / 2);
        let (Some(src), Some(out)) = (self.src.get(at..at + len), self.out.get_mut(at..at + len)) else {
            return Err(ConvertError::Short {
                record: self.conv.record.to_string(),
                path: self.path(&seg.path),
                needed: self.origin + at + len,
                len: self.origin + self.src.len(),
            });
        };
        let (conv, maps) = (self.conv, &self.conv.maps);
        let result = match seg.how {
            How::Copy => Ok(()),
            _ if figurative(src) => Ok(()),
            How::Map => {
                for (d, &s) in out.iter_mut().zip(src) {
                    *d = maps.text[usize::from(s)] as u8;
                }
                Ok(())
            }
            How::Text { justified } => {
                let mut simple = true;
                for (d, &s) in out.iter_mut().zip(src) {
                    let m = maps.text[usize::from(s)];
                    simple &= m != NONE;
                    *d = m as u8;
                }
                if simple {
                    Ok(())
                } else {
                    text(conv.from, conv.to, src, out, justified).map_err(FieldError::from)
                }
            }
            How::Digits => digits(&maps.digit, src, out).map_err(FieldError::from),
            How::Zoned { sign, blank_when_zero } => {
                zoned(conv, sign, blank_when_zero, src, out).map_err(FieldError::from)
            }
            How::Dbcs => dbcs(conv.from, conv.to, src, out).map_err(FieldError::from),
        };
        result.map_err(|cause| ConvertError::Field {
            record: self.conv.record.to_string(),
            path: self.path(&seg.path),
            offset: self.origin + at,
            cause,
            from: self.conv.from,
            to: self.conv.to,
        })
    }
}

/// Text the general way: decode, drop the padding, encode, pad (JUST RIGHT on the left).
fn text(from: CodePage, to: CodePage, src: &[u8], out: &mut [u8], justified: bool) -> Result<(), CharsetError> {
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        let text = &mut scratch.0;
        text.clear();
        from.decode_into(src, text)?;
        if !justified {
            return to.encode_into(text.trim_end_matches(' '), out, Overflow::Error);
        }
        let value = text.trim_start_matches(' ');
        let core = value.trim_end_matches(' ');
        let trailing = value.len() - core.len();
        to.encode_into(core, out, Overflow::Error)?;
        let used = out.iter().rposition(|&b| b != to.space()).map_or(0, |p| p + 1);
        if used + trailing > out.len() {
            return Err(CharsetError::TooLong { needed: used + trailing, len: out.len() });
        }
        let pad = out.len() - used - trailing;
        out.rotate_right(pad);
        Ok(())
    })
}

/// Unsigned zoned digits, byte for byte.
fn digits(map: &[u16; 256], src: &[u8], out: &mut [u8]) -> Result<(), NumError> {
    for (i, (d, &s)) in out.iter_mut().zip(src).enumerate() {
        match map[usize::from(s)] {
            NONE => return Err(NumError::InvalidDigit { offset: i, byte: s }),
            m => *d = m as u8,
        }
    }
    Ok(())
}

/// Signed or BLANK WHEN ZERO zoned decimal: digits mapped, the sign rewritten in the target's
/// convention (a plain digit in the sign position stays plain).
fn zoned(conv: &Conversion, sign: SignPosition, bwz: bool, src: &[u8], out: &mut [u8]) -> Result<(), NumError> {
    let (from, to) = (conv.from, conv.to);
    if bwz && src.iter().all(|&b| b == from.space()) {
        out.fill(to.space());
        return Ok(());
    }
    let n = src.len();
    let last = n.wrapping_sub(1);
    let (separate, punch) = match sign {
        SignPosition::None => (None, None),
        SignPosition::TrailingOverpunch => (None, Some(last)),
        SignPosition::LeadingOverpunch => (None, Some(0)),
        SignPosition::TrailingSeparate => (Some(last), None),
        SignPosition::LeadingSeparate => (Some(0), None),
    };
    if n == 0 || (separate.is_some() && n < 2) {
        return Err(NumError::Size(n));
    }
    let (zf, zt) = (zone(from), zone(to));
    for (i, (d, &s)) in out.iter_mut().zip(src).enumerate() {
        *d = if Some(i) == separate {
            separate_sign_byte(separate_sign(s, i)?, conv.style)
        } else if Some(i) == punch && s.wrapping_sub(zf) > 9 {
            let (negative, digit) = read_overpunch(s).ok_or(NumError::InvalidSign { offset: i, byte: s })?;
            overpunch(digit, negative, conv.style)
        } else {
            match conv.maps.digit[usize::from(s)] {
                NONE => return Err(NumError::InvalidDigit { offset: i, byte: s }),
                _ => zt | (s - zf),
            }
        };
    }
    Ok(())
}

/// PIC G: between the DBCS pages pair for pair; to and from cp949 as two-byte characters.
fn dbcs(from: CodePage, to: CodePage, src: &[u8], out: &mut [u8]) -> Result<(), CharsetError> {
    SCRATCH.with(|scratch| {
        let (text, wrapped) = &mut *scratch.borrow_mut();
        text.clear();
        if from == CodePage::Cp949 {
            from.decode_into(src, text)?;
            let mut offset = 0;
            for c in text.chars() {
                if c.is_ascii() {
                    return Err(CharsetError::InvalidBytes {
                        codepage: "cp949 (a PIC G field holds only double-byte characters)",
                        offset,
                    });
                }
                offset += 2;
            }
        } else {
            if let Some(offset) = src.iter().position(|&b| b == SO || b == SI) {
                return Err(CharsetError::InvalidBytes { codepage: from.name(), offset });
            }
            wrapped.clear();
            wrapped.push(SO);
            wrapped.extend_from_slice(src);
            wrapped.push(SI);
            from.decode_into(wrapped, text)?;
        }
        if to == CodePage::Cp949 {
            if let Some(c) = text.chars().find(char::is_ascii) {
                return Err(CharsetError::Unmappable { ch: c, codepage: "cp949 double-byte" });
            }
            return to.encode_into(text, out, Overflow::Error);
        }
        wrapped.clear();
        wrapped.resize(out.len() + 2, 0);
        to.encode_into(text, wrapped, Overflow::Error)?;
        // Every character must stay double-byte: one SO, the pairs, one SI, nothing else.
        let whole = wrapped.first() == Some(&SO)
            && wrapped.last() == Some(&SI)
            && !wrapped[1..wrapped.len() - 1].iter().any(|&b| b == SO || b == SI);
        if !whole {
            let ch = text.chars().find(|&c| {
                let mut one = [0u8; 4];
                to.encode_into(&c.to_string(), &mut one, Overflow::Error).map_or(true, |()| one[0] != SO)
            });
            return Err(CharsetError::Unmappable { ch: ch.unwrap_or(' '), codepage: "DBCS (PIC G)" });
        }
        out.copy_from_slice(&wrapped[1..wrapped.len() - 1]);
        Ok(())
    })
}
