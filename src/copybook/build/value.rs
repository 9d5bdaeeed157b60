//! A VALUE clause checked against its item, when the layout is loaded: the one place that
//! says whether a literal may initialise an item, so `ficus layout`, decode and encode refuse
//! the same copybooks. Every rule below is an error (IBM states them as "must"); none is a
//! warning, because a VALUE ficus cannot write exactly would give wrong bytes on encode.
//!
//! IBM Enterprise COBOL Language Reference, "VALUE clause", format 1, rules for literal values:
//! - a numeric item takes a numeric literal or ZERO; "if the literal is signed, the associated
//!   PICTURE character-string must contain a sign symbol (S)"; the literal must be within the
//!   range of the picture and "must not have a value that requires truncation of nonzero
//!   digits" (`PIC 99PPP` takes 1 000 through 99 000 or zero); COMP-5 without `P` may hold up
//!   to the capacity of its storage. HIGH-VALUE(S) and LOW-VALUE(S) are accepted too (IBM and
//!   GnuCOBOL compile them; the bytes are not a valid number, which decode reports);
//! - COMP-1/COMP-2 take a numeric literal, fixed- or floating-point, or ZERO;
//! - an alphabetic, alphanumeric or numeric-edited item takes alphanumeric (quoted or `X'..'`)
//!   literals or figurative constants, and "the number of characters in the literal must not
//!   exceed the size of the item" (`ALL literal` repeats to the item's size, so it may be
//!   longer);
//! - USAGE INDEX takes no VALUE, USAGE POINTER only NULL; NULL fits nothing else;
//! - one literal only, no THRU: several literals and ranges are for level-88 conditions.
//!
//! A zero-length `X''` or `ALL ''` is refused (GnuCOBOL reads `X''` as X'00', `''` as a space:
//! ambiguous); `''` is read as a space, as GnuCOBOL does.

use super::err;
use crate::copybook::parse::{Clause, Entry, NumericLiteral};
use crate::copybook::{Category, ConditionValue, CopybookError, Elementary, Figurative, Literal, Usage};

/// Checks the VALUE clause of `entry` (resolved as `el`, `size` bytes) against its item.
pub fn check(entry: &Entry, el: &Elementary, size: usize) -> Result<(), CopybookError> {
    let values: Vec<&ConditionValue> =
        entry.clauses.iter().filter_map(|c| if let Clause::Values(v) = c { Some(v) } else { None }).flatten().collect();
    let name = entry.name.as_deref().unwrap_or("FILLER");
    let fail = |why: String| Err(err(entry, format!("{name}: {why}")));
    let literal = match values.as_slice() {
        [] => return Ok(()),
        [ConditionValue::Single(l)] => l,
        _ => {
            return fail(
                "VALUE takes one literal here; several literals and THRU ranges are for level-88 condition names"
                    .into(),
            )
        }
    };
    match literal_fits(el, size, literal) {
        Ok(()) => Ok(()),
        Err(why) => fail(format!("VALUE {}: {why}", crate::copybook::listing::literal_text(literal))),
    }
}

