//! SYNCHRONIZED items and IBM's slack bytes, inside and outside tables.
//!
//! The rule is IBM Enterprise COBOL's, Language Reference, SYNCHRONIZED clause, "Slack bytes
//! within records" (m = 2 for binary of 1–4 digits, 4 for 5–18 digits and COMP-1, INDEX and
//! POINTER, 8 for COMP-2; slack follows the elementary item that precedes the synchronized
//! one, at its level) and the paragraph after it on OCCURS (the group's size including its
//! slack is divided by the largest m in it; m - r slack bytes go at the end of each
//! occurrence). Its worked examples (FIELD-A, FIELD-L, WORK-RECORD with COMP-TABLE) are
//! checked here as written there.
//!
//! GnuCOBOL 3.1.2 (`-std=ibm`) is the oracle only where it follows IBM: records without tables
//! whose groups do not start with a synchronized item, and without 8-byte binary items. It
//! differs from IBM in three ways, each pinned below: inside a table it aligns from the start
//! of the occurrence and pads after a synchronized item (WORK-RECORD's COMP-NAME at 12, not
//! IBM's 10); it puts slack that precedes a group's first synchronized item inside the group
//! (so a table starting with one is 3 bytes shorter); and it aligns 8-byte binary on 8.

#[path = "support/cobol_offsets.rs"]
mod cobol_offsets;

use cobol_offsets::{measure, Query};
use ficus::codec::charset::CodePage;
use ficus::codec::{Codec, CodecOptions};
use ficus::copybook::listing::listing;
use ficus::copybook::{parse_copybook, Copybook, Item, ItemKind, NoCopy};
use serde_json::json;

fn book(text: &str) -> Copybook {
    parse_copybook(text, "sync.cpy", &NoCopy).unwrap_or_else(|e| panic!("{e}"))
}

/// (offset, size) of the first item named `name` in record `record`.
fn at(cb: &Copybook, record: &str, name: &str) -> (usize, usize) {
    fn find<'a>(i: &'a Item, n: &str) -> Option<&'a Item> {
        if i.name.as_deref() == Some(n) {
            return Some(i);
        }
        match &i.kind {
            ItemKind::Group(c) => c.iter().find_map(|c| find(c, n)),
            ItemKind::Elementary(_) => None,
        }
    }
    let r = cb.record(Some(record)).unwrap_or_else(|| panic!("no record {record}"));
    let i = find(&r.root, name).unwrap_or_else(|| panic!("no {name}"));
    (i.offset, i.size)
}

const PAY: &str = "       01 PAY-REC.
          05 PAY-KIND            PIC X.
          05 PAY-LINE OCCURS 3 TIMES.
             10 LINE-TYPE        PIC X.
             10 LINE-AMT         PIC S9(4)V99 COMP SYNC.
             10 LINE-HRS         PIC S9(3) COMP SYNC.
             10 LINE-TAG         PIC X(5).
          05 PAY-END             PIC X(2).
";

#[test]
fn pay_rec_element_is_16_and_record_51_as_ibm_lays_it_out() {
    // The record is IBM's WORK-RECORD example: "[10 SLACK-BYTES PIC XX]" before
    // COMP-PAY and again at the end of each occurrence of COMP-TABLE.
    let cb = book(PAY);
    assert_eq!(cb.records[0].max_size(), 51);
    assert_eq!(at(&cb, "PAY-REC", "PAY-LINE"), (1, 16));
    assert_eq!(at(&cb, "PAY-REC", "LINE-AMT"), (4, 4));
    assert_eq!(at(&cb, "PAY-REC", "LINE-HRS"), (8, 2));
    assert_eq!(at(&cb, "PAY-REC", "LINE-TAG"), (10, 5));
    assert_eq!(at(&cb, "PAY-REC", "PAY-END"), (49, 2));
    let text = listing(&cb.records[0]);
    assert!(text.contains("FILLER (slack)                              2        2  SLACK (before LINE-AMT)"), "{text}");
    assert!(
        text.contains("FILLER (slack)                             15        2  SLACK (end of each occurrence)"),
        "{text}"
    );

    // GnuCOBOL gets the same lengths by another road (it pads LINE-HRS to a fullword).
    let g =
        measure(PAY, &[Query { record: "PAY-REC", refs: vec!["PAY-LINE(1)".into(), "LINE-TAG(1)".into()] }]).unwrap();
    assert_eq!(g[0].record_len, 51);
    assert_eq!(g[0].items[0], (1, 16));
    assert_eq!(g[0].items[1], (12, 5), "GnuCOBOL differs from IBM here (IBM: COMP-NAME right after COMP-HRS)");
}

