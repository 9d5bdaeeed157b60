//! FILLER that holds data: an unnamed table with DEPENDING ON follows its counter, and named
//! items under a FILLER group, table or REDEFINES are decoded and encoded. IBM Enterprise COBOL
//! Language Reference, "Level-numbers" (FILLER): a FILLER item is one the program does not
//! refer to explicitly — the rule is about the item itself; its subordinates keep their names
//! and can be referenced, and the table still occupies as many occurrences as its counter says
//! ("OCCURS DEPENDING ON clause"). GnuCOBOL (`cobc -std=ibm`, `-fodoslide`) is the oracle for
//! the bytes and offsets.
//!
//! Two fields with one JSON key at one object level (`05 A`, `05 A`, or a FILLER group's `A`
//! next to its parent's `A`) would be emitted twice by decode and written from one value by
//! encode: the layout is refused when loaded, naming both fields with their paths and lines.

#[path = "support/cobol.rs"]
#[allow(dead_code)]
mod cobol;
#[path = "support/cobol_offsets.rs"]
mod cobol_offsets;

use cobol::{hex, read_fixture, Oracle, Sign, Snap};
use cobol_offsets::Query;
use ficus::codec::charset::CodePage;
use ficus::codec::{Codec, CodecOptions, PlanError};
use ficus::copybook::listing::listing_json;
use ficus::copybook::{parse_copybook, Copybook, NoCopy};
use serde_json::json;

fn ascii() -> CodecOptions {
    CodecOptions::for_codepage(CodePage::Ascii)
}

fn codec(book: &Copybook, record: &str, options: CodecOptions) -> Result<Codec, PlanError> {
    Codec::new(book.record(Some(record)).expect("record"), options)
}

fn compile(text: &str) -> Result<Codec, PlanError> {
    let book = parse_copybook(text, "t.cpy", &NoCopy).expect("parses");
    Codec::new(book.record(None).expect("record"), ascii())
}

#[test]
fn filler_tables_and_views_against_gnucobol() {
    let amt = |i: usize| format!("MOVE {} TO FT-AMT({i})", 10 + i);
    let code = |i: usize| format!("MOVE 'C' TO FT-CODE({i})");
    let tab = |n: usize| {
        let mut s = vec![format!("MOVE {n} TO FT-CNT")];
        for i in 1..=n {
            s.push(amt(i));
            s.push(code(i));
        }
        s.push("MOVE 'TT' TO FT-TAIL".into());
        Snap::new("FILL-TAB", &s)
    };
    let odo = |n: usize| Snap::new("FILL-ODO", &[format!("MOVE {n} TO FO-CNT"), "MOVE 'TT' TO FO-TAIL".into()]);
    let red = Snap::new(
        "FILL-RED",
        &["MOVE 2026 TO FR-YYYY", "MOVE 7 TO FR-MM", "MOVE 31 TO FR-DD", "MOVE 'K' TO FR-KIND", "MOVE 'Z' TO FR-TAIL"],
    );
    let snaps = [odo(0), odo(2), odo(5), tab(1), tab(2), tab(4), red];
    let elements = |n: usize| (1..=n).map(|i| json!({"FT-AMT": 10 + i, "FT-CODE": "C"})).collect::<Vec<_>>();
    let want = [
        json!({"FO-CNT": 0, "FO-TAIL": "TT"}),
        json!({"FO-CNT": 2, "FO-TAIL": "TT"}),
        json!({"FO-CNT": 5, "FO-TAIL": "TT"}),
        json!({"FT-CNT": 1, "FILLER-1": elements(1), "FT-TAIL": "TT"}),
        json!({"FT-CNT": 2, "FILLER-1": elements(2), "FT-TAIL": "TT"}),
        json!({"FT-CNT": 4, "FILLER-1": elements(4), "FT-TAIL": "TT"}),
        json!({"FR-DATE": "20260731", "FR-YYYY": 2026, "FR-MM": 7, "FR-DD": 31, "FR-KIND": "K", "FR-TAIL": "Z"}),
    ];
    let records = Oracle::new("filler.cpy", Sign::Ebcdic).run(&snaps);
    let book = parse_copybook(&read_fixture("filler.cpy"), "filler.cpy", &NoCopy).unwrap();
    for ((snap, bytes), want) in snaps.iter().zip(&records).zip(&want) {
        let c = codec(&book, &snap.record, ascii()).unwrap();
        let label = format!("{} {}", snap.record, hex(bytes));
        let (got, used) = c.decode_json(bytes).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!((&got, used), (want, bytes.len()), "{label}");
        // Encode from the JSON as a service would send it: the REDEFINES view alone for
        // FILL-RED (the FILLER view is written when only its fields are given).
        let mut given = want.clone();
        given.as_object_mut().unwrap().remove("FR-DATE");
        assert_eq!(c.encode_json(&given).unwrap(), *bytes, "{label}");
    }
}

