//! Unit and property tests that need no external tool (the iconv checks are in
//! `oracle_tests`).

use proptest::prelude::*;

use super::{dbcs, CharsetError, CodePage, Overflow};

const SINGLE: [CodePage; 3] = [CodePage::Ascii, CodePage::Cp037, CodePage::Cp1047];

fn decode(page: CodePage, bytes: &[u8]) -> Result<String, CharsetError> {
    let mut s = String::new();
    page.decode_into(bytes, &mut s).map(|()| s)
}

fn encode(page: CodePage, text: &str, len: usize, overflow: Overflow) -> Result<Vec<u8>, CharsetError> {
    let mut dst = vec![0xAA; len];
    page.encode_into(text, &mut dst, overflow).map(|()| dst)
}

fn invalid(page: CodePage, offset: usize) -> Result<String, CharsetError> {
    Err(CharsetError::InvalidBytes { codepage: page.name(), offset })
}

#[test]
fn names_and_aliases() {
    for page in CodePage::ALL {
        assert_eq!(CodePage::from_name(page.name()), Ok(page));
        assert_eq!(page.to_string().parse::<CodePage>(), Ok(page));
    }
    for (name, page) in [
        ("ASCII", CodePage::Ascii),
        ("IBM037", CodePage::Cp037),
        ("ibm-037", CodePage::Cp037),
        ("ibm-37", CodePage::Cp037),
        ("Cp1047", CodePage::Cp1047),
        ("EUC-KR", CodePage::Cp949),
        ("ms949", CodePage::Cp949),
        ("uhc", CodePage::Cp949),
        ("ibm933", CodePage::Cp933),
        ("IBM-1364", CodePage::Cp1364),
        ("ccsid1364", CodePage::Cp1364),
    ] {
        assert_eq!(CodePage::from_name(name), Ok(page), "{name}");
    }
    for bad in ["", "cp", "ibm-", "cp500", "utf-8", "cp0037x", "ebcdic"] {
        assert_eq!(CodePage::from_name(bad), Err(CharsetError::Unknown(bad.into())));
    }
}

#[test]
fn single_byte_pages_are_bijections() {
    for page in SINGLE {
        let mut seen = std::collections::HashSet::new();
        for b in 0..=255u8 {
            let text = decode(page, &[b]).unwrap();
            let mut chars = text.chars();
            let c = chars.next().unwrap();
            assert_eq!(chars.next(), None);
            assert!(u32::from(c) <= 0xFF, "{page}: {b:#04X} -> {c:?}");
            assert!(seen.insert(c), "{page}: two bytes for {c:?}");
            assert_eq!(page.byte_of(c), Some(b));
            assert_eq!(encode(page, &text, 1, Overflow::Error).unwrap(), [b]);
        }
        let all: Vec<u8> = (0..=255).collect();
        let text = decode(page, &all).unwrap();
        assert_eq!(encode(page, &text, 256, Overflow::Error).unwrap(), all);
    }
}

#[test]
fn known_single_bytes() {
    let hello = "Hello, [World] 0123456789 +-";
    let cp037 = decode(CodePage::Cp037, &encode(CodePage::Cp037, hello, 40, Overflow::Error).unwrap());
    assert_eq!(cp037.unwrap(), format!("{hello:<40}"));
    assert_eq!(encode(CodePage::Cp037, "A0[", 4, Overflow::Error).unwrap(), [0xC1, 0xF0, 0xBA, 0x40]);
    assert_eq!(encode(CodePage::Cp1047, "A0[", 4, Overflow::Error).unwrap(), [0xC1, 0xF0, 0xAD, 0x40]);
    assert_eq!(encode(CodePage::Ascii, "é", 2, Overflow::Error).unwrap(), [0xE9, 0x20]);
    assert_eq!(decode(CodePage::Ascii, &[0x41, 0xE9, 0x80]).unwrap(), "Aé\u{80}");
    for page in CodePage::ALL {
        let expect: &[u8] = if page.is_ebcdic() { b"\xF0\xF9\x4E\x60\x40" } else { b"09+- " };
        let got: Vec<u8> = "09+- ".chars().map(|c| page.byte_of(c).unwrap()).collect();
        assert_eq!(got, expect, "{page}");
        assert_eq!(page.byte_of('가'), None);
        assert_eq!(page.space(), expect[4]);
    }
}

#[test]
fn decode_appends_without_trimming() {
    for page in CodePage::ALL {
        let mut s = String::from("x");
        let bytes = [page.space(); 3];
        page.decode_into(&bytes, &mut s).unwrap();
        assert_eq!(s, "x   ");
    }
}