#[test]
fn every_occurrence_of_pay_rec_decodes_and_encodes_back() {
    let codec = Codec::new(book(PAY).record(None).unwrap(), CodecOptions::for_codepage(CodePage::Ascii)).unwrap();
    let mut bytes = vec![b' '; 51];
    bytes[0] = b'K';
    for (i, (amt, hrs)) in [(123456i32, 40i16), (-5, -1), (999999, 999)].into_iter().enumerate() {
        let base = 1 + 16 * i;
        bytes[base] = b'A' + i as u8;
        bytes[base + 3..base + 7].copy_from_slice(&amt.to_be_bytes());
        bytes[base + 7..base + 9].copy_from_slice(&hrs.to_be_bytes());
        bytes[base + 9..base + 14].copy_from_slice(format!("TAG{i}X").as_bytes());
    }
    bytes[49..51].copy_from_slice(b"ZZ");
    let (v, used) = codec.decode_json(&bytes).unwrap();
    assert_eq!(used, 51);
    assert_eq!(v["PAY-LINE"][1], json!({"LINE-TYPE": "B", "LINE-AMT": -0.05, "LINE-HRS": -1, "LINE-TAG": "TAG1X"}));
    assert_eq!(v["PAY-LINE"][2]["LINE-AMT"], json!(9999.99));
    assert_eq!(v["PAY-LINE"][2]["LINE-HRS"], json!(999));
    assert_eq!(v["PAY-END"], "ZZ");
    assert_eq!(codec.encode_json(&v).unwrap(), bytes);
}

const WORKED: &str = "       01 FIELD-A.
          05 FIELD-B PIC X(5).
          05 FIELD-C.
             10 FIELD-D PIC XX.
             10 FIELD-E COMP PIC S9(6) SYNC.
       01 FIELD-L.
          05 FIELD-M PIC X(5).
          05 FIELD-N PIC XX.
          05 FIELD-O.
             10 FIELD-P COMP PIC S9(6) SYNC.
       01 COMP-RECORD.
          05 A-1 PIC X(5).
          05 A-2 PIC X(3).
          05 A-3 PIC X(3).
          05 B-1 PIC S9999 USAGE COMP SYNCHRONIZED.
          05 B-2 PIC S99999 USAGE COMP SYNCHRONIZED.
          05 B-3 PIC S9999 USAGE COMP SYNCHRONIZED.
";

