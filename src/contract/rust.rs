//! Rust types (serde structs) of a record, walked from its compiled plan: the model of a
//! scaffolded service (`ficus scaffold`). The same walk as [`super::schema`], so every key,
//! nesting and FILLER rule is the codec's own.
//!
//! # Rules (picture → Rust type)
//!
//! - `PIC X`, `A`, numeric-edited, `N`, `G`: `String` (ficus writes text without trailing
//!   spaces).
//! - A number with decimal places (`V`, scale > 0): `Decimal` (`rust_decimal`, exact, read and
//!   written as a JSON number with all its digits) up to 28 digits; more: `Wide` (the JSON
//!   number's text, kept exact).
//! - An integer (no `V`; a `P` scaling adds its zeros to the digits): `i64` (signed) or `u64`
//!   when the digits fit (18 / 19), else `Decimal` up to 28 digits, else `Wide`. BINARY, COMP,
//!   COMP-4, COMP-5 are sized by their storage (a decoded halfword may hold 65535 whatever the
//!   picture): `i64` / `u64`.
//! - COMP-1 / COMP-2: `f64`.
//! - Group: a nested struct; `OCCURS` (DEPENDING ON too): `Vec`; FILLER: no field (a FILLER
//!   group's named fields belong to the enclosing struct).
//! - A REDEFINES view, and a field inside one (its bytes may not fit its picture, ficus then
//!   sends `null`): `Option`, left out of the JSON when `None` (ficus encodes the first view
//!   present).
//! - Every field is `#[serde(rename = "COBOL-NAME")]`; its Rust name is the snake case of the
//!   COBOL name (`ACCT-NO` → `acct_no`), `r#` before a keyword, `f_` before a leading digit.

use super::annotate::Annotations;
use crate::codec::plan::{Leaf, LeafKind, Op, Plan};
use crate::codec::zoned::SignPosition;
use crate::copybook::{ItemKind, Record};
use std::collections::BTreeSet;
use std::fmt::Write;

/// Type names a generated struct never takes (they are the model's own or the prelude's).
const TAKEN: [&str; 12] = [
    "String",
    "Vec",
    "Option",
    "Decimal",
    "Wide",
    "Request",
    "Response",
    "Header",
    "HeaderChanges",
    "Result",
    "Box",
    "Self",
];

/// Rust keywords (2021 edition, reserved ones included).
const KEYWORDS: [&str; 52] = [
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for", "if", "impl", "in",
    "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super",
    "trait", "true", "type", "unsafe", "use", "where", "while", "async", "await", "dyn", "abstract", "become", "box",
    "do", "final", "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// Whether `c` may stand in a generated identifier: an ASCII letter or digit, or a letter of
/// another script (IBM COBOL allows DBCS names such as `계좌-번호`; Rust takes them as they are).
fn word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || (!c.is_ascii() && c.is_alphabetic())
}

/// The snake-case Rust identifier of a COBOL name: `ACCT-NO` → `acct_no`, `TYPE` → `r#type`,
/// `1ST-LINE` → `f_1st_line`, `A--B` → `a_b`, `계좌-번호` → `계좌_번호`, `시` → `시` (never `_`
/// or `__`: every other character becomes one `_` between words).
pub fn field_ident(name: &str) -> String {
    let mut s = String::with_capacity(name.len());
    for word in name.split(|c: char| !word_char(c)).filter(|w| !w.is_empty()) {
        if !s.is_empty() {
            s.push('_');
        }
        s.extend(word.chars().map(|c| c.to_ascii_lowercase()));
    }
    if !s.starts_with(|c: char| c.is_alphabetic()) {
        s.insert_str(0, "f_");
    }
    match s.as_str() {
        "self" | "super" | "crate" => format!("{s}_"),
        k if KEYWORDS.contains(&k) => format!("r#{s}"),
        _ => s,
    }
}

/// The CamelCase Rust type name of a COBOL name: `TXN-ROW` → `TxnRow`, `9-TABLE` → `T9Table`,
/// `주소` → `T주소`.
pub fn type_name(name: &str) -> String {
    let mut out = String::new();
    for part in name.split(|c: char| !word_char(c)).filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars.map(|c| c.to_ascii_lowercase()));
        }
    }
    if !out.starts_with(|c: char| c.is_ascii_uppercase()) {
        out.insert(0, 'T');
    }
    out
}

