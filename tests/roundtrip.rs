//! Property tests of the codec over random layouts and random values.
//!
//! A strategy builds a random record layout (levels 05/10/15, groups, `PIC X`, zoned with every
//! sign position, COMP-3, COMP/BINARY/COMP-4, COMP-5, `OCCURS n`, FILLER, one `REDEFINES` of a
//! `PIC X` by a group, one `OCCURS 0 TO n DEPENDING ON` table with items after it), renders it
//! as fixed-format copybook *text* and parses that with `parse_copybook`; a second strategy
//! makes valid JSON for the layout (numbers within each picture's digits and scale, text of
//! the code page's characters, tables of the right length with their counter set to match).
//! For ascii, cp037 and cp1047 and every sign style that suits them:
//!
//! - `decode(encode(v)) == v`, numbers compared by value (decode writes the picture's scale),
//!   and a negative zero (`-0`, `-0.00`) in a zoned or packed field decodes as a negative zero;
//! - COMP-5 values range over the whole storage, not the picture;
//! - `encode(decode(b)) == b` for `b = encode(v)`: the byte identity the gateway relies on;
//! - a FILLER's `VALUE` (quoted or numeric, in any usage, in tables too) is written as a named
//!   field of the same picture holding that value would be (IBM Language Reference, VALUE
//!   clause: the item is initialised to the literal; encode writes it as the compiler would);
//! - the record is as long as the layout says once the ODO table's unused elements are gone;
//! - decoding random or damaged bytes never panics, and lenient decoding never fails; the JSON
//!   text decode writes is serde_json's text of the same value, byte for byte;
//! - encoding from the JSON *text* read as a borrowed document (the gateway's reply path, no
//!   `Value` tree) gives the same bytes, or the same error, as encoding the `Value`, for valid
//!   values and for values damaged (a member removed, or replaced by a value of another type),
//!   strict and with `fill_missing`.
//! - a layout without `DEPENDING ON` decodes to JSON text through its flat list of fields
//!   (`codec::flat`) exactly as the walk over the plan does: text, length and error;
//! - the JSON Schemas `crate::contract` generates hold the codec's JSON: a valid value against the
//!   encode schema, what decode writes against the decode schema.
//!
//! `PROPTEST_CASES` raises the case count (default [`DEFAULT_CASES`]).

use ficus::codec::binary::ByteOrder;
use ficus::codec::charset::CodePage;
use ficus::codec::decimal::Decimal;
use ficus::codec::json::JsonWriter;
use ficus::codec::json_doc::Doc;
use ficus::codec::zoned::SignStyle;
use ficus::codec::{Codec, CodecOptions, Scratch};
use ficus::copybook::{parse_copybook, NoCopy};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Map, Value};
use std::fmt::Write;

/// Cases per property unless `PROPTEST_CASES` says otherwise: the file runs in a few seconds
/// in a debug build.
const DEFAULT_CASES: u32 = 160;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_CASES);
    ProptestConfig { cases, max_shrink_iters: 2000, ..ProptestConfig::default() }
}

// ---------------------------------------------------------------------------------------------
// The layout model

/// Where a signed zoned number keeps its sign (the `SIGN` clause, or none).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Sign {
    Default,
    Leading,
    Trailing,
    LeadingSeparate,
    TrailingSeparate,
}

/// A numeric picture: digits before and after the implied point, and `S`.
#[derive(Clone, Copy, Debug)]
struct Num {
    int: u32,
    frac: u32,
    signed: bool,
}

impl Num {
    fn digits(&self) -> u32 {
        self.int + self.frac
    }
    fn picture(&self) -> String {
        let mut p = String::from(if self.signed { "S" } else { "" });
        if self.int > 0 {
            let _ = write!(p, "9({})", self.int);
        }
        if self.frac > 0 {
            let _ = write!(p, "V9({})", self.frac);
        }
        p
    }
}

