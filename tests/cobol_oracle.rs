//! The COBOL oracle: GnuCOBOL compiles programs that MOVE known values into the fixture
//! copybooks in `tests/fixtures/cobol/` and writes each record's raw bytes; ficus must decode
//! those bytes to the expected JSON and encode that JSON back to the same bytes.
//!
//! `cobc` runs in ASCII, so the records are in ficus's `ascii` code page: `-fsign=EBCDIC`
//! writes IBM overpunch (`{ A–I`, `} J–R`, encoded with [`SignStyle::AsciiIbm`]) and
//! `-fsign=ASCII` writes Micro Focus overpunch (`0–9`, `p–y`, [`SignStyle::AsciiMf`]).
//! Packed and binary bytes do not depend on the code page. Numbers are compared by their
//! exact JSON text, so the picture's scale (`1.50`, `0.00`) is part of the check.
//!
//! Known GnuCOBOL 3.1.2 limits that shape the fixtures: `P` scaling on COMP-3 items is
//! miscompiled (so `P` is checked on DISPLAY and COMP only); a literal `MOVE -0` leaves a
//! negative zero in some items and not in others (so it is a decode-only case); storage
//! that no statement touched holds signed zoned zeros without a sign zone, and the items
//! after an `OCCURS DEPENDING ON` table start out laid for the initial count (so ODO cases
//! set every field).

#[path = "support/cobol.rs"]
mod cobol;

use cobol::{hex, read_fixture, Oracle, Sign, Snap};
use ficus::codec::binary::ByteOrder;
use ficus::codec::charset::CodePage;
use ficus::codec::zoned::SignStyle;
use ficus::codec::{Codec, CodecOptions};
use ficus::copybook::{parse_copybook, Copybook, NoCopy};
use serde_json::Value;

/// What the encode half of a case expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encode {
    /// `encode(expected JSON)` gives exactly the COBOL bytes.
    Same,
    /// The JSON holds a value the picture cannot (TRUNC(BIN) data): encode must refuse it.
    Rejected,
    /// The bytes are not what an encoder writes (e.g. negative zero): decode only.
    Skip,
}

/// One record: the COBOL statements that fill it and the JSON it stands for.
struct Case {
    record: &'static str,
    statements: Vec<String>,
    json: String,
    encode: Encode,
    /// Other JSON texts that must encode to the same bytes (e.g. `-0` for `0`).
    also_encodes: Vec<String>,
    /// Also decode the bytes followed by this many extra bytes (an ODO record in a
    /// fixed-size frame): same JSON, and `consumed` still the record's own length.
    trailing: usize,
}

fn case<S: AsRef<str>>(record: &'static str, statements: &[S], json: &str) -> Case {
    Case {
        record,
        statements: statements.iter().map(|s| s.as_ref().to_string()).collect(),
        json: json.to_string(),
        encode: Encode::Same,
        also_encodes: Vec::new(),
        trailing: 0,
    }
}

impl Case {
    fn decode_only(mut self) -> Case {
        self.encode = Encode::Skip;
        self
    }
    fn encode_rejected(mut self) -> Case {
        self.encode = Encode::Rejected;
        self
    }
    fn also_encodes(mut self, json: &str) -> Case {
        self.also_encodes.push(json.to_string());
        self
    }
    fn with_trailing(mut self, extra: usize) -> Case {
        self.trailing = extra;
        self
    }
}

/// The encode style that matches a `cobc -fsign` convention.
fn style(sign: Sign) -> SignStyle {
    match sign {
        Sign::Ebcdic => SignStyle::AsciiIbm,
        Sign::Ascii => SignStyle::AsciiMf,
    }
}

/// Codec options for GnuCOBOL's records: ASCII text, the given overpunch style.
fn options(style: SignStyle) -> CodecOptions {
    CodecOptions { codepage: CodePage::Ascii, sign_style: style, ..Default::default() }
}

/// Codec options for COMP-5, which GnuCOBOL stores in the machine's (little-endian) order.
fn options_comp5(style: SignStyle) -> CodecOptions {
    CodecOptions { codepage: CodePage::Ascii, sign_style: style, comp5_order: ByteOrder::Little, ..Default::default() }
}

/// Runs every case through GnuCOBOL (one compile), then checks ficus against each record.
/// Collects every mismatch before failing, so one run shows all of them.
fn check(oracle: Oracle, make_options: impl Fn() -> CodecOptions, cases: &[Case]) {
    let copybook = oracle.copybook();
    let snaps: Vec<Snap> = cases.iter().map(|c| Snap::new(c.record, &c.statements)).collect();
    let records = oracle.run(&snaps);
    let book = parse_copybook(&read_fixture(copybook), copybook, &NoCopy)
        .unwrap_or_else(|e| panic!("ficus cannot parse fixture {copybook}: {e}"));

    let mut failures = Vec::new();
    for (i, (case, bytes)) in cases.iter().zip(&records).enumerate() {
        let label = format!("{copybook} case {} ({}, cobc {})", i + 1, case.record, oracle.label());
        for problem in check_case(&book, &make_options, case, bytes) {
            failures.push(format!("{label}: {problem}\n    COBOL bytes ({}): {}", bytes.len(), hex(bytes)));
        }
    }
    assert!(failures.is_empty(), "{} problem(s) against the COBOL oracle:\n{}", failures.len(), failures.join("\n"));
}

