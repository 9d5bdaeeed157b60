//! The reassembler and the reply split on a small ASCII header: named cases, and properties over
//! random bodies and splits (fixed seed): any valid split reassembles to the original; any
//! corrupted order is refused and never yields a message.

use super::{Reassembler, Step};
use crate::codec::CodecOptions;
use crate::header::parts::{MultipartPlan, MultipartSettings, PartError, PartKind};
use crate::header::{HeaderLayout, HeaderNames};
use proptest::prelude::*;

const SIZE: usize = 34;

fn header() -> HeaderLayout {
    let text = "       01  H.\n           05  H-LEN   PIC 9(4).\n           05  H-OP    PIC X(6).\n           05  H-ID    PIC 9(6).\n           05  H-FLAG  PIC X(1).\n           05  H-PART  PIC 9(3).\n           05  H-RC    PIC X(4).\n           05  H-MSG   PIC X(10).\n";
    let book = crate::copybook::parse_copybook(text, "H.cpy", &crate::copybook::NoCopy).unwrap();
    let cp = crate::codec::charset::CodePage::Ascii;
    let names = HeaderNames {
        operation: &["H-OP".to_string()],
        response_code: "H-RC",
        response_message: "H-MSG",
        length: Some("H-LEN"),
        message_id: Some("H-ID"),
    };
    let h = HeaderLayout::new(&book.records[0], CodecOptions::for_codepage(cp), &names).unwrap();
    assert_eq!(h.size, SIZE);
    h
}

fn settings(max_bytes: usize, reply_part_bytes: usize) -> MultipartSettings {
    MultipartSettings {
        ack_each: false,
        ack_code: "0000".into(),
        timeout_ms: 1000,
        max_parts: None,
        max_bytes,
        reply_part_bytes,
    }
}

fn plan(h: &HeaderLayout, s: MultipartSettings) -> MultipartPlan {
    MultipartPlan::new(h, "H-FLAG", ["1", "2", "3", "4"], "H-PART", s).unwrap()
}

/// A message: header for `op`/`id` with `flag` and part `n`, then `body`; length field right.
fn message(op: &str, id: u32, flag: char, n: u32, body: &[u8]) -> Vec<u8> {
    let mut m = format!("0000{op:<6}{id:06}{flag}{n:03}{:<14}", "").into_bytes();
    m.extend_from_slice(body);
    let len = format!("{:04}", m.len());
    m[..4].copy_from_slice(len.as_bytes());
    m
}

/// `body` cut at `cuts` (sorted offsets) into parts of message `id`.
fn parts(id: u32, body: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut bounds = vec![0];
    bounds.extend(cuts.iter().copied());
    bounds.push(body.len());
    let count = bounds.len() - 1;
    (0..count)
        .map(|i| {
            let flag = match i {
                0 => '2',
                i if i + 1 == count => '4',
                _ => '3',
            };
            message("BIGREQ", id, flag, i as u32 + 1, &body[bounds[i]..bounds[i + 1]])
        })
        .collect()
}

fn feed(r: &mut Reassembler, p: &MultipartPlan, h: &HeaderLayout, m: &[u8]) -> Result<Step, PartError> {
    r.push(p, h, m, || false)
}

#[test]
fn three_parts_make_the_single_message() {
    let (h, mut r) = (header(), Reassembler::default());
    let p = plan(&h, settings(4096, 100));
    let parts = parts(42, b"AAAABBBBBBCC", &[4, 10]);
    assert_eq!(feed(&mut r, &p, &h, &parts[0]), Ok(Step::Held { part: 1 }));
    assert_eq!(feed(&mut r, &p, &h, &parts[1]), Ok(Step::Held { part: 2 }));
    let Ok(Step::Complete { message: m, parts: 3 }) = feed(&mut r, &p, &h, &parts[2]) else { panic!() };
    assert_eq!(m, message("BIGREQ", 42, '1', 1, b"AAAABBBBBBCC"));
    assert!(!r.is_open());
    assert_eq!(p.kind(&h, &m), Ok(PartKind::Single));
}

