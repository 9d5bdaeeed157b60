//! Conversion examples: a header and an XFER-like body with a Hangul name (checked against
//! glibc `iconv`), zoned signs, REDEFINES, DEPENDING ON, FILLER, PIC G, and every error naming
//! its field.

use super::*;
use crate::codec::charset::CharsetError;
use crate::codec::decode::FieldError;
use crate::codec::{Codec, CodecOptions, DecodeError};
use crate::copybook::{parse_copybook, NoCopy};
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};
use CodePage::*;

fn record(text: &str) -> crate::copybook::Record {
    let text: String = text.lines().map(|l| format!("       {l}\n")).collect();
    parse_copybook(&text, "t.cpy", &NoCopy).expect("parses").records.remove(0)
}

fn codec(text: &str, page: CodePage) -> Codec {
    Codec::new(&record(text), CodecOptions::for_codepage(page)).expect("compiles")
}

fn conversion(text: &str, from: CodePage, to: CodePage) -> Result<Conversion, ConvertPlanError> {
    // The plan is compiled for the EBCDIC side, as the gateway compiles it for the host.
    let host = if from.is_ebcdic() { from } else { to };
    Conversion::new(codec(text, host).plan(), from, to)
}

fn convert(c: &Conversion, src: &[u8]) -> Result<Vec<u8>, ConvertError> {
    let mut out = Vec::new();
    c.convert(src, &mut out).map(|()| out)
}

/// `iconv -f from -t to` of `input`.
fn iconv(from: &str, to: &str, input: &[u8]) -> Vec<u8> {
    let mut child = Command::new("iconv")
        .args(["-f", from, "-t", to])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run `iconv` ({e}): this test needs glibc's iconv (Debian libc-bin)"));
    child.stdin.take().expect("stdin").write_all(input).expect("write to iconv");
    let out = child.wait_with_output().expect("iconv output");
    assert!(out.status.success(), "iconv -f {from} -t {to} failed");
    out.stdout
}

const HEADER: &str = "01 HDR.
   05 HDR-MSG-LEN PIC 9(6).
   05 HDR-TRAN-CODE PIC X(8).
   05 HDR-SEQ-NO PIC 9(10).
   05 HDR-RESP-CODE PIC X(4).
   05 HDR-RESP-MSG PIC X(40).";

const XFER: &str = "01 XFER-REQ.
   05 FROM-ACCT PIC X(16).
   05 FROM-NAME PIC X(20).
   05 AMOUNT PIC S9(11)V99 COMP-3.
   05 FEE PIC S9(5)V99.
   05 MEMO PIC X(20).";

fn header_json() -> Value {
    json!({ "HDR-MSG-LEN": 0, "HDR-TRAN-CODE": "XFER", "HDR-SEQ-NO": 42, "HDR-RESP-CODE": "",
            "HDR-RESP-MSG": "이체 완료" })
}

fn xfer_json() -> Value {
    json!({ "FROM-ACCT": "1002003004005", "FROM-NAME": "홍길동", "AMOUNT": "-1234567.89",
            "FEE": "-5.50", "MEMO": "월세 3월분" })
}

#[test]
fn an_xfer_with_a_hangul_name_converts_cp949_to_cp933_and_back_exactly() {
    for host in [Cp933, Cp1364] {
        let (h949, b949) = (codec(HEADER, Cp949), codec(XFER, Cp949));
        let (hhost, bhost) = (codec(HEADER, host), codec(XFER, host));
        let mut msg = h949.encode_json(&header_json()).unwrap();
        msg.extend(b949.encode_json(&xfer_json()).unwrap());
        let mut want = hhost.encode_json(&header_json()).unwrap();
        want.extend(bhost.encode_json(&xfer_json()).unwrap());

        let to_host =
            (Conversion::new(hhost.plan(), Cp949, host).unwrap(), Conversion::new(bhost.plan(), Cp949, host).unwrap());
        let to_channel =
            (Conversion::new(hhost.plan(), host, Cp949).unwrap(), Conversion::new(bhost.plan(), host, Cp949).unwrap());
        let mut converted = Vec::new();
        convert_message(&to_host.0, Some(&to_host.1), &msg, &mut converted).unwrap();
        assert_eq!(converted, want, "{host}");
        let mut back = Vec::new();
        convert_message(&to_channel.0, Some(&to_channel.1), &converted, &mut back).unwrap();
        assert_eq!(back, msg, "{host}");
    }
}