/// Checks one record; returns what went wrong.
fn check_case(book: &Copybook, make_options: &impl Fn() -> CodecOptions, case: &Case, bytes: &[u8]) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(record) = book.record(Some(case.record)) else {
        return vec![format!("ficus finds no record {}", case.record)];
    };
    let codec = match Codec::new(record, make_options()) {
        Ok(codec) => codec,
        Err(e) => return vec![format!("Codec::new failed: {e}")],
    };
    let expected: Value = serde_json::from_str(&case.json)
        .unwrap_or_else(|e| panic!("bad expected JSON for {}: {e}\n{}", case.record, case.json));

    let mut inputs = vec![(bytes.to_vec(), "")];
    if case.trailing > 0 {
        let mut padded = bytes.to_vec();
        padded.resize(bytes.len() + case.trailing, b' ');
        inputs.push((padded, " (with trailing bytes)"));
    }
    for (input, note) in &inputs {
        match guarded(|| codec.decode_json(input)) {
            Err(panic) => problems.push(format!("decode{note} panicked: {panic}")),
            Ok(Ok((actual, consumed))) => {
                let mut diffs = Vec::new();
                diff_json("$", &expected, &actual, &mut diffs);
                if !diffs.is_empty() {
                    problems.push(format!(
                        "decode{note} differs:\n      {}\n    decoded: {actual}",
                        diffs.join("\n      ")
                    ));
                }
                if consumed != bytes.len() {
                    problems.push(format!("decode{note} consumed {consumed} bytes, the record is {}", bytes.len()));
                }
            }
            Ok(Err(e)) => problems.push(format!("decode{note} failed: {e}")),
        }
    }

    let mut encodes = Vec::new();
    match case.encode {
        Encode::Same => encodes.push((expected.clone(), "the expected JSON".to_string())),
        Encode::Rejected => match guarded(|| codec.encode_json(&expected)) {
            Err(panic) => problems.push(format!("encode panicked: {panic}")),
            Ok(Ok(written)) => {
                problems.push(format!("encode accepted a value beyond the picture and wrote {}", hex(&written)))
            }
            Ok(Err(_)) => {}
        },
        Encode::Skip => {}
    }
    for other in &case.also_encodes {
        let value: Value = serde_json::from_str(other).unwrap_or_else(|e| panic!("bad JSON {other}: {e}"));
        let label = value.to_string();
        encodes.push((value, label));
    }
    for (value, text) in encodes {
        match guarded(|| codec.encode_json(&value)) {
            Err(panic) => problems.push(format!("encode of {text} panicked: {panic}")),
            Ok(Ok(written)) if written == bytes => {}
            Ok(Ok(written)) => problems.push(format!(
                "encode of {text} differs{}:\n    ficus bytes ({}): {}",
                first_difference(bytes, &written),
                written.len(),
                hex(&written)
            )),
            Ok(Err(e)) => problems.push(format!("encode of {text} failed: {e}")),
        }
    }
    problems
}

/// Runs `f`, turning a panic into its message so one panicking case does not hide the rest.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_string())
    })
}

/// Where two byte strings first differ, for messages.
fn first_difference(want: &[u8], got: &[u8]) -> String {
    match want.iter().zip(got).position(|(a, b)| a != b) {
        Some(at) => format!(" at offset {at} (COBOL {:02X}, ficus {:02X})", want[at], got[at]),
        None => format!(" in length (COBOL {}, ficus {})", want.len(), got.len()),
    }
}

