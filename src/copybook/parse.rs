//! The nom grammar of data description entries: `level [name|FILLER] clause* .`
//!
//! Input is the token stream from `source`, joined with [`SEP`] (no token contains it), so
//! every parser here reads whole tokens. One function per clause, in `clause` and `literal`.
//! This module checks syntax only; sizes, nesting and name lookups are `build`'s.

mod clause;
mod literal;

use nom::{
    branch::alt,
    bytes::complete::take_till1,
    character::complete::char,
    combinator::{cut, eof, map, peek, success, value, verify},
    error::context,
    multi::many0,
    sequence::preceded,
    IResult, Parser,
};
use nom_language::error::{VerboseError, VerboseErrorKind};

use super::qualify::QualifiedName;
use super::source::{Pos, Source};
use super::{ConditionValue, CopybookError, SignClause, Usage};

pub use clause::parse_clause;
pub use literal::{parse_literal, NumericLiteral};

/// Separator between tokens in the parser's input.
pub const SEP: char = '\n';

/// Result type of every parser here.
pub type Res<'a, O> = IResult<&'a str, O, VerboseError<&'a str>>;

/// One data description entry, before nesting.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The level number: 1–49, 66, 77 or 88.
    pub level: u8,
    /// The name, upper-cased; `None` for FILLER or no name.
    pub name: Option<String>,
    /// Where the level number is.
    pub pos: Pos,
    /// The file the entry is in (the copybook or a COPY member).
    pub file: String,
    /// The clauses, in source order.
    pub clauses: Vec<Clause>,
}

/// One clause of an entry.
#[derive(Clone, Debug, PartialEq)]
pub enum Clause {
    /// `PIC`/`PICTURE [IS] string`.
    Picture(String),
    /// `[USAGE [IS]] usage`.
    Usage(Usage),
    /// `[SIGN [IS]] LEADING|TRAILING [SEPARATE [CHARACTER]]`.
    Sign(SignClause),
    /// `OCCURS [min TO] max [TIMES] [DEPENDING ON name]`.
    Occurs {
        /// The minimum (`None` when no `TO`).
        min: Option<u32>,
        /// The maximum.
        max: u32,
        /// `DEPENDING ON` counter, with its qualifiers.
        depending_on: Option<QualifiedName>,
    },
    /// `REDEFINES name` (qualifiers are kept so that build can refuse them: IBM allows none).
    Redefines(QualifiedName),
    /// `SYNC`/`SYNCHRONIZED [LEFT|RIGHT]`.
    Sync,
    /// `JUST`/`JUSTIFIED [RIGHT]`.
    Justified,
    /// `BLANK WHEN ZERO`.
    BlankWhenZero,
    /// `VALUE`/`VALUES` literals (and ranges, for level 88).
    Values(Vec<ConditionValue>),
    /// `INDEXED BY names`.
    IndexedBy(Vec<String>),
    /// `ASCENDING|DESCENDING KEY names`.
    Keys(Vec<String>),
    /// `RENAMES a [THRU b]`, each name with its qualifiers.
    Renames(QualifiedName, Option<QualifiedName>),
    /// Accepted and without effect on layout: GLOBAL, EXTERNAL.
    Ignored,
}

/// Parses every entry of `src`.
pub fn parse_entries(src: &Source) -> Result<Vec<Entry>, CopybookError> {
    let mut text = String::new();
    let mut starts = Vec::with_capacity(src.tokens.len());
    for t in &src.tokens {
        starts.push(text.len());
        text.push(SEP);
        text.push_str(&t.text);
    }
    let locate = |rest: &str| {
        let offset = text.len() - rest.len();
        if rest.is_empty() {
            return (src.end, "end of input".to_string());
        }
        let idx = starts.partition_point(|&s| s <= offset).saturating_sub(1);
        src.tokens.get(idx).map_or((src.end, "end of input".to_string()), |t| (t.pos, format!("`{}`", t.text)))
    };
    let mut entries = Vec::new();
    let mut input = text.as_str();
    while !input.is_empty() {
        match parse_entry(input) {
            Ok((rest, (level, name, clauses))) => {
                let (pos, _) = locate(input);
                let file = src.files.get(pos.file).cloned().unwrap_or_default();
                entries.push(Entry { level, name, pos, file, clauses });
                input = rest;
            }
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
                let (expected, at) = describe(&e);
                let (pos, found) = locate(at.unwrap_or(input));
                return Err(src.error_at(pos, format!("{expected}, found {found}")));
            }
            Err(nom::Err::Incomplete(_)) => return Err(src.error_at(src.end, "unexpected end of input")),
        }
    }
    Ok(entries)
}