#[test]
fn the_cp933_name_is_what_iconv_writes() {
    let (b949, b933) = (codec(XFER, Cp949), codec(XFER, Cp933));
    let src = b949.encode_json(&xfer_json()).unwrap();
    let out = convert(&Conversion::new(b933.plan(), Cp949, Cp933).unwrap(), &src).unwrap();
    for (at, len) in [(16, 20), (50, 20)] {
        let text = &src[at..at + len];
        let end = text.iter().rposition(|&b| b != b' ').map_or(0, |p| p + 1);
        let mut want = iconv("CP949", "IBM933", &text[..end]);
        assert!(want.contains(&0x0E), "iconv wrote SO for Hangul");
        want.resize(len, 0x40);
        assert_eq!(out[at..at + len], want[..], "field at {at}");
    }
    // Packed bytes are untouched; the zoned FEE is the EBCDIC form of -5.50.
    assert_eq!(out[36..43], src[36..43]);
    assert_eq!(out[43..50], [0xF0, 0xF0, 0xF0, 0xF0, 0xF5, 0xF5, 0xD0]);
    assert_eq!(&src[43..50], b"000055}");
}

#[test]
fn ascii_and_ebcdic_pages_map_text_byte_for_byte() {
    let layout = "01 R.\n   05 A PIC X(6).\n   05 J PIC X(6) JUST RIGHT.\n   05 FILLER PIC X(3).";
    let c = conversion(layout, Ascii, Cp037).unwrap();
    let out = convert(&c, b"Ab1 \xe9     xy   ").unwrap();
    assert_eq!(out, iconv("ISO-8859-1", "IBM037", b"Ab1 \xe9     xy   "));
    let back = convert(&conversion(layout, Cp037, Ascii).unwrap(), &out).unwrap();
    assert_eq!(back, b"Ab1 \xe9     xy   ");
}

#[test]
fn zoned_signs_map_between_conventions() {
    let layout = "01 R.
   05 T PIC S9(3).
   05 L PIC S9(3) SIGN LEADING.
   05 TS PIC S9(3) SIGN TRAILING SEPARATE.
   05 LS PIC S9(3) SIGN LEADING SEPARATE.
   05 U PIC 9(3).
   05 B PIC 9(3) BLANK WHEN ZERO.
   05 P PIC S9(3).
   05 H PIC S9(3).";
    let e2a = conversion(layout, Cp037, Ascii).unwrap();
    let ebcdic: Vec<u8> = [
        &[0xF1, 0xF2, 0xD3][..],   // -123
        &[0xC1, 0xF2, 0xF3],       // +123 leading
        &[0xF1, 0xF2, 0xF3, 0x60], // -123 trailing separate
        &[0x4E, 0xF1, 0xF2, 0xF3], // +123 leading separate
        &[0xF0, 0xF0, 0xF7],
        &[0x40, 0x40, 0x40], // blank when zero
        &[0xF1, 0xF2, 0xF3], // a plain F zone in the sign position stays plain
        &[0xFF, 0xFF, 0xFF], // HIGH-VALUES
    ]
    .concat();
    let ascii = convert(&e2a, &ebcdic).unwrap();
    assert_eq!(ascii, b"12LA23123-+123007   123\xff\xff\xff");
    assert_eq!(convert(&conversion(layout, Ascii, Cp037).unwrap(), &ascii).unwrap(), ebcdic);
    // Micro Focus overpunch is read too (and written as IBM's).
    let mf = b"12sA23123-+123007   123\xff\xff\xff";
    assert_eq!(convert(&conversion(layout, Ascii, Cp037).unwrap(), mf).unwrap(), ebcdic);
}