#[derive(Clone, Debug)]
enum Kind {
    Text(u32),
    Zoned(Num, Sign),
    /// The usage spelling (COMP-3 or PACKED-DECIMAL).
    Packed(Num, &'static str),
    /// The usage spelling (COMP, BINARY, COMP-4, COMP-5).
    Binary(Num, &'static str),
    Group(Vec<Node>),
}

#[derive(Clone, Debug)]
struct Node {
    name: String,
    filler: bool,
    occurs: Option<u32>,
    kind: Kind,
    /// Where a FILLER gets its VALUE from (see [`filler_value`]).
    seed: u64,
    /// A FILLER's `VALUE` literal as written in the copybook, and the JSON a named field of the
    /// same picture would be given to hold the same bytes.
    value: Option<(String, Value)>,
    /// Unique within the layout: the name of the FILLER's named twin (`V<id>`).
    id: u32,
}

/// The counter of the ODO table: a picture clause and whether it is binary.
const COUNTERS: [&str; 4] = ["PIC 9(2)", "PIC S9(3) COMP-3", "PIC S9(4) COMP", "PIC 9(4) COMP-5"];

#[derive(Clone, Debug)]
struct Odo {
    counter: usize,
    max: u32,
    element: Vec<Node>,
    tail: Vec<Node>,
}

#[derive(Clone, Debug)]
struct Redefine {
    /// Bytes of the base `PIC X` beyond the view's size.
    extra: u32,
    view: Vec<Node>,
}

#[derive(Clone, Debug)]
struct Layout {
    head: Vec<Node>,
    redefine: Option<Redefine>,
    odo: Option<Odo>,
}

impl Kind {
    fn size(&self) -> u32 {
        match self {
            Kind::Text(n) => *n,
            Kind::Zoned(num, sign) => {
                num.digits() + u32::from(matches!(sign, Sign::LeadingSeparate | Sign::TrailingSeparate))
            }
            Kind::Packed(num, _) => num.digits() / 2 + 1,
            Kind::Binary(num, _) => match num.digits() {
                0..=4 => 2,
                5..=9 => 4,
                _ => 8,
            },
            Kind::Group(children) => children.iter().map(Node::size).sum(),
        }
    }
}

impl Node {
    fn size(&self) -> u32 {
        self.kind.size() * self.occurs.unwrap_or(1)
    }
}

fn size_of(nodes: &[Node]) -> u32 {
    nodes.iter().map(Node::size).sum()
}

// ---------------------------------------------------------------------------------------------
// Layout strategies

fn num(max_digits: u32) -> impl Strategy<Value = Num> {
    (0..=max_digits, 0..=max_digits.min(10), any::<bool>())
        .prop_filter("at least one digit, within the maximum", move |(i, f, _)| i + f >= 1 && i + f <= max_digits)
        .prop_map(|(int, frac, signed)| Num { int, frac, signed })
}

fn leaf_kind() -> BoxedStrategy<Kind> {
    let sign = prop_oneof![
        Just(Sign::Default),
        Just(Sign::Leading),
        Just(Sign::Trailing),
        Just(Sign::LeadingSeparate),
        Just(Sign::TrailingSeparate),
    ];
    prop_oneof![
        3 => (1u32..=12).prop_map(Kind::Text),
        3 => (num(38), sign).prop_map(|(n, s)| Kind::Zoned(n, if n.signed { s } else { Sign::Default })),
        2 => (num(31), prop_oneof![Just("COMP-3"), Just("PACKED-DECIMAL")]).prop_map(|(n, u)| Kind::Packed(n, u)),
        2 => (num(18), prop_oneof![Just("COMP"), Just("BINARY"), Just("COMP-4"), Just("COMP-5")])
            .prop_map(|(n, u)| Kind::Binary(n, u)),
    ]
    .boxed()
}

fn occurs() -> impl Strategy<Value = Option<u32>> {
    prop_oneof![4 => Just(None), 1 => (1u32..=3).prop_map(Some)]
}

fn leaf_node() -> BoxedStrategy<Node> {
    (leaf_kind(), occurs(), proptest::bool::weighted(0.15), any::<u64>())
        .prop_map(|(kind, occurs, filler, seed)| Node {
            name: String::new(),
            filler,
            occurs,
            kind,
            seed,
            value: None,
            id: 0,
        })
        .boxed()
}

/// Items at `depth` (0 = level 05, 1 = level 10, 2 = level 15: elementary only).
fn node(depth: u32) -> BoxedStrategy<Node> {
    if depth >= 2 {
        return leaf_node();
    }
    let group = (proptest::collection::vec(node(depth + 1), 1..=3), occurs()).prop_map(|(children, occurs)| Node {
        name: String::new(),
        filler: false,
        occurs,
        kind: Kind::Group(children),
        seed: 0,
        value: None,
        id: 0,
    });
    prop_oneof![3 => leaf_node(), 1 => group].boxed()
}

fn layout() -> impl Strategy<Value = Layout> {
    let redefine = proptest::option::weighted(
        0.5,
        (0u32..=3, proptest::collection::vec(node(1), 1..=3)).prop_map(|(extra, view)| Redefine { extra, view }),
    );
    let odo = proptest::option::weighted(
        0.6,
        (
            0..COUNTERS.len(),
            1u32..=4,
            proptest::collection::vec(node(1), 1..=3),
            proptest::collection::vec(node(0), 0..=2),
        )
            .prop_map(|(counter, max, element, tail)| Odo { counter, max, element, tail }),
    );
    (proptest::collection::vec(node(0), 1..=5), redefine, odo).prop_map(|(head, redefine, odo)| {
        let mut layout = Layout { head, redefine, odo };
        name_all(&mut layout);
        layout
    })
}

/// Gives every item a unique name (`F1`, `F2`, ...), or FILLER; a FILLER outside the REDEFINES
/// view and the ODO table gets a VALUE (IBM allows none under REDEFINES; the table's elements
/// come and go with its counter).
fn name_all(layout: &mut Layout) {
    fn walk(nodes: &mut [Node], n: &mut u32, values: bool) {
        for node in nodes {
            *n += 1;
            node.id = *n;
            node.name = if node.filler { "FILLER".into() } else { format!("F{n}") };
            if node.filler && values {
                node.value = filler_value(&node.kind, node.seed);
            }
            if let Kind::Group(children) = &mut node.kind {
                walk(children, n, values);
            }
        }
    }
    let mut n = 0;
    walk(&mut layout.head, &mut n, true);
    if let Some(r) = &mut layout.redefine {
        walk(&mut r.view, &mut n, false);
    }
    if let Some(o) = &mut layout.odo {
        walk(&mut o.element, &mut n, false);
        walk(&mut o.tail, &mut n, true);
    }
}

/// A VALUE literal for an elementary item of `kind`, derived from `seed`: a quoted literal
/// shorter than or as long as a text field, a number within a numeric picture's digits and
/// scale (negative only when signed), with the JSON value that writes the same bytes.
fn filler_value(kind: &Kind, seed: u64) -> Option<(String, Value)> {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    match kind {
        Kind::Text(n) => {
            let len = 1 + (seed % u64::from(*n)) as usize;
            let text: String =
                (0..len).map(|i| CHARS[((seed >> (i % 8 * 8)) as usize + i * 7) % CHARS.len()] as char).collect();
            Some((format!("'{text}'"), Value::String(text)))
        }
        Kind::Zoned(num, _) | Kind::Packed(num, _) | Kind::Binary(num, _) => {
            let int = 10u128.pow(num.int.min(9));
            let frac = 10u128.pow(num.frac.min(9));
            let magnitude = (u128::from(seed) % int) * 10u128.pow(num.frac) + (u128::from(seed >> 32) % frac);
            let negative = num.signed && seed.is_multiple_of(3) && magnitude != 0;
            let text = number_text(negative, magnitude, num.frac, false);
            Some((text.clone(), number(&text)))
        }
        Kind::Group(_) => None,
    }
}

/// Adds to `map` what the twin layout's named fields need: each valued FILLER of `nodes` as
/// `V<id>` with its value (an array when it occurs), recursing into named groups and tables.
fn add_twins(nodes: &[Node], map: &mut Map<String, Value>) {
    for node in nodes {
        if let Some((_, value)) = &node.value {
            let v = match node.occurs {
                Some(n) => Value::Array(vec![value.clone(); n as usize]),
                None => value.clone(),
            };
            map.insert(format!("V{}", node.id), v);
        } else if let (Kind::Group(children), false) = (&node.kind, node.filler) {
            match map.get_mut(&node.name) {
                Some(Value::Object(inner)) => add_twins(children, inner),
                Some(Value::Array(items)) => items.iter_mut().for_each(|item| {
                    if let Value::Object(inner) = item {
                        add_twins(children, inner)
                    }
                }),
                _ => {}
            }
        }
    }
}

/// The record value for the twin layout: `value` with every valued FILLER's twin added.
fn twin_value(layout: &Layout, value: &Value) -> Value {
    let mut value = value.clone();
    if let Value::Object(map) = &mut value {
        add_twins(&layout.head, map);
        if let Some(o) = &layout.odo {
            add_twins(&o.tail, map);
        }
    }
    value
}

// ---------------------------------------------------------------------------------------------
// Rendering the copybook text (fixed format: code in columns 8-72, one clause per line)

fn render(layout: &Layout) -> String {
    render_as(layout, false)
}

/// The copybook text; with `twin`, each FILLER with a VALUE becomes a named field `V<id>` of the
/// same picture and no VALUE (same bytes, same offsets).
fn render_as(layout: &Layout, twin: bool) -> String {
    let render_node = |out: &mut String, n: &Node, level: u32| render_node(out, n, level, twin);
    let mut out = String::from("      * generated by tests/roundtrip.rs\n       01  REC.\n");
    for n in &layout.head {
        render_node(&mut out, n, 5);
    }
    if let Some(r) = &layout.redefine {
        let base = size_of(&r.view) + r.extra;
        entry(&mut out, 5, "RD-BASE", &[format!("PIC X({base})")]);
        entry(&mut out, 5, "RD-VIEW", &["REDEFINES RD-BASE".into()]);
        for n in &r.view {
            render_node(&mut out, n, 10);
        }
    }
    if let Some(o) = &layout.odo {
        entry(&mut out, 5, "ODO-CNT", &[COUNTERS[o.counter].to_string()]);
        let occurs = format!("OCCURS 0 TO {} TIMES", o.max);
        entry(&mut out, 5, "ODO-TAB", &[occurs, "DEPENDING ON ODO-CNT".into()]);
        for n in &o.element {
            render_node(&mut out, n, 10);
        }
        for n in &o.tail {
            render_node(&mut out, n, 5);
        }
    }
    out
}

fn render_node(out: &mut String, node: &Node, level: u32, twin: bool) {
    let mut clauses = Vec::new();
    match &node.kind {
        Kind::Text(n) => clauses.push(format!("PIC X({n})")),
        Kind::Zoned(num, sign) => {
            clauses.push(format!("PIC {}", num.picture()));
            match sign {
                Sign::Default => {}
                Sign::Leading => clauses.push("SIGN LEADING".into()),
                Sign::Trailing => clauses.push("SIGN IS TRAILING".into()),
                Sign::LeadingSeparate => clauses.push("SIGN IS LEADING SEPARATE CHARACTER".into()),
                Sign::TrailingSeparate => clauses.push("SIGN TRAILING SEPARATE".into()),
            }
        }
        Kind::Packed(num, usage) | Kind::Binary(num, usage) => {
            clauses.push(format!("PIC {}", num.picture()));
            clauses.push(format!("USAGE {usage}"));
        }
        Kind::Group(_) => {}
    }
    if let Some(n) = node.occurs {
        clauses.push(format!("OCCURS {n} TIMES"));
    }
    let name = match (&node.value, twin) {
        (Some(_), true) => format!("V{}", node.id),
        (Some((literal, _)), false) => {
            clauses.push(format!("VALUE {literal}"));
            node.name.clone()
        }
        (None, _) => node.name.clone(),
    };
    entry(out, level, &name, &clauses);
    if let Kind::Group(children) = &node.kind {
        for c in children {
            render_node(out, c, level + 5, twin);
        }
    }
}

fn entry(out: &mut String, level: u32, name: &str, clauses: &[String]) {
    let indent = 11 + (level as usize / 5 - 1) * 4;
    let _ = write!(out, "{:indent$}{level:02}  {name}", "");
    for c in clauses {
        let _ = write!(out, "\n{:w$}{c}", "", w = indent + 4);
    }
    out.push_str(".\n");
}

// ---------------------------------------------------------------------------------------------
// Value strategies

/// Options under test: code page, sign style, COMP-5 byte order, TRUNC(BIN).
fn codec_options() -> impl Strategy<Value = CodecOptions> {
    let pages = prop_oneof![Just(CodePage::Ascii), Just(CodePage::Cp037), Just(CodePage::Cp1047)];
    (pages, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(cp, mf, little, trunc_bin)| {
        let sign_style = match (cp.is_ebcdic(), mf) {
            (true, _) => SignStyle::Ebcdic,
            (false, false) => SignStyle::AsciiIbm,
            (false, true) => SignStyle::AsciiMf,
        };
        let comp5_order = if little { ByteOrder::Little } else { ByteOrder::Big };
        CodecOptions { sign_style, comp5_order, trunc_bin, ..CodecOptions::for_codepage(cp) }
    })
}

/// Text of the code page's characters, shorter than or as long as the field, without the
/// trailing spaces decode trims: made by decoding random bytes with the page itself.
fn text_value(len: u32, cp: CodePage) -> BoxedStrategy<Value> {
    proptest::collection::vec(any::<u8>(), 0..=len as usize)
        .prop_map(move |bytes| {
            let mut s = String::new();
            cp.decode_into(&bytes, &mut s).expect("single-byte pages decode every byte");
            Value::String(s.trim_end_matches(' ').to_string())
        })
        .boxed()
}

/// `magnitude` with `scale` implied decimals as JSON number text, optionally without the
/// trailing fraction zeros (encode must rescale `1.5` into `V99`).
fn number_text(negative: bool, magnitude: u128, scale: u32, trim: bool) -> String {
    let digits = format!("{magnitude:0>width$}", width = scale as usize + 1);
    let (int, frac) = digits.split_at(digits.len() - scale as usize);
    let frac = if trim { frac.trim_end_matches('0') } else { frac };
    let sign = if negative { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

fn number(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// A value within `num`'s digits, biased to zero and the extremes; `storage` widens the range
/// to what binary storage holds (TRUNC(BIN), and COMP-5 always). `negative_zero`: the field
/// can hold `-0` (signed zoned and packed; binary cannot), which must decode as `-0` again.
fn num_value(num: Num, storage: Option<(u128, u128)>, negative_zero: bool) -> BoxedStrategy<Value> {
    let max = 10u128.pow(num.digits()) - 1;
    let (max_pos, max_neg) = storage.unwrap_or((max, if num.signed { max } else { 0 }));
    let magnitude = prop_oneof![1 => Just(0u128), 1 => Just(max_pos), 1 => Just(1u128), 5 => 0..=max_pos];
    let least = u128::from(!negative_zero);
    let negative_magnitude = prop_oneof![1 => Just(max_neg), 1 => Just(least), 3 => least..=max_neg];
    let value = if max_neg > 0 {
        prop_oneof![magnitude.prop_map(|m| (false, m)), negative_magnitude.prop_map(|m| (true, m))].boxed()
    } else {
        magnitude.prop_map(|m| (false, m)).boxed()
    };
    (value, any::<bool>()).prop_map(move |((neg, m), trim)| number(&number_text(neg, m, num.frac, trim))).boxed()
}

fn binary_storage(num: Num) -> (u128, u128) {
    let bits = match num.digits() {
        0..=4 => 16,
        5..=9 => 32,
        _ => 64,
    };
    if num.signed {
        ((1u128 << (bits - 1)) - 1, 1u128 << (bits - 1))
    } else {
        ((1u128 << bits) - 1, 0)
    }
}

fn kind_value(kind: &Kind, o: &CodecOptions) -> BoxedStrategy<Value> {
    match kind {
        Kind::Text(n) => text_value(*n, o.codepage),
        Kind::Zoned(num, _) | Kind::Packed(num, _) => num_value(*num, None, true),
        // COMP-5 holds its storage's whole range, TRUNC or not (IBM: "limited only by the
        // capacity of the native binary representation").
        Kind::Binary(num, usage) => {
            num_value(*num, (o.trunc_bin || *usage == "COMP-5").then(|| binary_storage(*num)), false)
        }
        Kind::Group(children) => object_value(children, o),
    }
}

fn node_value(node: &Node, o: &CodecOptions) -> BoxedStrategy<Value> {
    let one = kind_value(&node.kind, o);
    match node.occurs {
        None => one,
        Some(n) => proptest::collection::vec(one, n as usize).prop_map(Value::Array).boxed(),
    }
}

/// An object with a member per named item of `nodes` (FILLER has none).
fn object_value(nodes: &[Node], o: &CodecOptions) -> BoxedStrategy<Value> {
    let named: Vec<&Node> = nodes.iter().filter(|n| !n.filler).collect();
    let names: Vec<String> = named.iter().map(|n| n.name.clone()).collect();
    let members: Vec<BoxedStrategy<Value>> = named.iter().map(|n| node_value(n, o)).collect();
    members.prop_map(move |values| Value::Object(names.iter().cloned().zip(values).collect())).boxed()
}

/// A record value, and the name of the REDEFINES view it leaves out (decode shows it, but
/// what it holds is whatever the other view's bytes mean).
fn record_value(layout: &Layout, o: &CodecOptions) -> BoxedStrategy<(Value, Option<&'static str>)> {
    let head = object_value(&layout.head, o);
    let redefine = match &layout.redefine {
        None => Just(None).boxed(),
        Some(r) => {
            let base = text_value(size_of(&r.view) + r.extra, o.codepage).prop_map(|v| Some(("RD-BASE", v, "RD-VIEW")));
            let view = object_value(&r.view, o).prop_map(|v| Some(("RD-VIEW", v, "RD-BASE")));
            prop_oneof![base, view].boxed()
        }
    };
    let odo = match &layout.odo {
        None => Just(None).boxed(),
        Some(odo) => {
            let rows = proptest::collection::vec(object_value(&odo.element, o), 0..=odo.max as usize);
            (rows, object_value(&odo.tail, o)).prop_map(Some).boxed()
        }
    };
    (head, redefine, odo)
        .prop_map(|(head, redefine, odo)| {
            let Value::Object(mut map) = head else { unreachable!("object_value makes objects") };
            let mut left_out = None;
            if let Some((name, value, other)) = redefine {
                map.insert(name.into(), value);
                left_out = Some(other);
            }
            if let Some((rows, Value::Object(tail))) = odo {
                map.insert("ODO-CNT".into(), Value::from(rows.len()));
                map.insert("ODO-TAB".into(), Value::Array(rows));
                map.extend(tail);
            }
            (Value::Object(map), left_out)
        })
        .boxed()
}

/// A layout, its copybook text, options, and a valid value for it.
fn case() -> impl Strategy<Value = (Layout, String, CodecOptions, Value, Option<&'static str>)> {
    case_of(layout())
}

/// As [`case`], for a layout that does not move (no `DEPENDING ON`).
fn fixed_case() -> impl Strategy<Value = (Layout, String, CodecOptions, Value, Option<&'static str>)> {
    case_of(layout().prop_map(|layout| Layout { odo: None, ..layout }))
}

fn case_of(
    layout: impl Strategy<Value = Layout>,
) -> impl Strategy<Value = (Layout, String, CodecOptions, Value, Option<&'static str>)> {
    (layout, codec_options()).prop_flat_map(|(layout, options)| {
        let text = render(&layout);
        record_value(&layout, &options)
            .prop_map(move |(value, left_out)| (layout.clone(), text.clone(), options, value, left_out))
    })
}

// ---------------------------------------------------------------------------------------------
// Checks

/// Compiles the copybook text for `options`, failing the case with the text on error.
fn compile(text: &str, options: CodecOptions) -> Result<Codec, TestCaseError> {
    let book = parse_copybook(text, "generated.cpy", &NoCopy)
        .map_err(|e| TestCaseError::fail(format!("generated copybook does not parse: {e}\n{text}")))?;
    prop_assert_eq!(book.records.len(), 1);
    Codec::new(&book.records[0], options).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))
}

/// `actual` holds the same values as `expected`: numbers by value, text exactly, arrays
/// element by element, objects member by member (`ignore` may appear in `actual` only).
fn same(expected: &Value, actual: &Value, ignore: Option<&str>, path: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::Number(e), Value::Number(a)) => {
            let (e, a): (Decimal, Decimal) = (
                e.to_string().parse().map_err(|x| format!("{path}: {x}"))?,
                a.to_string().parse().map_err(|x| format!("{path}: {x}"))?,
            );
            // A negative zero decodes as `-0` (the sign is kept so the bytes can be written back).
            if e.cmp_value(&a).is_ne() || e.is_negative_zero() != a.is_negative_zero() {
                return Err(format!("{path}: expected {e}, decoded {a}"));
            }
        }
        (Value::String(e), Value::String(a)) if e == a => {}
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (e, a)) in e.iter().zip(a).enumerate() {
                same(e, a, ignore, &format!("{path}[{i}]"))?;
            }
        }
        (Value::Object(e), Value::Object(a)) => {
            for (k, v) in e {
                let got = a.get(k).ok_or_else(|| format!("{path}.{k}: missing from the decoded record"))?;
                same(v, got, ignore, &format!("{path}.{k}"))?;
            }
            if let Some(extra) = a.keys().find(|k| !e.contains_key(*k) && Some(k.as_str()) != ignore) {
                return Err(format!("{path}.{extra}: decoded but not in the value"));
            }
        }
        _ => return Err(format!("{path}: expected {expected}, decoded {actual}")),
    }
    Ok(())
}

