//! One parser per data description clause. Each reads whole tokens and, once its keyword is
//! seen, commits (`cut`) so an error names what was expected after that keyword.

use nom::{
    branch::alt,
    combinator::{cut, map, map_opt, map_res, opt, value, verify},
    error::context,
    multi::many1,
    sequence::preceded,
    Parser,
};

use super::{keyword as kw, parse_data_name, parse_literal, parse_qualified_name, parse_word, Clause, Res};
use crate::copybook::{ConditionValue, SignClause, Usage};

/// Any one clause.
pub fn parse_clause(i: &str) -> Res<'_, Clause> {
    alt((
        parse_picture,
        parse_usage,
        parse_sign,
        parse_occurs,
        parse_redefines,
        parse_sync,
        parse_justified,
        parse_blank_when_zero,
        parse_value,
        parse_indexed_by,
        parse_key,
        parse_renames,
        parse_global_external,
    ))
    .parse(i)
}

/// `PIC|PICTURE [IS] string`.
pub fn parse_picture(i: &str) -> Res<'_, Clause> {
    let string = verify(parse_word, |w: &str| w != "." && !w.starts_with(['\'', '"']));
    preceded(
        (alt((kw("PIC"), kw("PICTURE"))), opt(kw("IS"))),
        cut(context("expected a picture string after PIC", string)),
    )
    .map(|p: &str| Clause::Picture(p.to_string()))
    .parse(i)
}

/// `[USAGE [IS]] usage`.
pub fn parse_usage(i: &str) -> Res<'_, Clause> {
    let explicit =
        preceded((kw("USAGE"), opt(kw("IS"))), cut(context("expected a usage after USAGE", parse_usage_word)));
    map(alt((explicit, parse_usage_word)), Clause::Usage).parse(i)
}

/// A usage word: DISPLAY, COMP, COMP-3, BINARY, PACKED-DECIMAL, ...
pub fn parse_usage_word(i: &str) -> Res<'_, Usage> {
    map_opt(parse_word, |w| {
        Some(match w {
            "DISPLAY" => Usage::Display,
            "COMP" | "COMPUTATIONAL" | "BINARY" | "COMP-4" | "COMPUTATIONAL-4" | "COMP-0" | "COMPUTATIONAL-0" => {
                Usage::Binary
            }
            "COMP-5" | "COMPUTATIONAL-5" => Usage::NativeBinary,
            "COMP-3" | "COMPUTATIONAL-3" | "PACKED-DECIMAL" => Usage::Packed,
            "COMP-1" | "COMPUTATIONAL-1" => Usage::Float,
            "COMP-2" | "COMPUTATIONAL-2" => Usage::Double,
            "DISPLAY-1" => Usage::Display1,
            "NATIONAL" => Usage::National,
            "INDEX" => Usage::Index,
            "POINTER" | "PROCEDURE-POINTER" | "FUNCTION-POINTER" => Usage::Pointer,
            _ => return None,
        })
    })
    .parse(i)
}

/// `[SIGN [IS]] LEADING|TRAILING [SEPARATE [CHARACTER]]`.
pub fn parse_sign(i: &str) -> Res<'_, Clause> {
    let body = || {
        (alt((value(true, kw("LEADING")), value(false, kw("TRAILING")))), opt((kw("SEPARATE"), opt(kw("CHARACTER")))))
            .map(|(leading, sep)| Clause::Sign(SignClause { leading, separate: sep.is_some() }))
    };
    alt((
        preceded((kw("SIGN"), opt(kw("IS"))), cut(context("expected LEADING or TRAILING after SIGN", body()))),
        body(),
    ))
    .parse(i)
}

/// A whole number that fits in `u32`.
pub fn parse_count(i: &str) -> Res<'_, u32> {
    map_res(verify(parse_word, |w: &str| w.bytes().all(|b| b.is_ascii_digit())), str::parse::<u32>).parse(i)
}