/// Compares JSON values, numbers by their exact text (so the scale counts); object key
/// order is not compared. Pushes one line per difference, with its path.
fn diff_json(path: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (key, wv) in w {
                match g.get(key) {
                    Some(gv) => diff_json(&format!("{path}.{key}"), wv, gv, out),
                    None => out.push(format!("{path}.{key}: missing (want {wv})")),
                }
            }
            for (key, gv) in g {
                if !w.contains_key(key) {
                    out.push(format!("{path}.{key}: unexpected {gv}"));
                }
            }
        }
        (Value::Array(w), Value::Array(g)) => {
            if w.len() != g.len() {
                out.push(format!("{path}: {} elements, want {}", g.len(), w.len()));
            }
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                diff_json(&format!("{path}[{i}]"), wv, gv, out);
            }
        }
        (Value::Number(w), Value::Number(g)) => {
            if w.to_string() != g.to_string() {
                out.push(format!("{path}: got {g}, want {w}"));
            }
        }
        _ => {
            if want != got {
                out.push(format!("{path}: got {got}, want {want}"));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Zoned decimal

/// The ZONED-REC cases, the same statements under either sign convention.
fn zoned_cases() -> Vec<Case> {
    vec![
        case(
            "ZONED-REC",
            &[
                "MOVE 12345 TO ZN-UNSIGNED",
                "MOVE 12345 TO ZN-TRAILING",
                "MOVE 1234567.89 TO ZN-DECIMAL",
                "MOVE 1234 TO ZN-LEADING",
                "MOVE 1234 TO ZN-LEAD-SEP",
                "MOVE 123.4 TO ZN-TRAIL-SEP",
                "MOVE 1.5 TO ZN-UNS-DECIMAL",
            ],
            r#"{"ZN-UNSIGNED": 12345, "ZN-TRAILING": 12345, "ZN-DECIMAL": 1234567.89, "ZN-LEADING": 1234,
                "ZN-LEAD-SEP": 1234, "ZN-TRAIL-SEP": 123.4, "ZN-UNS-DECIMAL": 1.500}"#,
        ),
        case(
            "ZONED-REC",
            &[
                "MOVE 99999 TO ZN-UNSIGNED",
                "MOVE -12345 TO ZN-TRAILING",
                "MOVE -0.01 TO ZN-DECIMAL",
                "MOVE -1234 TO ZN-LEADING",
                "MOVE -1 TO ZN-LEAD-SEP",
                "MOVE -99.9 TO ZN-TRAIL-SEP",
                "MOVE 999.999 TO ZN-UNS-DECIMAL",
            ],
            r#"{"ZN-UNSIGNED": 99999, "ZN-TRAILING": -12345, "ZN-DECIMAL": -0.01, "ZN-LEADING": -1234,
                "ZN-LEAD-SEP": -1, "ZN-TRAIL-SEP": -99.9, "ZN-UNS-DECIMAL": 999.999}"#,
        ),
        case(
            "ZONED-REC",
            &[
                "MOVE 1 TO ZN-UNSIGNED",
                "MOVE -10 TO ZN-TRAILING",
                "MOVE -1000000.00 TO ZN-DECIMAL",
                "MOVE -9000 TO ZN-LEADING",
                "MOVE 9999 TO ZN-LEAD-SEP",
                "MOVE 0.5 TO ZN-TRAIL-SEP",
                "MOVE 0.001 TO ZN-UNS-DECIMAL",
            ],
            r#"{"ZN-UNSIGNED": 1, "ZN-TRAILING": -10, "ZN-DECIMAL": -1000000.00, "ZN-LEADING": -9000,
                "ZN-LEAD-SEP": 9999, "ZN-TRAIL-SEP": 0.5, "ZN-UNS-DECIMAL": 0.001}"#,
        ),
        // MOVE ZERO writes a signed zero: `{` under IBM overpunch, `0` under Micro Focus.
        case(
            "ZONED-REC",
            &["MOVE ZERO TO ZN-UNSIGNED ZN-TRAILING ZN-DECIMAL ZN-LEADING ZN-LEAD-SEP ZN-TRAIL-SEP ZN-UNS-DECIMAL"],
            r#"{"ZN-UNSIGNED": 0, "ZN-TRAILING": 0, "ZN-DECIMAL": 0.00, "ZN-LEADING": 0,
                "ZN-LEAD-SEP": 0, "ZN-TRAIL-SEP": 0.0, "ZN-UNS-DECIMAL": 0.000}"#,
        ),
        // INITIALIZE (like untouched storage) leaves plain `0` digits in signed items: a
        // sign-less zone must still decode, but it is not what a sign-writing encoder makes.
        case(
            "ZONED-REC",
            &["INITIALIZE ZONED-REC"],
            r#"{"ZN-UNSIGNED": 0, "ZN-TRAILING": 0, "ZN-DECIMAL": 0.00, "ZN-LEADING": 0,
                "ZN-LEAD-SEP": 0, "ZN-TRAIL-SEP": 0.0, "ZN-UNS-DECIMAL": 0.000}"#,
        )
        .decode_only(),
    ]
}

/// Every overpunch character: trailing last digits 0–9 and leading first digits 0–9, each
/// with either sign.
fn overpunch_case() -> Case {
    let mut statements = Vec::new();
    let (mut pos, mut neg, mut lead_pos, mut lead_neg) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for d in 0..10 {
        let trailing = 10 + d;
        let leading = d * 10 + 5;
        statements.push(format!("MOVE {trailing} TO OP-POSITIVE({})", d + 1));
        statements.push(format!("MOVE -{trailing} TO OP-NEGATIVE({})", d + 1));
        statements.push(format!("MOVE {leading} TO OP-LEAD-POSITIVE({})", d + 1));
        statements.push(format!("MOVE -{leading} TO OP-LEAD-NEGATIVE({})", d + 1));
        pos.push(trailing.to_string());
        neg.push(format!("-{trailing}"));
        lead_pos.push(leading.to_string());
        lead_neg.push(format!("-{leading}"));
    }
    let json = format!(
        r#"{{"OP-POSITIVE": [{}], "OP-NEGATIVE": [{}], "OP-LEAD-POSITIVE": [{}], "OP-LEAD-NEGATIVE": [{}]}}"#,
        pos.join(", "),
        neg.join(", "),
        lead_pos.join(", "),
        lead_neg.join(", ")
    );
    case("OVERPUNCH-REC", &statements, &json)
}

#[test]
fn zoned_ibm_overpunch() {
    check(Oracle::new("zoned.cpy", Sign::Ebcdic), || options(style(Sign::Ebcdic)), &zoned_cases());
}

#[test]
fn zoned_micro_focus_overpunch() {
    check(Oracle::new("zoned.cpy", Sign::Ascii), || options(style(Sign::Ascii)), &zoned_cases());
}

#[test]
fn overpunch_every_digit_ibm() {
    check(Oracle::new("zoned.cpy", Sign::Ebcdic), || options(style(Sign::Ebcdic)), &[overpunch_case()]);
}

#[test]
fn overpunch_every_digit_micro_focus() {
    check(Oracle::new("zoned.cpy", Sign::Ascii), || options(style(Sign::Ascii)), &[overpunch_case()]);
}

