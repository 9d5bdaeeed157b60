//! The flat writer writes the walk's JSON text, length and error, byte for byte: over a layout
//! with every container the walk knows (groups, tables of values and of groups, a REDEFINES
//! view, FILLER), valid, damaged in every byte, and cut short; and only for layouts that do
//! not move.

use super::*;
use crate::codec::charset::CodePage;
use crate::codec::{Codec, CodecOptions};
use crate::copybook::{parse_copybook, NoCopy};

const LAYOUT: &str = "\
       01  REC.
           05  R-ID            PIC X(6).
           05  R-AMT           PIC S9(5)V99 COMP-3.
           05  R-CNT           PIC 9(3).
           05  R-BAL           PIC S9(4)V9.
           05  R-NAME.
               10  R-FIRST     PIC X(5).
               10  R-LAST      PIC X(5) JUST RIGHT.
           05  FILLER          PIC X(2).
           05  R-CODES         PIC X(2) OCCURS 3 TIMES.
           05  R-ROWS OCCURS 2 TIMES.
               10  R-DAY       PIC 9(2).
               10  R-SEQ       PIC S9(4) COMP.
           05  R-AREA          PIC X(4).
           05  R-VIEW REDEFINES R-AREA.
               10  R-NUM       PIC 9(4).
           05  R-RATE          COMP-2.
";

fn codec(text: &str, page: CodePage, lenient: bool) -> Codec {
    let book = parse_copybook(text, "t.cpy", &NoCopy).expect("parses");
    let options = CodecOptions { lenient, ..CodecOptions::for_codepage(page) };
    Codec::new(book.record(None).expect("a record"), options).expect("compiles")
}

/// The walk's text and result for `bytes`.
fn walk(codec: &Codec, bytes: &[u8]) -> (String, Result<usize, DecodeError>) {
    let mut out = String::from("[");
    let result = codec.plan().decode(bytes, &mut JsonWriter::new(&mut out), &mut Scratch::default());
    (out, result)
}

/// The fast path's text and result for `bytes` (after the same prefix, which it must keep).
fn flat(codec: &Codec, bytes: &[u8]) -> (String, Result<usize, DecodeError>) {
    let mut out = String::from("[");
    let result = codec.decode_json_text(bytes, &mut out, &mut Scratch::default());
    (out, result)
}

fn valid_record(page: CodePage) -> Vec<u8> {
    let value = serde_json::json!({
        "R-ID": "A\"1\\", "R-AMT": -123.45, "R-CNT": 7, "R-BAL": -12.5,
        "R-NAME": { "R-FIRST": "KIM", "R-LAST": "MIN" }, "R-CODES": ["AB", "", "Z"],
        "R-ROWS": [{ "R-DAY": 1, "R-SEQ": -2 }, { "R-DAY": 31, "R-SEQ": 9999 }],
        "R-AREA": "0042", "R-RATE": 1.5
    });
    codec(LAYOUT, page, false).encode_json(&value).expect("encodes")
}

#[test]
fn the_flat_text_is_the_walks_for_every_byte_damaged() {
    for page in [CodePage::Ascii, CodePage::Cp037, CodePage::Cp933] {
        let record = valid_record(page);
        for lenient in [false, true] {
            let codec = codec(LAYOUT, page, lenient);
            assert!(codec.flat().is_some(), "a layout without DEPENDING ON is flattened");
            let (text, result) = flat(&codec, &record);
            assert_eq!((&text, &result), (&walk(&codec, &record).0, &walk(&codec, &record).1));
            assert!(result.is_ok(), "{result:?}");
            for at in 0..record.len() {
                for byte in [0x00, 0x0E, 0x22, 0x40, 0x5C, 0x60, 0xC1, 0xD3, 0xF5, 0xFF] {
                    let mut damaged = record.clone();
                    damaged[at] = byte;
                    assert_eq!(flat(&codec, &damaged), walk(&codec, &damaged), "{page:?} byte {at} = {byte:#04x}");
                }
            }
            for len in 0..record.len() + 3 {
                let mut cut = record.clone();
                cut.resize(len, 0x40);
                assert_eq!(flat(&codec, &cut), walk(&codec, &cut), "{page:?} cut to {len}");
            }
        }
    }
}

#[test]
fn a_moving_layout_is_left_to_the_walk() {
    let moving = "       01 R.\n           05 N PIC 9.\n           05 T PIC X OCCURS 0 TO 3 DEPENDING ON N.\n";
    let codec = codec(moving, CodePage::Ascii, false);
    assert!(codec.flat().is_none());
    assert_eq!(flat(&codec, b"2AB").0, "[{\"N\":2,\"T\":[\"A\",\"B\"]}");
}

#[test]
fn a_layout_of_only_filler_is_an_empty_object() {
    let codec = codec("       01 R.\n           05 FILLER PIC X(3).\n", CodePage::Ascii, false);
    assert_eq!(flat(&codec, b"abc"), ("[{}".to_string(), Ok(3)));
    assert!(matches!(flat(&codec, b"ab").1, Err(DecodeError::Short { .. })));
}

#[test]
fn a_layout_too_large_to_unroll_is_left_to_the_walk() {
    let fields = format!("       01 R.\n           05 T PIC 9 OCCURS {MAX_FLAT_FIELDS}.\n");
    assert!(codec(&fields, CodePage::Ascii, false).flat().is_some(), "at the field limit");
    let fields = format!("       01 R.\n           05 T PIC 9 OCCURS {}.\n", MAX_FLAT_FIELDS + 1);
    assert!(codec(&fields, CodePage::Ascii, false).flat().is_none(), "beyond the field limit");
    // Groups of only FILLER hold no field, but their keys are text: 60,000 of them, 20 bytes each.
    let keys = "       01 R.\n           05 T OCCURS 60000.\n              10 A-LONG-GROUP-NAME.\n                 15 FILLER PIC X.\n";
    let codec = codec(keys, CodePage::Ascii, false);
    assert!(codec.flat().is_none(), "beyond the text limit");
    let (text, result) = flat(&codec, &vec![b' '; 60_000]);
    assert_eq!(result, Ok(60_000));
    assert!(text.starts_with("[{\"T\":[{\"A-LONG-GROUP-NAME\":{}},{"), "{}", &text[..40]);
}
