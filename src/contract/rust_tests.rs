//! The Rust type of every kind of field in a rich layout (OCCURS DEPENDING ON, REDEFINES,
//! COMP-3 with scale, PIC N, FILLER, P scaling, floats, names with digits, a keyword).

use super::rust::{field_ident, type_name, Module};
use crate::codec::charset::CodePage;
use crate::codec::{Codec, CodecOptions};
use crate::copybook::{parse_copybook, NoCopy};

const RICH: &str = "       01  RICH.
           05  CUST-ID                 PIC 9(10).
           05  ROW-CNT                 PIC S9(4) COMP.
           05  TYPE                    PIC X.
           05  1ST-LINE                PIC X(20).
           05  DETAIL                  PIC X(20).
           05  CARD-VIEW REDEFINES DETAIL.
               10  CARD-NO             PIC 9(16).
               10  CARD-EXP            PIC 9(4).
           05  FILLER REDEFINES DETAIL.
               10  LOAN-AMT            PIC S9(11)V99 COMP-3.
               10  FILLER              PIC X(13).
           05  ROWS OCCURS 0 TO 5 TIMES DEPENDING ON ROW-CNT.
               10  ROW-AMT             PIC S9(7)V99.
               10  ROW-QTY             PIC 9(3) COMP-3.
               10  ROW-NOTE            PIC N(4).
           05  TOTAL                   PIC S9(13)V99 COMP-3.
           05  HUGE                    PIC S9(31) COMP-3.
           05  HUGE-DEC                PIC S9(29)V99 COMP-3.
           05  BIG-INT                 PIC 9(20).
           05  SCALED                  PIC 9(3)PP.
           05  RATE                    PIC V9(5) COMP-3.
           05  COUNT-U                 PIC 9(4) COMP.
           05  RATIO                   COMP-2.
           05  NAMES                   PIC X(8) OCCURS 3 TIMES.
           05  FILLER                  PIC X(4).
";

fn model() -> String {
    let book = parse_copybook(RICH, "rich.cpy", &NoCopy).unwrap();
    let record = &book.records[0];
    let codec = Codec::new(record, CodecOptions::for_codepage(CodePage::Cp037)).unwrap();
    let mut m = Module::new();
    m.record(codec.plan(), "Request", Some(record), false);
    assert!(m.uses_wide, "HUGE needs Wide");
    m.code().to_string()
}

/// The declared type of the field renamed `key`.
fn field(code: &str, key: &str) -> String {
    let rename = format!("rename = \"{key}\"");
    let mut lines = code.lines().skip_while(|l| !l.contains(&rename));
    lines.next().unwrap_or_else(|| panic!("no field {key} in\n{code}"));
    let decl = lines.next().unwrap().trim();
    decl.trim_end_matches(',').to_string()
}

#[test]
fn every_kind_of_field_has_its_rust_type() {
    let code = model();
    let expected = [
        ("CUST-ID", "pub cust_id: u64"),
        ("ROW-CNT", "pub row_cnt: i64"),
        ("TYPE", "pub r#type: String"),
        ("1ST-LINE", "pub f_1st_line: String"),
        ("DETAIL", "pub detail: Option<String>"), // the first view of its set
        ("CARD-VIEW", "pub card_view: Option<CardView>"),
        ("CARD-NO", "pub card_no: Option<u64>"),
        ("LOAN-AMT", "pub loan_amt: Option<Decimal>"),
        ("ROWS", "pub rows: Vec<Rows>"),
        ("ROW-AMT", "pub row_amt: Decimal"),
        ("ROW-QTY", "pub row_qty: u64"),
        ("ROW-NOTE", "pub row_note: String"),
        ("TOTAL", "pub total: Decimal"),
        ("HUGE", "pub huge: Wide"),
        ("HUGE-DEC", "pub huge_dec: Wide"),
        ("BIG-INT", "pub big_int: Decimal"),
        ("SCALED", "pub scaled: u64"),
        ("RATE", "pub rate: Decimal"),
        ("COUNT-U", "pub count_u: u64"),
        ("RATIO", "pub ratio: f64"),
        ("NAMES", "pub names: Vec<String>"),
    ];
    for (key, decl) in expected {
        assert_eq!(field(&code, key), decl, "{key}");
    }
    assert!(!code.contains("\"FILLER"), "FILLER is never a field:\n{code}");
    assert!(code.contains("ROWS: OCCURS 0 TO 5 DEPENDING ON ROW-CNT"), "{code}");
    assert!(code.contains("TOTAL: PIC S9(13)V99 COMP-3 (8 bytes)"), "{code}");
    // Views are left out of the JSON when None (ficus encodes the first view present).
    assert!(code.contains("rename = \"LOAN-AMT\", default, skip_serializing_if = \"Option::is_none\""), "{code}");
}

#[test]
fn names_become_rust_identifiers() {
    let names = ["ACCT-NO", "TYPE", "SELF", "1ST", "MATCH", "X", "A--B"];
    let idents: Vec<String> = names.iter().map(|n| field_ident(n)).collect();
    assert_eq!(idents, ["acct_no", "r#type", "self_", "f_1st", "r#match", "x", "a_b"]);
    // IBM COBOL's DBCS names: one character must not become `_` (not an identifier), nor two
    // names of the same length the same run of underscores.
    let korean = ["시", "계좌-번호", "고객명", "ACCT-번호", "1-시"];
    let idents: Vec<String> = korean.iter().map(|n| field_ident(n)).collect();
    assert_eq!(idents, ["시", "계좌_번호", "고객명", "acct_번호", "f_1_시"]);
    assert_eq!((type_name("주소"), type_name("전화-번호")), ("T주소".to_string(), "T전화번호".to_string()));
    assert_eq!(type_name("TXN-ROW"), "TxnRow");
    assert_eq!(type_name("9-TABLE"), "T9Table");
    // Randomized: any COBOL-like name gives a non-empty identifier of ASCII word characters.
    let alphabet: Vec<char> = "AZ09-".chars().collect();
    let mut seed = 11u64;
    for _ in 0..2000 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let len = 1 + (seed >> 59) as usize % 12;
        let name: String = (0..len).map(|k| alphabet[((seed >> (k * 4)) as usize) % alphabet.len()]).collect();
        let ident = field_ident(&name);
        let bare = ident.trim_start_matches("r#");
        assert!(!bare.is_empty() && !bare.starts_with(|c: char| c.is_ascii_digit()), "{name}: {ident}");
        assert!(bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{name}: {ident}");
        let ty = type_name(&name);
        assert!(ty.starts_with(|c: char| c.is_ascii_uppercase()), "{name}: {ty}");
    }
}

#[test]
fn operation_names_become_module_and_handler_names() {
    use super::scaffold::module_name;
    // `pub mod type` / `pub async fn type` do not parse, and `header` is the header's module.
    let ops = ["ACCTINQ", "TYPE", "HEADER", "SELF", "FN", "9XFER", "조회"];
    let names: Vec<String> = ops.iter().map(|op| module_name(op)).collect();
    assert_eq!(names, ["acctinq", "type_", "header_", "self_", "fn_", "f_9xfer", "조회"]);
}
