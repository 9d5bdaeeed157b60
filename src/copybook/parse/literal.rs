//! Literals in VALUE clauses: quoted text, `X'..'` hex, numbers (fixed-point and
//! floating-point) and figurative constants.

use nom::{
    branch::alt,
    combinator::{map, map_opt},
    sequence::preceded,
    Parser,
};

use super::{keyword, parse_word, Res};
use crate::copybook::{Figurative, Literal};

/// Any literal, including `ALL literal` ([`Literal::All`]; `ALL` before a figurative constant
/// is the constant itself, as in COBOL).
pub fn parse_literal(i: &str) -> Res<'_, Literal> {
    alt((parse_quoted, parse_hex, parse_number, parse_figurative, preceded(keyword("ALL"), map(parse_literal, all))))
        .parse(i)
}

/// `ALL` applied to `literal`.
fn all(literal: Literal) -> Literal {
    match literal {
        Literal::Figurative(_) | Literal::All(_) => literal,
        other => Literal::All(Box::new(other)),
    }
}

/// `'text'` or `"text"` (also `N'..'`, `G'..'`, `Z'..'`), doubled quotes undoubled.
pub fn parse_quoted(i: &str) -> Res<'_, Literal> {
    map_opt(parse_word, |w: &str| {
        let body = w.strip_prefix(['N', 'G', 'Z']).filter(|b| b.starts_with(['\'', '"'])).unwrap_or(w);
        let quote = body.chars().next().filter(|&c| c == '\'' || c == '"')?;
        let inner = body.strip_prefix(quote)?.strip_suffix(quote)?;
        let doubled: String = [quote, quote].iter().collect();
        Some(Literal::Text(inner.replace(&doubled, &quote.to_string())))
    })
    .parse(i)
}

/// `X'0F1A'`: an even number of hex digits.
pub fn parse_hex(i: &str) -> Res<'_, Literal> {
    map_opt(parse_word, |w: &str| {
        let rest = w.strip_prefix('X')?;
        let quote = rest.chars().next().filter(|&c| c == '\'' || c == '"')?;
        let hex = rest.strip_prefix(quote)?.strip_suffix(quote)?;
        if hex.len() % 2 != 0 {
            return None;
        }
        let bytes = hex
            .as_bytes()
            .chunks(2)
            .map(|p| std::str::from_utf8(p).ok().and_then(|s| u8::from_str_radix(s, 16).ok()))
            .collect::<Option<Vec<u8>>>()?;
        Some(Literal::Hex(bytes))
    })
    .parse(i)
}

/// A numeric literal, kept as written: fixed-point `[+|-]digits[.digits]` (the point may come
/// first, `.5`, `-.5`; `,` is read as the point too) or floating-point `[+|-]mantissa E
/// [+|-]exponent` (IBM Language Reference, "Numeric literals" and "Floating-point literals":
/// the mantissa has 1 to 16 digits and a decimal point, the exponent 1 or 2 digits).
pub fn parse_number(i: &str) -> Res<'_, Literal> {
    map_opt(parse_word, |w: &str| NumericLiteral::parse(w).map(|_| Literal::Number(w.to_string()))).parse(i)
}

/// A numeric literal read: its sign, digits and point, and an exponent if it is floating-point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NumericLiteral {
    /// The sign as written (`+`, `-`), if any.
    pub sign: Option<char>,
    /// Digits before the point.
    pub int: String,
    /// Digits after the point.
    pub frac: String,
    /// The exponent of a floating-point literal.
    pub exponent: Option<i32>,
}

/// `t` without its leading sign, and the sign.
fn split_sign(t: &str) -> (Option<char>, &str) {
    match t.chars().next() {
        Some(c @ ('+' | '-')) => (Some(c), &t[1..]),
        _ => (None, t),
    }
}

/// Most mantissa digits of a floating-point literal (IBM).
const MAX_MANTISSA_DIGITS: usize = 16;

impl NumericLiteral {
    /// Reads `text`; `None` when it is not a numeric literal.
    pub fn parse(text: &str) -> Option<NumericLiteral> {
        let (sign, body) = split_sign(text);
        let (mantissa, exponent) = match body.split_once(['E', 'e']) {
            Some((m, e)) => {
                let (esign, edigits) = split_sign(e);
                let ok = (1..=2).contains(&edigits.len()) && edigits.bytes().all(|b| b.is_ascii_digit());
                let magnitude: i32 = edigits.parse().ok().filter(|_| ok)?;
                (m, Some(if esign == Some('-') { -magnitude } else { magnitude }))
            }
            None => (body, None),
        };
        let (int, frac) = match mantissa.split_once(['.', ',']) {
            Some((a, b)) => (a, b),
            None if exponent.is_some() => return None, // the mantissa needs its point
            None => (mantissa, ""),
        };
        let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        let count = int.len() + frac.len();
        // A trailing point ends the sentence, it is not part of a fixed-point literal.
        let ok = count > 0
            && digits(int)
            && digits(frac)
            && (exponent.is_some() || !mantissa.ends_with(['.', ',']))
            && (exponent.is_none() || count <= MAX_MANTISSA_DIGITS);
        ok.then(|| NumericLiteral { sign, int: int.to_string(), frac: frac.to_string(), exponent })
    }

