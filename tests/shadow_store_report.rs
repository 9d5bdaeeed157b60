//! `ficus shadow report --store` reads the store as a stream, oldest first, and its report is
//! the report of the same records read from a file: counts, match rates, timeline, the first
//! examples and field statistics — whatever order the rows were written in. Seeded records from
//! the real writer (`StoreWriter`), the same records in a JSON Lines file, both reports compared.

#[path = "support/postgres.rs"]
mod postgres;

mod common;

use common::*;
use ficus::shadow::compare::FieldDiff;
use ficus::shadow::record::ShadowRecord;
use ficus::shadow::store::{Kind, StoreWriter};
use serde_json::json;
use std::io::Write;
use std::time::Duration;

/// `n` records over three operations, mostly matches, some mismatches (with field diffs) and
/// errors, at distinct times, in a shuffled order (as replicas' batches interleave).
fn records(n: usize, seed: u64) -> Vec<ShadowRecord> {
    let mut state = seed;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out: Vec<ShadowRecord> = (0..n)
        .map(|i| {
            let roll = next() % 100;
            let result = if roll < 80 {
                "match"
            } else if roll < 95 {
                "mismatch"
            } else {
                "error"
            };
            let diffs = if result == "mismatch" {
                let field = ["BALANCE", "CUST-NAME", "TXN-ROW[2].TXN-AMT"][(next() % 3) as usize];
                vec![FieldDiff { path: field.into(), legacy: json!(i), new: json!(i + 1) }]
            } else {
                Vec::new()
            };
            ShadowRecord {
                time: 1_764_500_000.0 + i as f64 * 0.013,
                op: ["ACCTINQ", "TXNHIST", "XFER"][(next() % 3) as usize].into(),
                id: Some(format!("{i:08}")),
                channel: None,
                result: result.into(),
                primary: "legacy".into(),
                shadow: "accounts".into(),
                legacy_ms: Some((next() % 5000) as f64 / 100.0),
                new_ms: (result != "error").then(|| (next() % 5000) as f64 / 100.0),
                diffs,
                error: (result == "error").then(|| "no reply within 800 ms".into()),
                key: None,
                primary_is_legacy: Some(true),
            }
        })
        .collect();
    for i in (1..out.len()).rev() {
        out.swap(i, (next() % (i as u64 + 1)) as usize);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_report_read_as_a_stream_is_the_file_report_of_the_same_records() {
    let pg = postgres::Postgres::start();
    let url = pg.create_database("report_stream");
    let records = records(30_000, 0x5eed);
    let writer = StoreWriter::start(&url, &url, Duration::from_secs(3600)).unwrap();
    for chunk in records.chunks(2_000) {
        for r in chunk {
            assert!(writer.write(Kind::Comparison, r), "queued");
        }
        assert!(writer.flush(Duration::from_secs(30)).await, "written");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("records.jsonl");
    let mut f = std::fs::File::create(&file).unwrap();
    for r in &records {
        writeln!(f, "{}", serde_json::to_string(r).unwrap()).unwrap();
    }
    drop(f);

    let (code, from_file, err) = ficus_cli(&["shadow", "report", file.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{err}");
    let (code, from_store, err) = ficus_cli(&["shadow", "report", "--store", &url]).await;
    assert_eq!(code, 0, "{err}");
    let (report, replicas) = from_store.rsplit_once("records from ").expect("the replicas line");
    assert_eq!(report, from_file, "the same report, read from the store as a stream");
    assert!(replicas.starts_with("1 replica(s)") && replicas.contains("(30000)"), "{replicas}");
    for op in ["ACCTINQ", "TXNHIST", "XFER"] {
        assert!(report.contains(op), "{report}");
    }
}