#[test]
fn each_wrong_part_is_named_and_drops_the_open_message() {
    let h = header();
    let p = plan(&h, settings(80, 100));
    let ps = parts(7, b"AAAABBBBCCCC", &[4, 8]);
    let mut r = Reassembler::default();
    // Out of order: 3 before 2.
    feed(&mut r, &p, &h, &ps[0]).unwrap();
    let e = feed(&mut r, &p, &h, &ps[2]).unwrap_err();
    assert_eq!(e, PartError::OutOfOrder { expected: 2, got: 3, id: "7".into() });
    assert_eq!(e.wire().0, "FC40");
    assert!(!r.is_open(), "the open message is dropped");
    // A middle with none open.
    assert_eq!(feed(&mut r, &p, &h, &ps[1]).unwrap_err(), PartError::NotOpen { kind: "middle", got: 2 });
    // A duplicate.
    feed(&mut r, &p, &h, &ps[0]).unwrap();
    feed(&mut r, &p, &h, &ps[1]).unwrap();
    let e = feed(&mut r, &p, &h, &ps[1]).unwrap_err();
    assert_eq!(e, PartError::OutOfOrder { expected: 3, got: 2, id: "7".into() });
    // A first while one is open.
    feed(&mut r, &p, &h, &ps[0]).unwrap();
    let e = feed(&mut r, &p, &h, &ps[0]).unwrap_err();
    assert_eq!((e.wire().0, e), ("FC41", PartError::FirstWhileOpen { id: "7".into(), expected: 2 }));
    // Another message id, another operation, a single, mid-message.
    let other = parts(8, b"AAAABBBBCCCC", &[4, 8]);
    feed(&mut r, &p, &h, &ps[0]).unwrap();
    let e = feed(&mut r, &p, &h, &other[1]).unwrap_err();
    assert!(matches!(&e, PartError::Foreign { field, .. } if field == "H-ID"), "{e}");
    assert_eq!(e.wire().0, "FC44");
    feed(&mut r, &p, &h, &ps[0]).unwrap();
    let e = feed(&mut r, &p, &h, &message("OTHER", 7, '3', 2, b"BBBB")).unwrap_err();
    assert!(matches!(&e, PartError::Foreign { field, .. } if field == "operation"), "{e}");
    feed(&mut r, &p, &h, &ps[0]).unwrap();
    let e = feed(&mut r, &p, &h, &message("BIGREQ", 7, '1', 1, b"")).unwrap_err();
    assert_eq!(e.wire().0, "FC41");
    // Too large: 34 + 4 + 40 + 4 > 80.
    feed(&mut r, &p, &h, &parts(9, &[b'X'; 44], &[4])[0]).unwrap();
    let e = feed(&mut r, &p, &h, &message("BIGREQ", 9, '3', 2, &[b'Y'; 50])).unwrap_err();
    assert_eq!((e.wire().0, e), ("FC42", PartError::TooLarge { bytes: 88, max: 80, part: 2 }));
    // A flag no one configured; a part number that is not one.
    let e = feed(&mut r, &p, &h, &message("BIGREQ", 9, '7', 1, b"")).unwrap_err();
    assert_eq!(e, PartError::BadFlag { field: "H-FLAG".into(), value: "7".into() });
    // A timeout names the part waited for and hands back the first part's header.
    feed(&mut r, &p, &h, &ps[0]).unwrap();
    let (e, first) = r.expire(&h, 250).unwrap();
    assert_eq!(e, PartError::Timeout { expected: 2, id: "7".into(), ms: 250 });
    assert_eq!(first, ps[0][..SIZE]);
    assert!(r.expire(&h, 250).is_none());
}

