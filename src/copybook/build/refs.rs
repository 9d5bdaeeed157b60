//! Data-name references inside a copybook: REDEFINES (the entry just before, unqualified, as
//! IBM requires), OCCURS DEPENDING ON and RENAMES (qualified with `OF`/`IN` where a name is
//! not unique). An ambiguous name is an error naming every candidate, never the first match.

use super::{err, Ctx};
use crate::copybook::parse::{Clause, Entry};
use crate::copybook::qualify::{resolve, Found, QualifiedName};
use crate::copybook::{Category, CopybookError, Item, ItemKind, Renames};

/// The offset of the item a REDEFINES names among the `items` laid out before it under
/// `parent`, marking it redefined. IBM: the redefinition immediately follows the entry it
/// redefines (or other redefinitions of it) at the same level, and names that entry without
/// qualification.
pub fn redefined(
    parent: &Entry,
    items: &mut [Item],
    target: &QualifiedName,
    entry: &Entry,
) -> Result<usize, CopybookError> {
    let me = entry.name.as_deref().unwrap_or("FILLER");
    if !target.qualifiers.is_empty() {
        return Err(err(
            entry,
            format!(
                "{me} REDEFINES {target}: a REDEFINES object cannot be qualified (it is always the entry just \
                 before, at the same level); write REDEFINES {}",
                target.name
            ),
        ));
    }
    let Some(at) = items.iter().rposition(|i| i.redefines.is_none()) else {
        return Err(err(entry, format!("{me} REDEFINES {}, but no item comes before it at its level", target.name)));
    };
    // A chain (`C REDEFINES B` where `B REDEFINES A`) names the same storage as `A`: IBM asks
    // for the original's name, but GnuCOBOL and copybooks in the field use chains, and the area
    // is unambiguous, so it is read as a redefinition of `A`.
    let (base, redefinitions) = items[at..].split_first_mut().expect("position found above");
    let names_the_set = base.name.as_deref() == Some(target.name.as_str())
        || redefinitions.iter().any(|r| r.name.as_deref() == Some(target.name.as_str()));
    if !names_the_set {
        let parent = parent.name.as_deref().unwrap_or("FILLER");
        let just_before = base.display_name().to_string();
        return Err(err(
            entry,
            format!(
                "{me} REDEFINES {}, but the item it can redefine is {just_before}, the one just before it under \
                 {parent} (a REDEFINES must follow the entry it redefines)",
                target.name
            ),
        ));
    }
    base.redefined = true;
    Ok(base.offset)
}

fn resolve_in<'a>(root: &'a Item, what: &str, r: &QualifiedName, entry: &Entry) -> Result<Found<'a>, CopybookError> {
    resolve(root, r).map_err(|e| err(entry, format!("{what} {e}")))
}

/// Resolves every `DEPENDING ON` reference (in layout order, which is preorder) and records
/// the counter's path on its table. IBM Language Reference, OCCURS DEPENDING ON: the counter
/// "must describe an integer" and "cannot occupy any storage position within the range of the
/// table" — so not the table itself, nothing inside it, and no text or floating-point item.
pub fn resolve_depending(root: &mut Item, ctx: &Ctx) -> Result<(), CopybookError> {
    let mut tables = Vec::with_capacity(ctx.depending.len());
    table_extents(root, &mut tables);
    let mut paths = Vec::with_capacity(ctx.depending.len());
    for ((reference, entry), (start, end)) in ctx.depending.iter().zip(tables) {
        let found = resolve_in(root, "OCCURS DEPENDING ON", reference, entry)?;
        let fail = |why: String| Err(err(entry, format!("OCCURS DEPENDING ON {reference}: {} {why}", found.path)));
        match &found.item.kind {
            ItemKind::Group(_) => return fail("is a group, not a counter".into()),
            ItemKind::Elementary(e) => match e.picture.category {
                Category::Numeric { scale: 0, .. } => {}
                Category::Numeric { .. } => {
                    return fail(format!("is PIC {}: the counter must be an integer (IBM)", e.picture.source))
                }
                _ => {
                    return fail(format!(
                        "is {}: the counter must be an integer numeric item (IBM)",
                        if e.picture.category == Category::None {
                            e.usage.to_string()
                        } else {
                            format!("PIC {}", e.picture.source)
                        }
                    ))
                }
            },
        }
        if (start..end).contains(&found.item.offset) {
            return fail(format!(
                "lies inside the table it counts (bytes {start} to {}); IBM: the counter cannot occupy storage \
                 within the range of the table",
                end - 1
            ));
        }
        paths.push(found.path);
    }
    let mut paths = paths.into_iter();
    set_paths(root, &mut paths);
    Ok(())
}

/// The byte range of every table with DEPENDING ON, in preorder (the order of `Ctx::depending`).
fn table_extents(item: &Item, out: &mut Vec<(usize, usize)>) {
    if let Some(o) = item.occurs.as_ref().filter(|o| o.depending_on.is_some()) {
        out.push((item.offset, item.offset + item.size * o.max as usize));
    }
    if let ItemKind::Group(children) = &item.kind {
        children.iter().for_each(|c| table_extents(c, out));
    }
}

fn set_paths(item: &mut Item, paths: &mut impl Iterator<Item = String>) {
    if let Some(o) = item.occurs.as_mut().filter(|o| o.depending_on.is_some()) {
        o.depending_path = paths.next();
    }
    if let ItemKind::Group(children) = &mut item.kind {
        children.iter_mut().for_each(|c| set_paths(c, paths));
    }
}

/// Lays out a level-66 entry: the bytes from its first item to the end of its `THRU` item.
pub fn resolve_renames(root: &Item, entry: Entry) -> Result<Renames, CopybookError> {
    let Some((from, thru)) = entry.clauses.iter().find_map(|c| match c {
        Clause::Renames(a, b) => Some((a.clone(), b.clone())),
        _ => None,
    }) else {
        return Err(err(&entry, "expected RENAMES on a level-66 entry"));
    };
    let name = entry.name.clone().ok_or_else(|| err(&entry, "a level-66 entry needs a name"))?;
    let extent = |r: &QualifiedName| -> Result<(usize, usize), CopybookError> {
        let found = resolve_in(root, "RENAMES", r, &entry)?;
        if found.in_table {
            return Err(err(
                &entry,
                format!("RENAMES {r}: {} is a table or inside one, which RENAMES cannot name", found.path),
            ));
        }
        Ok((found.item.offset, found.item.offset + found.item.size))
    };
    let (start, mut end) = extent(&from)?;
    if let Some(t) = &thru {
        let (t_start, t_end) = extent(t)?;
        if t_end < start || t_start < start {
            return Err(err(&entry, format!("RENAMES {from} THRU {t}: {t} comes before {from}")));
        }
        end = end.max(t_end);
    }
    Ok(Renames { name, from: from.to_string(), thru: thru.map(|t| t.to_string()), offset: start, size: end - start })
}