/// The innermost `context` message and where it applied.
fn describe<'a>(e: &VerboseError<&'a str>) -> (String, Option<&'a str>) {
    for (input, kind) in &e.errors {
        if let VerboseErrorKind::Context(ctx) = kind {
            return (ctx.to_string(), Some(input));
        }
    }
    ("syntax error".to_string(), e.errors.first().map(|(i, _)| *i))
}

/// One entry: level number, optional name, clauses, and the terminating period.
pub fn parse_entry(i: &str) -> Res<'_, (u8, Option<String>, Vec<super::parse::Clause>)> {
    let (i, level) = context("expected a level number", parse_level_number).parse(i)?;
    cut((
        parse_entry_name,
        many0(parse_clause),
        context("expected a clause or a period ending the entry", parse_period),
    ))
    .map(move |(name, clauses, _)| (level, name, clauses))
    .parse(i)
}

/// A level number: 01–49, 66, 77 or 88.
pub fn parse_level_number(i: &str) -> Res<'_, u8> {
    let level = |w: &str| -> Option<u8> {
        let n: u8 = w.parse().ok().filter(|_| w.len() <= 2)?;
        matches!(n, 1..=49 | 66 | 77 | 88).then_some(n)
    };
    nom::combinator::map_opt(parse_word, level).parse(i)
}

/// `FILLER`, a data name, or nothing.
pub fn parse_entry_name(i: &str) -> Res<'_, Option<String>> {
    alt((value(None, keyword("FILLER")), map(parse_data_name, Some), success(None))).parse(i)
}

/// The period ending an entry. Tolerated missing at end of input, or before the next
/// entry's level number (as cb2xml and most tools accept).
pub fn parse_period(i: &str) -> Res<'_, ()> {
    alt((value((), keyword(".")), value((), eof), value((), peek((parse_level_number, parse_word))))).parse(i)
}

/// Any one token.
pub fn parse_word(i: &str) -> Res<'_, &str> {
    preceded(char(SEP), take_till1(|c| c == SEP)).parse(i)
}

/// The token `k` exactly.
pub fn keyword<'a>(k: &'static str) -> impl Parser<&'a str, Output = &'a str, Error = VerboseError<&'a str>> {
    verify(parse_word, move |w: &str| w == k)
}

/// A user-defined word that is not a reserved word of this grammar.
pub fn parse_data_name(i: &str) -> Res<'_, String> {
    map(verify(parse_word, is_data_name), str::to_string).parse(i)
}

/// `name [OF|IN name]...`: the name and its qualifiers, innermost first.
pub fn parse_qualified_name(i: &str) -> Res<'_, QualifiedName> {
    (parse_data_name, many0(preceded(alt((keyword("OF"), keyword("IN"))), parse_data_name)))
        .map(|(name, qualifiers)| QualifiedName { name, qualifiers })
        .parse(i)
}

fn is_data_name(w: &str) -> bool {
    // A literal with a prefix (`X'..'`, `N"..."`) has its quote second.
    let prefixed_literal = matches!(w.as_bytes().get(1), Some(b'\'' | b'"'));
    w.chars().any(|c| c.is_alphabetic())
        && !w.starts_with(['\'', '"', '.', '(', '=', '-'])
        && !prefixed_literal
        && !RESERVED.contains(&w)
}