#[test]
fn offsets_under_filler_match_gnucobol() {
    let text = read_fixture("filler.cpy");
    let book = parse_copybook(&text, "filler.cpy", &NoCopy).unwrap();
    let queries = [
        Query {
            record: "FILL-RED",
            refs: ["FR-YYYY", "FR-MM", "FR-DD", "FR-KIND", "FR-TAIL"].map(String::from).to_vec(),
        },
        Query { record: "FILL-TAB", refs: vec!["FT-AMT(1)".into(), "FT-CODE(1)".into()] },
    ];
    let placed = cobol_offsets::measure(&text, &queries).unwrap();
    // The paths `ficus layout --json` prints are the JSON's: no FILLER level, the unnamed
    // table under its generated key.
    let paths = [
        vec!["FILL-RED.FR-YYYY", "FILL-RED.FR-MM", "FILL-RED.FR-DD", "FILL-RED.FR-KIND", "FILL-RED.FR-TAIL"],
        vec!["FILL-TAB.FILLER-1.FT-AMT", "FILL-TAB.FILLER-1.FT-CODE"],
    ];
    for ((q, placed), paths) in queries.iter().zip(&placed).zip(&paths) {
        let listing = listing_json(book.record(Some(q.record)).unwrap());
        for (path, (offset, len)) in paths.iter().zip(&placed.items) {
            let item = listing.as_array().unwrap().iter().find(|i| i["path"] == *path);
            let item = item.unwrap_or_else(|| panic!("no {path} in {listing:#}"));
            assert_eq!(
                (item["offset"].as_u64(), item["length"].as_u64()),
                (Some(*offset as u64), Some(*len as u64)),
                "{path}"
            );
        }
    }
    let table = listing_json(book.record(Some("FILL-TAB")).unwrap());
    let table = table.as_array().unwrap().iter().find(|i| i["path"] == "FILL-TAB.FILLER-1").unwrap().clone();
    assert_eq!(table["occurs"]["depending_on"], "FILL-TAB.FT-CNT");
}

#[test]
fn a_filler_table_with_depending_on_sets_the_record_length() {
    let c = compile(
        "       01 FE.\n          05 CNT PIC 9.\n          05 FILLER PIC X OCCURS 0 TO 5 TIMES DEPENDING ON CNT.\n",
    )
    .unwrap();
    // Six one-element records, not two records read at the largest size.
    let mut at = 0;
    let data = b"1a1b1c1d1e1f";
    let mut count = 0;
    while at < data.len() {
        let (v, used) = c.decode_json(&data[at..]).unwrap();
        assert_eq!((v, used), (json!({"CNT": 1}), 2));
        at += used;
        count += 1;
    }
    assert_eq!(count, 6);
    assert_eq!(c.encode_json(&json!({"CNT": 0})).unwrap(), b"0");
    assert_eq!(c.encode_json(&json!({"CNT": 3})).unwrap(), b"3   ");
    let e = c.decode_json(b"9").unwrap_err().to_string();
    assert_eq!(e, "FILLER: counter CNT = 9, outside the table's 0 to 5 elements");
    let e = c.encode_json(&json!({"CNT": 6})).unwrap_err().to_string();
    assert!(e.starts_with("FILLER: counter CNT = 6, outside the table's 0 to 5 elements"), "{e}");
}

