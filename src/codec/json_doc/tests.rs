//! The document agrees with serde_json on every JSON text: what it accepts, and the value.

use super::super::json_read::{JsonRead, Scalar};
use super::*;
use proptest::prelude::*;
use serde_json::{json, Value};

/// Random JSON text, with escapes, duplicate keys, exotic numbers and nesting.
fn json_text() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        "-?(0|[1-9][0-9]{0,25})(\\.[0-9]{1,20})?([eE][-+]?[0-9]{1,3})?",
        Just("1e400".to_string()),
        Just("-0".to_string()),
    ];
    let string =
        "([a-zA-Z0-9 가-힣]|\\\\[\"\\\\/bfnrt]|\\\\u00[0-1][0-9a-f]|\\\\uAC00|\\\\ud83d\\\\ude00|\\\\ud83d|\\\\ude00){0,8}".prop_map(|s| format!("\"{s}\""));
    let leaf = prop_oneof![Just("null".to_string()), Just("true".into()), Just("false".into()), number, string.clone()];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        let key = prop_oneof![
            8 => "[A-C]",
            8 => "[A-Z-]{1,6}",
            2 => Just("\\u0041".to_string()),
            1 => Just("$serde_json::private::Number".to_string()),
            1 => Just("$serde_json::private::RawValue".to_string()),
        ]
        .prop_map(|k| format!("\"{k}\""));
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((key, inner), 0..7).prop_map(|v| format!(
                "{{ {} }}",
                v.into_iter().map(|(k, v)| format!("{k} : {v}")).collect::<Vec<_>>().join(" ,")
            )),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn the_document_is_what_serde_json_reads(text in json_text(), junk in prop_oneof![Just(""), Just(" "), Just(" x"), Just("]")]) {
        let text = format!("{text}{junk}");
        let want = serde_json::from_str::<Value>(&text);
        let got = Doc::parse(text.as_bytes());
        match (want, got) {
            (Ok(want), Ok(doc)) => {
                prop_assert_eq!(&doc.root().to_value(), &want);
                prop_assert_eq!(doc.root().to_value().to_string(), want.to_string());
                prop_assert_eq!(doc.root().abridge(), (&want).abridge());
            }
            (Err(want), Err(got)) => prop_assert_eq!(got.to_string(), want.to_string()),
            (want, got) => prop_assert!(false, "serde_json {:?}, doc {:?}", want.map(|_| ()), got.map(|_| ())),
        }
    }
}

#[test]
fn strings_borrow_unless_escaped_and_numbers_keep_their_text() {
    let text = br#"{"A": "plain", "B": "tab\tin", "C": 12.50, "D": -0, "E": 1E+2, "F": [null, true]}"#;
    let doc = Doc::parse(text).unwrap();
    let root = doc.root();
    assert_eq!(root.scalar(), Scalar::Object);
    assert_eq!(root.get("A").unwrap().scalar(), Scalar::String("plain"));
    assert_eq!(root.get("B").unwrap().scalar(), Scalar::String("tab\tin"));
    assert_eq!(root.get("C").unwrap().scalar(), Scalar::Number("12.50"));
    assert_eq!(root.get("D").unwrap().scalar(), Scalar::Number("-0"));
    // serde_json writes the exponent mark in lower case, as its Value does.
    assert_eq!(root.get("E").unwrap().scalar(), Scalar::Number("1e+2"));
    let f = root.get("F").unwrap();
    assert_eq!(
        (f.array_len(), f.item(0).unwrap().scalar(), f.item(1).unwrap().scalar()),
        (2, Scalar::Null, Scalar::Bool(true))
    );
    assert!(f.item(2).is_none() && root.get("Z").is_none() && f.get("A").is_none());
    let node = |key: &str| &doc.nodes.iter().find(|(k, _)| k == key).unwrap().1;
    assert!(matches!(node("A"), Node::String(Cow::Borrowed("plain"))), "{:?}", node("A"));
    assert!(matches!(node("B"), Node::String(Cow::Owned(_))), "{:?}", node("B"));
}