/// `OCCURS [m TO] n [TIMES] [DEPENDING [ON] name]`.
pub fn parse_occurs(i: &str) -> Res<'_, Clause> {
    let depending = preceded(
        (kw("DEPENDING"), opt(kw("ON"))),
        cut(context("expected a data name after DEPENDING ON", parse_qualified_name)),
    );
    let body = (
        context("expected a count after OCCURS", parse_count),
        opt(preceded(kw("TO"), cut(context("expected a count after TO", parse_count)))),
        opt(kw("TIMES")),
        opt(depending),
    );
    preceded(kw("OCCURS"), cut(body))
        .map(|(first, to, _, depending_on)| match to {
            Some(max) => Clause::Occurs { min: Some(first), max, depending_on },
            None => Clause::Occurs { min: None, max: first, depending_on },
        })
        .parse(i)
}

/// `REDEFINES name`.
pub fn parse_redefines(i: &str) -> Res<'_, Clause> {
    preceded(kw("REDEFINES"), cut(context("expected a data name after REDEFINES", parse_qualified_name)))
        .map(Clause::Redefines)
        .parse(i)
}

/// `SYNC|SYNCHRONIZED [LEFT|RIGHT]`.
pub fn parse_sync(i: &str) -> Res<'_, Clause> {
    value(Clause::Sync, (alt((kw("SYNC"), kw("SYNCHRONIZED"))), opt(alt((kw("LEFT"), kw("RIGHT")))))).parse(i)
}

/// `JUST|JUSTIFIED [RIGHT]`.
pub fn parse_justified(i: &str) -> Res<'_, Clause> {
    value(Clause::Justified, (alt((kw("JUST"), kw("JUSTIFIED"))), opt(kw("RIGHT")))).parse(i)
}

/// `BLANK [WHEN] ZERO|ZEROS|ZEROES`.
pub fn parse_blank_when_zero(i: &str) -> Res<'_, Clause> {
    let zero = alt((kw("ZERO"), kw("ZEROS"), kw("ZEROES")));
    value(Clause::BlankWhenZero, (kw("BLANK"), cut(context("expected WHEN ZERO after BLANK", (opt(kw("WHEN")), zero)))))
        .parse(i)
}

/// `VALUE [IS] | VALUES [ARE]` then literals, each optionally `THRU|THROUGH literal`.
pub fn parse_value(i: &str) -> Res<'_, Clause> {
    let intro = alt(((kw("VALUE"), opt(kw("IS"))), (kw("VALUES"), opt(kw("ARE")))));
    preceded(intro, cut(context("expected a literal after VALUE", many1(parse_value_item))))
        .map(Clause::Values)
        .parse(i)
}

/// One value: `literal [THRU|THROUGH literal]`.
pub fn parse_value_item(i: &str) -> Res<'_, ConditionValue> {
    let thru = preceded(alt((kw("THRU"), kw("THROUGH"))), cut(context("expected a literal after THRU", parse_literal)));
    (parse_literal, opt(thru))
        .map(|(a, b)| match b {
            Some(b) => ConditionValue::Range(a, b),
            None => ConditionValue::Single(a),
        })
        .parse(i)
}

/// `INDEXED [BY] names`.
pub fn parse_indexed_by(i: &str) -> Res<'_, Clause> {
    preceded(
        (kw("INDEXED"), opt(kw("BY"))),
        cut(context("expected an index name after INDEXED BY", many1(parse_data_name))),
    )
    .map(Clause::IndexedBy)
    .parse(i)
}

/// `ASCENDING|DESCENDING [KEY] [IS] names`.
pub fn parse_key(i: &str) -> Res<'_, Clause> {
    let intro = (alt((kw("ASCENDING"), kw("DESCENDING"))), opt(kw("KEY")), opt(kw("IS")));
    preceded(intro, cut(context("expected a key name after ASCENDING/DESCENDING KEY", many1(parse_qualified_name))))
        .map(|keys| Clause::Keys(keys.iter().map(ToString::to_string).collect()))
        .parse(i)
}

/// `RENAMES a [THRU|THROUGH b]`.
pub fn parse_renames(i: &str) -> Res<'_, Clause> {
    let thru = preceded(
        alt((kw("THRU"), kw("THROUGH"))),
        cut(context("expected a data name after THRU", parse_qualified_name)),
    );
    preceded(kw("RENAMES"), cut((context("expected a data name after RENAMES", parse_qualified_name), opt(thru))))
        .map(|(a, b)| Clause::Renames(a, b))
        .parse(i)
}

