//! Tests of `codec::value`: VALUE bytes in EBCDIC and Korean code pages, national and DBCS
//! items, floats, and `fill_missing` over groups, tables, REDEFINES and DEPENDING ON.
use crate::codec::charset::CodePage;
use crate::codec::{Codec, CodecOptions};
use crate::copybook::{parse_copybook, NoCopy};
use serde_json::{json, Value};

fn codec(entries: &str, options: CodecOptions) -> Result<Codec, String> {
    let text: String = entries.lines().map(|l| format!("           {}\n", l.trim())).collect();
    let book = parse_copybook(&format!("       01 R.\n{text}"), "t.cpy", &NoCopy).map_err(|e| e.to_string())?;
    Codec::new(book.record(None).expect("record"), options).map_err(|e| e.to_string())
}

fn bytes(entries: &str, options: CodecOptions, value: Value) -> Vec<u8> {
    codec(entries, options).unwrap().encode_json(&value).unwrap()
}

fn cp(page: CodePage) -> CodecOptions {
    CodecOptions::for_codepage(page)
}

#[test]
fn ebcdic_fillers() {
    let got = bytes(
        "05 FILLER PIC X(3) VALUE 'KRW'.
         05 FILLER PIC 9(2) VALUE 10.
         05 FILLER PIC X(4) VALUE ALL 'AB'.
         05 FILLER PIC S9(3) VALUE -5.
         05 FILLER PIC X(3) VALUE X'C1'.
         05 FILLER PIC X(2) VALUE QUOTES.
         05 FILLER PIC X(2) VALUE ZEROS.
         05 FILLER PIC S9(3) COMP-3 VALUE ZERO.",
        cp(CodePage::Cp037),
        json!({}),
    );
    let want: &[u8] = &[
        0xD2, 0xD9, 0xE6, 0xF1, 0xF0, 0xC1, 0xC2, 0xC1, 0xC2, 0xF0, 0xF0, 0xD5, 0xC1, 0x40, 0x40, 0x7F, 0x7F, 0xF0,
        0xF0, 0x00, 0x0C,
    ];
    assert_eq!(got, want);
}

#[test]
fn national_dbcs_and_korean_text() {
    let national =
        bytes("05 FILLER PIC N(3) VALUE N'AB'.\n05 FILLER PIC N(2) VALUE ALL N'Z'.", cp(CodePage::Cp037), json!({}));
    assert_eq!(national, [0, 0x41, 0, 0x42, 0, 0x20, 0, 0x5A, 0, 0x5A]);
    // ALL of a double-byte literal repeats whole copies only; the rest is spaces.
    let dbcs = bytes("05 FILLER PIC G(3) VALUE ALL G'가'.", cp(CodePage::Cp933), json!({}));
    assert_eq!(dbcs, [0x88, 0x61, 0x88, 0x61, 0x88, 0x61]);
    let mixed = bytes("05 FILLER PIC X(9) VALUE ALL '가'.", cp(CodePage::Cp933), json!({}));
    assert_eq!(mixed, [0x0E, 0x88, 0x61, 0x0F, 0x0E, 0x88, 0x61, 0x0F, 0x40]);
    let cp949 = bytes("05 FILLER PIC X(5) VALUE ALL '가'.", cp(CodePage::Cp949), json!({}));
    assert_eq!(cp949, [0xB0, 0xA1, 0xB0, 0xA1, 0x20]);
}

#[test]
fn floats_and_binary() {
    let got = bytes(
        "05 FILLER COMP-1 VALUE 1.
         05 FILLER PIC S9(4) COMP VALUE -1.
         05 FILLER PIC 9(4) COMP-5 VALUE 65535.
         05 FILLER PIC X(2) VALUE HIGH-VALUES.
         05 FILLER PIC X(2) VALUE LOW-VALUE.",
        cp(CodePage::Cp037),
        json!({}),
    );
    assert_eq!(got, [0x41, 0x10, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0]);
}

#[test]
fn a_value_the_field_cannot_hold_is_refused_naming_it() {
    // Refused when the layout is loaded (copybook::build::value), named field or FILLER, with
    // or without fill_missing: `ficus layout` refuses exactly what decode and encode refuse.
    let fill = CodecOptions { fill_missing: true, ..cp(CodePage::Cp037) };
    for options in [cp(CodePage::Cp037), fill] {
        let e = codec("05 FILLER PIC 9(3) VALUE 1000.", options).unwrap_err();
        assert!(e.contains("FILLER: VALUE 1000") && e.contains("needs 4 digits, the picture has 3"), "{e}");
        let e = codec("05 N PIC 9(3) VALUE -1.", options).unwrap_err();
        assert!(e.contains("N: VALUE -1") && e.contains("signed picture"), "{e}");
    }
}

