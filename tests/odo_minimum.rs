//! `OCCURS n TIMES DEPENDING ON x` without `m TO`: IBM Enterprise COBOL Language Reference,
//! OCCURS clause, variable-length tables: "If integer-1 is omitted, a value of 1 is assumed and
//! the keyword TO must also be omitted." So the table holds 1 to n elements, and every count
//! message names the table, the counter field, its value and the allowed range.

use ficus::codec::charset::CodePage;
use ficus::codec::{Codec, CodecOptions};
use ficus::copybook::listing::listing;
use ficus::copybook::{parse_copybook, NoCopy};
use serde_json::json;

const ODO: &str = "       01 ODO-REC.
          05 ROW-CNT PIC 9(2).
          05 ROWS OCCURS 3 TIMES DEPENDING ON ROW-CNT.
             10 V PIC X(2).
          05 TAIL PIC X.
";

fn codec() -> Codec {
    let cb = parse_copybook(ODO, "odo.cpy", &NoCopy).unwrap();
    Codec::new(cb.record(None).unwrap(), CodecOptions::for_codepage(CodePage::Ascii)).unwrap()
}

fn record(count: usize) -> Vec<u8> {
    let mut b = format!("{count:02}").into_bytes();
    for i in 0..count.min(3) {
        b.extend_from_slice(format!("V{i}").as_bytes());
    }
    b.push(b'T');
    b
}

#[test]
fn the_minimum_is_one() {
    let cb = parse_copybook(ODO, "odo.cpy", &NoCopy).unwrap();
    assert!(listing(&cb.records[0]).contains("OCCURS 1 TO 3 DEPENDING ON ROW-CNT"));
    let fixed = parse_copybook("       01 F.\n          05 R OCCURS 3 TIMES PIC X.\n", "f.cpy", &NoCopy).unwrap();
    assert!(listing(&fixed.records[0]).contains("X OCCURS 3"), "a fixed table still holds exactly 3");
}

#[test]
fn decode_with_counters_0_1_n_and_n_plus_1() {
    let c = codec();
    let e = c.decode_json(&record(0)).unwrap_err().to_string();
    assert_eq!(e, "ROWS: counter ROW-CNT = 0, outside the table's 1 to 3 elements");
    let (v, used) = c.decode_json(&record(1)).unwrap();
    assert_eq!((v["ROWS"].clone(), used), (json!([{"V": "V0"}]), 5));
    let (v, used) = c.decode_json(&record(3)).unwrap();
    assert_eq!((v["ROWS"].as_array().unwrap().len(), used), (3, 9));
    assert_eq!(v["TAIL"], "T");
    let e = c.decode_json(&record(4)).unwrap_err().to_string();
    assert_eq!(e, "ROWS: counter ROW-CNT = 4, outside the table's 1 to 3 elements");
}

#[test]
fn encode_with_counters_0_1_n_and_n_plus_1() {
    let c = codec();
    let rows = |k: usize| (0..k).map(|i| json!({"V": format!("V{i}")})).collect::<Vec<_>>();
    let e = c.encode_json(&json!({"ROW-CNT": 0, "ROWS": rows(0), "TAIL": "T"})).unwrap_err().to_string();
    assert_eq!(e, "ROWS: counter ROW-CNT = 0, outside the table's 1 to 3 elements");
    assert_eq!(c.encode_json(&json!({"ROW-CNT": 1, "ROWS": rows(1), "TAIL": "T"})).unwrap(), record(1));
    assert_eq!(c.encode_json(&json!({"ROW-CNT": 3, "ROWS": rows(3), "TAIL": "T"})).unwrap(), record(3));
    let e = c.encode_json(&json!({"ROW-CNT": 4, "ROWS": rows(4), "TAIL": "T"})).unwrap_err().to_string();
    assert_eq!(e, "ROWS: counter ROW-CNT = 4, outside the table's 1 to 3 elements");
    // The message never contradicts itself: it says which of the two numbers is off.
    let e = c.encode_json(&json!({"ROW-CNT": 2, "ROWS": rows(1), "TAIL": "T"})).unwrap_err().to_string();
    assert_eq!(e, "ROWS: the JSON array has 1 elements, but counter ROW-CNT = 2");
    let fixed = parse_copybook("       01 F.\n          05 R OCCURS 3 TIMES PIC X.\n", "f.cpy", &NoCopy).unwrap();
    let f = Codec::new(fixed.record(None).unwrap(), CodecOptions::for_codepage(CodePage::Ascii)).unwrap();
    let e = f.encode_json(&json!({"R": ["a"]})).unwrap_err().to_string();
    assert_eq!(e, "R: the JSON array has 1 elements; the table holds exactly 3");
}
