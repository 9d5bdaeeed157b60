//! Qualified data-name references (IBM Language Reference, "Qualification": `OF`/`IN` name
//! groups the item is under, innermost first). Every reference ficus resolves honours them,
//! and a name that matches two items is an error naming every candidate — never the first.
//! RENAMES offsets are checked against GnuCOBOL.

mod common;

#[path = "support/cobol_offsets.rs"]
mod cobol_offsets;

use common::*;
use ficus::codec::charset::CodePage;
use ficus::codec::{Codec, CodecOptions};
use ficus::copybook::{parse_copybook, Copybook, CopybookError, NoCopy};
use serde_json::json;
use std::process::Command;

fn book(text: &str) -> Result<Copybook, CopybookError> {
    parse_copybook(text, "q.cpy", &NoCopy)
}

const ORD: &str = "       01 ORD-REC.
          05 ORD-HEAD.
             10 ORD-DATE    PIC X(8).
             10 ORD-BRANCH  PIC X(4).
          05 ORD-BODY.
             10 ORD-DATE    PIC X(8).
             10 ORD-BRANCH  PIC X(4).
             10 ORD-AMT     PIC 9(5).
";

#[test]
fn renames_honours_of_and_in_as_gnucobol_does() {
    let text =
        format!("{ORD}       66 BODY-KEY RENAMES ORD-DATE OF ORD-BODY\n              THRU ORD-BRANCH IN ORD-BODY.\n");
    let cb = book(&text).unwrap();
    let r = &cb.records[0].renames[0];
    assert_eq!((r.offset, r.size), (12, 12), "the ORD-BODY fields, not the first ORD-DATE at 0");
    assert_eq!(r.from, "ORD-DATE OF ORD-BODY");
    let g = cobol_offsets::measure(&text, &[cobol_offsets::Query { record: "ORD-REC", refs: vec!["BODY-KEY".into()] }])
        .unwrap();
    assert_eq!(g[0].items[0], (12, 12));

    let e = book(&format!("{ORD}       66 BODY-KEY RENAMES ORD-DATE THRU ORD-BRANCH.\n")).unwrap_err();
    assert_eq!(
        e.message,
        "RENAMES ORD-DATE is ambiguous in record ORD-REC: it names ORD-HEAD.ORD-DATE (line 3) and \
         ORD-BODY.ORD-DATE (line 6); qualify it (NAME OF GROUP)"
    );
    let e = book(&format!("{ORD}       66 K RENAMES ORD-DATE OF ORD-TAIL.\n")).unwrap_err();
    assert!(e.message.contains("ORD-DATE OF ORD-TAIL is not in record ORD-REC"), "{e}");
}

const ODQ: &str = "       01 ODQ.
          05 HDR.
             10 CNT PIC 9(2).
          05 TRL.
             10 CNT PIC 9(2).
          05 ROWS OCCURS 0 TO 5 DEPENDING ON CNT OF TRL.
             10 V PIC X.
";

#[test]
fn depending_on_honours_qualification_in_decode_and_encode() {
    let cb = book(ODQ).unwrap();
    let codec = Codec::new(cb.record(None).unwrap(), CodecOptions::for_codepage(CodePage::Ascii)).unwrap();
    let (v, used) = codec.decode_json(b"0302ab").unwrap();
    assert_eq!(used, 6, "TRL.CNT (2) counts the rows, not HDR.CNT (3)");
    assert_eq!(v["ROWS"], json!([{"V": "a"}, {"V": "b"}]));
    assert_eq!(codec.encode_json(&v).unwrap(), b"0302ab");
    let e = codec.encode_json(&json!({"HDR": {"CNT": 2}, "TRL": {"CNT": 3}, "ROWS": [{"V": "a"}, {"V": "b"}]}));
    assert_eq!(e.unwrap_err().to_string(), "ROWS: the JSON array has 2 elements, but counter TRL.CNT = 3");

    let e = book(&ODQ.replace("CNT OF TRL", "CNT")).unwrap_err();
    assert!(e.message.contains("it names HDR.CNT (line 3) and TRL.CNT (line 5)"), "{e}");
    assert_eq!(e.line, 6);
}