/// The Rust type of a number of `digits` at `scale`, signed or not.
fn number(digits: u32, scale: i32, signed: bool) -> &'static str {
    if scale > 0 {
        return if digits <= 28 { "Decimal" } else { "Wide" };
    }
    let whole = digits + scale.unsigned_abs();
    match (signed, whole) {
        (true, 0..=18) => "i64",
        (false, 0..=19) => "u64",
        (_, 0..=28) => "Decimal",
        _ => "Wide",
    }
}

/// The Rust type of one elementary field (without the `Option` a view adds).
pub fn leaf_type(leaf: &Leaf) -> &'static str {
    match leaf.kind {
        LeafKind::Text { .. } | LeafKind::National | LeafKind::Dbcs => "String",
        LeafKind::Float(_) => "f64",
        LeafKind::Zoned { scale, digits, sign, .. } => number(digits, scale, sign != SignPosition::None),
        LeafKind::Packed { scale, digits, signed } => number(digits, scale, signed),
        // Sized by the storage: 2, 4 or 8 bytes hold at most 20 digits.
        LeafKind::Binary { scale, signed, .. } if scale > 0 => number(20, scale, signed),
        LeafKind::Binary { signed, .. } => {
            if signed {
                "i64"
            } else {
                "u64"
            }
        }
    }
}

/// One field of a struct being built.
struct Field {
    key: String,
    ty: String,
    optional: bool,
    doc: String,
}

/// Emits the structs of one module (one operation's records, or the header).
pub struct Module<'a> {
    out: String,
    names: BTreeSet<String>,
    notes: Annotations<'a>,
    counters: Vec<String>,
    /// True once a field is `Wide`.
    pub uses_wide: bool,
}

impl Default for Module<'_> {
    fn default() -> Self {
        Module::new()
    }
}