#[test]
fn errors_name_the_field_and_offset() {
    let layout = "01 R.\n   05 ACCT PIC X(4).\n   05 CUST-NAME PIC X(8).\n   05 N PIC S9(3).";
    let field = |r: Result<Vec<u8>, ConvertError>| match r {
        Err(ConvertError::Field { path, offset, cause, .. }) => (path, offset, cause),
        other => panic!("expected a field error, got {other:?}"),
    };
    // A character cp037 cannot write.
    let (path, offset, cause) = field(convert(&conversion(layout, Cp949, Cp037).unwrap(), b"0001\xc8\xab    12C"));
    assert_eq!((path.as_str(), offset), ("CUST-NAME", 4));
    assert!(matches!(cause, FieldError::Text(CharsetError::Unmappable { ch: '홍', .. })), "{cause:?}");
    // Bytes that are not cp949 (a lead byte before a space).
    let (path, offset, cause) = field(convert(&conversion(layout, Cp949, Cp933).unwrap(), b"0001AB\xc8 1234123"));
    assert_eq!((path.as_str(), offset), ("CUST-NAME", 4));
    assert!(matches!(cause, FieldError::Text(CharsetError::InvalidBytes { offset: 2, .. })), "{cause:?}");
    // Four syllables fill eight cp949 bytes; cp933 needs ten with SO and SI: never cut.
    let e = convert(&conversion(layout, Cp949, Cp933).unwrap(), "0001홍길동이123".as_bytes()).unwrap_err();
    let e949 = convert(
        &conversion(layout, Cp949, Cp933).unwrap(),
        &[b"0001".as_slice(), &iconv("UTF-8", "CP949", "홍길동이".as_bytes()), b"12C"].concat(),
    )
    .unwrap_err();
    assert!(matches!(e, ConvertError::Field { .. }), "UTF-8 bytes are not cp949 either: {e}");
    let (path, _, cause) = field(Err(e949.clone()));
    assert_eq!(path, "CUST-NAME");
    assert_eq!(cause, FieldError::Text(CharsetError::TooLong { needed: 10, len: 8 }));
    assert!(e949.to_string().contains("gains SO and SI"), "{e949}");
    // An invalid zoned digit.
    let (path, offset, _) = field(convert(&conversion(layout, Ascii, Cp037).unwrap(), b"0001ABCDEFGH1X3"));
    assert_eq!((path.as_str(), offset), ("N", 12));
    // Short and long messages.
    let c = conversion(layout, Ascii, Cp037).unwrap();
    let e = convert(&c, b"0001ABC").unwrap_err();
    assert!(matches!(&e, ConvertError::Short { path, needed: 12, len: 7, .. } if path == "CUST-NAME"), "{e}");
    let e = convert(&c, b"0001ABCDEFGH123+").unwrap_err();
    assert!(matches!(e, ConvertError::Long { expected: 15, len: 16, .. }), "{e}");
    assert!(convert(&c, b"").is_err());
}

#[test]
fn redefines_that_disagree_are_refused_naming_both_fields() {
    let text_packed = "01 R.\n   05 KEY-X PIC X(8).\n   05 KEY-P REDEFINES KEY-X PIC S9(15) COMP-3.";
    let e = conversion(text_packed, Cp949, Cp933).unwrap_err();
    assert!(
        matches!(&e, ConvertPlanError::Ambiguous { first, second, offset: 0, .. }
        if first == "KEY-X" && second == "KEY-P"),
        "{e}"
    );
    // Text cut differently converts differently once SO/SI can cross the cut.
    let split =
        "01 R.\n   05 NM PIC X(10).\n   05 NM-R REDEFINES NM.\n      10 NM-1 PIC X(4).\n      10 NM-2 PIC X(6).";
    assert!(matches!(conversion(split, Cp949, Cp933), Err(ConvertPlanError::Ambiguous { .. })));
    assert!(conversion(split, Ascii, Cp037).is_ok(), "byte for byte, the cut does not matter");
    // Digits under text, and digits under digits, agree.
    let date = "01 R.
   05 D-X PIC X(8).
   05 D REDEFINES D-X PIC 9(8).
   05 D-R REDEFINES D-X.
      10 YYYY PIC 9(4).
      10 MMDD PIC 9(4).";
    let c = conversion(date, Cp949, Cp933).unwrap();
    assert_eq!(convert(&c, b"2026AB01").unwrap(), [0xF2, 0xF0, 0xF2, 0xF6, 0xC1, 0xC2, 0xF0, 0xF1]);
    // Packed under binary: both copied.
    let nums = "01 R.\n   05 P PIC S9(7) COMP-3.\n   05 B REDEFINES P PIC S9(8) COMP.";
    assert_eq!(convert(&conversion(nums, Ascii, Cp037).unwrap(), &[1, 2, 3, 4]).unwrap(), [1, 2, 3, 4]);
}

