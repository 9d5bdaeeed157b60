//! Code conversion against the codec, on random layouts and values (fixed seed, so CI is
//! repeatable): a record encoded under code page A and converted to B equals the same values
//! encoded under B, and B converted back to A gives the original bytes. Text that does not fit
//! its field under B (SO/SI added) is an error naming that field, never cut bytes.
//!
//! Layouts mix text (also JUST RIGHT), unsigned and signed zoned (every sign position),
//! packed, binary, fixed tables, a DEPENDING ON table and REDEFINES that agree.

use ficus::codec::charset::{CharsetError, CodePage};
use ficus::codec::convert::{Conversion, ConvertError};
use ficus::codec::{Codec, CodecOptions, EncodeError, FieldError};
use ficus::copybook::{parse_copybook, NoCopy};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Map, Value};

/// One field of a generated layout.
#[derive(Clone, Debug)]
enum Field {
    Text(usize),
    JustText(usize),
    Unsigned(usize),
    Signed(usize, &'static str),
    Packed(usize),
    Binary(usize),
    /// A fixed table of a text and a signed number.
    Table(u32),
    /// A counter and a DEPENDING ON table of text.
    Odo(u32),
    /// X(8) redefined as 9(8) and as 9(4) 9(4); packed redefined as binary.
    Redefines,
}

fn field() -> impl Strategy<Value = Field> {
    let sign =
        prop_oneof![Just(""), Just(" SIGN LEADING"), Just(" SIGN TRAILING SEPARATE"), Just(" SIGN LEADING SEPARATE")];
    prop_oneof![
        3 => (1usize..14).prop_map(Field::Text),
        1 => (1usize..8).prop_map(Field::JustText),
        2 => (1usize..10).prop_map(Field::Unsigned),
        2 => ((1usize..10), sign).prop_map(|(n, s)| Field::Signed(n, s)),
        1 => (1usize..12).prop_map(Field::Packed),
        1 => prop_oneof![Just(4usize), Just(9)].prop_map(Field::Binary),
        1 => (1u32..4).prop_map(Field::Table),
        1 => (1u32..4).prop_map(Field::Odo),
        1 => Just(Field::Redefines),
    ]
}

/// A small deterministic generator for values (the layout comes from proptest).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn number(&mut self, digits: usize, signed: bool) -> Value {
        let m = self.below(10u64.pow(digits as u32));
        let negative = signed && self.below(2) == 0;
        Value::from(if negative { -(m as i64) } else { m as i64 })
    }
    /// Text of at most `budget` bytes in the channel page (two per Hangul syllable in cp949).
    fn text(&mut self, budget: usize, korean: bool) -> String {
        const HANGUL: &str = "가나다라마바사아자차카타파하홍길동김이박최정강조윤장임한오서신권황";
        const LATIN: &str = "éüñçÀß";
        let mut s = String::new();
        let mut used = 0;
        let want = self.below(budget as u64 + 1) as usize;
        while used < want {
            let c = match self.below(4) {
                0 if korean && used + 2 <= want => HANGUL.chars().nth(self.below(34) as usize).unwrap_or('가'),
                0 if !korean => LATIN.chars().nth(self.below(6) as usize).unwrap_or('é'),
                1 if used > 0 => ' ',
                _ => (b'!' + self.below(94) as u8) as char,
            };
            used += if c as u32 > 0x7F && korean { 2 } else { 1 };
            s.push(c);
        }
        // Trailing spaces are the field's padding, in the codec's JSON as in COBOL.
        s.truncate(s.trim_end().len());
        s
    }
}