#[test]
fn the_same_key_twice_in_one_object_is_refused_naming_both() {
    let e = compile("       01 DUP.\n          05 A PIC X(2).\n          05 A PIC 9(2).\n").unwrap_err().to_string();
    assert!(e.starts_with("A is the JSON key of two fields of one object: DUP.A (line 2) and DUP.A (line 3)"), "{e}");
    let lifted = "       01 QD.\n          05 A PIC X(2).\n          05 FILLER.\n             10 A PIC X(3).\n          05 G.\n             10 A PIC 9(2).\n";
    let e = compile(lifted).unwrap_err().to_string();
    assert!(e.contains("QD.A (line 2) and QD.FILLER.A (line 4)"), "{e}");
    let view = "       01 V.\n          05 D PIC X(4).\n          05 FILLER REDEFINES D.\n             10 A PIC X(2).\n             10 A PIC X(2).\n";
    let e = compile(view).unwrap_err().to_string();
    assert!(e.contains("V.FILLER.A (line 4) and V.FILLER.A (line 5)"), "{e}");
    let generated =
        "       01 GK.\n          05 FILLER-1 PIC X.\n          05 FILLER OCCURS 2.\n             10 X PIC X.\n";
    let e = compile(generated).unwrap_err().to_string();
    assert!(
        e.starts_with(
            "FILLER-1 is the JSON key of two fields of one object: GK.FILLER-1 (line 2) and GK.FILLER (line 3)"
        ),
        "{e}"
    );
    // The same name in two objects is no clash: a named group and a table element are objects.
    let ok = "       01 OK.\n          05 A PIC X.\n          05 G.\n             10 A PIC X.\n          05 T OCCURS 2.\n             10 A PIC X.\n";
    assert!(compile(ok).is_ok());
}

#[test]
fn fill_missing_takes_a_left_out_counter_from_its_array() {
    let text = "       01 VO.\n          05 CNT PIC 9.\n          05 T OCCURS 1 TO 3 TIMES DEPENDING ON CNT.\n             10 FILLER PIC X VALUE '<'.\n             10 V PIC X(2) VALUE 'vv'.\n             10 N OCCURS 2 TIMES PIC 9 VALUE 7.\n          05 FILLER PIC X(2) VALUE ALL '*'.\n";
    let book = parse_copybook(text, "vo.cpy", &NoCopy).unwrap();
    let c = codec(&book, "VO", CodecOptions { fill_missing: true, ..ascii() }).unwrap();
    assert_eq!(c.encode_json(&json!({"T": [{}, {"V": "cd"}]})).unwrap(), b"2<vv77<cd77**");
    // Without the array the counter is its VALUE or zero, as before (and the table its minimum
    // is refused against it).
    let e = c.encode_json(&json!({})).unwrap_err().to_string();
    assert!(e.contains("counter CNT = 0"), "{e}");
    // A counter given is never overridden.
    let e = c.encode_json(&json!({"CNT": 1, "T": [{}, {}]})).unwrap_err().to_string();
    assert_eq!(e, "T: the JSON array has 2 elements, but counter CNT = 1");
}

#[test]
fn a_header_with_a_filler_table_depending_on_is_refused_and_lookups_say_why() {
    use ficus::header::{HeaderLayout, HeaderNames};
    let text = "       01 HDR.\n          05 OP PIC X(4).\n          05 RC PIC X(4).\n          05 RM PIC X(8).\n          05 N PIC 9.\n          05 FILLER PIC X OCCURS 0 TO 3 DEPENDING ON N.\n          05 G.\n             10 K PIC X.\n";
    let book = parse_copybook(text, "h.cpy", &NoCopy).unwrap();
    let operation = ["OP".to_string()];
    let names = |rc| HeaderNames {
        operation: &operation,
        response_code: rc,
        response_message: "RM",
        length: None,
        message_id: None,
    };
    let e = HeaderLayout::new(book.record(None).unwrap(), ascii(), &names("RC")).unwrap_err();
    assert!(e.contains("has a table (OCCURS); a common header must be fixed"), "{e}");
    let e = HeaderLayout::new(book.record(None).unwrap(), ascii(), &names("G")).unwrap_err();
    assert!(e.ends_with("has no field G (G is a group, which has no single value: name one of its fields)"), "{e}");
}

#[path = "filler_fields/random.rs"]
mod random;

/// `ficus layout` refuses what decode and encode refuse: it shows no layout the codec would not
/// take (two fields with one JSON key here).
#[test]
fn layout_refuses_what_the_codec_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("DUP.cpy");
    std::fs::write(&book, "       01  DUP.\n           05  A  PIC X(2).\n           05  A  PIC 9(2).\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ficus")).arg("layout").arg(&book).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{err}");
    assert!(err.contains("DUP.A (line 2) and DUP.A (line 3)"), "{err}");
    // But a picture only a code page can refuse (PIC G needs a DBCS page) is laid out: `layout`
    // has no code page.
    std::fs::write(&book, "       01  KR.\n           05  NAME  PIC G(3).\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ficus")).arg("layout").arg(&book).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("TOTAL 6 BYTES"));
}