#[test]
fn more_parts_than_allowed_or_a_length_the_field_cannot_state_are_too_large() {
    let h = header();
    let p = MultipartPlan::new(
        &h,
        "H-FLAG",
        ["1", "2", "3", "4"],
        "H-PART",
        MultipartSettings { max_parts: Some(2), ..settings(4096, 100) },
    )
    .unwrap();
    let ps = parts(3, b"AAAABBBBCCCC", &[4, 8]);
    let mut r = Reassembler::default();
    feed(&mut r, &p, &h, &ps[0]).unwrap();
    feed(&mut r, &p, &h, &ps[1]).unwrap();
    let e = feed(&mut r, &p, &h, &ps[2]).unwrap_err();
    assert_eq!((e.wire().0, e), ("FC42", PartError::TooManyParts { part: 3, max: 2 }));
    // H-LEN is 4 digits: 34 + 6000 + 6000 bytes cannot be stated in it.
    let p = plan(&h, settings(20_000, 100));
    let body = vec![b'Q'; 12_000];
    let mut r = Reassembler::default();
    let big = parts(4, &body, &[6000]);
    feed(&mut r, &p, &h, &big[0]).unwrap();
    let e = feed(&mut r, &p, &h, &big[1]).unwrap_err();
    assert_eq!((e.wire().0, e), ("FC42", PartError::Unstatable { bytes: 12_034, field: "H-LEN".into() }));
}

#[test]
fn pass_mode_checks_the_order_and_keeps_no_body() {
    let h = header();
    let p = plan(&h, settings(40, 100));
    let ps = parts(5, &[b'Z'; 60], &[20, 40]);
    let mut r = Reassembler::default();
    assert_eq!(r.push(&p, &h, &ps[0], || true), Ok(Step::Pass { part: 1, last: false }));
    assert_eq!(r.push(&p, &h, &ps[1], || unreachable!()), Ok(Step::Pass { part: 2, last: false }));
    assert_eq!(r.push(&p, &h, &ps[2], || unreachable!()), Ok(Step::Pass { part: 3, last: true }));
    assert!(!r.is_open());
    r.push(&p, &h, &ps[0], || true).unwrap();
    assert!(r.push(&p, &h, &ps[2], || true).is_err());
}

#[test]
fn a_reply_is_split_only_when_longer_than_a_part() {
    let h = header();
    let p = plan(&h, settings(4096, 10));
    let short = message("BIGREQ", 3, '1', 1, &[b'a'; 10]);
    assert_eq!(p.split(&h, &short), Ok(None));
    let long = message("BIGREQ", 3, '1', 1, b"0123456789abcdefghijKLM");
    let split = p.split(&h, &long).unwrap().unwrap();
    assert_eq!(split.len(), 3);
    assert_eq!(split[0], message("BIGREQ", 3, '2', 1, b"0123456789"));
    assert_eq!(split[1], message("BIGREQ", 3, '3', 2, b"abcdefghij"));
    assert_eq!(split[2], message("BIGREQ", 3, '4', 3, b"KLM"));
    let p = MultipartPlan::new(&h, "H-FLAG", ["1", "2", "3", "4"], "H-PART", settings(4096, 1)).unwrap();
    let e = p.split(&h, &message("BIGREQ", 3, '1', 1, &[b'x'; 1000])).unwrap_err();
    assert_eq!(e.wire().0, "FC42");
}

#[test]
fn plans_that_cannot_work_are_refused_by_name() {
    let h = header();
    let new = |flag: &str, values: [&str; 4], part: &str| {
        MultipartPlan::new(&h, flag, values, part, settings(100, 10)).unwrap_err()
    };
    assert!(new("H-NOPE", ["1", "2", "3", "4"], "H-PART").contains("H-NOPE"));
    assert!(new("H-FLAG", ["1", "2", "3", "44"], "H-PART").contains("last = \"44\""));
    assert!(new("H-FLAG", ["1", "2", "2", "4"], "H-PART").contains("first and middle"));
    assert!(new("H-FLAG", ["1", " ", "3", "4"], "H-PART").contains("blank"));
    assert!(new("H-FLAG", ["1", "2", "3", "4"], "H-FLAG").contains("overlap"));
    let s = MultipartSettings { max_parts: Some(1000), ..settings(100, 10) };
    let e = MultipartPlan::new(&h, "H-FLAG", ["1", "2", "3", "4"], "H-PART", s).unwrap_err();
    assert!(e.contains("max_parts = 1000 must be 2 to 999"), "{e}");
}