/// The copybook of `fields` and a JSON value for it.
fn layout(fields: &[Field], seed: u64, korean: bool) -> (String, Value) {
    let mut rng = Rng(seed);
    let mut text = String::from("       01 REC.\n");
    let mut obj = Map::new();
    let line = |text: &mut String, level: u8, body: String| text.push_str(&format!("           {level:02} {body}.\n"));
    for (i, f) in fields.iter().enumerate() {
        let name = format!("F{i}");
        match f {
            Field::Text(n) => {
                line(&mut text, 5, format!("{name} PIC X({n})"));
                obj.insert(name, Value::from(rng.text(*n, korean)));
            }
            Field::JustText(n) => {
                line(&mut text, 5, format!("{name} PIC X({n}) JUST RIGHT"));
                obj.insert(name, Value::from(rng.text(*n, korean).trim().to_string()));
            }
            Field::Unsigned(n) => {
                line(&mut text, 5, format!("{name} PIC 9({n})"));
                obj.insert(name, rng.number(*n, false));
            }
            Field::Signed(n, sign) => {
                line(&mut text, 5, format!("{name} PIC S9({n}){sign}"));
                obj.insert(name, rng.number(*n, true));
            }
            Field::Packed(n) => {
                line(&mut text, 5, format!("{name} PIC S9({n}) COMP-3"));
                obj.insert(name, rng.number(*n, true));
            }
            Field::Binary(n) => {
                line(&mut text, 5, format!("{name} PIC S9({n}) COMP"));
                obj.insert(name, rng.number(*n, true));
            }
            Field::Table(count) => {
                line(&mut text, 5, format!("{name} OCCURS {count} TIMES"));
                line(&mut text, 10, format!("{name}-T PIC X(4)"));
                line(&mut text, 10, format!("{name}-N PIC S9(3)"));
                let rows = (0..*count)
                    .map(|_| {
                        let mut row = Map::new();
                        row.insert(format!("{name}-T"), Value::from(rng.text(4, korean)));
                        row.insert(format!("{name}-N"), rng.number(3, true));
                        Value::Object(row)
                    })
                    .collect();
                obj.insert(name, Value::Array(rows));
            }
            Field::Odo(max) => {
                let n = rng.below(u64::from(*max) + 1);
                line(&mut text, 5, format!("{name}-C PIC 9(2)"));
                line(&mut text, 5, format!("{name} OCCURS 0 TO {max} TIMES DEPENDING ON {name}-C"));
                line(&mut text, 10, format!("{name}-T PIC X(5)"));
                obj.insert(format!("{name}-C"), Value::from(n));
                let rows = (0..n)
                    .map(|_| {
                        let mut row = Map::new();
                        row.insert(format!("{name}-T"), Value::from(rng.text(5, korean)));
                        Value::Object(row)
                    })
                    .collect();
                obj.insert(name, Value::Array(rows));
            }
            Field::Redefines => {
                line(&mut text, 5, format!("{name}-X PIC X(8)"));
                line(&mut text, 5, format!("{name}-D REDEFINES {name}-X PIC 9(8)"));
                line(&mut text, 5, format!("{name}-R REDEFINES {name}-X"));
                line(&mut text, 10, format!("{name}-Y PIC 9(4)"));
                line(&mut text, 10, format!("{name}-M PIC 9(4)"));
                line(&mut text, 5, format!("{name}-P PIC S9(7) COMP-3"));
                line(&mut text, 5, format!("{name}-B REDEFINES {name}-P PIC S9(8) COMP"));
                obj.insert(format!("{name}-X"), Value::from(rng.text(8, korean)));
                obj.insert(format!("{name}-P"), rng.number(7, true));
            }
        }
    }
    (text, Value::Object(obj))
}