#[test]
fn redefines_names_the_entry_just_before_without_qualifiers() {
    // IBM's format is `REDEFINES data-name-2`: no qualification; the redefinition follows the
    // entry it redefines (or other redefinitions of it) at the same level.
    let ok = "       01 R.\n          05 A PIC X(4).\n          05 B REDEFINES A PIC 9(4).\n          05 C REDEFINES A PIC X(2).\n";
    assert!(book(ok).is_ok());
    // A chain (C REDEFINES B, B REDEFINES A) is the same storage: read, with C at A's offset
    // (as GnuCOBOL and copybooks in the field have it; IBM asks for the original's name).
    let chain = "       01 R.\n          05 Z PIC X(3).\n          05 A PIC X(4).\n          05 B REDEFINES A PIC 9(4).\n          05 C REDEFINES B PIC X(2).\n          05 D PIC X.\n";
    let b = book(chain).unwrap();
    let ficus::copybook::ItemKind::Group(items) = &b.records[0].root.kind else { panic!("a group") };
    let at = |name: &str| items.iter().find(|i| i.name.as_deref() == Some(name)).map(|i| i.offset);
    assert_eq!((at("A"), at("B"), at("C"), at("D")), (Some(3), Some(3), Some(3), Some(7)));
    let e =
        book("       01 R.\n          05 G.\n             10 A PIC X(4).\n          05 B REDEFINES G OF R PIC X(4).\n")
            .unwrap_err();
    assert!(e.message.contains("cannot be qualified") && e.message.contains("write REDEFINES G"), "{e}");
    let e = book(
        "       01 R.\n          05 A PIC X(4).\n          05 B PIC X(2).\n          05 C REDEFINES A PIC X(2).\n",
    )
    .unwrap_err();
    assert!(e.message.contains("the item it can redefine is B"), "{e}");
}

fn check(dir: &std::path::Path, toml: &str) -> (i32, String) {
    let path = dir.join("routes.toml");
    std::fs::write(&path, toml).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ficus")).args(["check", "--config"]).arg(&path).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn routes_toml_field_names_are_qualified_with_dotted_paths() {
    let dir = tempfile::tempdir().unwrap();
    let books = dir.path().join("copybooks");
    std::fs::create_dir(&books).unwrap();
    for entry in std::fs::read_dir(copybooks()).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, books.join(p.file_name().unwrap())).unwrap();
    }
    let acctinq = std::fs::read_to_string(books.join("ACCTINQ.cpy")).unwrap().replace(
        "       01  ACCTINQ-REQ.\n           05  ACCT-NO                 PIC X(16).\n",
        "       01  ACCTINQ-REQ.\n           05  FROM-ACCT.\n               10  ACCT-NO             PIC X(16).\n           05  TO-ACCT.\n               10  ACCT-NO             PIC X(16).\n",
    );
    assert!(acctinq.contains("TO-ACCT"));
    std::fs::write(books.join("ACCTINQ.cpy"), acctinq).unwrap();
    std::fs::write(dir.path().join("tokens"), "t\n").unwrap();
    let up = Upstreams { legacy: "127.0.0.1:7001".into(), accounts: "http://127.0.0.1:7002/ops".into() };
    let base = routes_toml(&up, "legacy", "legacy", "")
        .replace(&copybooks().display().to_string(), &books.display().to_string());
    let with = |sticky: &str| {
        base.replacen(
            "read_only = true",
            &format!("read_only = true\ncanary = {{ to = \"accounts\", percent = 10, sticky = \"{sticky}\" }}"),
            1,
        )
    };
    let (code, out) = check(dir.path(), &with("ACCT-NO"));
    assert_eq!(code, 64, "{out}");
    assert!(
        out.contains("ACCT-NO is ambiguous in record ACCTINQ-REQ: it names FROM-ACCT.ACCT-NO and TO-ACCT.ACCT-NO"),
        "{out}"
    );
    let (code, out) = check(dir.path(), &with("TO-ACCT.ACCT-NO"));
    assert_eq!(code, 0, "{out}");
    let (code, out) = check(dir.path(), &with("ACCT-NO OF TO-ACCT"));
    assert_eq!(code, 0, "{out}");
    // A group names no single field: the message says so instead of "not in the layout".
    let (code, out) = check(dir.path(), &with("TO-ACCT"));
    assert_eq!(code, 64, "{out}");
    assert!(out.contains("(TO-ACCT is a group, which has no single value: name one of its fields)"), "{out}");
}