/// Whether `literal` may initialise `el`; the error says why not.
fn literal_fits(el: &Elementary, size: usize, literal: &Literal) -> Result<(), String> {
    let pic = &el.picture.source;
    match el.usage {
        Usage::Index => return Err("a USAGE INDEX item cannot have a VALUE clause (IBM)".into()),
        Usage::Pointer => {
            return match literal {
                Literal::Figurative(Figurative::Nulls) => Ok(()),
                _ => Err("a USAGE POINTER item takes only VALUE NULL".into()),
            }
        }
        _ => {}
    }
    if matches!(literal, Literal::Figurative(Figurative::Nulls)) {
        return Err("NULL is for USAGE POINTER items".into());
    }
    let numeric_item = matches!(el.picture.category, Category::Numeric { .. });
    let float_item = matches!(el.usage, Usage::Float | Usage::Double);
    if numeric_item || float_item {
        return match literal {
            Literal::Figurative(Figurative::Zeros | Figurative::HighValues | Figurative::LowValues) => Ok(()),
            Literal::Number(n) => {
                let lit = NumericLiteral::parse(n).ok_or("not a numeric literal")?;
                match el.picture.category {
                    _ if float_item => Ok(()),
                    Category::Numeric { digits, scale, signed } => number_fits(&lit, digits, scale, signed, el, size)
                        .map_err(|why| format!("does not fit PIC {pic}: {why}")),
                    _ => Ok(()),
                }
            }
            _ => Err(format!(
                "a numeric item ({}) takes a numeric literal or ZERO (IBM), not an alphanumeric literal or {}",
                if float_item { el.usage.to_string() } else { format!("PIC {pic}") },
                "SPACE/QUOTE"
            )),
        };
    }
    // Alphanumeric, alphabetic, numeric-edited, national, DBCS.
    let (unit, per_char) = match el.picture.category {
        Category::National { .. } | Category::Dbcs { .. } => ("characters", 2),
        _ => ("bytes", 1),
    };
    let room = size / per_char;
    let long = |len: usize, what: &str| -> Result<(), String> {
        if len > room {
            Err(format!(
                "the {what} is {len} {unit}, longer than the item's {room} (IBM: the literal must not exceed the \
                 size of the item); shorten it or use ALL"
            ))
        } else {
            Ok(())
        }
    };
    match literal {
        Literal::Number(_) => Err(format!(
            "PIC {pic} is not numeric: its VALUE must be an alphanumeric literal (IBM); write the digits quoted"
        )),
        Literal::Figurative(_) => Ok(()),
        Literal::Text(t) if per_char == 2 => long(t.encode_utf16().count(), "literal"),
        // Non-ASCII text takes as many bytes as the code page makes of it: checked on encode.
        Literal::Text(t) if t.is_ascii() => long(t.len(), "literal"),
        Literal::Text(_) => Ok(()),
        Literal::Hex(h) if h.is_empty() => Err("a zero-length X'' literal; write LOW-VALUES or SPACES".into()),
        Literal::Hex(h) => long(h.len() / per_char, "hexadecimal literal"),
        Literal::All(inner) => match &**inner {
            Literal::Text(t) if t.is_empty() => Err("ALL of a zero-length literal".into()),
            Literal::Hex(h) if h.is_empty() => Err("ALL of a zero-length literal".into()),
            Literal::Number(_) => Err(format!("PIC {pic} is not numeric: ALL takes an alphanumeric literal")),
            _ => Ok(()),
        },
    }
}