impl<'a> Module<'a> {
    /// An empty module.
    pub fn new() -> Module<'a> {
        let names = TAKEN.iter().map(|s| s.to_string()).collect();
        Module { out: String::new(), names, notes: Annotations::default(), counters: Vec::new(), uses_wide: false }
    }

    /// The code emitted so far.
    pub fn code(&self) -> &str {
        &self.out
    }

    /// Emits `plan`'s record as the struct `root` (`Request`, `Response`, `Header`) and its
    /// nested structs (fields documented from `record`: pictures and usages); with `changes`, also `root`Changes: every top-level field optional (the
    /// header fields a reply may set).
    pub fn record(&mut self, plan: &Plan, root: &str, record: Option<&'a Record>, changes: bool) {
        self.notes = record.map(Annotations::of).unwrap_or_default();
        self.counters = plan.counter_names.clone();
        let doc = format!("Record {} (generated from its copybook by `ficus scaffold`).", plan.record);
        if let [Op::Leaf { leaf, .. }] = plan.ops.as_slice() {
            if record.is_some_and(|r| matches!(r.root.kind, ItemKind::Elementary(_))) {
                let _ = writeln!(self.out, "/// {doc}\npub type {root} = {};\n", leaf_type(leaf));
                return;
            }
        }
        let mut fields = Vec::new();
        self.members(&plan.ops, false, &mut fields);
        self.emit(root, &doc, &fields, false);
        if changes {
            let doc = "Header fields to change in the reply (`None`: the request's value is kept).";
            self.emit(&format!("{root}Changes"), doc, &fields, true);
        }
    }

    fn unique(&mut self, name: &str) -> String {
        let base = type_name(name);
        let mut candidate = base.clone();
        let mut n = 2;
        while self.names.contains(&candidate) {
            candidate = format!("{base}{n}");
            n += 1;
        }
        self.names.insert(candidate.clone());
        candidate
    }

    fn members(&mut self, ops: &[Op], lifted: bool, fields: &mut Vec<Field>) {
        let mut i = 0;
        while i < ops.len() {
            let op = &ops[i];
            let next = i + 1 + crate::codec::decode::body_len(op);
            let body = &ops[i + 1..next];
            match op {
                Op::Leaf { leaf, alt } => {
                    let ty = self.leaf(leaf);
                    let optional = lifted || alt.is_some() || leaf.in_view;
                    fields.push(Field { key: leaf.name.to_string(), ty, optional, doc: self.doc(leaf) });
                }
                Op::Group { name, alt, .. } => {
                    let ty = self.group(name, body);
                    let optional = lifted || alt.is_some();
                    fields.push(Field { key: name.to_string(), ty, optional, doc: format!("Group {name}.") });
                }
                Op::Array { name, alt, min, max, counter, elements_are_objects, .. } => {
                    let element = match body.first() {
                        Some(Op::Leaf { leaf, .. }) if !elements_are_objects => {
                            let ty = self.leaf(leaf);
                            if leaf.in_view {
                                format!("Option<{ty}>")
                            } else {
                                ty
                            }
                        }
                        _ => self.group(name, body),
                    };
                    let times = match counter {
                        Some(slot) => {
                            let by = self.plan_counter(*slot);
                            format!("OCCURS {min} TO {max} DEPENDING ON {by}")
                        }
                        None => format!("OCCURS {max}"),
                    };
                    let optional = lifted || alt.is_some();
                    fields.push(Field {
                        key: name.to_string(),
                        ty: format!("Vec<{element}>"),
                        optional,
                        doc: format!("{name}: {times}."),
                    });
                }
                Op::Lifted { .. } => self.members(body, true, fields),
                Op::Fill { .. } | Op::Skip { .. } => {}
            }
            i = next;
        }
    }

    fn plan_counter(&self, slot: u8) -> String {
        self.counters.get(slot as usize).cloned().unwrap_or_else(|| "its counter".into())
    }

    fn leaf(&mut self, leaf: &Leaf) -> String {
        let ty = leaf_type(leaf);
        self.uses_wide |= ty == "Wide";
        ty.to_string()
    }

    fn group(&mut self, name: &str, body: &[Op]) -> String {
        let mut fields = Vec::new();
        self.members(body, false, &mut fields);
        let ty = self.unique(name);
        self.emit(&ty, &format!("Group {name}."), &fields, false);
        ty
    }

    fn doc(&self, leaf: &Leaf) -> String {
        let Some(item) = self.notes.item(&leaf.path) else { return format!("{}.", leaf.name) };
        match &item.kind {
            ItemKind::Elementary(e) if !e.picture.source.is_empty() => {
                format!("{}: PIC {} {} ({} bytes).", leaf.name, e.picture.source, e.usage, leaf.len)
            }
            ItemKind::Elementary(e) => format!("{}: {} ({} bytes).", leaf.name, e.usage, leaf.len),
            ItemKind::Group(_) => format!("{}.", leaf.name),
        }
    }

    fn emit(&mut self, ty: &str, doc: &str, fields: &[Field], all_optional: bool) {
        let mut s = String::new();
        let _ = writeln!(s, "/// {doc}");
        let _ = writeln!(s, "#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]");
        let _ = writeln!(s, "pub struct {ty} {{");
        let mut idents = BTreeSet::new();
        for f in fields {
            let base = field_ident(&f.key);
            let mut ident = base.clone();
            let mut n = 2;
            while !idents.insert(ident.clone()) {
                ident = format!("{}_{n}", base.trim_start_matches("r#"));
                n += 1;
            }
            let optional = f.optional || all_optional;
            let _ = writeln!(s, "    /// {}", f.doc);
            let key = serde_json::to_string(&f.key).unwrap_or_else(|_| format!("\"{}\"", f.key));
            if optional {
                let _ = writeln!(s, "    #[serde(rename = {key}, default, skip_serializing_if = \"Option::is_none\")]");
                let _ = writeln!(s, "    pub {ident}: Option<{}>,", f.ty);
            } else {
                let _ = writeln!(s, "    #[serde(rename = {key})]");
                let _ = writeln!(s, "    pub {ident}: {},", f.ty);
            }
        }
        s.push_str("}\n\n");
        self.out.push_str(&s);
    }
}
