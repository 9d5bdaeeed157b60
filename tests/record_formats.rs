//! Files as mainframes write them: V and VB (RDW, BDW, the extended BDW), FB, records whose
//! length is a field — the format core under random records and random damage, and the
//! `ficus decode`/`ficus encode` options on real files.
//!
//! Rules: z/OS DFSMS Using Data Sets, "Record Descriptor Word (RDW)" (LL = record length
//! including the 4-byte RDW, 4 to 32 760; bytes 3–4 zero, other values mean spanned records)
//! and "Block Descriptor Word (BDW)" (bit 0 zero: bits 1–15 the block length including the
//! BDW, 8 to 32 760, bits 16–31 zero; bit 0 one: extended BDW, bits 1–31 the length, written
//! by QSAM only for blocks over 32 760).

use ficus::codec::records::{looks_variable, write_rdw, RecordFormat, Records, VbWriter};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use std::process::{Command, Output};

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(200);
    ProptestConfig { cases, rng_seed: RngSeed::Fixed(0x0005_BD17), ..ProptestConfig::default() }
}

fn read(bytes: &[u8], format: RecordFormat) -> Result<Vec<Vec<u8>>, TestCaseError> {
    Records::new(bytes, format, 0)
        .map(|r| r.map(|f| f.data.to_vec()).map_err(|e| TestCaseError::fail(e.to_string())))
        .collect()
}

fn write_vb(records: &[Vec<u8>], block_size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = VbWriter::new(block_size, 0).unwrap();
    for r in records {
        w.push(r, &mut out).unwrap();
    }
    w.finish(&mut out);
    out
}

/// Offsets where a VB file's blocks end, walking its BDWs.
fn block_ends(file: &[u8]) -> Vec<usize> {
    let (mut at, mut ends) = (0, Vec::new());
    while at < file.len() {
        let w = &file[at..at + 4];
        let len = if w[0] & 0x80 != 0 {
            (u32::from_be_bytes([w[0], w[1], w[2], w[3]]) & 0x7FFF_FFFF) as usize
        } else {
            usize::from(u16::from_be_bytes([w[0], w[1]]))
        };
        at += len;
        ends.push(at);
    }
    ends
}

fn records() -> impl Strategy<Value = Vec<Vec<u8>>> {
    // Mostly short records, a few long ones (to reach the extended BDW with large blocks).
    let one = prop_oneof![
        8 => proptest::collection::vec(any::<u8>(), 0..200),
        1 => proptest::collection::vec(any::<u8>(), 10_000..20_000),
    ];
    proptest::collection::vec(one, 0..12)
}

