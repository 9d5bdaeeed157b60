//! Literals in VALUE clauses: quoted text, `X'..'` hex, numbers and figurative constants.

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

/// `[+|-]digits[.digits]` (or `,` as the decimal point), kept as written.
pub fn parse_number(i: &str) -> Res<'_, Literal> {
    map_opt(parse_word, |w: &str| {
        let body = w.strip_prefix(['+', '-']).unwrap_or(w);
        let digits = body.bytes().filter(u8::is_ascii_digit).count();
        let points = body.bytes().filter(|&b| b == b'.' || b == b',').count();
        let ok = digits > 0 && points <= 1 && digits + points == body.len() && !body.ends_with(['.', ',']);
        ok.then(|| Literal::Number(w.to_string()))
    })
    .parse(i)
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
    }

    #[test]
    fn figurative_and_all() {
        assert_eq!(lit("HIGH-VALUES"), Literal::Figurative(Figurative::HighValues));
        assert_eq!(lit("ALL '*'"), Literal::All(Box::new(Literal::Text("*".into()))));
        assert_eq!(lit("ALL X'00'"), Literal::All(Box::new(Literal::Hex(vec![0]))));
        assert_eq!(lit("ALL ZEROS"), Literal::Figurative(Figurative::Zeros));
    }
}