/// Decode accepts either overpunch convention whatever the encode style is.
#[test]
fn zoned_decode_accepts_the_other_convention() {
    for (sign, other) in [(Sign::Ebcdic, SignStyle::AsciiMf), (Sign::Ascii, SignStyle::AsciiIbm)] {
        let mut cases: Vec<Case> = zoned_cases().into_iter().map(Case::decode_only).collect();
        cases.push(overpunch_case().decode_only());
        check(Oracle::new("zoned.cpy", sign), || options(other), &cases);
    }
}

// ---------------------------------------------------------------------------------------
// Scaling: V and P

#[test]
fn implied_decimal_and_p_scaling() {
    let cases = [
        case(
            "SCALED-REC",
            &[
                "MOVE 12345.67 TO SC-V2",
                "MOVE 0.123 TO SC-V-ONLY",
                "MOVE 12300 TO SC-PP",
                "MOVE -99900 TO SC-SIGNED-PP",
                "MOVE 0.0012 TO SC-VPP",
                "MOVE 999900 TO SC-BINARY-PP",
                "MOVE -123.4567 TO SC-PACKED-V4",
            ],
            r#"{"SC-V2": 12345.67, "SC-V-ONLY": 0.123, "SC-PP": 12300, "SC-SIGNED-PP": -99900,
                "SC-VPP": 0.0012, "SC-BINARY-PP": 999900, "SC-PACKED-V4": -123.4567}"#,
        ),
        case(
            "SCALED-REC",
            &[
                "MOVE -0.05 TO SC-V2",
                "MOVE -0.999 TO SC-V-ONLY",
                "MOVE 100 TO SC-PP",
                "MOVE 100 TO SC-SIGNED-PP",
                "MOVE -0.0099 TO SC-VPP",
                "MOVE -100 TO SC-BINARY-PP",
                "MOVE 0.0001 TO SC-PACKED-V4",
            ],
            r#"{"SC-V2": -0.05, "SC-V-ONLY": -0.999, "SC-PP": 100, "SC-SIGNED-PP": 100,
                "SC-VPP": -0.0099, "SC-BINARY-PP": -100, "SC-PACKED-V4": 0.0001}"#,
        ),
        case(
            "SCALED-REC",
            &["MOVE ZERO TO SC-V2 SC-V-ONLY SC-PP SC-SIGNED-PP SC-VPP SC-BINARY-PP SC-PACKED-V4"],
            r#"{"SC-V2": 0.00, "SC-V-ONLY": 0.000, "SC-PP": 0, "SC-SIGNED-PP": 0,
                "SC-VPP": 0.0000, "SC-BINARY-PP": 0, "SC-PACKED-V4": 0.0000}"#,
        ),
    ];
    check(Oracle::new("scaled.cpy", Sign::Ebcdic), || options(SignStyle::AsciiIbm), &cases);
}

// ---------------------------------------------------------------------------------------
// Packed decimal

#[test]
fn packed_decimal() {
    let cases = [
        case(
            "PACKED-REC",
            &[
                "MOVE 12345 TO PK-ODD-SIGNED",
                "MOVE -1234 TO PK-EVEN-SIGNED",
                "MOVE 99999 TO PK-ODD-UNSIGNED",
                "MOVE 123456 TO PK-EVEN-UNSIGNED",
                "MOVE -9876543210123.45 TO PK-AMOUNT",
                "MOVE -7 TO PK-ONE-DIGIT",
                "MOVE 999 TO PK-PACKED-DECIMAL",
                "MOVE -9999999999999999999999999999999 TO PK-MAX-INTEGER",
                "MOVE 123456789012345678901.2345678901 TO PK-MAX-DECIMAL",
                "MOVE 123456789012345678901234567890 TO PK-MAX-UNSIGNED",
            ],
            r#"{"PK-ODD-SIGNED": 12345, "PK-EVEN-SIGNED": -1234, "PK-ODD-UNSIGNED": 99999,
                "PK-EVEN-UNSIGNED": 123456, "PK-AMOUNT": -9876543210123.45, "PK-ONE-DIGIT": -7,
                "PK-PACKED-DECIMAL": 999, "PK-MAX-INTEGER": -9999999999999999999999999999999,
                "PK-MAX-DECIMAL": 123456789012345678901.2345678901,
                "PK-MAX-UNSIGNED": 123456789012345678901234567890}"#,
        ),
        case(
            "PACKED-REC",
            &[
                "MOVE -1 TO PK-ODD-SIGNED",
                "MOVE 1 TO PK-EVEN-SIGNED",
                "MOVE 0 TO PK-ODD-UNSIGNED",
                "MOVE 1 TO PK-EVEN-UNSIGNED",
                "MOVE 0.01 TO PK-AMOUNT",
                "MOVE 9 TO PK-ONE-DIGIT",
                "MOVE -999 TO PK-PACKED-DECIMAL",
                "MOVE 9999999999999999999999999999999 TO PK-MAX-INTEGER",
                "MOVE -0.0000000001 TO PK-MAX-DECIMAL",
                "MOVE 999999999999999999999999999999 TO PK-MAX-UNSIGNED",
            ],
            r#"{"PK-ODD-SIGNED": -1, "PK-EVEN-SIGNED": 1, "PK-ODD-UNSIGNED": 0,
                "PK-EVEN-UNSIGNED": 1, "PK-AMOUNT": 0.01, "PK-ONE-DIGIT": 9,
                "PK-PACKED-DECIMAL": -999, "PK-MAX-INTEGER": 9999999999999999999999999999999,
                "PK-MAX-DECIMAL": -0.0000000001,
                "PK-MAX-UNSIGNED": 999999999999999999999999999999}"#,
        ),
        // Untouched packed storage is a signed zero (x'..0C') or unsigned zero (x'..0F').
        case(
            "PACKED-REC",
            &[] as &[&str],
            r#"{"PK-ODD-SIGNED": 0, "PK-EVEN-SIGNED": 0, "PK-ODD-UNSIGNED": 0,
                "PK-EVEN-UNSIGNED": 0, "PK-AMOUNT": 0.00, "PK-ONE-DIGIT": 0,
                "PK-PACKED-DECIMAL": 0, "PK-MAX-INTEGER": 0,
                "PK-MAX-DECIMAL": 0.0000000000, "PK-MAX-UNSIGNED": 0}"#,
        ),
    ];
    check(Oracle::new("packed.cpy", Sign::Ebcdic), || options(SignStyle::AsciiIbm), &cases);
}