#[test]
fn long_fields_cross_chunks() {
    let text: String = "ÀBC déf 123 ".repeat(100);
    for page in SINGLE {
        let bytes = encode(page, &text, text.chars().count(), Overflow::Error).unwrap();
        assert_eq!(decode(page, &bytes).unwrap(), text);
    }
}

#[test]
fn korean_known_bytes() {
    let text = "ABC 김철수 123";
    let ebcdic = b"\xC1\xC2\xC3\x40\x0E\x8B\xB1\xC0\xE9\xAE\x81\x0F\x40\xF1\xF2\xF3";
    for page in [CodePage::Cp933, CodePage::Cp1364] {
        assert_eq!(encode(page, text, 16, Overflow::Error).unwrap(), ebcdic);
        assert_eq!(decode(page, ebcdic).unwrap(), text);
    }
    assert_eq!(encode(CodePage::Cp949, "홍길동", 7, Overflow::Error).unwrap(), b"\xC8\xAB\xB1\xE6\xB5\xBF ");
    assert_eq!(decode(CodePage::Cp949, b"\xC8\xAB\xB1\xE6\xB5\xBF").unwrap(), "홍길동");
    // 똠 is in cp1364's repertoire only.
    assert_eq!(encode(CodePage::Cp1364, "똠", 4, Overflow::Error).unwrap(), b"\x0E\x99\xB1\x0F");
    let unmappable = CharsetError::Unmappable { ch: '똠', codepage: "cp933" };
    assert_eq!(encode(CodePage::Cp933, "똠", 4, Overflow::Error), Err(unmappable));
    assert_eq!(decode(CodePage::Cp933, b"\x0E\x99\xB1\x0F"), invalid(CodePage::Cp933, 1));
}

#[test]
fn korean_tables_and_ascii() {
    assert_eq!(dbcs::cp933().repertoire().len(), 10_757);
    assert_eq!(dbcs::cp1364().repertoire().len(), 19_551);
    // Every ASCII character but U+000E/U+000F (their bytes are SO/SI) has a single byte.
    let ascii: String = ('\0'..='\x7F').filter(|c| !matches!(c, '\x0E' | '\x0F')).collect();
    for page in [CodePage::Cp933, CodePage::Cp1364] {
        let unmappable = CharsetError::Unmappable { ch: '\x0E', codepage: page.name() };
        assert_eq!(encode(page, "\x0E", 4, Overflow::Error), Err(unmappable));
        assert_eq!(page.byte_of('\x0F'), None);
        let bytes = encode(page, &ascii, 126, Overflow::Error).unwrap();
        assert!(!bytes.contains(&0x0E) && !bytes.contains(&0x0F));
        assert_eq!(decode(page, &bytes).unwrap(), ascii);
        assert_eq!(page.byte_of('₩'), Some(0xE0));
        assert_eq!(page.byte_of('\u{FFA0}'), Some(0x42));
    }
}

#[test]
fn dbcs_truncation_keeps_pairs_and_closes_runs() {
    // 가 8861, 나 9061, 다 9461: SO + 2 per char + SI.
    let cases: [(usize, &[u8]); 9] = [
        (0, b""),
        (1, b"\x40"),
        (3, b"\x40\x40\x40"),
        (4, b"\x0E\x88\x61\x0F"),
        (5, b"\x0E\x88\x61\x0F\x40"),
        (6, b"\x0E\x88\x61\x90\x61\x0F"),
        (7, b"\x0E\x88\x61\x90\x61\x0F\x40"),
        (8, b"\x0E\x88\x61\x90\x61\x94\x61\x0F"),
        (9, b"\x0E\x88\x61\x90\x61\x94\x61\x0F\x40"),
    ];
    for page in [CodePage::Cp933, CodePage::Cp1364] {
        for (len, want) in cases {
            assert_eq!(encode(page, "가나다", len, Overflow::Truncate).unwrap(), want, "{len}");
            let err = encode(page, "가나다", len, Overflow::Error);
            if len < 8 {
                assert_eq!(err, Err(CharsetError::TooLong { needed: 8, len }));
            }
        }
        // A single byte after a run needs SI + byte; a run is closed in the last byte.
        assert_eq!(encode(page, "가A", 5, Overflow::Truncate).unwrap(), b"\x0E\x88\x61\x0F\xC1");
        assert_eq!(encode(page, "가A", 4, Overflow::Truncate).unwrap(), b"\x0E\x88\x61\x0F");
        assert_eq!(encode(page, "A가", 4, Overflow::Truncate).unwrap(), b"\xC1\x40\x40\x40");
        assert_eq!(encode(page, "A가", 5, Overflow::Truncate).unwrap(), b"\xC1\x0E\x88\x61\x0F");
        assert_eq!(encode(page, "가 나", 9, Overflow::Error).unwrap(), b"\x0E\x88\x61\x0F\x40\x0E\x90\x61\x0F");
    }
}