#[test]
fn a_variable_table_follows_its_counter_read_in_the_source_page() {
    let layout = "01 R.
   05 CNT PIC 9(2).
   05 ROW OCCURS 1 TO 3 TIMES DEPENDING ON CNT.
      10 NM PIC X(4).
      10 AMT PIC S9(3) COMP-3.
   05 TAIL PIC X(2).";
    let c = conversion(layout, Cp949, Cp933).unwrap();
    let src = [b"02".as_slice(), b"AB  ", &[0x12, 0x3C], "홍길".as_bytes(), &[0x45, 0x6D], b"ZZ"].concat();
    let e = convert(&c, &src).unwrap_err();
    // UTF-8 Hangul is not cp949, and the second row is where it fails.
    assert!(matches!(&e, ConvertError::Field { path, offset: 8, .. } if path == "ROW[1].NM"), "{e}");
    let src = [b"02".as_slice(), b"AB  ", &[0x12, 0x3C], b"CD  ", &[0x45, 0x6D], b"ZZ"].concat();
    let out = convert(&c, &src).unwrap();
    let want = [
        &[0xF0, 0xF2][..],
        &[0xC1, 0xC2, 0x40, 0x40, 0x12, 0x3C],
        &[0xC3, 0xC4, 0x40, 0x40, 0x45, 0x6D],
        &[0xE9, 0xE9],
    ]
    .concat();
    assert_eq!(out, want);
    let e = convert(&c, &[b"04".as_slice(), &[b' '; 20]].concat()).unwrap_err();
    assert!(matches!(&e, ConvertError::BadCount { path, count, .. } if path == "ROW" && count == "4"), "{e}");
}

#[test]
fn filler_converts_as_its_picture_says() {
    let layout =
        "01 R.\n   05 A PIC X(2).\n   05 FILLER PIC X(3).\n   05 FILLER PIC S9(3) COMP-3.\n   05 FILLER PIC 9(2).";
    let out =
        convert(&conversion(layout, Cp037, Ascii).unwrap(), &[0xC1, 0xC2, 0x40, 0x40, 0x40, 0x12, 0x3C, 0xF0, 0xF1])
            .unwrap();
    assert_eq!(out, b"AB   \x12\x3c01");
    let e =
        convert(&conversion(layout, Cp037, Ascii).unwrap(), &[0xC1, 0xC2, 0x40, 0x40, 0x40, 0x12, 0x3C, 0xF0, 0x40])
            .unwrap_err();
    assert!(matches!(&e, ConvertError::Field { path, offset: 7, .. } if path == "FILLER"), "{e}");
}

#[test]
fn pic_g_converts_between_dbcs_pages_and_cp949() {
    let layout = "01 R.\n   05 G PIC G(3).";
    let cp933 = iconv("UTF-8", "IBM933", "홍길".as_bytes());
    let field = [&cp933[1..cp933.len() - 1], &[0x40, 0x40]].concat(); // no SO/SI; DBCS space
    let to949 = convert(&conversion(layout, Cp933, Cp949).unwrap(), &field).unwrap();
    assert_eq!(to949, iconv("UTF-8", "CP949", "홍길\u{3000}".as_bytes()));
    assert_eq!(convert(&conversion(layout, Cp949, Cp933).unwrap(), &to949).unwrap(), field);
    let to1364 = convert(&conversion(layout, Cp933, Cp1364).unwrap(), &field).unwrap();
    let cp1364 = iconv("UTF-8", "IBM1364", "홍길\u{3000}".as_bytes());
    assert_eq!(to1364, cp1364[1..cp1364.len() - 1]);
    assert!(matches!(conversion(layout, Cp933, Cp037), Err(ConvertPlanError::Unsupported { .. })));
    let e = convert(&conversion(layout, Cp949, Cp933).unwrap(), b"AB\xb1\xe6  ").unwrap_err();
    assert!(matches!(&e, ConvertError::Field { path, .. } if path == "G"), "{e}");
}

