//! Entries → records: nesting by level number, then offsets and sizes.
//!
//! Nesting follows the standard rule (a level number closes every open item at that level or
//! deeper). Sizes follow IBM Enterprise COBOL: binary 2/4/8 bytes, packed `digits/2 + 1`; SYNC
//! adds IBM's slack bytes (`sync`); REDEFINES, DEPENDING ON and RENAMES references are resolved
//! as IBM does, `OF`/`IN` honoured (`refs`). Every count and size is checked against a `MAX_*`
//! limit.

mod elementary;
mod picture;
mod refs;
mod sync;
mod tree;
mod value;

use super::parse::{Clause, Entry};
use super::qualify::QualifiedName;
use super::{Copybook, CopybookError, Item, ItemKind, Occurs, Record, SignClause, Usage};

pub use picture::{resolve_picture, MAX_PICTURE_LEN};
use tree::Node;

/// Largest `OCCURS` count.
pub const MAX_OCCURS: u32 = 100_000;
/// Largest record, in bytes.
pub const MAX_RECORD_BYTES: usize = 16 << 20;

/// The IBM storage size for a binary picture of `digits` digits: 1–4 → 2, 5–9 → 4, 10–18 → 8
/// (IBM Enterprise COBOL Language Reference, USAGE BINARY). The codec reads and writes it.
pub fn binary_size(digits: u32) -> usize {
    match digits {
        0..=4 => 2,
        5..=9 => 4,
        _ => 8,
    }
}

/// Nests `entries` into records and lays them out; `file` names an implicit record.
pub fn build(entries: Vec<Entry>, file: &str) -> Result<Copybook, CopybookError> {
    let stem = std::path::Path::new(file)
        .file_stem()
        .map_or_else(|| "RECORD".to_string(), |s| s.to_string_lossy().to_ascii_uppercase());
    let trees = tree::nest(entries, &stem)?;
    let mut records = Vec::with_capacity(trees.len());
    for (root, renames) in trees {
        let mut ctx = Ctx::default();
        let mut root = layout(root, 0, Inherited::default(), &mut ctx)?;
        refs::resolve_depending(&mut root, &ctx)?;
        let renames = renames.into_iter().map(|e| refs::resolve_renames(&root, e)).collect::<Result<Vec<_>, _>>()?;
        records.push(Record { name: root.display_name().to_string(), root, renames });
    }
    Ok(Copybook { records })
}

/// What a group passes down to its children.
#[derive(Clone, Copy, Default)]
struct Inherited {
    usage: Option<Usage>,
    sign: Option<SignClause>,
    /// SYNC on a group synchronizes every elementary item in it.
    sync: bool,
}

/// Per-record bookkeeping: the DEPENDING ON references to resolve once the record is complete
/// (the reference, and the table's entry for errors).
#[derive(Default)]
struct Ctx {
    depending: Vec<(QualifiedName, Entry)>,
}

fn err(entry: &Entry, message: impl Into<String>) -> CopybookError {
    CopybookError { file: entry.file.clone(), line: entry.pos.line, column: entry.pos.column, message: message.into() }
}

/// Adds `b` to `a`, failing past [`MAX_RECORD_BYTES`].
fn add(entry: &Entry, a: usize, b: usize) -> Result<usize, CopybookError> {
    a.checked_add(b)
        .filter(|&s| s <= MAX_RECORD_BYTES)
        .ok_or_else(|| err(entry, format!("record is larger than {MAX_RECORD_BYTES} bytes")))
}

/// Multiplies, failing past [`MAX_RECORD_BYTES`].
fn mul(entry: &Entry, a: usize, b: usize) -> Result<usize, CopybookError> {
    a.checked_mul(b)
        .filter(|&s| s <= MAX_RECORD_BYTES)
        .ok_or_else(|| err(entry, format!("record is larger than {MAX_RECORD_BYTES} bytes")))
}

fn occurs_of(entry: &Entry) -> Result<Option<Occurs>, CopybookError> {
    let mut occurs = None;
    let (mut indexed_by, mut keys) = (Vec::new(), Vec::new());
    for c in &entry.clauses {
        match c {
            Clause::Occurs { min, max, depending_on } => {
                // IBM Language Reference, OCCURS DEPENDING ON ("Variable-length tables"): "If
                // integer-1 is omitted, a value of 1 is assumed and the keyword TO must also be
                // omitted." A fixed table holds exactly its count.
                let min = match (min, depending_on) {
                    (Some(m), _) => *m,
                    (None, Some(_)) => 1,
                    (None, None) => *max,
                };
                if *max > MAX_OCCURS {
                    return Err(err(entry, format!("OCCURS {max} is more than the limit of {MAX_OCCURS}")));
                }
                if *max == 0 {
                    return Err(err(entry, "OCCURS needs a maximum of at least 1"));
                }
                if min > *max {
                    return Err(err(entry, format!("OCCURS {min} TO {max}: the minimum is larger than the maximum")));
                }
                occurs = Some(Occurs {
                    min,
                    max: *max,
                    depending_on: depending_on.as_ref().map(|d| d.name.clone()),
                    depending_path: None,
                    indexed_by: Vec::new(),
                    keys: Vec::new(),
                });
            }
            Clause::IndexedBy(n) => indexed_by.extend(n.iter().cloned()),
            Clause::Keys(n) => keys.extend(n.iter().cloned()),
            _ => {}
        }
    }
    Ok(occurs.map(|o| Occurs { indexed_by, keys, ..o }))
}