/// Words that start clauses (or are otherwise reserved here), so they are never names.
const RESERVED: &[&str] = &[
    "PIC",
    "PICTURE",
    "USAGE",
    "IS",
    "ARE",
    "DISPLAY",
    "DISPLAY-1",
    "COMP",
    "COMPUTATIONAL",
    "BINARY",
    "COMP-1",
    "COMPUTATIONAL-1",
    "COMP-2",
    "COMPUTATIONAL-2",
    "COMP-3",
    "COMPUTATIONAL-3",
    "COMP-4",
    "COMPUTATIONAL-4",
    "COMP-5",
    "COMPUTATIONAL-5",
    "PACKED-DECIMAL",
    "NATIONAL",
    "INDEX",
    "POINTER",
    "PROCEDURE-POINTER",
    "FUNCTION-POINTER",
    "SIGN",
    "LEADING",
    "TRAILING",
    "SEPARATE",
    "OCCURS",
    "TO",
    "TIMES",
    "DEPENDING",
    "ON",
    "REDEFINES",
    "SYNC",
    "SYNCHRONIZED",
    "JUST",
    "JUSTIFIED",
    "BLANK",
    "WHEN",
    "VALUE",
    "VALUES",
    "INDEXED",
    "BY",
    "ASCENDING",
    "DESCENDING",
    "KEY",
    "GLOBAL",
    "EXTERNAL",
    "RENAMES",
    "THRU",
    "THROUGH",
    "FILLER",
    "OF",
    "IN",
    "ZERO",
    "ZEROS",
    "ZEROES",
    "SPACE",
    "SPACES",
    "ALL",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::copybook::NoCopy;

    /// Joins words the way [`parse_entries`] does.
    pub(super) fn toks(s: &str) -> String {
        s.split(' ').map(|w| format!("{SEP}{w}")).collect()
    }

    fn entries(text: &str) -> Result<Vec<Entry>, CopybookError> {
        parse_entries(&crate::copybook::source::normalize(text, "t.cpy", &NoCopy)?)
    }

    #[test]
    fn level_numbers() {
        assert_eq!(parse_level_number(&toks("05")).unwrap().1, 5);
        assert_eq!(parse_level_number(&toks("88")).unwrap().1, 88);
        assert!(parse_level_number(&toks("50")).is_err());
        assert!(parse_level_number(&toks("005")).is_err());
    }

    #[test]
    fn entry_names() {
        assert_eq!(parse_entry_name(&toks("FILLER PIC")).unwrap().1, None);
        assert_eq!(parse_entry_name(&toks("A-1 PIC")).unwrap().1.as_deref(), Some("A-1"));
        assert_eq!(parse_entry_name(&toks("PIC X")).unwrap().1, None);
    }

    #[test]
    fn qualified_name_keeps_its_qualifiers() {
        let q = parse_qualified_name(&toks("CNT OF HDR IN REC")).unwrap().1;
        assert_eq!((q.name.as_str(), q.qualifiers.as_slice()), ("CNT", &["HDR".to_string(), "REC".to_string()][..]));
    }

    #[test]
    fn period_or_end() {
        assert!(parse_period(&toks(".")).is_ok());
        assert!(parse_period("").is_ok());
        assert!(parse_period(&toks("X")).is_err());
        assert_eq!(parse_period(&toks("05 B")).unwrap().0, toks("05 B"));
    }

    #[test]
    fn whole_entry() {
        let e = entries("       05  AMT PIC S9(13)V99 COMP-3 VALUE ZERO.\n").unwrap();
        assert_eq!(e[0].level, 5);
        assert_eq!(e[0].clauses[0], Clause::Picture("S9(13)V99".into()));
        assert_eq!(e[0].clauses[1], Clause::Usage(Usage::Packed));
    }

    #[test]
    fn error_names_position_and_expectation() {
        let e = entries("       01 R.\n       05 A PIC.\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 16));
        assert_eq!(e.message, "expected a picture string after PIC, found `.`");
        let e = entries("       01 R.\n       05 A FOO.\n").unwrap_err();
        assert_eq!(e.message, "expected a clause or a period ending the entry, found `FOO`");
        let e = entries("       R.\n").unwrap_err();
        assert_eq!(e.message, "expected a level number, found `R`");
    }
}
