//! Randomized: records with SYNC binary and floating items in (nested) OCCURS tables, laid out
//! by ficus and by a reference written here straight from IBM's text (Language Reference,
//! SYNCHRONIZED clause, "Slack bytes within records" and the OCCURS paragraph after it):
//!
//! - walk the elementary items in order, counting bytes from the record start; before a
//!   synchronized item of boundary m, add m - r slack bytes (r = count mod m);
//! - slack before a group's first (synchronized) item stands in front of the group;
//! - a table of groups: its first occurrence as above, its size (slack within included)
//!   rounded up to a multiple of the largest m of a synchronized item in it.
//!
//! A fixed sample of table-free records is also compiled by GnuCOBOL (`-std=ibm`), which
//! follows IBM there when no group starts with a synchronized item and no binary item is 8
//! bytes (see tests/sync_tables.rs for where it does not).

#[path = "support/cobol_offsets.rs"]
mod cobol_offsets;

use ficus::copybook::{parse_copybook, Item, ItemKind, NoCopy};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// An elementary item of the model: its clause text, size and boundary when synchronized.
#[derive(Clone, Debug)]
enum Leaf {
    Text(usize),
    Bin(u32),
    Comp1,
    Comp2,
    Packed(u32),
}

impl Leaf {
    fn size(&self) -> usize {
        match self {
            Leaf::Text(n) => *n,
            Leaf::Bin(d) if *d <= 4 => 2,
            Leaf::Bin(d) if *d <= 9 => 4,
            Leaf::Bin(_) => 8,
            Leaf::Comp1 => 4,
            Leaf::Comp2 => 8,
            Leaf::Packed(d) => *d as usize / 2 + 1,
        }
    }
    /// IBM's m: 2 for binary of 1–4 digits, 4 for 5–18 digits and COMP-1, 8 for COMP-2.
    fn m(&self) -> usize {
        match self {
            Leaf::Bin(d) if *d <= 4 => 2,
            Leaf::Bin(_) | Leaf::Comp1 => 4,
            Leaf::Comp2 => 8,
            Leaf::Text(_) | Leaf::Packed(_) => 1,
        }
    }
    fn clauses(&self) -> String {
        match self {
            Leaf::Text(n) => format!("PIC X({n})"),
            Leaf::Bin(d) => format!("PIC S9({d}) COMP"),
            Leaf::Comp1 => "COMP-1".into(),
            Leaf::Comp2 => "COMP-2".into(),
            Leaf::Packed(d) => format!("PIC S9({d}) COMP-3"),
        }
    }
}

#[derive(Clone, Debug)]
enum Node {
    Leaf(Leaf, bool),
    Group(Vec<Node>, Option<u32>),
}

fn leaf() -> impl Strategy<Value = Node> {
    let kind = prop_oneof![
        (1usize..6).prop_map(Leaf::Text),
        (1u32..19).prop_map(Leaf::Bin),
        Just(Leaf::Comp1),
        Just(Leaf::Comp2),
        (1u32..10).prop_map(Leaf::Packed),
    ];
    (kind, any::<bool>()).prop_map(|(k, s)| Node::Leaf(k, s))
}

fn node() -> impl Strategy<Value = Node> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        (prop::collection::vec(inner, 1..5), prop::option::weighted(0.6, 1u32..4)).prop_map(|(c, o)| Node::Group(c, o))
    })
}

/// The reference: leaf offsets (first occurrences) in source order, and the record size.
struct Reference {
    offsets: Vec<(usize, usize)>,
}

fn first_m(n: &Node) -> usize {
    match n {
        Node::Leaf(l, true) => l.m(),
        Node::Leaf(_, false) => 1,
        Node::Group(c, _) => first_m(&c[0]),
    }
}

fn largest_m(n: &Node) -> usize {
    match n {
        Node::Leaf(l, true) => l.m(),
        Node::Leaf(_, false) => 1,
        Node::Group(c, _) => c.iter().map(largest_m).max().unwrap_or(1),
    }
}

/// Places `n` at `cursor` (already padded for its first item); returns the end of one occurrence.
fn place(n: &Node, cursor: usize, r: &mut Reference) -> usize {
    match n {
        Node::Leaf(l, _) => {
            r.offsets.push((cursor, l.size()));
            cursor + l.size()
        }
        Node::Group(children, occurs) => {
            let mut at = cursor;
            for c in children {
                let m = first_m(c);
                at += (m - at % m) % m;
                at = place_all(c, at, r);
            }
            let mut size = at - cursor;
            if occurs.is_some() {
                let m = largest_m(n);
                size += (m - size % m) % m;
            }
            cursor + size
        }
    }
}

/// Places every occurrence of `n`; returns the end.
fn place_all(n: &Node, cursor: usize, r: &mut Reference) -> usize {
    let end = place(n, cursor, r);
    let count = match n {
        Node::Group(_, Some(k)) => *k as usize,
        _ => 1,
    };
    cursor + (end - cursor) * count
}