// ---------------------------------------------------------------------------------------
// Binary

#[test]
fn binary_comp_comp4_binary() {
    let cases = [
        case(
            "BINARY-REC",
            &[
                "MOVE -9999 TO BN-S2",
                "MOVE 9999 TO BN-U2",
                "MOVE -999999999 TO BN-S4",
                "MOVE 999999999 TO BN-U4",
                "MOVE -999999999999999999 TO BN-S8",
                "MOVE 999999999999999999 TO BN-U8",
                "MOVE -12345.67 TO BN-DECIMAL",
                "MOVE -9 TO BN-ONE-DIGIT",
            ],
            r#"{"BN-S2": -9999, "BN-U2": 9999, "BN-S4": -999999999, "BN-U4": 999999999,
                "BN-S8": -999999999999999999, "BN-U8": 999999999999999999,
                "BN-DECIMAL": -12345.67, "BN-ONE-DIGIT": -9}"#,
        ),
        // Byte order: 0x0102, 0x1234, 0x01020304, 0x12345678, 0x0102030405060708,
        // 0x0123456789ABCDEF — big-endian for COMP, COMP-4 and BINARY.
        case(
            "BINARY-REC",
            &[
                "MOVE 258 TO BN-S2",
                "MOVE 4660 TO BN-U2",
                "MOVE 16909060 TO BN-S4",
                "MOVE 305419896 TO BN-U4",
                "MOVE 72623859790382856 TO BN-S8",
                "MOVE 81985529216486895 TO BN-U8",
                "MOVE 0.01 TO BN-DECIMAL",
                "MOVE 1 TO BN-ONE-DIGIT",
            ],
            r#"{"BN-S2": 258, "BN-U2": 4660, "BN-S4": 16909060, "BN-U4": 305419896,
                "BN-S8": 72623859790382856, "BN-U8": 81985529216486895,
                "BN-DECIMAL": 0.01, "BN-ONE-DIGIT": 1}"#,
        ),
        case(
            "BINARY-REC",
            &[
                "MOVE -1 TO BN-S2 BN-S4 BN-S8 BN-ONE-DIGIT",
                "MOVE ZERO TO BN-U2 BN-U4 BN-U8",
                "MOVE -0.01 TO BN-DECIMAL",
            ],
            r#"{"BN-S2": -1, "BN-U2": 0, "BN-S4": -1, "BN-U4": 0, "BN-S8": -1, "BN-U8": 0,
                "BN-DECIMAL": -0.01, "BN-ONE-DIGIT": -1}"#,
        ),
    ];
    check(Oracle::new("binary.cpy", Sign::Ebcdic), || options(SignStyle::AsciiIbm), &cases);
}

/// With `-fnotrunc` (IBM's TRUNC(BIN)) a binary item holds whatever fits its bytes, beyond
/// its picture: decode must give the full value; encode, checking the picture, refuses it.
#[test]
fn binary_values_beyond_the_picture_decode() {
    let cases = [
        case(
            "BINARY-REC",
            &[
                "MOVE 32767 TO BN-S2",
                "MOVE 65535 TO BN-U2",
                "MOVE 2147483647 TO BN-S4",
                "MOVE 4294967295 TO BN-U4",
                "MOVE 9223372036854775807 TO BN-S8",
                "MOVE 18446744073709551615 TO BN-U8",
                "MOVE 21474836.47 TO BN-DECIMAL",
                "MOVE 32767 TO BN-ONE-DIGIT",
            ],
            r#"{"BN-S2": 32767, "BN-U2": 65535, "BN-S4": 2147483647, "BN-U4": 4294967295,
                "BN-S8": 9223372036854775807, "BN-U8": 18446744073709551615,
                "BN-DECIMAL": 21474836.47, "BN-ONE-DIGIT": 32767}"#,
        )
        .encode_rejected(),
        case(
            "BINARY-REC",
            &[
                "MOVE -32768 TO BN-S2",
                "MOVE 10000 TO BN-U2",
                "MOVE -2147483648 TO BN-S4",
                "MOVE 1000000000 TO BN-U4",
                "MOVE -9223372036854775808 TO BN-S8",
                "MOVE 1000000000000000000 TO BN-U8",
                "MOVE -21474836.48 TO BN-DECIMAL",
                "MOVE -10 TO BN-ONE-DIGIT",
            ],
            r#"{"BN-S2": -32768, "BN-U2": 10000, "BN-S4": -2147483648, "BN-U4": 1000000000,
                "BN-S8": -9223372036854775808, "BN-U8": 1000000000000000000,
                "BN-DECIMAL": -21474836.48, "BN-ONE-DIGIT": -10}"#,
        )
        .encode_rejected(),
    ];
    check(Oracle::new("binary.cpy", Sign::Ebcdic).flag("-fnotrunc"), || options(SignStyle::AsciiIbm), &cases);
}