#[test]
fn the_language_references_worked_examples() {
    let cb = book(WORKED);
    // FIELD-A: one slack byte inside FIELD-C, at level 10, after FIELD-D.
    assert_eq!(at(&cb, "FIELD-A", "FIELD-C"), (5, 7));
    assert_eq!(at(&cb, "FIELD-A", "FIELD-E"), (8, 4));
    // FIELD-L: the slack byte is at level 05, after FIELD-N: FIELD-O starts on the boundary.
    assert_eq!(at(&cb, "FIELD-L", "FIELD-O"), (8, 4));
    assert_eq!(at(&cb, "FIELD-L", "FIELD-P"), (8, 4));
    // COMP-RECORD ("slack bytes between records"): 1 byte before B-1, 2 before B-2; 22 bytes.
    assert_eq!(at(&cb, "COMP-RECORD", "B-1"), (12, 2));
    assert_eq!(at(&cb, "COMP-RECORD", "B-2"), (16, 4));
    assert_eq!(at(&cb, "COMP-RECORD", "B-3"), (20, 2));
    assert_eq!(cb.record(Some("COMP-RECORD")).unwrap().max_size(), 22);

    let g = measure(
        WORKED,
        &[
            Query { record: "FIELD-A", refs: vec!["FIELD-C".into(), "FIELD-E".into()] },
            Query { record: "FIELD-L", refs: vec!["FIELD-O".into(), "FIELD-P".into()] },
            Query { record: "COMP-RECORD", refs: vec!["B-1".into(), "B-2".into(), "B-3".into()] },
        ],
    )
    .unwrap();
    assert_eq!((g[0].record_len, g[0].items.clone()), (12, vec![(5, 7), (8, 4)]));
    assert_eq!(g[1].items[1], (8, 4), "GnuCOBOL places FIELD-P as IBM does");
    assert_eq!(g[1].items[0], (7, 5), "GnuCOBOL differs: it puts the slack byte inside FIELD-O");
    assert_eq!((g[2].record_len, g[2].items.clone()), (22, vec![(12, 2), (16, 4), (20, 2)]));
}

#[test]
fn a_table_whose_first_item_is_synchronized_gets_its_slack_in_front() {
    let text = "       01 T3.\n          05 WC PIC X.\n          05 TB OCCURS 3.\n             10 BN PIC S9(8) COMP SYNC.\n             10 CC PIC X.\n          05 TE PIC X.\n";
    let cb = book(text);
    // IBM: 3 slack bytes after WC (level 05); TB's group is 5 bytes, padded to 8 per occurrence.
    assert_eq!(at(&cb, "T3", "TB"), (4, 8));
    assert_eq!(at(&cb, "T3", "TE"), (28, 1));
    assert_eq!(cb.records[0].max_size(), 29);
    let g = measure(text, &[Query { record: "T3", refs: vec!["TB(1)".into()] }]).unwrap();
    assert_eq!((g[0].record_len, g[0].items[0]), (26, (1, 8)), "GnuCOBOL differs: slack inside the occurrence");
}

#[test]
fn nested_tables_pad_each_level_to_its_largest_boundary() {
    let text = "       01 NEST.
          05 N-KIND PIC X.
          05 OUTER OCCURS 2.
             10 O-TAG PIC X.
             10 INNER OCCURS 3.
                15 I-FLAG PIC X.
                15 I-VAL PIC S9(4) COMP SYNC.
             10 O-DBL COMP-2 SYNC.
          05 N-END PIC X.
";
    let cb = book(text);
    assert_eq!(at(&cb, "NEST", "INNER"), (2, 4), "1 + 1 slack + 2 = 4, a multiple of 2");
    assert_eq!(at(&cb, "NEST", "I-VAL"), (4, 2));
    assert_eq!(at(&cb, "NEST", "O-DBL"), (16, 8), "COMP-2 on a doubleword from the record start");
    assert_eq!(at(&cb, "NEST", "OUTER"), (1, 24), "23 bytes padded to a multiple of 8");
    assert_eq!(at(&cb, "NEST", "N-END"), (49, 1));
    let g = measure(text, &[Query { record: "NEST", refs: vec!["O-DBL(1)".into(), "N-END".into()] }]).unwrap();
    assert_eq!(g[0].items[1], (49, 1));
    assert_eq!(g[0].items[0], (17, 8), "GnuCOBOL differs: it aligns from the occurrence's start");
}