fn copybook(record: &str, top: &[Node]) -> String {
    fn write(n: &Node, level: u32, next: &mut usize, record: &str, out: &mut String) {
        *next += 1;
        let name = format!("{record}-F{next}");
        let indent = " ".repeat(7 + 3 * (level as usize / 5));
        match n {
            Node::Leaf(l, s) => {
                let sync = if *s { " SYNC" } else { "" };
                out.push_str(&format!("{indent}{level:02} {name} {}{sync}.\n", l.clauses()));
            }
            Node::Group(children, occurs) => {
                let occ = occurs.map(|k| format!(" OCCURS {k}")).unwrap_or_default();
                out.push_str(&format!("{indent}{level:02} {name}{occ}.\n"));
                children.iter().for_each(|c| write(c, level + 5, next, record, out));
            }
        }
    }
    let mut out = format!("       01 {record}.\n");
    let mut next = 0;
    top.iter().for_each(|n| write(n, 5, &mut next, record, &mut out));
    out
}

fn leaves(i: &Item, out: &mut Vec<(usize, usize)>) {
    match &i.kind {
        ItemKind::Elementary(_) => out.push((i.offset, i.size)),
        ItemKind::Group(c) => c.iter().for_each(|c| leaves(c, out)),
    }
}

fn reference(top: &[Node]) -> (Vec<(usize, usize)>, usize) {
    let root = Node::Group(top.to_vec(), None);
    let mut r = Reference { offsets: Vec::new() };
    let end = place(&root, 0, &mut r);
    (r.offsets, end)
}

#[test]
fn layout_matches_the_reference_for_random_sync_tables() {
    let config = Config { cases: 400, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]));
    runner
        .run(&prop::collection::vec(node(), 1..6), |top| {
            let text = copybook("RR", &top);
            let cb =
                parse_copybook(&text, "rand.cpy", &NoCopy).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            let mut ours = Vec::new();
            leaves(&cb.records[0].root, &mut ours);
            let (want, size) = reference(&top);
            prop_assert_eq!(&ours, &want, "{}", text);
            prop_assert_eq!(cb.records[0].max_size(), size, "{}", text);
            Ok(())
        })
        .unwrap();
}

/// Table-free records whose groups never start with a synchronized item and whose binary
/// items are at most 4 bytes: where GnuCOBOL lays out as IBM does.
fn gnucobol_like() -> impl Strategy<Value = Vec<Node>> {
    let kind = prop_oneof![
        (1usize..6).prop_map(Leaf::Text),
        (1u32..10).prop_map(Leaf::Bin),
        Just(Leaf::Comp1),
        Just(Leaf::Comp2),
        (1u32..10).prop_map(Leaf::Packed),
    ];
    let leaf = (kind, any::<bool>()).prop_map(|(k, s)| Node::Leaf(k, s));
    let tree = leaf.prop_recursive(2, 12, 4, |inner| {
        (1usize..4, prop::collection::vec(inner, 1..4)).prop_map(|(n, mut c)| {
            c.insert(0, Node::Leaf(Leaf::Text(n), false));
            Node::Group(c, None)
        })
    });
    prop::collection::vec(tree, 1..6)
}

#[test]
fn a_fixed_sample_of_table_free_records_matches_gnucobol() {
    let mut runner = TestRunner::new_with_rng(
        Config { failure_persistence: None, ..Config::default() },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[11; 32]),
    );
    let mut text = String::new();
    let mut expected = Vec::new();
    let mut queries = Vec::new();
    for k in 0..8 {
        let top = gnucobol_like().new_tree(&mut runner).unwrap().current();
        let record = format!("G{k}");
        let cb_text = copybook(&record, &top);
        let cb = parse_copybook(&cb_text, "rand.cpy", &NoCopy).unwrap_or_else(|e| panic!("{e}\n{cb_text}"));
        let mut ours = Vec::new();
        leaves(&cb.records[0].root, &mut ours);
        let count = cb_text.lines().count() - 1;
        let names: Vec<String> = (1..=count).map(|i| format!("{record}-F{i}")).collect();
        // Only the elementary names: groups have no PIC in the model's text.
        let leaf_names: Vec<String> =
            names.into_iter().filter(|n| cb_text.lines().any(|l| l.contains(&format!(" {n} ")))).collect();
        assert_eq!(leaf_names.len(), ours.len(), "{cb_text}");
        expected.push((cb.records[0].max_size(), ours));
        queries.push((record, leaf_names));
        text.push_str(&cb_text);
    }
    let qs: Vec<cobol_offsets::Query> =
        queries.iter().map(|(r, refs)| cobol_offsets::Query { record: r, refs: refs.clone() }).collect();
    let got = cobol_offsets::measure(&text, &qs).unwrap();
    for (k, (g, (len, ours))) in got.iter().zip(expected).enumerate() {
        assert_eq!(g.record_len, len, "record G{k}\n{text}");
        assert_eq!(g.items, ours, "record G{k}\n{text}");
    }
}