/// COMP-5 is native binary: little-endian on the machines GnuCOBOL runs on here, and never
/// truncated to the picture.
#[test]
fn comp5_native_binary() {
    let cases = [
        case(
            "COMP5-REC",
            &[
                "MOVE -2 TO C5-S2",
                "MOVE 258 TO C5-U2",
                "MOVE -123456789 TO C5-S4",
                "MOVE 305419896 TO C5-U4",
                "MOVE -123456789012345678 TO C5-S8",
                "MOVE -1234567.89 TO C5-DECIMAL",
            ],
            r#"{"C5-S2": -2, "C5-U2": 258, "C5-S4": -123456789, "C5-U4": 305419896,
                "C5-S8": -123456789012345678, "C5-DECIMAL": -1234567.89}"#,
        ),
        // Full storage range: a native binary item is not limited by its picture.
        case(
            "COMP5-REC",
            &[
                "MOVE 32767 TO C5-S2",
                "MOVE 65535 TO C5-U2",
                "MOVE -2147483648 TO C5-S4",
                "MOVE 4294967295 TO C5-U4",
                "MOVE 9223372036854775807 TO C5-S8",
                "MOVE 21474836.47 TO C5-DECIMAL",
            ],
            r#"{"C5-S2": 32767, "C5-U2": 65535, "C5-S4": -2147483648, "C5-U4": 4294967295,
                "C5-S8": 9223372036854775807, "C5-DECIMAL": 21474836.47}"#,
        ),
        // ... both ends of it, encoded back byte for byte (IBM Language Reference, USAGE
        // COMP-5: "values are limited only by the capacity of the native binary
        // representation"; TRUNC does not apply).
        case(
            "COMP5-REC",
            &[
                "MOVE -32768 TO C5-S2",
                "MOVE 0 TO C5-U2",
                "MOVE 2147483647 TO C5-S4",
                "MOVE 0 TO C5-U4",
                "MOVE -9223372036854775808 TO C5-S8",
                "MOVE -21474836.48 TO C5-DECIMAL",
            ],
            r#"{"C5-S2": -32768, "C5-U2": 0, "C5-S4": 2147483647, "C5-U4": 0,
                "C5-S8": -9223372036854775808, "C5-DECIMAL": -21474836.48}"#,
        ),
    ];
    check(Oracle::new("binary.cpy", Sign::Ebcdic), || options_comp5(SignStyle::AsciiIbm), &cases);
}

// ---------------------------------------------------------------------------------------
// Groups, tables, REDEFINES, text

#[test]
fn usage_on_a_group_applies_to_its_children() {
    let cases = [
        case(
            "GROUP-USAGE-REC",
            &[
                "MOVE -1234567.89 TO GU-AMOUNT",
                "MOVE 1.2345 TO GU-RATE",
                "MOVE -42 TO GU-COUNT",
                "MOVE 123456789 TO GU-TOTAL",
                "MOVE 'NOTE' TO GU-NOTE",
            ],
            r#"{"GU-PACKED": {"GU-AMOUNT": -1234567.89, "GU-RATE": 1.2345},
                "GU-BINARY": {"GU-COUNT": -42, "GU-TOTAL": 123456789}, "GU-NOTE": "NOTE"}"#,
        ),
        case(
            "GROUP-USAGE-REC",
            &[] as &[&str],
            r#"{"GU-PACKED": {"GU-AMOUNT": 0.00, "GU-RATE": 0.0000},
                "GU-BINARY": {"GU-COUNT": 0, "GU-TOTAL": 0}, "GU-NOTE": ""}"#,
        ),
    ];
    check(Oracle::new("groups.cpy", Sign::Ebcdic), || options(SignStyle::AsciiIbm), &cases);
}

