//! Codec benchmarks (criterion, `Throughput::Bytes`).
//!
//! Informs: whether decode/encode is cheap enough to sit on every message of the gateway's
//! JSON routes and shadow comparisons. The target (issue: copybook engine) is decode at ≥ 0.15×
//! the speed of `memcpy` of the same bytes on one core, and faster than `serde_json` parsing
//! the equivalent JSON record; both anchors are measured side by side here.
//!
//! Run: `cargo bench --bench codec` (HTML under target/criterion).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ficus::codec::json::NullSink;
use ficus::codec::{Codec, CodecOptions, Scratch};
use ficus::copybook::{parse_copybook, NoCopy};
use serde_json::{json, Value};
use std::hint::black_box;

const MIXED: &str = include_str!("fixtures/MIXED.cpy");
const PACKED: &str = include_str!("fixtures/PACKED.cpy");

fn mixed_value() -> Value {
    let txns: Vec<Value> = (0..10)
        .map(|i| json!({ "TXN-DATE": 20260101 + i, "TXN-AMT": -12345.67 - i as f64, "TXN-TYPE": "WD", "TXN-MEMO": format!("CARD PAYMENT {i}"), "TXN-SEQ": 100_000 + i }))
        .collect();
    json!({
        "CUST-ID": "1000000000000001", "CUST-NAME": "KIM MINJUN",
        "CUST-ADDR": { "ADDR-LINE": ["123 TEHERAN-RO", "GANGNAM-GU", "SEOUL"], "ADDR-ZIP": 6236 },
        "CUST-SINCE": 20010203, "CUST-SCORE": -42, "CUST-LIMIT": 5000000.00, "CUST-BAL": -9876543210123.45,
        "CUST-RATE": 4.1234, "CUST-FLAGS": "YNNY", "CUST-SEGMENT": "RETL", "CUST-BRANCH": 1234, "CUST-OFFICER": "PARK JIHO",
        "CUST-TXN": txns, "CUST-NOTE": "PREFERRED CUSTOMER SINCE 2001; CALL BEFORE 5PM", "CUST-ZONED-BAL": 1234567890123.45,
    })
}

fn packed_value() -> Value {
    let amounts: Vec<Value> =
        (0..100).map(|i| ficus::codec::json::number_value(&format!("{}.{:02}", 1_000_000 + i * 7919, i))).collect();
    json!({ "POS-ACCT": "1000000000000001", "POS-AMOUNT": amounts })
}

fn codec_for(text: &str) -> Codec {
    let book = parse_copybook(text, "bench.cpy", &NoCopy).expect("bench copybook parses");
    Codec::new(book.record(None).expect("a record"), CodecOptions::default()).expect("compiles")
}

fn bench_record(c: &mut Criterion, name: &str, codec: &Codec, value: &Value) {
    let bytes = codec.encode_json(value).expect("bench value encodes");
    let json_text = value.to_string();
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    let mut dst = vec![0u8; bytes.len()];
    group.bench_function("memcpy", |b| b.iter(|| dst.copy_from_slice(black_box(&bytes))));
    let mut scratch = Scratch::default();
    group.bench_function("decode_values", |b| {
        b.iter(|| codec.plan().decode(black_box(&bytes), &mut NullSink, &mut scratch).expect("decodes"))
    });
    let mut out = String::with_capacity(4096);
    group.bench_function("decode_json_text", |b| {
        b.iter(|| {
            out.clear();
            codec.decode_json_text(black_box(&bytes), &mut out, &mut scratch).expect("decodes")
        })
    });
    group.bench_function("serde_json_parse_equivalent", |b| {
        b.iter(|| serde_json::from_str::<Value>(black_box(&json_text)).expect("parses"))
    });
    let mut encoded = Vec::with_capacity(bytes.len());
    group.bench_function("encode", |b| {
        b.iter(|| codec.encode_json_into(black_box(value), &mut encoded).expect("encodes"))
    });
    group.finish();
}

fn codec_benches(c: &mut Criterion) {
    let mut parse = c.benchmark_group("copybook_parse");
    for (name, text) in [("mixed", MIXED), ("packed", PACKED)] {
        parse.throughput(Throughput::Bytes(text.len() as u64));
        parse.bench_with_input(BenchmarkId::from_parameter(name), text, |b, t| {
            b.iter(|| parse_copybook(black_box(t), "b.cpy", &NoCopy))
        });
    }
    parse.finish();
    bench_record(c, "mixed_1k", &codec_for(MIXED), &mixed_value());
    bench_record(c, "packed_heavy", &codec_for(PACKED), &packed_value());
}

criterion_group!(benches, codec_benches);
criterion_main!(benches);