#[test]
fn cp949_truncation_never_splits() {
    let p = CodePage::Cp949;
    assert_eq!(encode(p, "가나다", 5, Overflow::Truncate).unwrap(), b"\xB0\xA1\xB3\xAA ");
    assert_eq!(encode(p, "가나다", 1, Overflow::Truncate).unwrap(), b" ");
    assert_eq!(encode(p, "a가", 2, Overflow::Truncate).unwrap(), b"a ");
    assert_eq!(encode(p, "가나다", 5, Overflow::Error), Err(CharsetError::TooLong { needed: 6, len: 5 }));
    assert_eq!(encode(p, "abc", 2, Overflow::Error), Err(CharsetError::TooLong { needed: 3, len: 2 }));
}

#[test]
fn single_byte_overflow() {
    for page in SINGLE {
        let sp = page.space();
        assert_eq!(
            encode(page, "ABCD", 2, Overflow::Truncate).unwrap(),
            encode(page, "AB", 2, Overflow::Error).unwrap()
        );
        assert_eq!(encode(page, "ÀBCD", 3, Overflow::Error), Err(CharsetError::TooLong { needed: 4, len: 3 }));
        assert_eq!(encode(page, "", 2, Overflow::Error).unwrap(), [sp, sp]);
    }
}

#[test]
fn unmappable_anywhere_is_an_error() {
    for page in CodePage::ALL {
        let err = Err(CharsetError::Unmappable { ch: '😀', codepage: page.name() });
        assert_eq!(encode(page, "A😀", 8, Overflow::Error), err, "{page}");
        // Also past the cut of a truncation.
        assert_eq!(encode(page, "AB😀", 1, Overflow::Truncate), err, "{page}");
    }
    let err = Err(CharsetError::Unmappable { ch: 'é', codepage: "cp933" });
    assert_eq!(encode(CodePage::Cp933, "é", 4, Overflow::Error), err);
}

#[test]
fn invalid_bytes_have_offsets() {
    use CodePage::{Cp1364, Cp933, Cp949};
    for p in [Cp933, Cp1364] {
        assert_eq!(decode(p, b"\xC1\xC2\x41"), invalid(p, 2), "no single-byte character at 0x41");
        assert_eq!(decode(p, b"\xC1\x0E\x88\x61\x0F\x0E\x88"), invalid(p, 6), "odd byte at end");
        assert_eq!(decode(p, b"\x0E\x88\x61\x88\x0F"), invalid(p, 3), "odd byte before SI");
        assert_eq!(decode(p, b"\x0E\x88\x61"), invalid(p, 3), "SI missing at the field end");
        assert_eq!(decode(p, b"\x0E\x41\x40\x0F"), invalid(p, 1), "unmapped pair");
        assert_eq!(decode(p, b"\x0E\x20\x20\x0F"), invalid(p, 1), "control bytes in a run");
        // Shift bytes that do not change the mode are tolerated.
        assert_eq!(decode(p, b"\x0F\xC1\x0E\x0F\x0E\x0E\x40\x40\x0F").unwrap(), "A\u{3000}");
    }
    assert_eq!(decode(Cp949, b"ab\x80"), invalid(Cp949, 2));
    assert_eq!(decode(Cp949, b"\xB0\xA1\xB0"), invalid(Cp949, 2));
    assert_eq!(decode(Cp949, b"\xB0\xA1\xB0\x20x"), invalid(Cp949, 2));
    assert_eq!(decode(Cp949, b"\xFF\xB0\xA1"), invalid(Cp949, 0));
    let mut out = String::from("kept");
    assert!(Cp933.decode_into(b"\xC1\x0E\x88", &mut out).is_err());
    assert_eq!(out, "kept", "out is restored on error");
}

fn any_page() -> impl Strategy<Value = CodePage> {
    prop::sample::select(CodePage::ALL.to_vec())
}

proptest! {
    #[test]
    fn decode_never_panics(page in any_page(), bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = decode(page, &bytes);
    }

    #[test]
    fn single_byte_round_trip(page in prop::sample::select(SINGLE.to_vec()), bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let text = decode(page, &bytes).unwrap();
        prop_assert_eq!(encode(page, &text, bytes.len(), Overflow::Error).unwrap(), bytes);
    }

    #[test]
    fn encode_fits_and_decodes_back(page in any_page(), text in "[ -~가-힣一-龥À-ÿ\u{3000}-\u{30ff}]{0,40}", len in 0usize..64) {
        match encode(page, &text, len, Overflow::Truncate) {
            Ok(bytes) => {
                prop_assert_eq!(bytes.len(), len);
                let back = decode(page, &bytes).unwrap();
                let trimmed = back.trim_end_matches(' ');
                prop_assert!(text.starts_with(trimmed), "{:?} not a prefix of {:?}", back, text);
                if let Ok(full) = encode(page, &text, len, Overflow::Error) {
                    prop_assert_eq!(&full, &bytes);
                    let pad = back.strip_prefix(text.as_str());
                    prop_assert!(pad.is_some_and(|p| p.bytes().all(|b| b == b' ')), "{:?}", back);
                }
            }
            Err(CharsetError::Unmappable { .. }) => {}
            Err(e) => prop_assert!(false, "{e}"),
        }
    }
}