#[test]
fn messages_without_a_body_or_without_a_layout() {
    let (h, b) = (conversion(HEADER, Cp949, Cp933).unwrap(), conversion(XFER, Cp949, Cp933).unwrap());
    let header = codec(HEADER, Cp949).encode_json(&header_json()).unwrap();
    let mut out = Vec::new();
    convert_message(&h, None, &header, &mut out).unwrap();
    assert_eq!(out, codec(HEADER, Cp933).encode_json(&header_json()).unwrap());
    let body = [header.as_slice(), b"body"].concat();
    assert!(matches!(convert_message(&h, None, &body, &mut out), Err(ConvertError::NoLayout { header: 68, len: 4 })));
    // Body errors carry the message's offsets.
    let e = convert_message(&h, Some(&b), &body, &mut out).unwrap_err();
    assert!(matches!(&e, ConvertError::Short { path, needed: 84, len: 72, .. } if path == "FROM-ACCT"), "{e}");
    // Same page: byte for byte, whatever the bytes.
    let same = conversion(HEADER, Cp933, Cp933).unwrap();
    assert!(same.is_identity());
    convert_message(&same, None, b"\xff\x00anything", &mut out).unwrap();
    assert_eq!(out, b"\xff\x00anything");
}

#[test]
fn raw_header_bytes_stay_as_they_are() {
    let layout = "01 HDR.\n   05 LEN-X PIC X(4).\n   05 OP PIC X(4).";
    let mut c = conversion(layout, Ascii, Cp037).unwrap();
    c.keep_raw(0, 4).unwrap();
    assert_eq!(convert(&c, b"\x00\x00\x01\x02XFER").unwrap(), b"\x00\x00\x01\x02\xe7\xc6\xc5\xd9");
    assert!(matches!(c.keep_raw(2, 4), Err(ConvertPlanError::RawSplitsField { .. })));
}

#[test]
fn the_plan_decodes_what_conversion_writes() {
    // A converted message is valid for the target's codec.
    let out = convert(&conversion(XFER, Cp949, Cp933).unwrap(), &codec(XFER, Cp949).encode_json(&xfer_json()).unwrap())
        .unwrap();
    let decoded: Result<_, DecodeError> = codec(XFER, Cp933).decode_json(&out);
    assert_eq!(decoded.unwrap().0["FROM-NAME"], "홍길동");
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 300, failure_persistence: None, ..Default::default() })]

    /// Any bytes, of any length: an error or a record of the same length, never a panic.
    #[test]
    fn never_panics_on_any_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80), pair in 0usize..4) {
        let layout = "01 R.
   05 CNT PIC 9(1).
   05 ROW OCCURS 0 TO 3 TIMES DEPENDING ON CNT.
      10 NM PIC X(5).
      10 AMT PIC S9(3) SIGN LEADING SEPARATE.
   05 G PIC G(2).
   05 J PIC X(4) JUST RIGHT.
   05 B PIC 9(2) BLANK WHEN ZERO.
   05 P PIC S9(3) COMP-3.";
        let (from, to) = [(Cp949, Cp933), (Cp933, Cp949), (Cp1364, Cp933), (Cp933, Cp1364)][pair];
        let c = conversion(layout, from, to).unwrap();
        let mut out = vec![1, 2];
        match c.convert(&bytes, &mut out) {
            Ok(()) => proptest::prop_assert_eq!(out.len(), 2 + bytes.len()),
            Err(_) => proptest::prop_assert_eq!(out, vec![1, 2]),
        }
    }
}