/// Bytes the layout takes once the ODO table holds `rows` elements.
fn expected_len(layout: &Layout, rows: usize) -> usize {
    let mut size = size_of(&layout.head);
    if let Some(r) = &layout.redefine {
        size += size_of(&r.view) + r.extra;
    }
    if let Some(o) = &layout.odo {
        // Every counter in COUNTERS takes two bytes.
        size += 2 + size_of(&o.element) * rows as u32 + size_of(&o.tail);
    }
    size as usize
}

proptest! {
    #![proptest_config(config())]

    /// decode(encode(v)) == v by value, and encode(decode(b)) == b byte for byte.
    #[test]
    fn encode_then_decode_is_identity((layout, text, options, value, left_out) in case()) {
        let codec = compile(&text, options)?;
        let bytes = codec.encode_json(&value)
            .map_err(|e| TestCaseError::fail(format!("encode: {e}\n{text}\n{value}")))?;
        let rows = value.get("ODO-TAB").and_then(Value::as_array).map_or(0, Vec::len);
        prop_assert_eq!(bytes.len(), expected_len(&layout, rows), "record length\n{}", text);
        let (decoded, len) = codec.decode_json(&bytes)
            .map_err(|e| TestCaseError::fail(format!("decode: {e}\n{text}\n{value}")))?;
        prop_assert_eq!(len, bytes.len());
        if let Err(e) = same(&value, &decoded, left_out, "") {
            return Err(TestCaseError::fail(format!("{e}\n{text}\nvalue:   {value}\ndecoded: {decoded}")));
        }
        let again = codec.encode_json(&decoded)
            .map_err(|e| TestCaseError::fail(format!("re-encode: {e}\n{text}\n{decoded}")))?;
        prop_assert_eq!(&again, &bytes, "encode(decode(b)) != b\n{}\n{}", text, decoded);
    }

    /// A FILLER's VALUE is written on encode exactly as a named field of the same picture holding
    /// that value would be (every occurrence of it, at its offset), and `encode(decode(b)) == b`
    /// above covers records with such FILLERs too.
    #[test]
    fn value_fillers_are_written_as_their_named_twins_would_be((layout, text, options, value, _left_out) in case()) {
        let codec = compile(&text, options)?;
        let twin_text = render_as(&layout, true);
        let twin = compile(&twin_text, options)?;
        let bytes = codec.encode_json(&value)
            .map_err(|e| TestCaseError::fail(format!("encode: {e}\n{text}\n{value}")))?;
        let twin_json = twin_value(&layout, &value);
        let expected = twin.encode_json(&twin_json)
            .map_err(|e| TestCaseError::fail(format!("twin encode: {e}\n{twin_text}\n{twin_json}")))?;
        prop_assert_eq!(bytes, expected, "VALUE fillers\n{}\n{}", text, twin_text);
    }

    /// Damaged records (bytes overwritten, the record cut short or run on) and pure noise:
    /// strict decode fails cleanly or reads no more than it was given; lenient never fails.
    #[test]
    fn decoding_damaged_or_random_bytes_never_panics(
        (_layout, text, options, value, _left_out) in case(),
        damage in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in any::<prop::sample::Index>(),
        noise in proptest::collection::vec(any::<u8>(), 0..200),
        mode in 0u8..3,
    ) {
        let codec = compile(&text, options)?;
        let lenient = compile(&text, CodecOptions { lenient: true, ..options })?;
        let bytes = codec.encode_json(&value)
            .map_err(|e| TestCaseError::fail(format!("encode: {e}\n{text}")))?;
        let bytes = spoil(bytes, mode, &damage, cut, noise);
        // Strict decode never claims more bytes than it was given, even when the record ends in
        // FILLER (not read field by field) or a REDEFINES area.
        if let Ok((_, len)) = codec.decode_json(&bytes) {
            prop_assert!(len <= bytes.len(), "strict decode used {} of {} bytes\n{}", len, bytes.len(), text);
        }
        let result = lenient.decode_json(&bytes);
        prop_assert!(result.is_ok(), "lenient decode failed: {:?}\n{}", result.as_ref().err(), text);
        let mut out = String::new();
        let fast = lenient.decode_json_text(&bytes, &mut out, &mut Default::default());
        prop_assert!(fast.is_ok());
        let parsed: Value = serde_json::from_str(&out)
            .map_err(|e| TestCaseError::fail(format!("lenient JSON text is invalid ({e}): {out}")))?;
        let tree = result.map(|r| r.0).unwrap_or_default();
        prop_assert_eq!(&parsed, &tree);
        // The text itself is serde_json's for the same value (the gateway sends this text to a
        // service where it once sent the tree's serialisation: not a byte may differ).
        prop_assert_eq!(&out, &tree.to_string());
    }
}