fn codec(text: &str, page: CodePage) -> Codec {
    let book = parse_copybook(text, "gen.cpy", &NoCopy).unwrap_or_else(|e| panic!("{e}\n{text}"));
    Codec::new(&book.records[0], CodecOptions::for_codepage(page)).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// (channel page, host page)
const PAIRS: [(CodePage, CodePage); 5] = [
    (CodePage::Cp949, CodePage::Cp933),
    (CodePage::Cp949, CodePage::Cp1364),
    (CodePage::Ascii, CodePage::Cp037),
    (CodePage::Ascii, CodePage::Cp1047),
    (CodePage::Cp037, CodePage::Cp1047),
];

fn check(fields: &[Field], seed: u64, (a, b): (CodePage, CodePage)) -> Result<(), TestCaseError> {
    let korean = a == CodePage::Cp949;
    let (text, value) = layout(fields, seed, korean);
    let (ca, cb) = (codec(&text, a), codec(&text, b));
    let bytes_a = ca.encode_json(&value).unwrap_or_else(|e| panic!("{e}\n{text}\n{value}"));
    let to_b = Conversion::new(cb.plan(), a, b).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let to_a = Conversion::new(cb.plan(), b, a).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut out = Vec::new();
    let converted = to_b.convert(&bytes_a, &mut out);
    match cb.encode_json(&value) {
        Ok(bytes_b) => {
            prop_assert_eq!(converted, Ok(()), "{}\n{}", text, value);
            prop_assert_eq!(&out, &bytes_b, "{} → {}\n{}\n{}", a, b, text, value);
            let mut back = Vec::new();
            prop_assert_eq!(to_a.convert(&bytes_b, &mut back), Ok(()));
            prop_assert_eq!(&back, &bytes_a, "{} → {}\n{}\n{}", b, a, text, value);
        }
        Err(EncodeError::Field { path, cause: FieldError::Text(CharsetError::TooLong { len, .. }) }) => {
            // (The codec counts a value's trailing spaces; conversion knows them as padding.)
            match converted {
                Err(ConvertError::Field {
                    path: p,
                    cause: FieldError::Text(CharsetError::TooLong { needed: n, len: l }),
                    ..
                }) => {
                    prop_assert_eq!(p, path);
                    prop_assert!(l == len && n > len, "{} > {}", n, l);
                }
                other => prop_assert!(false, "expected {path} too long, got {other:?}\n{text}\n{value}"),
            }
            prop_assert!(out.is_empty(), "nothing written on error");
        }
        Err(e) => panic!("{b} cannot encode: {e}\n{text}\n{value}"),
    }
    Ok(())
}

#[test]
fn conversion_equals_encoding_under_the_other_page_and_round_trips() {
    let config = Config { cases: 400, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[15; 32]));
    let strategy = (proptest::collection::vec(field(), 1..7), any::<u64>(), 0..PAIRS.len());
    let too_long = std::cell::Cell::new(0);
    runner
        .run(&strategy, |(fields, seed, pair)| {
            let (text, value) = layout(&fields, seed, PAIRS[pair].0 == CodePage::Cp949);
            if codec(&text, PAIRS[pair].1).encode_json(&value).is_err() {
                too_long.set(too_long.get() + 1);
            }
            check(&fields, seed, PAIRS[pair])
        })
        .unwrap();
    // The SO/SI case must actually occur, or the test above proves nothing about it.
    let too_long = too_long.get();
    assert!(too_long > 5, "only {too_long} cases overflowed under SO/SI");
}

#[test]
fn korean_text_that_overflows_after_so_si_is_refused_naming_the_field() {
    // Three syllables fill six cp949 bytes; cp933 needs eight.
    let text = "       01 REC.\n           05 F0 PIC S9(3) COMP-3.\n           05 F1 PIC X(6).\n";
    let cb = codec(text, CodePage::Cp933);
    let src = [&[0x12, 0x3C][..], &[0xC8, 0xAB, 0xB1, 0xE6, 0xB5, 0xBF]].concat();
    let mut out = Vec::new();
    let e = Conversion::new(cb.plan(), CodePage::Cp949, CodePage::Cp933).unwrap().convert(&src, &mut out).unwrap_err();
    assert!(
        matches!(&e, ConvertError::Field { path, offset: 2, cause: FieldError::Text(CharsetError::TooLong { needed: 8, len: 6 }), .. } if path == "F1"),
        "{e}"
    );
    assert!(out.is_empty());
}