    /// Whether the literal is floating-point (has an exponent).
    pub fn is_float(&self) -> bool {
        self.exponent.is_some()
    }

    /// Whether the literal is below zero (a `-` and a digit other than zero).
    pub fn is_negative(&self) -> bool {
        self.sign == Some('-') && (self.int.bytes().chain(self.frac.bytes())).any(|b| b != b'0')
    }

    /// The literal as JSON number text (`-.5` → `-0.5`, `1.5E1` stays), which the codec's
    /// number parsers read.
    pub fn canonical(&self) -> String {
        let mut s = String::new();
        if self.sign == Some('-') {
            s.push('-');
        }
        s.push_str(if self.int.is_empty() { "0" } else { &self.int });
        if !self.frac.is_empty() {
            s.push('.');
            s.push_str(&self.frac);
        }
        if let Some(e) = self.exponent {
            s.push_str(&format!("E{e}"));
        }
        s
    }

    /// Digits needed before and after the point to hold the value exactly (leading zeros of the
    /// integer part and trailing zeros of the fraction need none). For a fixed-point literal.
    pub fn places(&self) -> (usize, usize) {
        (self.int.trim_start_matches('0').len(), self.frac.trim_end_matches('0').len())
    }
}

/// SPACE(S), ZERO(S/ES), LOW-VALUE(S), HIGH-VALUE(S), QUOTE(S), NULL(S).
pub fn parse_figurative(i: &str) -> Res<'_, Literal> {
    map_opt(parse_word, |w: &str| {
        Some(Literal::Figurative(match w {
            "SPACE" | "SPACES" => Figurative::Spaces,
            "ZERO" | "ZEROS" | "ZEROES" => Figurative::Zeros,
            "LOW-VALUE" | "LOW-VALUES" => Figurative::LowValues,
            "HIGH-VALUE" | "HIGH-VALUES" => Figurative::HighValues,
            "QUOTE" | "QUOTES" => Figurative::Quotes,
            "NULL" | "NULLS" => Figurative::Nulls,
            _ => return None,
        }))
    })
    .parse(i)
}

#[cfg(test)]
mod tests {
    use super::super::tests::toks;
    use super::*;

    fn lit(s: &str) -> Literal {
        parse_literal(&toks(s)).unwrap().1
    }

    #[test]
    fn quoted() {
        assert_eq!(lit("'it''s'"), Literal::Text("it's".into()));
        assert_eq!(lit("\"say\"\"hi\"\"\""), Literal::Text("say\"hi\"".into()));
        assert_eq!(lit("N'AB'"), Literal::Text("AB".into()));
    }

    #[test]
    fn hex() {
        assert_eq!(lit("X'0F1a'"), Literal::Hex(vec![0x0f, 0x1a]));
        assert!(parse_hex(&toks("X'0'")).is_err());
    }

    #[test]
    fn numbers() {
        assert_eq!(lit("-12.50"), Literal::Number("-12.50".into()));
        assert_eq!(lit("+7"), Literal::Number("+7".into()));
        assert!(parse_number(&toks("1.2.3")).is_err());
        assert!(parse_number(&toks("A1")).is_err());
        // A point first: IBM allows `.5`, `+.5`, `-.5`.
        for t in [".5", "+.5", "-.5", "0.50"] {
            assert_eq!(lit(t), Literal::Number(t.into()), "{t}");
        }
        assert_eq!(NumericLiteral::parse("-.5").unwrap().canonical(), "-0.5");
        assert_eq!(NumericLiteral::parse("+.5").unwrap().canonical(), "0.5");
        assert_eq!(NumericLiteral::parse("007.50").unwrap().places(), (1, 1));
    }

    /// IBM Language Reference, "Floating-point literals": `[+|-]mantissa E [+|-]exponent`, a
    /// mantissa of 1 to 16 digits with a decimal point, an exponent of 1 or 2 digits.
    #[test]
    fn floating_point() {
        for t in ["1.5E1", "-2.5E-1", "+.5E+02", "0.E0", "1234567890.123456E-78"] {
            assert_eq!(lit(t), Literal::Number(t.into()), "{t}");
            assert!(NumericLiteral::parse(t).unwrap().is_float(), "{t}");
        }
        assert_eq!(NumericLiteral::parse("-2.5E-1").unwrap().canonical(), "-2.5E-1");
        assert_eq!(NumericLiteral::parse(".5E1").unwrap().canonical(), "0.5E1");
        // No point in the mantissa, 3 exponent digits, 17 mantissa digits, an empty exponent.
        for t in ["15E1", "1.5E123", "1234567890.1234567E1", "1.5E", "1.5E+", "E1", ".E1"] {
            assert!(parse_number(&toks(t)).is_err(), "{t}");
        }
    }

    #[test]
    fn figurative_and_all() {
        assert_eq!(lit("HIGH-VALUES"), Literal::Figurative(Figurative::HighValues));
        assert_eq!(lit("ALL '*'"), Literal::All(Box::new(Literal::Text("*".into()))));
        assert_eq!(lit("ALL X'00'"), Literal::All(Box::new(Literal::Hex(vec![0]))));
        assert_eq!(lit("ALL ZEROS"), Literal::Figurative(Figurative::Zeros));
    }
}