proptest! {
    #![proptest_config(config())]

    /// A layout that does not move is written from its flat list (`codec::flat`, the gateway's
    /// decode → JSON path): the walk's text, length and error byte for byte, strict and lenient,
    /// for valid records, damaged ones, records cut short or run on, and noise.
    #[test]
    fn the_flat_json_is_the_walks(
        (_layout, text, options, value, _left_out) in fixed_case(),
        damage in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
        noise in proptest::collection::vec(any::<u8>(), 0..200),
        mode in 0u8..4,
    ) {
        let bytes = compile(&text, options)?.encode_json(&value)
            .map_err(|e| TestCaseError::fail(format!("encode: {e}\n{text}")))?;
        let bytes = spoil(bytes, mode, &damage, cut, noise);
        for lenient in [false, true] {
            let codec = compile(&text, CodecOptions { lenient, ..options })?;
            let mut walked = String::from("[");
            let by_walk = codec.plan().decode(&bytes, &mut JsonWriter::new(&mut walked), &mut Scratch::default());
            let mut flat = String::from("[");
            let by_flat = codec.decode_json_text(&bytes, &mut flat, &mut Scratch::default());
            prop_assert_eq!(&by_flat, &by_walk, "result, lenient {}\n{}", lenient, text);
            prop_assert_eq!(&flat, &walked, "text, lenient {}\n{}", lenient, text);
        }
    }
}