#[test]
fn a_repeated_key_keeps_its_first_place_and_last_value() {
    let doc = Doc::parse(br#"{"A": 1, "B": 2, "A": {"X": [3]}}"#).unwrap();
    assert_eq!(doc.root().to_value(), json!({"A": {"X": [3]}, "B": 2}));
    assert_eq!(doc.root().members().map(|(k, _)| k).collect::<Vec<_>>(), ["A", "B"]);
    assert_eq!(doc.root().get("A").unwrap().get("X").unwrap().item(0).unwrap().scalar(), Scalar::Number("3"));
}

#[test]
fn depth_and_errors_are_serde_json_s() {
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let want = serde_json::from_str::<Value>(&deep).unwrap_err().to_string();
    assert_eq!(Doc::parse(deep.as_bytes()).unwrap_err().to_string(), want);
    for bad in [&b"{\"A\": 1,}"[..], b"", b"\"\xff\"", b"{\"A\" 1}", b"[1] [2]"] {
        let want = serde_json::from_slice::<Value>(bad).unwrap_err().to_string();
        assert_eq!(Doc::parse(bad).unwrap_err().to_string(), want, "{:?}", String::from_utf8_lossy(bad));
    }
}

/// serde_json's private tokens as a service's keys: `Value` reads `{"$serde_json::private::
/// Number": "7"}` as the number (refusing a string that is not one, `+7` or ` 7`), and with
/// `raw_value` on (sqlx turns it on) the JSON inside a raw value's string. The document reads
/// them the same, or a reply the old path refused would be encoded, and one it encoded would
/// be encoded otherwise.
#[test]
fn serde_json_s_private_tokens_read_as_its_value_reads_them() {
    let texts = [
        r#"{"$serde_json::private::Number":"7"}"#,
        r#"{"$serde_json::private::Number":"1E2"}"#,
        r#"{"$serde_json::private::Number":"-0.50"}"#,
        r#"{"$serde_json::private::Number":"+7"}"#,
        r#"{"$serde_json::private::Number":" 7"}"#,
        r#"{"$serde_json::private::Number":"0x10"}"#,
        r#"{"$serde_json::private::Number":"abc"}"#,
        r#"{"$serde_json::private::Number":12}"#,
        r#"{"$serde_json::private::Number":"7","A":1}"#,
        r#"{"A":{"$serde_json::private::Number":"7"},"B":[{"\u0024serde_json::private::Number":"1e3"}]}"#,
        r#"{"A":1,"$serde_json::private::Number":"7"}"#,
        r#"{"$serde_json::private::RawValue":"{\"A\":[1,{\"B\":\"x\"}],\"A\":2.50}"}"#,
        r#"{"response":{"$serde_json::private::RawValue":"{\"X\":\"RAW\"}"}}"#,
        r#"{"$serde_json::private::RawValue":"{\"$serde_json::private::Number\":\"+1\"}"}"#,
        r#"{"$serde_json::private::RawValue":"[1, 2"}"#,
        r#"{"$serde_json::private::RawValue":7}"#,
        r#"{"$serde_json::private::RawValue":"7","B":1}"#,
        r#"{"B":1,"$serde_json::private::RawValue":"7"}"#,
    ];
    for text in texts {
        let want = serde_json::from_str::<Value>(text);
        let got = Doc::parse(text.as_bytes());
        match (want, got) {
            (Ok(want), Ok(doc)) => {
                assert_eq!(doc.root().to_value(), want, "{text}");
                assert_eq!(doc.root().to_value().to_string(), want.to_string(), "{text}");
            }
            (Err(want), Err(got)) => assert_eq!(got.to_string(), want.to_string(), "{text}"),
            (want, got) => panic!("{text}: serde_json {:?}, doc {:?}", want.map(|_| ()), got.map(|_| ())),
        }
    }
}

/// `text` with up to three bytes put in, taken out or replaced by ones JSON's grammar turns on.
fn damaged() -> impl Strategy<Value = (Vec<u8>, bool)> {
    const BYTES: &[u8] = b"\"\\,:[]{}01-+.eEnutf/b \t\n\r\x0c\x00\x1f\x7f\xc3\xa9\xff";
    let edit = (any::<prop::sample::Index>(), 0..3u8, prop::sample::select(BYTES));
    (json_text(), prop::collection::vec(edit, 0..4)).prop_map(|(text, edits)| {
        let mut bytes = text.into_bytes();
        for (at, how, b) in &edits {
            let at = at.index(bytes.len() + 1);
            match how {
                0 => bytes.insert(at, *b),
                1 if at < bytes.len() => bytes[at] = *b,
                _ if at < bytes.len() => drop(bytes.remove(at)),
                _ => bytes.push(*b),
            }
        }
        (bytes, edits.is_empty())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]
    /// The fast path is never looser than serde_json: every text it takes, the serde path takes
    /// too, into the same arena node for node; and it takes every ordinary text serde_json does.
    #[test]
    fn the_fast_path_takes_only_what_serde_json_reads_the_same((text, whole) in damaged()) {
        let serde = Doc::parse_by_serde(&text);
        match jiter_path::parse(&text) {
            Some(fast) => {
                let serde = serde.map_err(|e| e.to_string());
                prop_assert!(serde.is_ok(), "fast path took {:?}; serde_json: {:?}", String::from_utf8_lossy(&text), serde);
                prop_assert_eq!(format!("{:?}", fast.nodes), format!("{:?}", serde.unwrap().nodes));
            }
            None => {
                let private = String::from_utf8_lossy(&text).contains("private::");
                prop_assert!(!(whole && serde.is_ok() && !private), "left to serde_json: {:?}", String::from_utf8_lossy(&text));
            }
        }
    }
}

/// Texts where a JSON parser is easily looser or stricter than serde_json, through the whole
/// parse: the same value, or serde_json's error word for word.
#[test]
fn edge_texts_read_as_serde_json_reads_them() {
    let long = format!("[{}]", "9".repeat(5000));
    let nest = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
    let mut texts: Vec<Vec<u8>> = [
        "\"a\u{1}b\"",
        "\"\\ud800\"",
        "\"\\ud800\\u0041\"",
        "\"\\udc00\"",
        "\"\\ud83d\\ude00\"",
        "\"\\x\"",
        "\"\\ud83d\\u00e9\"",
        "\"a\\u00e9\\ud83d\"",
        "\"\\uD83D\\uDE00\\u+041\"",
        "1.",
        "-",
        "01",
        "-01",
        "1e",
        "1e+",
        ".5",
        "+1",
        "0.5e-0",
        "1E5",
        "2.5E+3",
        "1e-7",
        "-0.0",
        "NaN",
        "Infinity",
        "-Infinity",
        "tru",
        "nul",
        "[1,]",
        "[,1]",
        "{,}",
        "{\"a\":}",
        "{\"a\"}",
        "{1:2}",
        "\u{feff}1",
        "\x0c1",
        "1\x0c",
        " \t\r\n[ 1 , 2 ]\n",
        "\"\\/\"",
        "[] ",
        "{}",
        "\"\"",
        "\"\\u0000\"",
        "{\"\":\"\"}",
        "{\"a\":1,\"a\":2}",
    ]
    .iter()
    .map(|t| t.as_bytes().to_vec())
    .collect();
    texts.extend([long.into_bytes(), nest(99).into_bytes(), nest(100).into_bytes(), nest(101).into_bytes()]);
    texts.extend([nest(128).into_bytes(), nest(129).into_bytes(), b"\"\xc3\"".to_vec(), b"\"\xed\xa0\x80\"".to_vec()]);
    for text in &texts {
        let shown = String::from_utf8_lossy(text);
        match (serde_json::from_slice::<Value>(text), Doc::parse(text)) {
            (Ok(want), Ok(doc)) => assert_eq!(doc.root().to_value().to_string(), want.to_string(), "{shown}"),
            (Err(want), Err(got)) => assert_eq!(got.to_string(), want.to_string(), "{shown}"),
            (want, got) => panic!("{shown}: serde_json {:?}, doc {:?}", want.map(|_| ()), got.map(|_| ())),
        }
    }
    // Numbers keep serde_json's text, borrowed where it is the text as written.
    let doc = Doc::parse(br#"[1E5, 2.5E+3, 1e-7, 12.50, -0]"#).unwrap();
    let texts: Vec<_> = (0..5).map(|i| doc.root().item(i).unwrap().scalar()).collect();
    let want = ["1e+5", "2.5e+3", "1e-7", "12.50", "-0"].map(Scalar::Number);
    assert_eq!(texts, want);
    assert!(matches!(doc.nodes[3].1, Node::Number(Cow::Borrowed("12.50"))), "{:?}", doc.nodes[3]);
}
