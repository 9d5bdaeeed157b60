//! Initial contents of a field: the bytes its `VALUE` clause gives it, or — where it has none —
//! what COBOL's INITIALIZE writes (spaces for text, zero in the field's own usage for numbers).
//!
//! Encode writes these for FILLER (always) and for named fields the JSON leaves out when the
//! codec is asked to fill them ([`super::CodecOptions::fill_missing`]). The rules follow IBM
//! Enterprise COBOL (Language Reference, "VALUE clause" and "Figurative constants") as GnuCOBOL
//! writes them: a numeric literal is stored as a MOVE into the item would store it (in every
//! usage: zoned, packed, binary, float); a figurative constant fills the whole item (ZERO is
//! the number zero in a numeric item and `0` characters in a text item); `ALL literal` repeats
//! the literal to the item's end; any other literal (quoted or `X'..'`) is written once, left
//! aligned, and the rest is padded with spaces, as for an alphanumeric MOVE.
//!
//! Pure: no I/O. The caller says what the field is ([`LeafKind`]); this file knows nothing of
//! plans or JSON.

use super::charset::Overflow;
use super::decimal::Decimal;
use super::encode::encode_number;
use super::float::encode_float;
use super::plan::{CodecOptions, LeafKind};
use crate::copybook::parse::NumericLiteral;
use crate::copybook::{Figurative, Literal};

/// Fills `dst` (the whole field) with what `value` gives a field of `kind`, or with the
/// INITIALIZE default when `value` is `None`. The error says what could not be written.
pub fn initial_bytes(
    kind: LeafKind,
    value: Option<&Literal>,
    options: CodecOptions,
    dst: &mut [u8],
) -> Result<(), String> {
    let space = options.codepage.space();
    let Some(value) = value else {
        return match kind {
            LeafKind::Text { .. } | LeafKind::National | LeafKind::Dbcs => {
                pad(kind, space, dst);
                Ok(())
            }
            _ => zero(kind, options, dst),
        };
    };
    match value {
        Literal::Figurative(f) => figurative(kind, *f, options, dst),
        Literal::Number(n) if kind.is_numeric() => {
            let literal = numeric(n)?;
            if literal.is_float() {
                return Err(format!("VALUE {n}: a floating-point literal is for COMP-1/COMP-2 items"));
            }
            let number: Decimal = literal.canonical().parse().map_err(|e| format!("VALUE {n}: {e}"))?;
            encode_number(kind, number, options, dst).map_err(|e| format!("VALUE {n}: {e}"))
        }
        Literal::Number(n) if matches!(kind, LeafKind::Float(_)) => {
            encode_float(&numeric(n)?.canonical(), float_format(kind), dst).map_err(|e| format!("VALUE {n}: {e}"))
        }
        Literal::All(inner) => {
            let unit = unit_bytes(kind, inner, options)?;
            repeat(&unit, whole_units_only(kind, inner), space, dst);
            Ok(())
        }
        other => {
            let unit = unit_bytes(kind, other, options)?;
            let n = unit.len().min(dst.len());
            dst[..n].copy_from_slice(&unit[..n]);
            pad(kind, space, &mut dst[n..]);
            Ok(())
        }
    }
}

/// [`super::NumError::Figurative`] when `bytes` (a field that failed to decode as a number) are
/// all X'FF' or all X'00': what `VALUE HIGH-VALUES` / `LOW-VALUES` write into a numeric item.
pub(crate) fn figurative_fill(bytes: &[u8]) -> Option<super::NumError> {
    let name = match bytes.first()? {
        0xFF => "HIGH-VALUES",
        0x00 => "LOW-VALUES",
        _ => return None,
    };
    let first = bytes[0];
    bytes
        .iter()
        .all(|&b| b == first)
        .then(|| super::NumError::Figurative { name, hex: bytes.iter().take(16).map(|b| format!("{b:02X}")).collect() })
}

/// The numeric literal `n` read (`.5`, `-2.5E-1`).
fn numeric(n: &str) -> Result<NumericLiteral, String> {
    NumericLiteral::parse(n).ok_or_else(|| format!("VALUE {n}: not a numeric literal"))
}

/// The float format of a `Float` kind.
fn float_format(kind: LeafKind) -> super::float::FloatFormat {
    match kind {
        LeafKind::Float(f) => f,
        _ => super::float::FloatFormat::IbmHex,
    }
}

/// Zero in the field's own usage.
fn zero(kind: LeafKind, options: CodecOptions, dst: &mut [u8]) -> Result<(), String> {
    match kind {
        LeafKind::Float(f) => encode_float("0", f, dst).map_err(|e| e.to_string()),
        k if k.is_numeric() => encode_number(k, Decimal::ZERO, options, dst).map_err(|e| e.to_string()),
        _ => Ok(()),
    }
}

