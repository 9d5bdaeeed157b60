//! Numeric literals in every form IBM allows, against GnuCOBOL: a fixed random sample of
//! pictures (zoned, packed, binary; signed or not; with decimals) and of literals that fit them,
//! each written in a random form — a sign or none (`+` only on signed pictures), leading zeros,
//! a point first (`.5`, `-.5`), trailing zeros after the point — plus floating-point literals
//! (`[+|-]mantissa E [+|-]exponent`) in COMP-1/COMP-2. ficus must load every one (`ficus
//! layout` refuses nothing GnuCOBOL and IBM accept) and write the bytes `cobc` writes (floats:
//! correctly rounded, which GnuCOBOL misses by one unit in the last place now and then).
//!
//! IBM Enterprise COBOL Language Reference, "Numeric literals" (a literal may begin with the
//! decimal point, with or without a sign), "Floating-point literals" (a mantissa of 1 to 16
//! digits with a decimal point, E, a signed exponent of 1 or 2 digits) and "VALUE clause" (a
//! signed literal needs a signed picture; no truncation of nonzero digits).

#[path = "support/cobol.rs"]
#[allow(dead_code)]
mod cobol;

use cobol::{hex, Oracle, Sign, Snap};
use ficus::codec::binary::ByteOrder;
use ficus::codec::charset::CodePage;
use ficus::codec::float::FloatFormat;
use ficus::codec::zoned::SignStyle;
use ficus::codec::{Codec, CodecOptions};
use ficus::copybook::{parse_copybook, NoCopy};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngSeed, TestRunner};

/// One item: its clauses before VALUE, the literal, and the size of the item.
#[derive(Clone, Debug)]
struct Item {
    clauses: String,
    literal: String,
    float: bool,
}

fn digits(n: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, n..=n).prop_map(|v| v.iter().map(|d| char::from(b'0' + d)).collect())
}

/// A fixed-point item and a literal that fits it, in a random form.
fn fixed() -> impl Strategy<Value = Item> {
    (1usize..7, 0usize..4, any::<bool>(), 0usize..3)
        .prop_flat_map(|(int, frac, signed, usage)| {
            (
                Just((int, frac, signed, usage)),
                0..=int,
                0..=frac,
                digits(int),
                digits(frac),
                0usize..3,
                0usize..3,
                any::<bool>(),
            )
        })
        .prop_map(|((int, frac, signed, usage), ni, nf, id, fd, sign, zeros, point_first)| {
            let usage_text = ["", " COMP-3", " COMP"][usage];
            let s = if signed { "S" } else { "" };
            let v = if frac > 0 { format!("V9({frac})") } else { String::new() };
            let clauses = format!("PIC {s}9({int}){v}{usage_text}");
            // Value digits: at most `int` before the point and `frac` after it.
            let int_part = &id[int - ni..];
            let frac_part = &fd[..nf];
            let mut lit = String::new();
            lit.push_str(match (signed, sign) {
                (true, 1) => "+",
                (true, 2) => "-",
                _ => "",
            });
            let lead = "0".repeat(zeros.min(int - ni));
            let int_text = format!("{lead}{int_part}");
            if frac_part.is_empty() {
                lit.push_str(if int_text.is_empty() { "0" } else { &int_text });
            } else {
                if !(int_text.is_empty() || point_first && int_text.trim_start_matches('0').is_empty()) {
                    lit.push_str(&int_text);
                } else if !point_first {
                    lit.push('0');
                }
                lit.push('.');
                lit.push_str(frac_part);
            }
            Item { clauses, literal: lit, float: false }
        })
}

