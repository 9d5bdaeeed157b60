//! GnuCOBOL as the oracle for offsets and lengths: a program holds the copybook's records in
//! WORKING-STORAGE and prints, for each data reference asked about, its byte offset from the
//! start of its record (`ADDRESS OF` the item minus `ADDRESS OF` the record) and `LENGTH OF`
//! it, plus `LENGTH OF` the record. References may be subscripted (`LINE-AMT(2)`) and
//! qualified (`ORD-DATE OF ORD-BODY`), and may name level-66 items.
//!
//! Compiled with `cobc -x -std=ibm` (IBM binary sizes 2-4-8). A missing `cobc` is an error.

use std::process::Command;

/// One record to measure: its name and the references to place.
pub struct Query<'a> {
    /// The 01 record.
    pub record: &'a str,
    /// Data references, each measured from the record's start.
    pub refs: Vec<String>,
}

/// A record's length and, per reference, (offset, length).
#[derive(Debug, PartialEq, Eq)]
pub struct Placed {
    /// `LENGTH OF` the record.
    pub record_len: usize,
    /// (offset, `LENGTH OF`) of each reference, in query order.
    pub items: Vec<(usize, usize)>,
}

fn line(p: &mut String, text: &str) {
    // Area B; statements here stay well inside column 72.
    assert!(text.len() <= 60, "statement too long for fixed format: {text}");
    p.push_str("           ");
    p.push_str(text);
    p.push('\n');
}

/// Compiles `copybook` (fixed-format 01 records) and measures every query.
pub fn measure(copybook: &str, queries: &[Query]) -> Result<Vec<Placed>, String> {
    let mut p = String::new();
    for l in [
        "       IDENTIFICATION DIVISION.",
        "       PROGRAM-ID. FICUS-OFFSETS.",
        "       DATA DIVISION.",
        "       WORKING-STORAGE SECTION.",
        "       01 FICUS-P0 USAGE POINTER.",
        "       01 FICUS-P0N REDEFINES FICUS-P0 PIC 9(18) COMP-5.",
        "       01 FICUS-P1 USAGE POINTER.",
        "       01 FICUS-P1N REDEFINES FICUS-P1 PIC 9(18) COMP-5.",
        "       01 FICUS-N PIC 9(9).",
        "       01 FICUS-L PIC 9(9).",
    ] {
        p.push_str(l);
        p.push('\n');
    }
    p.push_str(copybook);
    if !copybook.ends_with('\n') {
        p.push('\n');
    }
    p.push_str("       PROCEDURE DIVISION.\n");
    for (q, query) in queries.iter().enumerate() {
        line(&mut p, &format!("SET FICUS-P0 TO ADDRESS OF {}", query.record));
        line(&mut p, &format!("MOVE LENGTH OF {} TO FICUS-L", query.record));
        line(&mut p, &format!("DISPLAY 'REC {q} ' FICUS-L"));
        for (i, r) in query.refs.iter().enumerate() {
            line(&mut p, "SET FICUS-P1 TO");
            line(&mut p, &format!("    ADDRESS OF {r}"));
            line(&mut p, "COMPUTE FICUS-N = FICUS-P1N - FICUS-P0N");
            line(&mut p, "MOVE LENGTH OF");
            line(&mut p, &format!("    {r}"));
            line(&mut p, "    TO FICUS-L");
            line(&mut p, &format!("DISPLAY 'ITEM {q} {i} ' FICUS-N ' ' FICUS-L"));
        }
    }
    line(&mut p, "STOP RUN.");
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temp dir: {e}"))?;
    let src = dir.path().join("offsets.cob");
    std::fs::write(&src, &p).map_err(|e| e.to_string())?;
    let exe = dir.path().join("offsets");
    let out = Command::new("cobc")
        .args(["-x", "-std=ibm", "-o"])
        .arg(&exe)
        .arg(&src)
        .output()
        .map_err(|e| format!("cannot run cobc: {e}"))?;
    if !out.status.success() {
        return Err(format!("cobc failed:\n{}\n{p}", String::from_utf8_lossy(&out.stderr)));
    }
    let run = Command::new(&exe).output().map_err(|e| format!("cannot run the program: {e}"))?;
    let text = String::from_utf8_lossy(&run.stdout);
    let mut placed: Vec<Placed> = queries.iter().map(|_| Placed { record_len: 0, items: Vec::new() }).collect();
    for l in text.lines() {
        let w: Vec<&str> = l.split_whitespace().collect();
        let num = |s: &str| s.parse::<usize>().map_err(|e| format!("{l:?}: {e}"));
        match w.as_slice() {
            ["REC", q, len] => placed[num(q)?].record_len = num(len)?,
            ["ITEM", q, _, off, len] => placed[num(q)?].items.push((num(off)?, num(len)?)),
            _ => return Err(format!("unexpected output line {l:?}")),
        }
    }
    Ok(placed)
}