/// A figurative constant over the whole field.
fn figurative(kind: LeafKind, f: Figurative, options: CodecOptions, dst: &mut [u8]) -> Result<(), String> {
    match f {
        Figurative::HighValues => dst.fill(0xFF),
        Figurative::LowValues | Figurative::Nulls => dst.fill(0x00),
        Figurative::Zeros if kind.is_numeric() || matches!(kind, LeafKind::Float(_)) => {
            return zero(kind, options, dst)
        }
        Figurative::Zeros => return fill_char(kind, '0', options, dst),
        Figurative::Quotes => return fill_char(kind, '"', options, dst),
        Figurative::Spaces => pad(kind, options.codepage.space(), dst),
    }
    Ok(())
}

/// `dst` full of the character `c`, in the field's encoding.
fn fill_char(kind: LeafKind, c: char, options: CodecOptions, dst: &mut [u8]) -> Result<(), String> {
    let unit = unit_bytes(kind, &Literal::Text(c.to_string()), options)?;
    repeat(&unit, true, options.codepage.space(), dst);
    Ok(())
}

/// The bytes of one copy of `literal` in a field of `kind`, at their natural length.
fn unit_bytes(kind: LeafKind, literal: &Literal, options: CodecOptions) -> Result<Vec<u8>, String> {
    let text = match literal {
        Literal::Hex(h) => return Ok(h.clone()),
        Literal::Text(t) | Literal::Number(t) => t,
        Literal::Figurative(_) | Literal::All(_) => return Err("ALL before a figurative constant or ALL".into()),
    };
    match kind {
        LeafKind::National => Ok(text.encode_utf16().flat_map(u16::to_be_bytes).collect()),
        LeafKind::Dbcs => {
            // PIC G holds the pairs without SO/SI: encode as mixed text and keep the run.
            let mut wrapped = vec![0u8; 2 * text.chars().count() + 2];
            options.codepage.encode_into(text, &mut wrapped, Overflow::Error).map_err(|e| format!("VALUE: {e}"))?;
            let body = wrapped.strip_prefix(&[0x0E]).unwrap_or(&[]);
            let run = body.iter().position(|&b| b == 0x0F).unwrap_or(0);
            Ok(body[..run].to_vec())
        }
        _ => {
            // Room for the longest encoding (SO/SI around every character in the worst case).
            let mut bytes = vec![0u8; 4 * text.chars().count()];
            options.codepage.encode_into(text, &mut bytes, Overflow::Error).map_err(|e| format!("VALUE: {e}"))?;
            let space = options.codepage.space();
            let used = bytes.iter().rposition(|&b| b != space).map_or(0, |p| p + 1);
            // Keep the literal's own trailing spaces: they are part of it.
            let own = text.len() - text.trim_end_matches(' ').len();
            bytes.truncate((used + own).min(bytes.len()));
            Ok(bytes)
        }
    }
}

/// `ALL` of a literal with double-byte characters repeats whole copies only (a copy cut in
/// the middle would split a character or leave SO without SI); single-byte text is cut
/// anywhere (`ALL 'AB'` in `X(5)` is `ABABA`).
fn whole_units_only(kind: LeafKind, literal: &Literal) -> bool {
    match (kind, literal) {
        (LeafKind::National | LeafKind::Dbcs, _) => true,
        (_, Literal::Text(t)) => !t.is_ascii(),
        _ => false,
    }
}

/// `unit` repeated over `dst`; with `whole`, the tail that cannot take a whole copy is padded.
fn repeat(unit: &[u8], whole: bool, space: u8, dst: &mut [u8]) {
    if unit.is_empty() {
        dst.fill(space);
        return;
    }
    let copies = if whole { dst.len() / unit.len() * unit.len() } else { dst.len() };
    for (d, s) in dst[..copies].iter_mut().zip(unit.iter().cycle()) {
        *d = *s;
    }
    dst[copies..].fill(space);
}

/// Pads a field's tail with its kind's space: 0x0020 pairs for national, the code page's
/// space byte for the rest (0x4040 is the DBCS space).
fn pad(kind: LeafKind, space: u8, dst: &mut [u8]) {
    match kind {
        LeafKind::National => {
            for (i, b) in dst.iter_mut().enumerate() {
                *b = if i % 2 == 0 { 0x00 } else { 0x20 };
            }
        }
        _ => dst.fill(space),
    }
}

#[cfg(test)]
mod tests;
