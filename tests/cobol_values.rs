//! VALUE clauses on encode, against GnuCOBOL: a record whose storage starts from its VALUE
//! clauses (a fresh contained program) is written by `cobc`, and ficus must write the same
//! bytes from JSON that names none of the FILLERs — and, with `fill_missing`, none of the
//! named fields either.
//!
//! IBM Enterprise COBOL Language Reference, "VALUE clause": a numeric literal initializes a
//! numeric item as a MOVE would (in its usage: zoned, packed, binary); a figurative constant
//! fills the item (`ZERO` is the number zero in a numeric item, `0` characters in an
//! alphanumeric one); "If the VALUE clause is specified ... with OCCURS, ... each occurrence
//! is initialized"; `ALL literal` repeats the literal; an alphanumeric or hexadecimal literal
//! shorter than the item is padded with spaces on the right.

#[path = "support/cobol.rs"]
#[allow(dead_code)]
mod cobol;

use cobol::{hex, read_fixture, Oracle, Sign, Snap};
use ficus::codec::binary::ByteOrder;
use ficus::codec::charset::CodePage;
use ficus::codec::zoned::SignStyle;
use ficus::codec::{Codec, CodecOptions};
use ficus::copybook::{parse_copybook, NoCopy};
use serde_json::{json, Value};

/// ASCII records as GnuCOBOL writes them (IBM overpunch, little-endian COMP-5).
fn options(fill_missing: bool) -> CodecOptions {
    CodecOptions {
        sign_style: SignStyle::AsciiIbm,
        comp5_order: ByteOrder::Little,
        fill_missing,
        ..CodecOptions::for_codepage(CodePage::Ascii)
    }
}

fn codec(record: &str, fill_missing: bool) -> Codec {
    let book = parse_copybook(&read_fixture("values.cpy"), "values.cpy", &NoCopy).expect("values.cpy parses");
    Codec::new(book.record(Some(record)).expect("record"), options(fill_missing)).expect("compiles")
}

fn encode(codec: &Codec, value: &Value) -> Vec<u8> {
    codec.encode_json(value).unwrap_or_else(|e| panic!("encode {value}: {e}"))
}

fn same(what: &str, cobol: &[u8], ficus: &[u8]) {
    assert!(cobol == ficus, "{what}:\n  cobc:  {}\n  ficus: {}", hex(cobol), hex(ficus));
}

#[test]
fn filler_values_are_written_as_gnucobol_writes_them() {
    let snaps = [Snap::new("FILLERS-REC", &[] as &[&str]), Snap::new("USAGES-REC", &[] as &[&str])];
    let records = Oracle::new("values.cpy", Sign::Ebcdic).run(&snaps);
    // The record, spelled out: KRW10------ABABA000, X'005D', "AB  CDCDCD""".
    let mut want = b"KRW10------ABABA000".to_vec();
    want.extend([0x00, 0x5D]);
    want.extend(b"AB  CDCDCD\"\"");
    same("FILLERS-REC as the issue states it", &want, &records[0]);
    same("FILLERS-REC", &records[0], &encode(&codec("FILLERS-REC", false), &json!({})));
    same("USAGES-REC", &records[1], &encode(&codec("USAGES-REC", false), &json!({})));
    // Decoding shows no FILLER, so the bytes come back from an empty object.
    let (decoded, _) = codec("USAGES-REC", false).decode_json(&records[1]).expect("decodes");
    assert_eq!(decoded, json!({}));
}

#[test]
fn fill_missing_writes_named_values_and_defaults_as_gnucobol_initializes_them() {
    let snaps = [
        Snap::new("NAMED-REC", &[] as &[&str]),
        Snap::new("NAMED-REC", &["MOVE 'B002' TO NM-CODE", "MOVE 'XY' TO NM-TAB-X(2)", "MOVE 42 TO NM-PK"]),
    ];
    let records = Oracle::new("values.cpy", Sign::Ebcdic).run(&snaps);
    let filling = codec("NAMED-REC", true);
    same("NAMED-REC from {}", &records[0], &encode(&filling, &json!({})));
    let partial = json!({"NM-CODE": "B002", "NM-TAB": [{}, {"NM-TAB-X": "XY"}], "NM-PK": 42});
    same("NAMED-REC from a partial object", &records[1], &encode(&filling, &partial));
    // Strict (the default): the first field left out is named.
    let e = codec("NAMED-REC", false).encode_json(&partial).unwrap_err().to_string();
    assert_eq!(e, "NM-COUNT: missing");
    let e = codec("NAMED-REC", false).encode_json(&json!({})).unwrap_err().to_string();
    assert_eq!(e, "NM-CODE: missing");
}