proptest! {
    #![proptest_config(config())]

    /// Random records → VB with a random block size → read back equal; V likewise.
    #[test]
    fn vb_and_v_round_trip(recs in records(), slack in 0usize..50_000) {
        let longest = recs.iter().map(Vec::len).max().unwrap_or(0);
        let block_size = longest + 8 + slack;
        let file = write_vb(&recs, block_size);
        prop_assert_eq!(read(&file, RecordFormat::Vb)?, recs.clone());
        for end in block_ends(&file).windows(2) {
            prop_assert!(end[1] - end[0] <= block_size);
        }
        let mut v = Vec::new();
        for (i, r) in recs.iter().enumerate() {
            write_rdw(r, i + 1, 0, &mut v).unwrap();
        }
        prop_assert_eq!(read(&v, RecordFormat::V)?, recs);
    }

    /// A VB file cut anywhere but at a block end is an error naming where; at a block end it
    /// reads as the records of the whole blocks. Never a panic.
    #[test]
    fn truncated_vb_is_an_error(recs in records(), slack in 0usize..2_000, cut in any::<prop::sample::Index>()) {
        let longest = recs.iter().map(Vec::len).max().unwrap_or(0);
        let file = write_vb(&recs, longest + 8 + slack);
        prop_assume!(!file.is_empty());
        let cut = cut.index(file.len());
        let got = read(&file[..cut], RecordFormat::Vb);
        if cut == 0 || block_ends(&file).contains(&cut) {
            let got = got?;
            prop_assert_eq!(&recs[..got.len()], &got[..]);
        } else {
            let e = got.err().map(|e| e.to_string()).unwrap_or_default();
            prop_assert!(e.contains(" at byte ") && (e.contains("block") || e.contains("record")), "{}", e);
        }
    }

    /// Corrupt descriptors (any byte overwritten) and arbitrary bytes: errors or records,
    /// never a panic, and every record found lies inside the file.
    #[test]
    fn corrupt_bytes_never_panic(recs in records(), at in any::<prop::sample::Index>(), byte in any::<u8>(),
                                 noise in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut file = write_vb(&recs, 32_760);
        if !file.is_empty() {
            let i = at.index(file.len().min(16));
            file[i] = byte;
        }
        for input in [&file[..], &noise[..]] {
            for format in [RecordFormat::V, RecordFormat::Vb] {
                for r in Records::new(input, format, 0).flatten() {
                    prop_assert!(r.offset + r.data.len() <= input.len());
                }
                let _ = Records::new(input, format, 4).count();
            }
            let _ = looks_variable(input);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The command line

const COPYBOOK: &str = "\
       01 REC.
           05 REC-LEN PIC 9(3).
           05 NAME    PIC X(5).
           05 CNT     PIC 9.
           05 ITEM    PIC X(2) OCCURS 0 TO 5 DEPENDING ON CNT.
";

const JSON: &str = "{\"REC-LEN\":11,\"NAME\":\"AB\",\"CNT\":1,\"ITEM\":[\"x1\"]}\n\
{\"REC-LEN\":15,\"NAME\":\"CDE\",\"CNT\":3,\"ITEM\":[\"a\",\"b\",\"c\"]}\n\
{\"REC-LEN\":9,\"NAME\":\"F\",\"CNT\":0,\"ITEM\":[]}\n";

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        let d = Dir(tempfile::tempdir().unwrap());
        d.write("REC.cpy", COPYBOOK.as_bytes());
        d.write("in.jsonl", JSON.as_bytes());
        d
    }
    fn path(&self, name: &str) -> String {
        self.0.path().join(name).display().to_string()
    }
    fn write(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.0.path().join(name), bytes).unwrap();
    }
    fn ficus(&self, verb: &str, input: &str, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_ficus"))
            .args([verb, "--copybook", &self.path("REC.cpy"), "--codepage", "ascii", "--input", &self.path(input)])
            .args(args)
            .output()
            .unwrap()
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn encode_then_decode_in_every_format() {
    let dir = Dir::new();
    let want: Vec<serde_json::Value> = JSON.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    for args in [
        &["--record-format", "F"][..],
        &["--record-format", "V"],
        &["--record-format", "VB"],
        &["--record-format", "VB", "--block-size", "30"],
        &["--record-format", "vb", "--block-size", "40000"],
        &["--length-field", "REC-LEN"],
    ] {
        let enc = dir.ficus("encode", "in.jsonl", args);
        assert!(enc.status.success(), "{args:?}: {}", stderr(&enc));
        dir.write("out.bin", &enc.stdout);
        let dec = dir.ficus("decode", "out.bin", args);
        assert!(dec.status.success(), "{args:?}: {}", stderr(&dec));
        let got: Vec<serde_json::Value> =
            String::from_utf8_lossy(&dec.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(got, want, "{args:?}");
    }
    // VB with 30-byte blocks: records of 11, 15 and 9 bytes go one per block (two never fit);
    // the first block is BDW 19 = 4 + RDW 15 = 4 + 11.
    let enc = dir.ficus("encode", "in.jsonl", &["--record-format", "VB", "--block-size", "30"]);
    assert_eq!(enc.stdout[..8], [0, 19, 0, 0, 0, 15, 0, 0]);
    assert_eq!(enc.stdout.len(), 3 * 8 + 11 + 15 + 9);
}

#[test]
fn an_rdw_file_read_as_fixed_says_so() {
    let dir = Dir::new();
    for (format, word) in [("V", "an RDW"), ("VB", "a BDW")] {
        let enc = dir.ficus("encode", "in.jsonl", &["--record-format", format]);
        dir.write("var.bin", &enc.stdout);
        let dec = dir.ficus("decode", "var.bin", &[]);
        assert_eq!(dec.status.code(), Some(1));
        let e = stderr(&dec);
        assert!(e.contains(&format!("read as {word}")) && e.contains(&format!("try --record-format {format}")), "{e}");
        assert!(dec.stdout.is_empty(), "no garbage records before the error: {:?}", dec.stdout);
    }
}

#[test]
fn errors_name_the_record_and_its_offset() {
    let dir = Dir::new();
    let enc = dir.ficus("encode", "in.jsonl", &["--record-format", "V"]);
    let mut file = enc.stdout.clone();
    // Record 2's RDW starts after record 1 (4 + 11 bytes): claim 60 bytes.
    file[15..17].copy_from_slice(&60u16.to_be_bytes());
    dir.write("bad.bin", &file);
    let e = stderr(&dir.ficus("decode", "bad.bin", &["--record-format", "V"]));
    assert!(e.contains("record 2 at byte 15: needs 60 bytes, but only"), "{e}");
    file[15..19].copy_from_slice(&[0, 19, 1, 0]);
    dir.write("bad.bin", &file);
    let e = stderr(&dir.ficus("decode", "bad.bin", &["--record-format", "V"]));
    assert!(e.contains("RDW of record 2 at byte 15 (00130100)") && e.contains("spanned"), "{e}");
    // A record longer than its layout: the RDW says 2 bytes more than the layout uses.
    let mut long = Vec::new();
    write_rdw(b"011AB   1x1zz", 1, 0, &mut long).unwrap();
    dir.write("long.bin", &long);
    let e = stderr(&dir.ficus("decode", "long.bin", &["--record-format", "V"]));
    assert!(e.contains("record 1 (input byte 4): its RDW gives 13 bytes, but the layout takes 11"), "{e}");
}

#[test]
fn option_contradictions_are_configuration_errors() {
    let dir = Dir::new();
    for (args, says) in [
        (&["--record-format", "FB", "--block-size", "100"][..], "not a multiple of the record length 19"),
        (&["--record-format", "V", "--length-field", "REC-LEN"], "--length-field"),
        (&["--block-size", "100"], "--block-size applies to FB and VB"),
        (&["--length-field", "NAME"], "must be a numeric field"),
    ] {
        let o = dir.ficus("decode", "in.jsonl", args);
        assert_eq!(o.status.code(), Some(64), "{args:?}");
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
    }
}

/// A record the layout does not use whole is refused before any of it is printed: the JSON of
/// a record is emitted only once its length (RDW or length field) is known to match the layout,
/// with `--lenient` too (lenient forgives field contents, not a record the copybook does not
/// describe).
#[test]
fn a_record_longer_than_its_layout_prints_nothing() {
    let dir = Dir::new();
    // Record 1 is good (11 bytes); record 2's RDW gives 2 bytes more than its layout takes.
    let mut file = Vec::new();
    write_rdw(b"011AB   1x1", 1, 0, &mut file).unwrap();
    write_rdw(b"011AB   1x1zz", 2, 0, &mut file).unwrap();
    dir.write("long.bin", &file);
    // The length field says 13 where the layout takes 11 (REC-LEN = 13).
    dir.write("lf.bin", b"013AB   1x1zz");
    for (input, args) in [
        ("long.bin", &["--record-format", "V"][..]),
        ("long.bin", &["--record-format", "V", "--lenient"]),
        ("lf.bin", &["--length-field", "REC-LEN"]),
        ("lf.bin", &["--length-field", "REC-LEN", "--lenient"]),
    ] {
        let o = dir.ficus("decode", input, args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(stderr(&o).contains("the copybook does not describe this record"), "{args:?}: {}", stderr(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        let expect = usize::from(input == "long.bin");
        assert_eq!(out.lines().count(), expect, "{args:?}: only the good records are printed: {out}");
    }
}
