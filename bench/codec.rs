//! Codec benchmarks (criterion, `Throughput::Bytes`).
//!
//! Informs: whether decode/encode is cheap enough to sit on every message of the gateway's
//! JSON routes and shadow comparisons. The target (issue: copybook engine) is decode at ≥ 0.15×
//! the speed of `memcpy` of the same bytes on one core, and faster than `serde_json` parsing
//! the equivalent JSON record; both anchors are measured side by side here.
//!
//! `convert_xfer` informs issue #15's budget for channel code conversion (≤ 20% of the legacy
//! route's throughput): an XFER message (common header + body, Hangul name and memo)
//! converted cp949 → cp933 and back, per message, next to `memcpy` of the same bytes.
//!
//! Issue #17 (the new path at the old path's cost) reads `mixed_1k`: MB/s of record bytes for
//! `decode_values` (decode only) and `decode_json_text` (decode → JSON text, the request side
//! of the http-json route; target ≥ 500 MB/s) beside `serde_json_serialise_equivalent`
//! (serde_json writing the same values from a tree); and for the reply side
//! `reply_doc_parse_encode` (the JSON text parsed into a borrowed document and encoded, as the
//! gateway does now) beside `reply_tree_parse_encode` (parsed into a `serde_json::Value` tree,
//! then encoded: the path it replaced).
//!
//! Run: `cargo bench --bench codec` (HTML under target/criterion); one group:
//! `cargo bench --bench codec -- mixed_1k`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ficus::codec::json::NullSink;
use ficus::codec::json_doc::Doc;
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
    let mut text: Vec<u8> = Vec::with_capacity(4096);
    group.bench_function("serde_json_serialise_equivalent", |b| {
        b.iter(|| {
            text.clear();
            serde_json::to_writer(&mut text, black_box(value)).expect("serialises")
        })
    });
    let mut reply = Vec::with_capacity(bytes.len());
    group.bench_function("reply_doc_parse_encode", |b| {
        b.iter(|| {
            let doc = Doc::parse(black_box(json_text.as_bytes())).expect("parses");
            codec.plan().encode_from(doc.root(), &mut reply).expect("encodes")
        })
    });
    group.bench_function("reply_tree_parse_encode", |b| {
        b.iter(|| {
            let tree = serde_json::from_str::<Value>(black_box(&json_text)).expect("parses");
            codec.encode_json_into(&tree, &mut reply).expect("encodes")
        })
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
    bench_convert(c);
}

const COMMHDR: &str = include_str!("../copybooks/COMMHDR.cpy");

/// An XFER request body with a Korean name and memo (the demo's XFER-REQ plus a name).
const XFER_KO: &str = "       01 XFER-REQ.
           05 FROM-ACCT PIC X(16).
           05 FROM-NAME PIC X(20).
           05 TO-ACCT PIC X(16).
           05 AMOUNT PIC S9(11)V99 COMP-3.
           05 MEMO PIC X(20).
";

fn bench_convert(c: &mut Criterion) {
    use ficus::codec::charset::CodePage::{Cp933, Cp949};
    use ficus::codec::convert::{convert_message, Conversion};
    let codec = |text: &str, page| {
        let book = parse_copybook(text, "bench.cpy", &NoCopy).expect("bench copybook parses");
        Codec::new(book.record(None).expect("a record"), CodecOptions::for_codepage(page)).expect("compiles")
    };
    let (header, body) = (codec(COMMHDR, Cp933), codec(XFER_KO, Cp933));
    let header_value = json!({ "HDR-MSG-LEN": 150, "HDR-TRAN-CODE": "XFER", "HDR-CHANNEL": "IBK", "HDR-SEQ-NO": 42,
        "HDR-TIMESTAMP": 20260314093000u64, "HDR-RESP-CODE": "", "HDR-RESP-MSG": "" });
    let body_value = json!({ "FROM-ACCT": "1002003004005", "FROM-NAME": "홍길동", "TO-ACCT": "2003004005006",
        "AMOUNT": "1234567.89", "MEMO": "월세 3월분" });
    let (h949, b949) = (codec(COMMHDR, Cp949), codec(XFER_KO, Cp949));
    let mut message = h949.encode_json(&header_value).expect("header encodes");
    message.extend(b949.encode_json(&body_value).expect("body encodes"));
    let to_host = (
        Conversion::new(header.plan(), Cp949, Cp933).expect("header converts"),
        Conversion::new(body.plan(), Cp949, Cp933).expect("body converts"),
    );
    let to_channel = (
        Conversion::new(header.plan(), Cp933, Cp949).expect("header converts"),
        Conversion::new(body.plan(), Cp933, Cp949).expect("body converts"),
    );
    let mut group = c.benchmark_group("convert_xfer");
    group.throughput(Throughput::Elements(1));
    let mut dst = vec![0u8; message.len()];
    group.bench_function("memcpy", |b| b.iter(|| dst.copy_from_slice(black_box(&message))));
    let (mut host, mut back) = (Vec::with_capacity(256), Vec::with_capacity(256));
    group.bench_function("cp949_to_cp933", |b| {
        b.iter(|| convert_message(&to_host.0, Some(&to_host.1), black_box(&message), &mut host).expect("converts"))
    });
    group.bench_function("cp949_to_cp933_and_back", |b| {
        b.iter(|| {
            convert_message(&to_host.0, Some(&to_host.1), black_box(&message), &mut host).expect("converts");
            convert_message(&to_channel.0, Some(&to_channel.1), &host, &mut back).expect("converts back")
        })
    });
    group.finish();
    // Empty when a filter left the group out (`cargo bench --bench codec -- mixed_1k`).
    assert!(back.is_empty() || back == message, "the round trip is exact");
}

criterion_group!(benches, codec_benches);
criterion_main!(benches);
