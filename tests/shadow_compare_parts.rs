//! The shadow comparison skips decoding a part (header or body) whose bytes are the same on both
//! sides. Property: for any two replies — a valid one and a copy with bytes changed in the
//! header, the body or both, cut short or run on — it finds exactly the differences decoding
//! both replies whole finds, in the same order, with the same values.

use ficus::codec::charset::CodePage;
use ficus::codec::{Codec, CodecOptions};
use ficus::copybook::{parse_copybook, NoCopy};
use ficus::shadow::compare::{compare, Rules};
use ficus::shadow::mirror::{compare_replies, decode};
use ficus::shadow::paths::PathPattern;
use ficus::shadow::Comparison;
use proptest::prelude::*;
use std::sync::Arc;

fn codec(file: &str, record: &str) -> Arc<Codec> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("copybooks").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let book = parse_copybook(&text, file, &NoCopy).unwrap();
    let record = book.records.iter().find(|r| r.name == record).unwrap();
    let options = CodecOptions { lenient: true, ..CodecOptions::for_codepage(CodePage::Cp037) };
    Arc::new(Codec::new(record, options).unwrap())
}

fn comparison() -> Comparison {
    Comparison {
        rules: Rules {
            ignore: vec![PathPattern::new("HDR-TIMESTAMP")],
            tolerance: vec![],
            response_code: "HDR-RESP-CODE".into(),
        },
        mask: vec![],
        header: codec("COMMHDR.cpy", "COMM-HDR"),
        response: codec("TXNHIST.cpy", "TXNHIST-RESP"),
    }
}

/// A valid TXNHIST reply (header, then `rows` rows) in cp037: digits, spaces and packed zeros.
fn reply(cmp: &Comparison, rows: usize) -> Vec<u8> {
    let mut bytes = vec![0x40u8; cmp.header.max_size()];
    let body = 16 + 3 + rows * 51;
    bytes.extend(std::iter::repeat_n(0x40u8, body));
    let h = cmp.header.max_size();
    bytes[h + 16..h + 19].copy_from_slice(&[0xF0, 0xF0, 0xF0 + rows as u8]);
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]
    #[test]
    fn skipping_equal_parts_finds_what_decoding_both_finds(
        rows in 0usize..4,
        changes in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        in_header in prop::option::of(any::<bool>()),
        resize in prop_oneof![Just(None), (0usize..400).prop_map(Some)],
    ) {
        let cmp = comparison();
        let legacy = reply(&cmp, rows);
        let mut new = legacy.clone();
        let h = cmp.header.max_size();
        for (at, byte) in &changes {
            let range = match in_header {
                Some(true) => 0..h,
                Some(false) => h..new.len(),
                None => 0..new.len(),
            };
            let i = range.start + at.index(range.len());
            new[i] = *byte;
        }
        if let Some(len) = resize {
            new.resize(len, 0x40);
        }
        let whole = compare(&decode(&cmp, &legacy), &decode(&cmp, &new), &cmp.rules);
        prop_assert_eq!(compare_replies(&cmp, &legacy, &new), whole.clone());
        prop_assert_eq!(compare_replies(&cmp, &new, &legacy), compare(&decode(&cmp, &new), &decode(&cmp, &legacy), &cmp.rules));
    }
}
