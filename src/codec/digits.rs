//! A zoned or packed field's decimal text read straight from its digits: the digits are
//! already decimal, so the text needs no binary value in between (decode → number → text
//! divides by ten for every digit it wrote back).
//!
//! The text is the one [`super::decimal::Decimal`] writes for the field's decoded value (its
//! `write_plain` rules: a sign if negative, negative zero included; the point before the last
//! `scale` digits, `0.` and zeros before a coefficient shorter than the scale; `-scale` zeros
//! after a non-zero coefficient when the scale is negative). Only the common forms are read
//! here — packed, and zoned unsigned or with a trailing overpunched sign, no BLANK WHEN ZERO;
//! anything else, and any field whose bytes are not a valid number, gives `None` and is left
//! to [`super::decode::decode_number`], which has the error to report.

use super::charset::CodePage;
use super::packed::{sign_nibble, MAX_PACKED_BYTES};
use super::plan::LeafKind;
use super::zoned::{digits8, read_overpunch, SignPosition, MAX_ZONED_DIGITS};

/// Room for the text of any field read here: a sign, 38 digits, a point, zeros for a scale.
pub const TEXT_ROOM: usize = 96;

/// The decimal text of a zoned or packed field (`kind`, bytes `bytes`, page `cp`), written
/// into `room`; `None` for a field not read this way (see the module's note).
#[inline]
pub fn decimal_text<'r>(kind: LeafKind, bytes: &[u8], cp: CodePage, room: &'r mut [u8; TEXT_ROOM]) -> Option<&'r str> {
    let mut digits = [0u8; 40];
    let (negative, n, scale) = match kind {
        LeafKind::Packed { scale, digits: count, signed } => {
            let (negative, n) = packed_digits(bytes, count, &mut digits)?;
            if negative && !signed {
                return None;
            }
            (negative, n, scale)
        }
        LeafKind::Zoned { sign, scale, blank_when_zero: false, .. } => {
            let (negative, n) = zoned_digits(bytes, sign, cp.is_ebcdic(), &mut digits)?;
            (negative, n, scale)
        }
        _ => return None,
    };
    let len = write(negative, &digits[..n], scale, room)?;
    std::str::from_utf8(&room[..len]).ok()
}

/// A packed field's digits as ASCII and its sign; `None` if any nibble is invalid, or the
/// unused first nibble of an even digit count is not zero (IBM: the host writes it as zero).
fn packed_digits(bytes: &[u8], count: u32, out: &mut [u8; 40]) -> Option<(bool, usize)> {
    let (&last, body) = bytes.split_last()?;
    if bytes.len() > MAX_PACKED_BYTES {
        return None;
    }
    if count.is_multiple_of(2) && bytes.len() == count as usize / 2 + 1 && bytes[0] >> 4 != 0 {
        return None;
    }
    let mut n = 0;
    for &b in body {
        let (hi, lo) = (b >> 4, b & 0x0F);
        if hi > 9 || lo > 9 {
            return None;
        }
        out[n] = b'0' + hi;
        out[n + 1] = b'0' + lo;
        n += 2;
    }
    if last >> 4 > 9 {
        return None;
    }
    out[n] = b'0' + (last >> 4);
    Some((sign_nibble(last)?, n + 1))
}

/// A zoned field's digits as ASCII and its sign, for an unsigned field or a trailing
/// overpunched sign; `None` for other sign positions or invalid bytes. Plain digits must be in
/// the page's own zone (0xF0–0xF9 or 0x30–0x39), as [`super::zoned::decode_zoned`] wants.
fn zoned_digits(bytes: &[u8], sign: SignPosition, ebcdic: bool, out: &mut [u8; 40]) -> Option<(bool, usize)> {
    let n = bytes.len();
    if n == 0 || n > MAX_ZONED_DIGITS {
        return None;
    }
    let (body, punched) = match sign {
        SignPosition::None => (bytes, None),
        SignPosition::TrailingOverpunch => (&bytes[..n - 1], Some(bytes[n - 1])),
        _ => return None,
    };
    let zone = if ebcdic { 0xF0 } else { 0x30 };
    let zones = u64::from_ne_bytes([zone; 8]);
    let mut chunks = body.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let low = digits8(u64::from_ne_bytes(chunk.try_into().ok()?), zones)?;
        out[at..at + 8].copy_from_slice(&(low | 0x3030_3030_3030_3030).to_ne_bytes());
        at += 8;
    }
    for &b in chunks.remainder() {
        let d = b.wrapping_sub(zone);
        if d > 9 {
            return None;
        }
        out[at] = b'0' + d;
        at += 1;
    }
    let negative = match punched {
        None => false,
        Some(byte) => {
            let (negative, d) = read_overpunch(byte)?;
            out[at] = b'0' + d;
            at += 1;
            negative
        }
    };
    Some((negative, at))
}

/// Writes `digits` (ASCII, leading zeros allowed) at `scale` into `room` as
/// `Decimal`'s text; returns its length, or `None` if it would not fit.
fn write(negative: bool, digits: &[u8], scale: i32, room: &mut [u8; TEXT_ROOM]) -> Option<usize> {
    let mut len = 0;
    let mut put = |bytes: &[u8]| -> Option<()> {
        room.get_mut(len..len + bytes.len())?.copy_from_slice(bytes);
        len += bytes.len();
        Some(())
    };
    if negative {
        put(b"-")?;
    }
    let significant = |d: &'_ [u8]| -> usize { d.iter().position(|&c| c != b'0').unwrap_or(d.len()) };
    if scale <= 0 {
        let first = significant(digits);
        if first == digits.len() {
            put(b"0")?;
        } else {
            put(&digits[first..])?;
            put(ZEROS.get(..scale.unsigned_abs() as usize)?)?;
        }
        return Some(len);
    }
    let s = scale as usize;
    if s >= digits.len() {
        put(b"0.")?;
        put(ZEROS.get(..s - digits.len())?)?;
        put(digits)?;
        return Some(len);
    }
    let (int, frac) = digits.split_at(digits.len() - s);
    match significant(int) {
        first if first == int.len() => put(b"0")?,
        first => put(&int[first..])?,
    }
    put(b".")?;
    put(frac)?;
    Some(len)
}

const ZEROS: &[u8] = super::decimal::ZEROS.as_bytes();

#[cfg(test)]
mod tests;