/// Whether the fixed-point `lit` fits a numeric picture of `digits` digits at `scale`.
fn number_fits(
    lit: &NumericLiteral,
    digits: u32,
    scale: i32,
    signed: bool,
    el: &Elementary,
    size: usize,
) -> Result<(), String> {
    if lit.is_float() {
        return Err("a floating-point literal is for COMP-1/COMP-2 items".into());
    }
    if lit.sign.is_some() && !signed {
        return Err("a signed literal needs a signed picture (S), as IBM requires".into());
    }
    // The value as an integer count of the picture's units: coefficient × 10^shift.
    let all = format!("{}{}", lit.int, lit.frac);
    let shift = i64::from(scale) - lit.frac.len() as i64;
    let coefficient = if shift >= 0 {
        let c = all.trim_start_matches('0');
        if c.is_empty() {
            String::new()
        } else {
            format!("{c}{}", "0".repeat(shift.min(64) as usize))
        }
    } else {
        let cut = (-shift) as usize;
        let (keep, dropped) = all.split_at(all.len().saturating_sub(cut));
        if dropped.bytes().any(|b| b != b'0') {
            return Err(if scale < 0 {
                format!("its {} P position(s) hold only zeros, so the value must be a multiple of 1{}", -scale, {
                    "0".repeat((-scale) as usize)
                })
            } else {
                format!("it has more decimal places than the picture's {scale}; IBM never truncates a VALUE")
            });
        }
        keep.trim_start_matches('0').to_string()
    };
    // COMP-5 without P holds its storage's range (IBM); every other usage the picture's digits.
    let native = el.usage == Usage::NativeBinary && scale >= 0 && !el.picture.source.contains(['P', 'p']);
    if native {
        let bits = 8 * size.min(16) as u32;
        let max: u128 = if signed { 1u128 << (bits - 1) } else { u128::MAX >> (128 - bits) };
        let magnitude: u128 = coefficient.parse().unwrap_or(if coefficient.is_empty() { 0 } else { u128::MAX });
        let limit = if signed && !lit.is_negative() { max - 1 } else { max };
        return if magnitude <= limit { Ok(()) } else { Err(format!("beyond the {size}-byte storage of COMP-5")) };
    }
    if coefficient.len() > digits as usize {
        return Err(format!("it needs {} digits, the picture has {digits}", coefficient.len()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::copybook::{parse_copybook, NoCopy};

    fn load(entry: &str) -> Result<(), String> {
        let text = format!("       01 R.\n           05 P {entry}.\n");
        parse_copybook(&text, "t.cpy", &NoCopy).map(|_| ()).map_err(|e| e.to_string())
    }

    /// IBM Language Reference, VALUE clause (format 1), rules for literal values: each case the
    /// rules allow loads.
    #[test]
    fn what_ibm_allows_loads() {
        for ok in [
            "PIC 9(3) VALUE 123",
            "PIC S9V9 VALUE -.5",
            "PIC S9V9 VALUE +.5",
            "PIC 9V99 VALUE 1.5",
            "PIC 9V9 VALUE 1.50",
            "PIC 9(3) VALUE 007",
            "PIC 99PPP VALUE 99000",
            "PIC 99PPP VALUE 0",
            "PIC SVPP9(3) VALUE -.00123",
            "PIC 9(3) VALUE ZEROS",
            "PIC S9(4) COMP-3 VALUE HIGH-VALUES",
            "PIC 9(3) VALUE LOW-VALUES",
            "PIC S9(4) COMP-5 VALUE -32768",
            "PIC 9(4) COMP-5 VALUE 65535",
            "COMP-2 VALUE 1.5E1",
            "COMP-1 VALUE -2.5E-1",
            "COMP-1 VALUE 15",
            "PIC X(3) VALUE 'ABC'",
            "PIC X(2) VALUE ALL 'ABC'",
            "PIC X(3) VALUE ''",
            "PIC X(2) VALUE X'4142'",
            "PIC X(2) VALUE SPACES",
            "PIC ZZ9 VALUE ' 12'",
            "PIC N(2) VALUE N'AB'",
            "POINTER VALUE NULL",
        ] {
            assert_eq!(load(ok), Ok(()), "{ok}");
        }
    }

    /// Each rule broken once: refused when the layout loads, naming the item, the literal and why.
    #[test]
    fn what_ibm_refuses_is_refused_when_loaded() {
        for (bad, says) in [
            ("PIC 9(3) VALUE SPACES", "takes a numeric literal or ZERO"),
            ("PIC 9(3) VALUE QUOTES", "takes a numeric literal or ZERO"),
            ("PIC 9(3) VALUE 'AB'", "takes a numeric literal or ZERO"),
            ("PIC 9(3) VALUE +5", "needs a signed picture"),
            ("PIC 9(3) VALUE -0", "needs a signed picture"),
            ("PIC 9(3) VALUE 1000", "needs 4 digits, the picture has 3"),
            ("PIC S9(4) COMP-3 VALUE 99999", "needs 5 digits, the picture has 4"),
            ("PIC S9(4) COMP VALUE 32767", "needs 5 digits, the picture has 4"),
            ("PIC 9V9 VALUE 1.25", "more decimal places"),
            ("PIC 99PPP VALUE 150", "multiple of 1000"),
            ("PIC S9(4) COMP-5 VALUE 32768", "beyond the 2-byte storage"),
            ("PIC 9(3) VALUE 1.5E1", "floating-point literal is for COMP-1/COMP-2"),
            ("PIC X(2) VALUE 'ABC'", "the literal is 3 bytes, longer than the item's 2"),
            ("PIC X(2) VALUE X'414243'", "hexadecimal literal is 3 bytes"),
            ("PIC N(2) VALUE N'ABC'", "3 characters, longer than the item's 2"),
            ("PIC X(3) VALUE 12", "write the digits quoted"),
            ("PIC ZZ9 VALUE 12", "write the digits quoted"),
            ("PIC X(3) VALUE 'A' 'B'", "level-88"),
            ("PIC 9 VALUE 1 THRU 3", "level-88"),
            ("INDEX VALUE 5", "INDEX item cannot have a VALUE"),
            ("POINTER VALUE 0", "only VALUE NULL"),
            ("PIC X(2) VALUE NULL", "NULL is for USAGE POINTER"),
            ("PIC X(2) VALUE ALL ''", "zero-length"),
            ("PIC X(2) VALUE X''", "zero-length"),
        ] {
            let e = load(bad).expect_err(bad);
            assert!(e.starts_with("t.cpy:2:") && e.contains("P: VALUE") || e.contains("P: VALUE takes"), "{bad}: {e}");
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
