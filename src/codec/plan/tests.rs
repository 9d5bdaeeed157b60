//! Tests of `codec::plan`: compile-time checks and decoding rules the plan carries.
use super::*;
use crate::codec::charset::CodePage;
use crate::codec::zoned::SignPosition;
use crate::copybook::{parse_copybook, NoCopy};

fn compile(text: &str) -> Result<Plan, PlanError> {
    let book = parse_copybook(text, "t.cpy", &NoCopy).expect("parses");
    Plan::compile(book.record(None).expect("record"), CodecOptions::for_codepage(CodePage::Ascii))
}

#[test]
fn packed_beyond_31_digits_is_refused_when_loaded() {
    // IBM's limit (ARITH(EXTEND): 31 digits); the layout refuses it, so `ficus layout` does too.
    let e = crate::copybook::parse_copybook("       01 R.\n           05 P PIC 9(32) COMP-3.\n", "t.cpy", &NoCopy)
        .unwrap_err();
    assert!(e.to_string().contains("32 digits is more than the 31 allowed for USAGE COMP-3"), "{e}");
    assert!(compile("       01 R.\n           05 P PIC S9(31) COMP-3.\n").is_ok());
}

#[test]
fn sign_clause_on_an_unsigned_picture_uses_its_position() {
    let plan = compile("       01 R.\n           05 N PIC 99V99 SIGN LEADING SEPARATE.\n").unwrap();
    let leaf = plan.field("N").unwrap();
    assert_eq!(leaf.len, 5);
    assert!(matches!(leaf.kind, LeafKind::Zoned { sign: SignPosition::LeadingSeparate, .. }));
}

#[test]
fn strict_decode_refuses_a_record_cut_in_trailing_filler() {
    let plan = compile("       01 R.\n           05 A PIC X(2).\n           05 FILLER PIC X(3).\n").unwrap();
    let mut sink = crate::codec::json::NullSink;
    let e = plan.decode(b"AB", &mut sink, &mut Default::default()).unwrap_err();
    assert!(matches!(e, crate::codec::DecodeError::Short { needed: 5, len: 2, .. }), "{e}");
    assert_eq!(plan.decode(b"AB   ", &mut sink, &mut Default::default()).unwrap(), 5);
}

#[test]
fn a_negative_sign_in_unsigned_packed_data_is_invalid() {
    let book = parse_copybook("       01 R.\n           05 U PIC 9(3) COMP-3.\n", "t.cpy", &NoCopy).unwrap();
    let plan = Plan::compile(book.record(None).unwrap(), CodecOptions::default()).unwrap();
    let mut sink = crate::codec::json::NullSink;
    let e = plan.decode(&[0x04, 0x2D], &mut sink, &mut Default::default()).unwrap_err();
    assert!(e.to_string().contains("invalid sign 0x2D"), "{e}");
    assert!(plan.decode(&[0x04, 0x2F], &mut sink, &mut Default::default()).is_ok());
    assert!(plan.decode(&[0x04, 0x2C], &mut sink, &mut Default::default()).is_ok(), "C (positive) is accepted");
}

#[test]
fn the_unused_nibble_of_an_even_digit_packed_field_must_be_zero() {
    let book = parse_copybook("       01 R.\n           05 P PIC S9(4) COMP-3.\n", "t.cpy", &NoCopy).unwrap();
    let plan = Plan::compile(book.record(None).unwrap(), CodecOptions::default()).unwrap();
    let mut sink = crate::codec::json::NullSink;
    let e = plan.decode(&[0x12, 0x34, 0x5C], &mut sink, &mut Default::default()).unwrap_err();
    assert!(e.to_string().contains("invalid digit byte 0x12 at field offset 0"), "{e}");
    assert!(plan.decode(&[0x02, 0x34, 0x5C], &mut sink, &mut Default::default()).is_ok());
}