/// `[IS] GLOBAL | [IS] EXTERNAL`: accepted, no effect on the layout.
pub fn parse_global_external(i: &str) -> Res<'_, Clause> {
    value(Clause::Ignored, (opt(kw("IS")), alt((kw("GLOBAL"), kw("EXTERNAL"))))).parse(i)
}

#[cfg(test)]
mod tests {
    use super::super::tests::toks;
    use super::*;
    use crate::copybook::qualify::QualifiedName;
    use crate::copybook::{Figurative, Literal};

    fn ok(p: fn(&str) -> Res<'_, Clause>, s: &str) -> Clause {
        let input = toks(s);
        let (rest, c) = p(&input).unwrap();
        assert!(rest.is_empty(), "left {rest:?}");
        c
    }

    #[test]
    fn picture() {
        assert_eq!(ok(parse_picture, "PICTURE IS S9(4)V99"), Clause::Picture("S9(4)V99".into()));
        assert!(matches!(parse_picture(&toks("PIC .")), Err(nom::Err::Failure(_))));
    }

    #[test]
    fn usage() {
        assert_eq!(ok(parse_usage, "USAGE IS PACKED-DECIMAL"), Clause::Usage(Usage::Packed));
        assert_eq!(ok(parse_usage, "COMP-5"), Clause::Usage(Usage::NativeBinary));
        assert!(matches!(parse_usage(&toks("USAGE FOO")), Err(nom::Err::Failure(_))));
    }

    #[test]
    fn sign() {
        assert_eq!(
            ok(parse_sign, "SIGN IS LEADING SEPARATE CHARACTER"),
            Clause::Sign(SignClause { leading: true, separate: true })
        );
        assert_eq!(ok(parse_sign, "TRAILING"), Clause::Sign(SignClause { leading: false, separate: false }));
    }

    #[test]
    fn occurs() {
        assert_eq!(ok(parse_occurs, "OCCURS 5 TIMES"), Clause::Occurs { min: None, max: 5, depending_on: None });
        assert_eq!(
            ok(parse_occurs, "OCCURS 0 TO 50 TIMES DEPENDING ON ROW-CNT OF HDR"),
            Clause::Occurs {
                min: Some(0),
                max: 50,
                depending_on: Some(QualifiedName { name: "ROW-CNT".into(), qualifiers: vec!["HDR".into()] })
            }
        );
        assert!(parse_occurs(&toks("OCCURS 99999999999")).is_err());
    }

    #[test]
    fn redefines_sync_just_blank() {
        assert_eq!(ok(parse_redefines, "REDEFINES A-B"), Clause::Redefines(QualifiedName::bare("A-B")));
        assert_eq!(ok(parse_sync, "SYNCHRONIZED LEFT"), Clause::Sync);
        assert_eq!(ok(parse_justified, "JUST RIGHT"), Clause::Justified);
        assert_eq!(ok(parse_blank_when_zero, "BLANK WHEN ZEROES"), Clause::BlankWhenZero);
    }

    #[test]
    fn values() {
        let c = ok(parse_value, "VALUES ARE 'A' 1 THRU 9 SPACES");
        let Clause::Values(v) = c else { panic!() };
        assert_eq!(v[0], ConditionValue::Single(Literal::Text("A".into())));
        assert_eq!(v[1], ConditionValue::Range(Literal::Number("1".into()), Literal::Number("9".into())));
        assert_eq!(v[2], ConditionValue::Single(Literal::Figurative(Figurative::Spaces)));
    }

    #[test]
    fn indexed_keys_renames_global() {
        assert_eq!(ok(parse_indexed_by, "INDEXED BY I J"), Clause::IndexedBy(vec!["I".into(), "J".into()]));
        assert_eq!(ok(parse_key, "ASCENDING KEY IS K1"), Clause::Keys(vec!["K1".into()]));
        assert_eq!(
            ok(parse_renames, "RENAMES A THROUGH B"),
            Clause::Renames(QualifiedName::bare("A"), Some(QualifiedName::bare("B")))
        );
        assert_eq!(ok(parse_global_external, "IS EXTERNAL"), Clause::Ignored);
    }

    #[test]
    fn count() {
        assert_eq!(parse_count(&toks("12")).unwrap().1, 12);
        assert!(parse_count(&toks("1A")).is_err());
    }
}
