//! Entries → records: nesting by level number, then offsets and sizes.
//!
//! Nesting follows the standard rule (a level number closes every open item at that level or
//! deeper). Sizes follow IBM Enterprise COBOL: binary 2/4/8 bytes, packed `digits/2 + 1`,
//! SYNC aligns binary, COMP-1/COMP-2, INDEX and POINTER items from the record start.
//! Every count and size is checked against a `MAX_*` limit.

mod elementary;
mod picture;
mod tree;

use super::parse::{Clause, Entry};
use super::{Copybook, CopybookError, Item, ItemKind, Occurs, Record, Renames, SignClause, Usage};

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
        let root = layout(root, 0, Inherited::default(), &mut ctx)?;
        check_depending(&root, &ctx)?;
        let renames = renames.into_iter().map(|e| resolve_renames(&root, e)).collect::<Result<Vec<_>, _>>()?;
        records.push(Record { name: root.display_name().to_string(), root, renames });
    }
    Ok(Copybook { records })
}

/// What a group passes down to its children.
#[derive(Clone, Copy, Default)]
struct Inherited {
    usage: Option<Usage>,
    sign: Option<SignClause>,
}

/// Per-record bookkeeping: the DEPENDING ON names to check once the record is complete.
#[derive(Default)]
struct Ctx {
    depending: Vec<(String, u32, String)>,
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
                let min = min.unwrap_or(*max);
                if *max > MAX_OCCURS {
                    return Err(err(entry, format!("OCCURS {max} is more than the limit of {MAX_OCCURS}")));
                }
                if min > *max {
                    return Err(err(entry, format!("OCCURS {min} TO {max}: the minimum is larger than the maximum")));
                }
                if *max == 0 {
                    return Err(err(entry, "OCCURS needs a maximum of at least 1"));
                }
                occurs = Some(Occurs {
                    min,
                    max: *max,
                    depending_on: depending_on.clone(),
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
    if let Some(d) = occurs.as_ref().and_then(|o| o.depending_on.clone()) {
        ctx.depending.push((d, entry.pos.line, entry.file.clone()));
    }
    let redefines =
        entry.clauses.iter().find_map(|c| if let Clause::Redefines(n) = c { Some(n.clone()) } else { None });
    let sync = entry.clauses.iter().any(|c| matches!(c, Clause::Sync));
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
        let inherited = elementary::inherit(&entry, inherited);
        let (items, size) = layout_children(&entry, children, offset, inherited, ctx)?;
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
        sync,
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
        let redefines =
            child.entry.clauses.iter().find_map(|c| if let Clause::Redefines(n) = c { Some(n.clone()) } else { None });
        let at = match &redefines {
            Some(target) => {
                let Some(base) = items.iter_mut().rev().find(|i| i.name.as_deref() == Some(target.as_str())) else {
                    return Err(err(
                        &child.entry,
                        format!(
                            "REDEFINES names {target}, which is not an earlier item under {}",
                            parent.name.as_deref().unwrap_or("FILLER")
                        ),
                    ));
                };
                base.redefined = true;
                base.offset
            }
            None => cursor,
        };
        let entry = child.entry.clone();
        let mut item = layout(child, at, inherited, ctx)?;
        if item.sync && redefines.is_none() {
            if let ItemKind::Elementary(el) = &item.kind {
                let align = elementary::alignment(el.usage, item.size);
                let aligned = add(&entry, at, (align - at % align) % align)?;
                // Elementary: nothing below it to move.
                item.offset = aligned;
            }
        }
        let end =
            add(&entry, item.offset, mul(&entry, item.size, item.occurs.as_ref().map_or(1, |o| o.max as usize))?)?;
        cursor = cursor.max(end);
        items.push(item);
    }
    Ok((items, cursor - start))
}

fn check_depending(root: &Item, ctx: &Ctx) -> Result<(), CopybookError> {
    for (name, line, file) in &ctx.depending {
        if find(root, name).is_none() {
            let record = root.display_name();
            return Err(CopybookError {
                file: file.clone(),
                line: *line,
                column: 1,
                message: format!("OCCURS DEPENDING ON names {name}, which is not in record {record}"),
            });
        }
    }
    Ok(())
}

/// The first item named `name` in `item` (itself included), depth first.
fn find<'a>(item: &'a Item, name: &str) -> Option<&'a Item> {
    if item.name.as_deref() == Some(name) {
        return Some(item);
    }
    match &item.kind {
        ItemKind::Group(children) => children.iter().find_map(|c| find(c, name)),
        ItemKind::Elementary(_) => None,
    }
}

fn resolve_renames(root: &Item, entry: Entry) -> Result<Renames, CopybookError> {
    let Some((from, thru)) =
        entry.clauses.iter().find_map(
            |c| {
                if let Clause::Renames(a, b) = c {
                    Some((a.clone(), b.clone()))
                } else {
                    None
                }
            },
        )
    else {
        return Err(err(&entry, "expected RENAMES on a level-66 entry"));
    };
    let name = entry.name.clone().ok_or_else(|| err(&entry, "a level-66 entry needs a name"))?;
    let extent = |n: &str| -> Result<(usize, usize), CopybookError> {
        let item = find(root, n)
            .ok_or_else(|| err(&entry, format!("RENAMES names {n}, which is not in record {}", root.display_name())))?;
        Ok((item.offset, item.offset + item.size * item.occurs.as_ref().map_or(1, |o| o.max as usize)))
    };
    let (start, mut end) = extent(&from)?;
    if let Some(t) = &thru {
        let (t_start, t_end) = extent(t)?;
        if t_end < start || t_start < start {
            return Err(err(&entry, format!("RENAMES {from} THRU {t}: {t} comes before {from}")));
        }
        end = end.max(t_end);
    }
    Ok(Renames { name, from, thru, offset: start, size: end - start })
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod no_panic;
