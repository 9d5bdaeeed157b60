//! SYNCHRONIZED items and the slack bytes IBM inserts for them.
//!
//! The rules are IBM Enterprise COBOL's (Language Reference, SYNCHRONIZED clause, "Slack bytes
//! within records" and the OCCURS paragraph after it):
//!
//! - A synchronized item sits at a multiple of `m` from the start of the record: `m` = 2 for a
//!   binary item of 1–4 digits, 4 for one of 5–18 digits (8-byte binary included), for COMP-1,
//!   INDEX and POINTER, 8 for COMP-2. COMP-5 is binary. SYNC on DISPLAY, packed, national and
//!   DBCS items has no effect. SYNC on a group synchronizes every elementary item in it.
//! - Slack bytes before a synchronized item follow the elementary item that precedes it, at
//!   that item's level, and count in the size of the group that holds them: before a group
//!   whose first elementary item is synchronized, they go in front of the group, not into it.
//! - A table of groups holding synchronized items gets `m - r` slack bytes at the end of every
//!   occurrence, where `r` is the group's size (its own slack included) modulo the largest `m`
//!   in it, so every occurrence is aligned like the first.
//! - A REDEFINES item gets no slack: the item it redefines must already sit on the boundary its
//!   first synchronized elementary item needs, or the copybook is refused.
//!
//! GnuCOBOL 3.1 (any `-std`) differs: it aligns 8-byte binary items on 8, and it puts slack that
//! precedes a group's first synchronized item inside that group (so a table whose first item
//! is synchronized is shorter than IBM's). ficus follows IBM.

use super::tree::Node;
use super::{elementary, Inherited};
use crate::copybook::parse::Clause;
use crate::copybook::{CopybookError, Item, ItemKind, Usage};

/// The boundary `m` a synchronized elementary item of `usage` and `size` bytes needs (1: none).
pub fn boundary(usage: Usage, size: usize) -> usize {
    match usage {
        Usage::Binary | Usage::NativeBinary if size == 2 => 2,
        Usage::Binary | Usage::NativeBinary | Usage::Float | Usage::Index | Usage::Pointer => 4,
        Usage::Double => 8,
        _ => 1,
    }
}

/// The boundary the first elementary item under `node` (itself, if elementary) needs, or 1 when
/// that item is not synchronized. Slack for it goes in front of `node`.
pub fn lead_boundary(node: &Node, inherited: Inherited) -> Result<usize, CopybookError> {
    let sync = inherited.sync || node.entry.clauses.iter().any(|c| matches!(c, Clause::Sync));
    match node.children.first() {
        None if !sync => Ok(1),
        None => {
            let (el, size) = elementary::resolve(&node.entry, inherited)?;
            Ok(boundary(el.usage, size))
        }
        Some(first) => {
            let inherited = Inherited { sync, ..elementary::inherit(&node.entry, inherited) };
            lead_boundary(first, inherited)
        }
    }
}

/// The largest boundary of any synchronized elementary item in `items` (nested tables and
/// groups included), 1 if there is none.
pub fn largest_boundary(items: &[Item]) -> usize {
    items
        .iter()
        .map(|i| match &i.kind {
            ItemKind::Group(children) => largest_boundary(children),
            ItemKind::Elementary(el) if i.sync => boundary(el.usage, i.size),
            ItemKind::Elementary(_) => 1,
        })
        .max()
        .unwrap_or(1)
}

/// Gives `pad` slack bytes to the end of `prev`, the sibling before a synchronized item, when
/// the elementary item that precedes the synchronized one is inside it: they go after that
/// elementary item, at its level, and every group on the way grows. Returns false when `prev`
/// cannot take them (an elementary item, a table, or part of a REDEFINES): the slack then
/// stands before the synchronized item, at its level.
pub fn absorb(prev: &mut Item, pad: usize) -> bool {
    if prev.occurs.is_some() || prev.redefines.is_some() || prev.redefined {
        return false;
    }
    let ItemKind::Group(children) = &mut prev.kind else { return false };
    if !children.last_mut().is_some_and(|last| absorb(last, pad)) {
        prev.slack_after += pad;
    }
    prev.size += pad;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_follow_ibm() {
        assert_eq!(boundary(Usage::Binary, 2), 2);
        assert_eq!(boundary(Usage::Binary, 4), 4);
        assert_eq!(boundary(Usage::Binary, 8), 4, "IBM: m = 4 for binary items of five digits or more");
        assert_eq!(boundary(Usage::NativeBinary, 2), 2);
        assert_eq!(boundary(Usage::Float, 4), 4);
        assert_eq!(boundary(Usage::Double, 8), 8);
        assert_eq!(boundary(Usage::Index, 4), 4);
        assert_eq!(boundary(Usage::Pointer, 4), 4);
        assert_eq!(boundary(Usage::Packed, 4), 1);
        assert_eq!(boundary(Usage::Display, 4), 1);
    }
}