/// A record as a mode says: 0 bytes overwritten (noise if it is empty), 1 cut short or run on
/// with noise, 2 noise alone, 3 and above as it was.
fn spoil(
    mut bytes: Vec<u8>,
    mode: u8,
    damage: &[(prop::sample::Index, u8)],
    cut: prop::sample::Index,
    noise: Vec<u8>,
) -> Vec<u8> {
    match mode {
        0 if !bytes.is_empty() => {
            for (at, b) in damage {
                let i = at.index(bytes.len());
                bytes[i] = *b;
            }
        }
        1 => {
            bytes.extend_from_slice(&noise);
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        0..=2 => bytes = noise,
        _ => {}
    }
    bytes
}

/// `value` with its `at`-th member or element (pre-order, the root excluded) removed from its
/// object (`with` = None) or replaced by `with`.
fn damage(value: &mut Value, at: &mut usize, with: &Option<Value>) -> bool {
    match value {
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                if *at == 0 {
                    match with {
                        None => map.shift_remove(&k),
                        Some(w) => map.insert(k, w.clone()),
                    };
                    return true;
                }
                *at -= 1;
                if damage(map.get_mut(&k).expect("key"), at, with) {
                    return true;
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                if *at == 0 {
                    *item = with.clone().unwrap_or(Value::Null);
                    return true;
                }
                *at -= 1;
                if damage(item, at, with) {
                    return true;
                }
            }
        }
        _ => {}
    }
    false
}