/// Sorted distinct cut points inside `len`.
fn cuts(len: usize, raw: Vec<usize>) -> Vec<usize> {
    let mut c: Vec<usize> = raw.into_iter().map(|x| x % len.max(1)).filter(|x| *x > 0).collect();
    c.sort_unstable();
    c.dedup();
    c
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 400,
        rng_seed: proptest::test_runner::RngSeed::Fixed(16),
        ..ProptestConfig::default()
    })]

    /// Any split of any body reassembles to the original message, marked single.
    #[test]
    fn any_valid_split_reassembles(body in proptest::collection::vec(any::<u8>(), 1..300), raw in proptest::collection::vec(any::<usize>(), 1..8), id in 1u32..999_999) {
        let h = header();
        let p = plan(&h, settings(4096, 100));
        let ps = parts(id, &body, &cuts(body.len(), raw));
        prop_assume!(ps.len() >= 2);
        let mut r = Reassembler::default();
        let mut out = None;
        for (i, part) in ps.iter().enumerate() {
            match feed(&mut r, &p, &h, part).unwrap() {
                Step::Held { part } => prop_assert_eq!(part as usize, i + 1),
                Step::Complete { message, parts } => { prop_assert_eq!(parts as usize, ps.len()); out = Some(message) }
                other => prop_assert!(false, "{other:?}"),
            }
        }
        prop_assert_eq!(out, Some(message("BIGREQ", id, '1', 1, &body)));
    }

    /// Swapping two parts, repeating one that is not the last, or leaving out one that is not
    /// the last: an error, and never a message.
    #[test]
    fn any_corrupted_order_is_refused(body in proptest::collection::vec(any::<u8>(), 2..300), raw in proptest::collection::vec(any::<usize>(), 1..8), how in 0u8..3, a in any::<usize>(), b in any::<usize>()) {
        let h = header();
        let p = plan(&h, settings(4096, 100));
        let mut ps = parts(11, &body, &cuts(body.len(), raw));
        prop_assume!(ps.len() >= 2);
        let n = ps.len();
        match how {
            0 => { let (i, j) = (a % n, b % n); prop_assume!(i != j); ps.swap(i, j) }
            1 => { let i = a % (n - 1); let again = ps[i].clone(); ps.insert(i + 1, again) }
            _ => { ps.remove(a % (n - 1)); }
        }
        let mut r = Reassembler::default();
        let mut errors = 0;
        for part in &ps {
            match feed(&mut r, &p, &h, part) {
                Ok(Step::Complete { .. }) => prop_assert!(false, "a corrupted order made a message"),
                Ok(_) => {}
                Err(_) => errors += 1,
            }
        }
        prop_assert!(errors > 0);
    }

    /// A reply split into parts reassembles to itself (flag single), whatever the part size.
    #[test]
    fn a_split_reply_reassembles_to_itself(body in proptest::collection::vec(any::<u8>(), 0..400), per in 1usize..120) {
        let h = header();
        let p = plan(&h, settings(4096, per));
        let reply = message("BIGREQ", 77, '1', 1, &body);
        match p.split(&h, &reply).unwrap() {
            None => prop_assert!(body.len() <= per),
            Some(ps) => {
                prop_assert_eq!(ps.len(), body.len().div_ceil(per));
                let mut r = Reassembler::default();
                let mut out = None;
                for part in &ps {
                    prop_assert!(part.len() <= SIZE + per);
                    h.check_length(part).unwrap();
                    if let Step::Complete { message, .. } = feed(&mut r, &p, &h, part).unwrap() { out = Some(message) }
                }
                prop_assert_eq!(out, Some(reply));
            }
        }
    }
}