#[test]
fn usages_and_their_boundaries_match_gnucobol_where_it_follows_ibm() {
    let text = "       01 R1.
          05 A    PIC X.
          05 D    COMP-2 SYNC.
          05 E    PIC X.
          05 F    COMP-1 SYNC.
          05 G    PIC X.
          05 H    PIC S9(4) COMP-5 SYNC.
          05 I    PIC X.
          05 J    USAGE INDEX SYNC.
          05 K    PIC X.
          05 L    PIC S9(7) COMP-5 SYNC.
          05 M    PIC X.
          05 N    PIC S9(5) COMP-3 SYNC.
          05 O    PIC X(3) SYNC.
";
    let cb = book(text);
    let names = ["D", "F", "H", "J", "L", "N", "O"];
    let ours: Vec<(usize, usize)> = names.iter().map(|n| at(&cb, "R1", n)).collect();
    assert_eq!(ours, [(8, 8), (20, 4), (26, 2), (32, 4), (40, 4), (45, 3), (48, 3)]);
    let g = measure(text, &[Query { record: "R1", refs: names.iter().map(|n| n.to_string()).collect() }]).unwrap();
    assert_eq!(g[0].items, ours);
    assert_eq!(g[0].record_len, cb.records[0].max_size());
}

#[test]
fn eight_byte_binary_sits_on_a_fullword_as_ibm_says() {
    // IBM: "m = 4 for binary items of five-digit length or more" (S9(5) through S9(18)).
    let text = "       01 R8.\n          05 A PIC X.\n          05 B PIC S9(12) COMP SYNC.\n";
    assert_eq!(at(&book(text), "R8", "B"), (4, 8));
    let g = measure(text, &[Query { record: "R8", refs: vec!["B".into()] }]).unwrap();
    assert_eq!(g[0].items[0], (8, 8), "GnuCOBOL differs: it aligns 8-byte binary on 8");
}

#[test]
fn sync_on_a_group_synchronizes_every_elementary_item() {
    let cb =
        book("       01 RG SYNC.\n          05 A PIC X.\n          05 B PIC S9(4) COMP.\n          05 C COMP-1.\n");
    assert_eq!(at(&cb, "RG", "B"), (2, 2));
    assert_eq!(at(&cb, "RG", "C"), (4, 4));
}

#[test]
fn sync_under_redefines() {
    let text = "       01 RDF.
          05 R-KIND PIC X.
          05 R-AREA PIC X(11).
          05 R-NUMS REDEFINES R-AREA.
             10 R-TAG PIC X.
             10 R-BIN PIC S9(8) COMP SYNC.
             10 R-HALF PIC S9(4) COMP SYNC.
          05 R-END PIC X.
";
    let cb = book(text);
    let ours: Vec<_> = ["R-NUMS", "R-BIN", "R-HALF", "R-END"].iter().map(|n| at(&cb, "RDF", n)).collect();
    assert_eq!(ours, [(1, 9), (4, 4), (8, 2), (12, 1)]);
    let g = measure(
        text,
        &[Query { record: "RDF", refs: vec!["R-NUMS".into(), "R-BIN".into(), "R-HALF".into(), "R-END".into()] }],
    )
    .unwrap();
    assert_eq!(g[0].items, ours);

    // IBM: "No padding characters are added for items containing the REDEFINES clause": the
    // redefined item must already be on the boundary, or the copybook is wrong.
    let bad = "       01 RB.\n          05 A PIC X.\n          05 B PIC X(4).\n          05 C REDEFINES B PIC S9(8) COMP SYNC.\n";
    let e = parse_copybook(bad, "sync.cpy", &NoCopy).unwrap_err();
    assert!(e.message.contains("C REDEFINES B at offset 1") && e.message.contains("multiple of 4"), "{e}");
    assert_eq!(e.line, 4);
    // "...the first elementary item subordinate to an item that contains a REDEFINES clause
    // must not require the addition of unused character positions."
    let bad = "       01 RC.\n          05 A PIC X.\n          05 B PIC X(4).\n          05 C REDEFINES B.\n             10 C1 PIC S9(4) COMP SYNC.\n";
    assert!(parse_copybook(bad, "sync.cpy", &NoCopy).unwrap_err().message.contains("multiple of 2"));
    let good = "       01 RD.\n          05 A PIC X(4).\n          05 B PIC X(4).\n          05 C REDEFINES B PIC S9(8) COMP SYNC.\n";
    assert_eq!(at(&book(good), "RD", "C"), (4, 4));
}
