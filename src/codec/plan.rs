//! Compiles a [`Record`] once into a flat plan: a list of [`Op`]s with offsets relative to the
//! enclosing table element (or the record), and skip lengths instead of child pointers.
//!
//! Decode and encode walk this list; they never look at the copybook again. The plan knows
//! nothing about JSON or I/O.

pub use super::ops::{Alt, Leaf, LeafKind, Op, Piece};
use super::value::initial_bytes;
use crate::copybook::{Category, Item, ItemKind, Record};

/// Most digits of a packed-decimal field (16 bytes), as IBM allows.
pub const MAX_PACKED_DIGITS: u32 = 31;

/// Most `DEPENDING ON` counters one record may use.
pub const MAX_COUNTERS: usize = 64;

/// A record compiled for one set of options.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The ops, top level first.
    pub ops: Vec<Op>,
    /// The record's name.
    pub record: String,
    /// Size of the largest form of the record.
    pub max_size: usize,
    /// Number of counter slots in use.
    pub counters: usize,
    /// Each counter slot's field, by its path from the record (`HDR.ROW-CNT`), for messages.
    pub counter_names: Vec<String>,
    /// For each counter slot, the JSON keys (from the record's object down) of the first table
    /// outside any other table that depends on it: with `fill_missing`, a counter the JSON
    /// leaves out takes that array's length.
    pub counter_tables: Vec<Option<Vec<Box<str>>>>,
    /// The options the plan was compiled with.
    pub options: CodecOptions,
}

/// Quotes and escapes `name` as a JSON object key followed by `:`.
fn json_key(name: &str) -> Box<str> {
    let mut s = serde_json::to_string(name).unwrap_or_else(|_| format!("\"{name}\""));
    s.push(':');
    s.into_boxed_str()
}

struct Compiler<'a> {
    options: CodecOptions,
    ops: Vec<Op>,
    counter_names: Vec<String>,
    record: &'a Record,
    next_set: u16,
    /// Unnamed tables shown so far (for their generated keys).
    unnamed_tables: usize,
    /// The JSON keys of each open object level.
    keys: keys::Keys,
    /// Names from the record down to the item being compiled (FILLER included).
    trail: Vec<String>,
}

impl Plan {
    /// Compiles `record` for `options`.
    pub fn compile(record: &Record, options: CodecOptions) -> Result<Plan, PlanError> {
        let mut c = Compiler {
            options,
            ops: Vec::new(),
            counter_names: Vec::new(),
            record,
            next_set: 0,
            unnamed_tables: 0,
            keys: keys::Keys::new(&record.name),
            trail: Vec::new(),
        };
        c.collect_counters(&record.root)?;
        let root = &record.root;
        match &root.kind {
            ItemKind::Group(children) => c.children(children, root.offset, "", false)?,
            ItemKind::Elementary(_) => c.item(root, 0, "", false, None)?,
        }
        let mut counter_tables = vec![None; c.counter_names.len()];
        find_counter_tables(&c.ops, &mut Vec::new(), &mut counter_tables);
        Ok(Plan {
            counter_tables,
            ops: c.ops,
            record: record.name.clone(),
            max_size: record.max_size(),
            counters: c.counter_names.len(),
            counter_names: c.counter_names,
            options,
        })
    }
}