/// A floating-point literal in COMP-1 or COMP-2.
fn float() -> impl Strategy<Value = Item> {
    (any::<bool>(), 1usize..6, 1usize..4, -5i32..6, any::<bool>(), any::<bool>()).prop_flat_map(
        |(double, int, frac, exp, neg, plus_exp)| {
            (digits(int), digits(frac)).prop_map(move |(i, f)| {
                let sign = if neg { "-" } else { "" };
                let e = if exp >= 0 && plus_exp { format!("+{exp}") } else { exp.to_string() };
                Item {
                    clauses: if double { "COMP-2".into() } else { "COMP-1".into() },
                    literal: format!("{sign}{i}.{f}E{e}"),
                    float: true,
                }
            })
        },
    )
}

fn sample() -> Vec<Item> {
    let config = Config { rng_seed: RngSeed::Fixed(0x0013_0607), ..Config::default() };
    let mut runner = TestRunner::new(config);
    let strategy = prop_oneof![4 => fixed(), 1 => float()];
    (0..60).map(|_| strategy.new_tree(&mut runner).expect("a sample").current()).collect()
}

#[test]
fn every_literal_form_loads_and_writes_gnucobols_bytes() {
    let items = sample();
    let mut text = String::from("       01 LIT-REC.\n");
    for (i, item) in items.iter().enumerate() {
        text.push_str(&format!("           05 F{i:02} {}\n               VALUE {}.\n", item.clauses, item.literal));
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lits.cpy"), &text).unwrap();
    let book = parse_copybook(&text, "lits.cpy", &NoCopy).unwrap_or_else(|e| panic!("ficus refuses: {e}\n{text}"));
    let record = book.record(None).unwrap();
    // GnuCOBOL on x86: IEEE floats and COMP-5 little-endian; binary COMP big-endian.
    let options = CodecOptions {
        sign_style: SignStyle::AsciiIbm,
        comp5_order: ByteOrder::Little,
        float: FloatFormat::IeeeBig,
        fill_missing: true,
        ..CodecOptions::for_codepage(CodePage::Ascii)
    };
    let codec = Codec::new(record, options).expect("compiles");
    let ours = codec.encode_json(&serde_json::json!({})).expect("encodes from the VALUEs");
    let oracle = Oracle::new("lits.cpy", Sign::Ebcdic).flag("-I").flag(&dir.path().display().to_string());
    let theirs = oracle.run(&[Snap::new("LIT-REC", &[] as &[&str])]).remove(0);
    assert_eq!(ours.len(), theirs.len(), "record sizes");
    // Field by field, floats compared after GnuCOBOL's native (little-endian) byte order.
    let mut at = 0;
    for (i, item) in items.iter().enumerate() {
        let leaf = codec.plan().field(&format!("F{i:02}")).expect("field");
        let len = leaf.len as usize;
        let mut cobc = theirs[at..at + len].to_vec();
        let mine = &ours[at..at + len];
        if item.float {
            // GnuCOBOL's own conversion may be one unit in the last place off (it scales in
            // binary arithmetic); ficus rounds correctly, as Rust's parser does.
            cobc.reverse();
            let (want, ulps) = if len == 8 {
                let want: f64 = item.literal.parse().unwrap();
                let c = u64::from_be_bytes(cobc.clone().try_into().unwrap());
                (want.to_be_bytes().to_vec(), c.abs_diff(want.to_bits()))
            } else {
                let want: f32 = item.literal.parse().unwrap();
                let c = u32::from_be_bytes(cobc.clone().try_into().unwrap());
                (want.to_be_bytes().to_vec(), u64::from(c.abs_diff(want.to_bits())))
            };
            assert_eq!(mine, &want[..], "F{i:02} {} VALUE {}: correctly rounded", item.clauses, item.literal);
            assert!(ulps <= 1, "F{i:02} VALUE {}: cobc {} is {ulps} units off", item.literal, hex(&cobc));
            at += len;
            continue;
        }
        assert!(
            cobc == mine,
            "F{i:02} {} VALUE {}:\n  cobc:  {}\n  ficus: {}",
            item.clauses,
            item.literal,
            hex(&cobc),
            hex(mine)
        );
        at += len;
    }
}