#[test]
fn fill_missing_fills_groups_tables_and_the_first_redefines_view() {
    let fill = CodecOptions { fill_missing: true, ..cp(CodePage::Ascii) };
    let entries = "05 A PIC X(2) VALUE 'AA'.
                   05 B REDEFINES A PIC 9(2).
                   05 N PIC 9 VALUE 2.
                   05 T OCCURS 0 TO 3 TIMES DEPENDING ON N.
                      10 T-X PIC X VALUE 'x'.
                      10 T-N PIC 9.
                   05 G.
                      10 G-S PIC S9(3)V9 COMP-3.
                   05 E PIC X OCCURS 2 VALUE 'e'.";
    assert_eq!(bytes(entries, fill, json!({})), b"AA2x0x0\x00\x00\x0Cee");
    // What the JSON has is written; only what it leaves out is filled.
    assert_eq!(
        bytes(entries, fill, json!({"B": 12, "N": 1, "T": [{"T-N": 7}], "E": [null, "f"]})),
        b"121x7\x00\x00\x0Cef"
    );
    let strict = codec(entries, cp(CodePage::Ascii)).unwrap();
    assert_eq!(strict.encode_json(&json!({"B": 12})).unwrap_err().to_string(), "N: missing");
    assert_eq!(strict.encode_json(&json!({})).unwrap_err().to_string(), "A: missing");
}

/// `VALUE HIGH-VALUES` on a COMP-3 item is allowed (IBM, GnuCOBOL: X'FFFF' in S9(3) COMP-3);
/// encode writes those bytes, and decode says the field holds HIGH-VALUES (null with lenient)
/// instead of a bare "invalid digit". LOW-VALUES alike, and in a zoned field.
#[test]
fn high_values_in_a_numeric_field_are_named_on_decode() {
    let entries = "05 P PIC S9(3) COMP-3 VALUE HIGH-VALUES.\n05 Z PIC 9(2) VALUE LOW-VALUES.";
    let fill = CodecOptions { fill_missing: true, ..cp(CodePage::Cp037) };
    let bytes = bytes(entries, fill, json!({}));
    assert_eq!(bytes, [0xFF, 0xFF, 0x00, 0x00]);
    let e = codec(entries, cp(CodePage::Cp037)).unwrap().decode_json(&bytes).unwrap_err().to_string();
    assert!(e.contains("P") && e.contains("holds HIGH-VALUES (X'FFFF'), not a number"), "{e}");
    let lenient = CodecOptions { lenient: true, ..cp(CodePage::Cp037) };
    let (v, _) = codec(entries, lenient).unwrap().decode_json(&bytes).unwrap();
    assert_eq!(v, json!({"P": null, "Z": null}));
    let e = codec("05 Z PIC 9(2).", cp(CodePage::Cp037)).unwrap().decode_json(&[0, 0]).unwrap_err().to_string();
    assert!(e.contains("holds LOW-VALUES (X'0000')"), "{e}");
}

/// A numeric literal starting with a point (`.5`, `+.5`, `-.5`) and floating-point literals in
/// COMP-1/COMP-2, against the bytes GnuCOBOL writes (`tests/cobol_values.rs` runs cobc on the
/// same; here the expected bytes are fixed): `PIC S9(3)V9 COMP VALUE -.5` is X'FFFB'.
#[test]
fn point_first_and_floating_point_literals() {
    let got = bytes(
        "05 FILLER PIC S9(3)V9 COMP VALUE -.5.
         05 FILLER PIC 9V9 VALUE .5.
         05 FILLER PIC S9V9 VALUE +.5.
         05 FILLER COMP-2 VALUE 1.5E1.
         05 FILLER COMP-1 VALUE -2.5E-1.",
        cp(CodePage::Cp037),
        json!({}),
    );
    let want: &[u8] = &[0xFF, 0xFB, 0xF0, 0xF5, 0xF0, 0xC5, 0x41, 0xF0, 0, 0, 0, 0, 0, 0, 0xC0, 0x40, 0, 0];
    assert_eq!(got, want);
}