impl Compiler<'_> {
    fn collect_counters(&mut self, item: &Item) -> Result<(), PlanError> {
        // Counters are known by their path from the record (`HDR.CNT`), which the copybook
        // resolved from a possibly qualified `DEPENDING ON CNT OF HDR`: two fields named CNT
        // are two different counters.
        if let Some(name) = item.occurs.as_ref().and_then(|o| o.depending_path.as_ref().or(o.depending_on.as_ref())) {
            if !self.counter_names.iter().any(|n| n == name) {
                if self.counter_names.len() >= MAX_COUNTERS {
                    return Err(PlanError::TooManyCounters);
                }
                let counter = crate::copybook::qualify::QualifiedName::parse(name)
                    .ok()
                    .and_then(|q| crate::copybook::qualify::resolve(&self.record.root, &q).ok());
                let numeric = counter.is_some_and(|found| match &found.item.kind {
                    ItemKind::Elementary(e) => {
                        matches!(e.picture.category, Category::Numeric { .. })
                    }
                    ItemKind::Group(_) => false,
                });
                if !numeric {
                    return Err(PlanError::BadCounter {
                        table: item.display_name().to_string(),
                        counter: name.clone(),
                    });
                }
                self.counter_names.push(name.clone());
            }
        }
        if let ItemKind::Group(children) = &item.kind {
            for child in children {
                self.collect_counters(child)?;
            }
        }
        Ok(())
    }

    fn counter_slot(&self, name: &str) -> Option<u8> {
        self.counter_names.iter().position(|n| n == name).map(|i| i as u8)
    }

    /// Compiles siblings; `base` is the absolute offset their offsets are made relative to.
    fn children(&mut self, children: &[Item], base: usize, path: &str, in_view: bool) -> Result<(), PlanError> {
        let mut i = 0;
        while i < children.len() {
            // A run of REDEFINES alternatives: the redefined item and the items redefining it.
            let mut j = i + 1;
            while j < children.len() && children[j].redefines.is_some() {
                j += 1;
            }
            if j - i > 1 {
                let set = self.next_set;
                self.next_set = self.next_set.wrapping_add(1);
                // A FILLER view without named subordinates has nothing to show and must not
                // overwrite the area on encode; one with them shows them (see `item`).
                let views: Vec<&Item> = children[i..j]
                    .iter()
                    .enumerate()
                    .filter(|(k, c)| *k == 0 || c.name.is_some() || c.has_named_subordinate())
                    .map(|(_, c)| c)
                    .collect();
                for (k, child) in views.iter().enumerate() {
                    let alt = Alt { set, last: k + 1 == views.len() };
                    self.item(child, base, path, true, Some(alt))?;
                }
            } else {
                self.item(&children[i], base, path, in_view, None)?;
            }
            i = j;
        }
        Ok(())
    }

    fn item(&mut self, item: &Item, base: usize, path: &str, in_view: bool, alt: Option<Alt>) -> Result<(), PlanError> {
        self.trail.push(item.display_name().to_string());
        let result = self.item_at(item, base, path, in_view, alt);
        self.trail.pop();
        result
    }

    /// The item being compiled as the copybook names it (`FILLER` included), for messages.
    fn trail_path(&self) -> String {
        self.trail.join(".")
    }

    fn item_at(
        &mut self,
        item: &Item,
        base: usize,
        path: &str,
        in_view: bool,
        alt: Option<Alt>,
    ) -> Result<(), PlanError> {
        let offset = (item.offset - base) as u32;
        if let Some(occurs) = &item.occurs {
            let counter =
                occurs.depending_path.as_deref().or(occurs.depending_on.as_deref()).and_then(|c| self.counter_slot(c));
            // An unnamed table holding named fields shows under a generated key (IBM: FILLER
            // only means the item itself cannot be referenced; its subordinates can).
            let key = match item.name.as_deref() {
                Some(n) => n.to_string(),
                None if item.has_named_subordinate() => {
                    self.unnamed_tables += 1;
                    unnamed_table_key(self.unnamed_tables)
                }
                None => match counter {
                    None => return self.filler(item, offset, item.size * occurs.max as usize),
                    Some(counter) => {
                        let mut bytes = vec![self.options.codepage.space(); item.size];
                        self.item_bytes(item, &mut bytes)?;
                        let (stride, min, max) = (item.size as u32, occurs.min, occurs.max);
                        let bytes = bytes.into_boxed_slice();
                        let path = join_path(path, "FILLER").into();
                        let mut pieces = Vec::new();
                        self.pieces(item, 0, &mut pieces);
                        let pieces = pieces.into_boxed_slice();
                        self.ops.push(Op::Skip { path, offset, stride, min, max, counter, bytes, pieces });
                        return Ok(());
                    }
                },
            };
            let item_path = join_path(path, &key);
            self.keys.claim(&key, &self.trail_path(), item.line)?;
            let at = self.ops.len();
            self.ops.push(Op::Leaf { leaf: placeholder_leaf(), alt: None });
            let elem_path = format!("{item_path}[]");
            let elements_are_objects = matches!(item.kind, ItemKind::Group(_));
            match &item.kind {
                ItemKind::Group(children) => {
                    self.keys.open();
                    self.children(children, item.offset, &elem_path, in_view)?;
                    self.keys.close();
                }
                ItemKind::Elementary(e) => {
                    let leaf = self.leaf(item, e, 0, &elem_path, in_view)?;
                    self.ops.push(Op::Leaf { leaf, alt: None });
                }
            }
            let body = (self.ops.len() - at - 1) as u32;
            self.ops[at] = Op::Array {
                name: key.as_str().into(),
                json_key: json_key(&key),
                offset,
                stride: item.size as u32,
                min: occurs.min,
                max: occurs.max,
                counter,
                elements_are_objects,
                body,
                alt,
            };
            return Ok(());
        }
        match (&item.kind, item.name.as_deref()) {
            (ItemKind::Group(children), Some(name)) => {
                let item_path = join_path(path, name);
                self.keys.claim(name, &self.trail_path(), item.line)?;
                let at = self.ops.len();
                self.ops.push(Op::Leaf { leaf: placeholder_leaf(), alt: None });
                self.keys.open();
                self.children(children, base, &item_path, in_view)?;
                self.keys.close();
                let body = (self.ops.len() - at - 1) as u32;
                self.ops[at] = Op::Group { name: name.into(), json_key: json_key(name), body, alt };
            }
            // A FILLER group: its named children belong to the parent object.
            (ItemKind::Group(children), None) if alt.is_none() => self.children(children, base, path, in_view)?,
            // A FILLER group redefining an area: the same, as one alternative of the set.
            (ItemKind::Group(children), None) => {
                let at = self.ops.len();
                self.ops.push(Op::Leaf { leaf: placeholder_leaf(), alt: None });
                self.children(children, base, path, in_view)?;
                let body = (self.ops.len() - at - 1) as u32;
                self.ops[at] = Op::Lifted { body, alt };
            }
            (ItemKind::Elementary(e), Some(name)) => {
                let item_path = join_path(path, name);
                self.keys.claim(name, &self.trail_path(), item.line)?;
                let leaf = self.leaf(item, e, offset, &item_path, in_view)?;
                self.ops.push(Op::Leaf { leaf, alt });
            }
            (ItemKind::Elementary(_), None) => self.filler(item, offset, item.size)?,
        }
        Ok(())
    }

    /// FILLER bytes for `item` (every occurrence of a table): its VALUE, else spaces.
    fn filler(&mut self, item: &Item, offset: u32, size: usize) -> Result<(), PlanError> {
        let mut bytes = vec![self.options.codepage.space(); size];
        let element = item.size.min(size);
        if element > 0 {
            self.item_bytes(item, &mut bytes[..element])?;
            let (first, rest) = bytes.split_at_mut(element);
            for chunk in rest.chunks_mut(element) {
                chunk.copy_from_slice(&first[..chunk.len()]);
            }
        }
        let mut pieces = Vec::new();
        for k in 0..size.checked_div(item.size).unwrap_or(0) {
            self.pieces(item, (k * item.size) as u32, &mut pieces);
        }
        self.ops.push(Op::Fill { offset, bytes: bytes.into_boxed_slice(), pieces: pieces.into_boxed_slice() });
        Ok(())
    }

    /// One occurrence of `item` as its VALUE clauses make it (spaces where there is none), into
    /// `dst` (`item.size` bytes). Every occurrence of a nested table gets the VALUE (IBM:
    /// "each occurrence is initialized"); of a REDEFINES area, the first description counts.
    fn item_bytes(&self, item: &Item, dst: &mut [u8]) -> Result<(), PlanError> {
        match &item.kind {
            ItemKind::Elementary(e) => {
                let name = item.display_name();
                let kind = self.leaf_kind(name, e, item.size).unwrap_or(LeafKind::Text { justified: false });
                match &e.value {
                    Some(value) => initial_bytes(kind, Some(value), self.options, dst)
                        .map_err(|reason| PlanError::Unsupported { field: name.to_string(), reason }),
                    None => {
                        dst.fill(self.options.codepage.space());
                        Ok(())
                    }
                }
            }
            ItemKind::Group(children) => {
                for child in children.iter().filter(|c| c.redefines.is_none()) {
                    let at = child.offset.saturating_sub(item.offset);
                    let count = child.occurs.as_ref().map_or(1, |o| o.max as usize);
                    for k in 0..count {
                        let start = at + k * child.size;
                        if let Some(slot) = dst.get_mut(start..start + child.size) {
                            self.item_bytes(child, slot)?;
                        }
                    }
                }
                Ok(())
            }
        }
    }
}