/// Lays out `node` starting at `offset` (from the record start).
fn layout(node: Node, offset: usize, inherited: Inherited, ctx: &mut Ctx) -> Result<Item, CopybookError> {
    let Node { entry, children, conditions } = node;
    let occurs = occurs_of(&entry)?;
    if let Some(d) = entry.clauses.iter().find_map(|c| match c {
        Clause::Occurs { depending_on: Some(d), .. } => Some(d.clone()),
        _ => None,
    }) {
        ctx.depending.push((d, entry.clone()));
    }
    let redefines = entry.clauses.iter().find_map(|c| match c {
        Clause::Redefines(n) => Some(n.name.clone()),
        _ => None,
    });
    let own_sync = entry.clauses.iter().any(|c| matches!(c, Clause::Sync));
    let mut slack_after = 0;
    let (kind, size) = if children.is_empty() {
        let (el, size) = elementary::resolve(&entry, inherited)?;
        (ItemKind::Elementary(el), size)
    } else {
        if entry.clauses.iter().any(|c| matches!(c, Clause::Picture(_))) {
            return Err(err(
                &entry,
                format!("group item {} has a PICTURE clause", entry.name.as_deref().unwrap_or("FILLER")),
            ));
        }
        let inherited = Inherited { sync: inherited.sync || own_sync, ..elementary::inherit(&entry, inherited) };
        let (items, mut size) = layout_children(&entry, children, offset, inherited, ctx)?;
        // Slack bytes between elements: pad each occurrence to a multiple of the largest
        // boundary in it, so that every occurrence is aligned like the first.
        if occurs.is_some() {
            let m = sync::largest_boundary(&items);
            slack_after = (m - size % m) % m;
            size = add(&entry, size, slack_after)?;
        }
        (ItemKind::Group(items), size)
    };
    let count = occurs.as_ref().map_or(1, |o| o.max as usize);
    add(&entry, offset, mul(&entry, size, count)?)?;
    Ok(Item {
        level: entry.level,
        name: entry.name.clone(),
        line: entry.pos.line,
        offset,
        size,
        occurs,
        redefines,
        redefined: false,
        sync: own_sync || inherited.sync && matches!(kind, ItemKind::Elementary(_)),
        slack_before: 0,
        slack_after,
        kind,
        conditions,
    })
}

/// Lays out a group's children from `start`; returns them and the group's size.
fn layout_children(
    parent: &Entry,
    children: Vec<Node>,
    start: usize,
    inherited: Inherited,
    ctx: &mut Ctx,
) -> Result<(Vec<Item>, usize), CopybookError> {
    let mut items: Vec<Item> = Vec::with_capacity(children.len());
    let mut cursor = start;
    for child in children {
        let m = sync::lead_boundary(&child, inherited)?;
        let redefines = child.entry.clauses.iter().find_map(|c| match c {
            Clause::Redefines(n) => Some(n.clone()),
            _ => None,
        });
        let (at, slack_before) = match &redefines {
            Some(target) => {
                let base = refs::redefined(parent, &mut items, target, &child.entry)?;
                if base % m != 0 {
                    return Err(err(
                        &child.entry,
                        format!(
                            "{} REDEFINES {target} at offset {base}, but its first synchronized item needs a \
                             multiple of {m}; IBM adds no slack bytes to a REDEFINES item (SYNCHRONIZED clause)",
                            child.entry.name.as_deref().unwrap_or("FILLER"),
                            target = target.name
                        ),
                    ));
                }
                (base, 0)
            }
            None => {
                let pad = (m - cursor % m) % m;
                let absorbed = pad > 0 && items.last_mut().is_some_and(|prev| sync::absorb(prev, pad));
                (add(&child.entry, cursor, pad)?, if absorbed { 0 } else { pad })
            }
        };
        let entry = child.entry.clone();
        let mut item = layout(child, at, inherited, ctx)?;
        item.slack_before = slack_before;
        let end =
            add(&entry, item.offset, mul(&entry, item.size, item.occurs.as_ref().map_or(1, |o| o.max as usize))?)?;
        cursor = cursor.max(end);
        items.push(item);
    }
    Ok((items, cursor - start))
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod no_panic;