#[test]
fn cp949_text_that_exactly_fills_its_field_after_a_double_byte_character_fits() {
    // encoding_rs stops with "output full" before a last ASCII character when fewer than two
    // bytes are left; the field still has room for it.
    for text in ["k조6", "조6", "가나a", "a가b"] {
        let len = text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
        let mut dst = vec![0u8; len];
        CodePage::Cp949.encode_into(text, &mut dst, Overflow::Error).unwrap_or_else(|e| panic!("{text}: {e}"));
        let mut back = String::new();
        CodePage::Cp949.decode_into(&dst, &mut back).unwrap();
        assert_eq!(back, text);
        let mut short = vec![0u8; len - 1];
        assert_eq!(
            CodePage::Cp949.encode_into(text, &mut short, Overflow::Error),
            Err(CharsetError::TooLong { needed: len, len: len - 1 })
        );
        // Cut as MOVE cuts: every whole character that fits, then spaces.
        CodePage::Cp949.encode_into(text, &mut short, Overflow::Truncate).unwrap();
        let mut cut = String::new();
        CodePage::Cp949.decode_into(&short, &mut cut).unwrap();
        let mut want: String = String::new();
        let mut used = 0;
        for c in text.chars() {
            let n = if c.is_ascii() { 1 } else { 2 };
            if used + n > len - 1 {
                break;
            }
            used += n;
            want.push(c);
        }
        assert_eq!(cut.trim_end(), want, "{text}");
    }
}

/// Bytes a text field is made of when padding is what matters: both pages' spaces, the
/// no-break space of each, SO/SI, a Hangul pair's bytes, the DBCS space (0x40 0x40 in SO…SI).
fn padded_field() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        4 => prop::sample::select(vec![0x20u8, 0x40, 0x41, 0xA0, 0x0E, 0x0F, 0xC1, 0x88, 0xA1, 0xB0]),
        1 => any::<u8>(),
    ];
    prop::collection::vec(byte, 0..48)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]
    /// The decoder trims a field's padding on its bytes where a page has a one-byte space of
    /// its own; what a sink gets is the text trimmed as text would be (JUST RIGHT: both ends),
    /// on every page, and an invalid field is invalid either way.
    #[test]
    fn trimming_bytes_is_trimming_text(
        page in any_page(),
        core in padded_field(),
        (lead, trail) in (0usize..20, 0usize..20),
        justified in any::<bool>(),
    ) {
        // Runs of padding long enough for the word-at-a-time trim, on either side.
        let mut bytes = vec![page.space(); lead];
        bytes.extend_from_slice(&core);
        bytes.resize(bytes.len() + trail, page.space());
        use crate::codec::{Codec, CodecOptions};
        use crate::copybook::{parse_copybook, NoCopy};
        let just = if justified { " JUST RIGHT" } else { "" };
        let text = format!("       01  R.\n           05  F PIC X({}){just}.\n", bytes.len().max(1));
        let book = parse_copybook(&text, "t.cpy", &NoCopy).unwrap();
        let options = CodecOptions { codepage: page, ..CodecOptions::default() };
        let codec = Codec::new(book.record(None).unwrap(), options).unwrap();
        let mut field = bytes.clone();
        field.resize(bytes.len().max(1), page.space());
        let mut json = String::new();
        let got = codec.decode_json_text(&field, &mut json, &mut crate::codec::Scratch::default());
        match decode(page, &field) {
            Ok(full) => {
                let t = full.trim_end_matches(' ');
                let t = if justified { t.trim_start_matches(' ') } else { t };
                prop_assert!(got.is_ok(), "{page:?} {field:02X?}: {got:?}");
                let value: serde_json::Value = serde_json::from_str(&json).unwrap();
                prop_assert_eq!(value["F"].as_str(), Some(t), "{:?} {:02X?}", page, field);
            }
            // The same cause at the same offset: trimming never moves an error.
            Err(e) => {
                use crate::codec::{DecodeError, FieldError};
                let same = matches!(&got, Err(DecodeError::Field { cause: FieldError::Text(c), .. }) if *c == e);
                prop_assert!(same, "{:?} {:02X?}: {:?}, expected {:?}", page, field, got, e);
            }
        }
    }
}