proptest! {
    #![proptest_config(config())]

    /// The gateway encodes a service's reply from its text without building a tree: that path
    /// must write what the tree path writes, byte for byte, or fail with the same error.
    #[test]
    fn encoding_from_text_is_encoding_from_the_tree(
        (_layout, text, options, mut value, _left_out) in case(),
        at in 0usize..40,
        with in prop_oneof![
            Just(None), Just(Some(Value::Null)), Just(Some(Value::Bool(true))), Just(Some(Value::from("x"))),
            Just(Some(number("12.5"))), Just(Some(serde_json::json!({}))), Just(Some(serde_json::json!([]))),
            Just(Some(serde_json::json!([1, {"A": "b"}]))),
        ],
        damaged in any::<bool>(),
        fill_missing in any::<bool>(),
    ) {
        let codec = compile(&text, CodecOptions { fill_missing, ..options })?;
        if damaged {
            damage(&mut value, &mut { at }, &with);
        }
        let json = value.to_string();
        let doc = Doc::parse(json.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut from_doc = Vec::new();
        let got = codec.plan().encode_from(doc.root(), &mut from_doc).map(|()| from_doc);
        let want = codec.encode_json(&value);
        prop_assert_eq!(got, want, "{}\n{}", text, json);
    }
}

/// The generator makes what it claims: its copybook text parses into the sizes the model
/// computes, ODO and REDEFINES included, for a fixed hand-written layout.
#[test]
fn the_model_and_the_parser_agree_on_a_known_layout() {
    let num = |int, frac, signed| Num { int, frac, signed };
    let leaf = |kind, occurs| Node { name: String::new(), filler: false, occurs, kind, seed: 0, value: None, id: 0 };
    let mut layout = Layout {
        head: vec![
            leaf(Kind::Text(3), None),
            leaf(Kind::Zoned(num(3, 2, true), Sign::TrailingSeparate), Some(2)),
            leaf(Kind::Group(vec![leaf(Kind::Packed(num(7, 2, true), "COMP-3"), None)]), Some(3)),
        ],
        redefine: Some(Redefine { extra: 2, view: vec![leaf(Kind::Binary(num(9, 0, false), "COMP-5"), None)] }),
        odo: Some(Odo {
            counter: 1,
            max: 3,
            element: vec![leaf(Kind::Text(2), None)],
            tail: vec![leaf(Kind::Zoned(num(2, 0, false), Sign::Default), None)],
        }),
    };
    name_all(&mut layout);
    let text = render(&layout);
    let book = parse_copybook(&text, "known.cpy", &NoCopy).unwrap_or_else(|e| panic!("{e}\n{text}"));
    // 3 + 2*6 + 3*5 + (4+2) + 2 + 3*2 + 2 = 46 bytes at the largest.
    assert_eq!(book.records[0].max_size(), 46, "{text}");
    assert_eq!(expected_len(&layout, 3), 46);
    assert_eq!(expected_len(&layout, 1), 42);
    let codec = Codec::new(&book.records[0], CodecOptions::for_codepage(CodePage::Cp037)).expect("compiles");
    let mut value = Map::new();
    value.insert("F1".into(), "ABC".into());
    value.insert("F2".into(), serde_json::json!([number("-1.5"), number("999.99")]));
    value.insert("F3".into(), serde_json::json!([{"F4": 1}, {"F4": number("-0.01")}, {"F4": 1234567}]));
    value.insert("RD-VIEW".into(), serde_json::json!({"F5": 999_999_999u64}));
    value.insert("ODO-CNT".into(), 1.into());
    value.insert("ODO-TAB".into(), serde_json::json!([{"F6": "XY"}]));
    value.insert("F7".into(), 7.into());
    let value = Value::Object(value);
    let bytes = codec.encode_json(&value).expect("encodes");
    assert_eq!(bytes.len(), 42);
    let (decoded, _) = codec.decode_json(&bytes).expect("decodes");
    same(&value, &decoded, Some("RD-BASE"), "").expect("same values");
    assert_eq!(codec.encode_json(&decoded).expect("re-encodes"), bytes);
}

proptest! {
    #![proptest_config(config())]

    /// The contract `ficus openapi` / `ficus schema` generate holds the codec's own JSON: a random
    /// valid value (what a service may answer) validates against the record's encode schema,
    /// and what decode writes for its bytes (what a service receives) against the decode schema.
    #[test]
    fn the_generated_schema_holds_the_codecs_own_json((_layout, text, options, value, _left_out) in case()) {
        use ficus::contract::{record_schema, Direction, Options};
        let codec = compile(&text, options)?;
        let book = parse_copybook(&text, "generated.cpy", &NoCopy).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let record = Some(&book.records[0]);
        let bytes = codec.encode_json(&value).map_err(|e| TestCaseError::fail(format!("encode: {e}\n{text}")))?;
        let (decoded, _) = codec.decode_json(&bytes).map_err(|e| TestCaseError::fail(format!("decode: {e}\n{text}")))?;
        for (direction, json) in [(Direction::Encoded, &value), (Direction::Decoded, &decoded)] {
            let schema = record_schema(codec.plan(), record, direction, Options::default());
            let validator = jsonschema::draft202012::new(&schema).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let errors: Vec<String> =
                validator.iter_errors(json).map(|e| format!("{e} at {}", e.instance_path())).collect();
            prop_assert!(errors.is_empty(), "{:?}: {}\n{}\n{}\nschema {}", direction, errors.join("; "), text, json, schema);
        }
    }
}