#[test]
fn fixed_and_nested_occurs() {
    let mut statements = vec![
        "MOVE 'A1' TO OC-CODE(1)".to_string(),
        "MOVE 'B2' TO OC-CODE(2)".to_string(),
        "MOVE 'C3' TO OC-CODE(3)".to_string(),
        "MOVE 'ZZ' TO OC-END".to_string(),
    ];
    let mut rows = Vec::new();
    for r in 1..=2 {
        statements.push(format!("MOVE 'K{r}' TO OC-KEY({r})"));
        let mut cells = Vec::new();
        for c in 1..=3 {
            // Alternate signs; every cell distinct so a mixed-up subscript shows.
            let value = format!("{}{r}{c}.{c}", if (r + c) % 2 == 0 { "" } else { "-" });
            let flag = if c == 2 { "N" } else { "Y" };
            statements.push(format!("MOVE {value} TO OC-VALUE({r}, {c})"));
            statements.push(format!("MOVE '{flag}' TO OC-FLAG({r}, {c})"));
            cells.push(format!(r#"{{"OC-VALUE": {value}, "OC-FLAG": "{flag}"}}"#));
        }
        rows.push(format!(r#"{{"OC-KEY": "K{r}", "OC-CELL": [{}]}}"#, cells.join(", ")));
    }
    let json = format!(r#"{{"OC-CODE": ["A1", "B2", "C3"], "OC-ROW": [{}], "OC-END": "ZZ"}}"#, rows.join(", "));
    let cases = [
        case("OCCURS-REC", &statements, &json),
        case(
            "OCCURS-REC",
            &[] as &[&str],
            r#"{"OC-CODE": ["", "", ""], "OC-ROW": [
                {"OC-KEY": "", "OC-CELL": [{"OC-VALUE": 0.0, "OC-FLAG": ""}, {"OC-VALUE": 0.0, "OC-FLAG": ""}, {"OC-VALUE": 0.0, "OC-FLAG": ""}]},
                {"OC-KEY": "", "OC-CELL": [{"OC-VALUE": 0.0, "OC-FLAG": ""}, {"OC-VALUE": 0.0, "OC-FLAG": ""}, {"OC-VALUE": 0.0, "OC-FLAG": ""}]}],
                "OC-END": ""}"#,
        ),
    ];
    check(Oracle::new("groups.cpy", Sign::Ebcdic), || options(SignStyle::AsciiIbm), &cases);
}

/// An ODO-REC case with `count` elements; every field is set, since GnuCOBOL lays the
/// initial values out for the initial count.
fn odo_case(count: usize) -> Case {
    let mut statements = vec!["MOVE 'HDR' TO ODO-HEADER".to_string(), format!("MOVE {count} TO ODO-COUNT")];
    let mut items = Vec::new();
    let mut total: i64 = 0;
    for i in 1..=count {
        let cents = (i as i64) * 12_345 * if i % 2 == 0 { -1 } else { 1 };
        total += cents;
        let amount = format!("{}{}.{:02}", if cents < 0 { "-" } else { "" }, cents.abs() / 100, cents.abs() % 100);
        statements.push(format!("MOVE 'C{i}' TO ODO-CODE({i})"));
        statements.push(format!("MOVE {amount} TO ODO-AMOUNT({i})"));
        items.push(format!(r#"{{"ODO-CODE": "C{i}", "ODO-AMOUNT": {amount}}}"#));
    }
    let total = format!("{}{}.{:02}", if total < 0 { "-" } else { "" }, total.abs() / 100, total.abs() % 100);
    statements.push("MOVE 'TAIL' TO ODO-TAIL".to_string());
    statements.push(format!("MOVE {total} TO ODO-TOTAL"));
    let json = format!(
        r#"{{"ODO-HEADER": "HDR", "ODO-COUNT": {count}, "ODO-ITEM": [{}], "ODO-TAIL": "TAIL", "ODO-TOTAL": {total}}}"#,
        items.join(", ")
    );
    case("ODO-REC", &statements, &json).with_trailing(12)
}

/// An ODO-NESTED-REC case: the table and a field after it inside a group, a field after the
/// group, a binary counter.
fn odo_nested_case(count: usize) -> Case {
    let mut statements = vec![format!("MOVE {count} TO ON-COUNT")];
    let mut items = Vec::new();
    for i in 1..=count {
        statements.push(format!("MOVE 'I{i}' TO ON-ITEM({i})"));
        items.push(format!(r#""I{i}""#));
    }
    statements.push("MOVE 'BE' TO ON-BODY-END".to_string());
    statements.push("MOVE 123 TO ON-TAIL".to_string());
    let json = format!(
        r#"{{"ON-COUNT": {count}, "ON-BODY": {{"ON-ITEM": [{}], "ON-BODY-END": "BE"}}, "ON-TAIL": 123}}"#,
        items.join(", ")
    );
    case("ODO-NESTED-REC", &statements, &json).with_trailing(9)
}

#[test]
fn occurs_depending_on_slides_later_items() {
    let cases = [odo_case(0), odo_case(2), odo_case(5), odo_nested_case(1), odo_nested_case(3), odo_nested_case(4)];
    check(Oracle::new("odo.cpy", Sign::Ebcdic), || options(SignStyle::AsciiIbm), &cases);
}

#[test]
fn redefines_every_view() {
    let cases = [
        case(
            "REDEF-REC",
            &["MOVE 'D' TO RD-KIND", "MOVE 20240229 TO RD-DATE", "MOVE -12345.67 TO RD-AMOUNT"],
            // RD-AMOUNT is x'1234567D': as text, U+0012 '4' 'V' '}'.
            r#"{"RD-KIND": "D", "RD-DATE": 20240229,
                "RD-DATE-PARTS": {"RD-YEAR": 2024, "RD-MONTH": 2, "RD-DAY": 29},
                "RD-DATE-TEXT": "20240229", "RD-AMOUNT": -12345.67, "RD-AMOUNT-RAW": "\u00124V}",
                "RD-END": "END"}"#,
        ),
        case(
            "REDEF-REC",
            &["MOVE 'T' TO RD-KIND", "MOVE '19991231' TO RD-DATE-TEXT", "MOVE 1.00 TO RD-AMOUNT"],
            // RD-AMOUNT is x'0000100C'.
            r#"{"RD-KIND": "T", "RD-DATE": 19991231,
                "RD-DATE-PARTS": {"RD-YEAR": 1999, "RD-MONTH": 12, "RD-DAY": 31},
                "RD-DATE-TEXT": "19991231", "RD-AMOUNT": 1.00, "RD-AMOUNT-RAW": "\u0000\u0000\u0010\f",
                "RD-END": "END"}"#,
        ),
    ];
    check(Oracle::new("redefines.cpy", Sign::Ebcdic), || options(SignStyle::AsciiIbm), &cases);
}

#[test]
fn alphanumeric_values_and_filler() {
    let cases = [
        case::<&str>(
            "TEXT-REC",
            &[],
            r#"{"TX-CODE": "AB", "TX-NAME": "", "TX-COUNT": 7, "TX-ALPHA": "XYZ", "TX-FLAG": "Y"}"#,
        ),
        // MOVE truncates on the right: 'HELLO WORLD' into PIC X(10).
        case(
            "TEXT-REC",
            &[
                "MOVE 'CODE' TO TX-CODE",
                "MOVE 'HELLO WORLD' TO TX-NAME",
                "MOVE 123 TO TX-COUNT",
                "MOVE 'ABCDE' TO TX-ALPHA",
                "MOVE 'n' TO TX-FLAG",
            ],
            r#"{"TX-CODE": "CODE", "TX-NAME": "HELLO WORL", "TX-COUNT": 123, "TX-ALPHA": "ABCDE", "TX-FLAG": "n"}"#,
        ),
        // Leading and inner spaces stay; only trailing spaces are trimmed.
        case(
            "TEXT-REC",
            &[
                "MOVE SPACES TO TX-CODE",
                "MOVE '  a b, {c}' TO TX-NAME",
                "MOVE 'Q' TO TX-ALPHA",
                "MOVE SPACE TO TX-FLAG",
            ],
            r#"{"TX-CODE": "", "TX-NAME": "  a b, {c}", "TX-COUNT": 7, "TX-ALPHA": "Q", "TX-FLAG": ""}"#,
        ),
    ];
    check(Oracle::new("text.cpy", Sign::Ebcdic), || options(SignStyle::AsciiIbm), &cases);
}

/// A FILLER's VALUE is part of what the host sends, so encode writes it (FILLER is not in
/// the JSON).
#[test]
fn filler_value_is_written_by_encode() {
    let cases = [
        case::<&str>("FILLER-VALUE-REC", &[], r#"{"FV-ID": 0, "FV-NAME": ""}"#),
        case(
            "FILLER-VALUE-REC",
            &["MOVE 42 TO FV-ID", "MOVE 'ABCDE' TO FV-NAME"],
            r#"{"FV-ID": 42, "FV-NAME": "ABCDE"}"#,
        ),
    ];
    check(Oracle::new("text.cpy", Sign::Ebcdic), || options(SignStyle::AsciiIbm), &cases);
}

// ---------------------------------------------------------------------------------------
// Negative zero

/// Zero is written with a plus sign (COBOL's MOVE ZERO). Negative-zero bytes (GnuCOBOL leaves
/// them after a literal `MOVE -0` into some items, and after moving a X'0D'-signed packed zero)
/// decode to `-0` with the field's scale, and encode back to the same bytes: `encode(decode(b))
/// == b` holds for every record the host can write (binary has no negative zero). IBM
/// Enterprise COBOL Language Reference, "Signed data": a negative zero is a valid
/// representation of zero (it compares equal to +0, which the shadow comparison keeps).
fn negative_zero_cases() -> Vec<Case> {
    let zeros = r#"{"NZ-ZONED": 0, "NZ-ZONED-DECIMAL": 0.00, "NZ-PACKED": 0, "NZ-BINARY": 0, "NZ-LEAD-SEP": 0}"#;
    vec![
        case("NEGZERO-REC", &["MOVE ZERO TO NZ-ZONED NZ-ZONED-DECIMAL NZ-PACKED NZ-BINARY NZ-LEAD-SEP"], zeros)
            .also_encodes(
                r#"{"NZ-ZONED": 0, "NZ-ZONED-DECIMAL": 0, "NZ-PACKED": 0.0, "NZ-BINARY": -0, "NZ-LEAD-SEP": 0}"#,
            ),
        case(
            "NEGZERO-REC",
            &["MOVE -0 TO NZ-ZONED NZ-ZONED-DECIMAL NZ-PACKED NZ-BINARY NZ-LEAD-SEP"],
            r#"{"NZ-ZONED": 0, "NZ-ZONED-DECIMAL": -0.00, "NZ-PACKED": 0, "NZ-BINARY": 0, "NZ-LEAD-SEP": -0}"#,
        ),
        case(
            "NEGZERO-REC",
            &["MOVE X'000D' TO NZ-PACKED(1:2)", "MOVE NZ-PACKED TO NZ-ZONED NZ-ZONED-DECIMAL NZ-BINARY NZ-LEAD-SEP"],
            r#"{"NZ-ZONED": -0, "NZ-ZONED-DECIMAL": -0.00, "NZ-PACKED": -0, "NZ-BINARY": 0, "NZ-LEAD-SEP": -0}"#,
        )
        .also_encodes(
            r#"{"NZ-ZONED": -0, "NZ-ZONED-DECIMAL": -0, "NZ-PACKED": -0.0, "NZ-BINARY": 0, "NZ-LEAD-SEP": -0}"#,
        ),
    ]
}

#[test]
fn negative_zero_ibm() {
    check(Oracle::new("negzero.cpy", Sign::Ebcdic), || options(style(Sign::Ebcdic)), &negative_zero_cases());
}

#[test]
fn negative_zero_micro_focus() {
    check(Oracle::new("negzero.cpy", Sign::Ascii), || options(style(Sign::Ascii)), &negative_zero_cases());
}