/// Records in `out` the JSON keys of the first table (not inside another) each counter slot
/// serves; `keys` is the object path of `ops`.
fn find_counter_tables(ops: &[Op], keys: &mut Vec<Box<str>>, out: &mut [Option<Vec<Box<str>>>]) {
    let mut i = 0;
    while i < ops.len() {
        let next = i + 1 + super::decode::body_len(&ops[i]);
        match &ops[i] {
            Op::Group { name, .. } => {
                keys.push(name.clone());
                find_counter_tables(&ops[i + 1..next], keys, out);
                keys.pop();
            }
            Op::Lifted { .. } => find_counter_tables(&ops[i + 1..next], keys, out),
            Op::Array { name, counter: Some(slot), .. } => {
                if let Some(entry @ None) = out.get_mut(*slot as usize) {
                    let mut path = keys.clone();
                    path.push(name.clone());
                    *entry = Some(path);
                }
            }
            _ => {}
        }
        i = next;
    }
}

/// The path `name` has under `path` (`.`-joined; `path` empty at the record's top).
fn join_path(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

pub use crate::copybook::unnamed_table_key;

fn placeholder_leaf() -> Leaf {
    Leaf {
        name: "".into(),
        json_key: "".into(),
        path: "".into(),
        offset: 0,
        len: 0,
        kind: LeafKind::Text { justified: false },
        in_view: false,
        counter_slot: None,
        fill: Box::default(),
    }
}

impl Plan {
    /// A field outside any table (so at a fixed offset), found by a reference that may be
    /// qualified (see [`Plan::lookup`]); `None` when it is missing or ambiguous.
    pub fn field(&self, name: &str) -> Option<&Leaf> {
        self.lookup(name).ok()
    }
}

mod error;
mod keys;
mod leaf;
mod options;

pub use error::PlanError;
pub use options::CodecOptions;
#[cfg(test)]
mod tests;
