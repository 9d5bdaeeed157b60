//! Qualified data-name references: `ORD-DATE OF ORD-BODY` (COBOL) or `ORD-BODY.ORD-DATE` (the
//! dotted path form of routes.toml), resolved to exactly one item of a record.
//!
//! The rule is COBOL's (IBM Language Reference, "Qualification"): each qualifier names a group
//! the item is subordinate to, at any depth, innermost first; the record's own name may be the
//! last qualifier. A reference must match exactly one item: a name that matches two or more is
//! an error listing every candidate with its full path, never the first one found.

use crate::copybook::{Item, ItemKind};
use std::fmt;

/// A data-name with its qualifiers, innermost first: `A OF B IN C` is `A` with `[B, C]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QualifiedName {
    /// The name referred to, upper-cased.
    pub name: String,
    /// The groups it must be under, innermost first, upper-cased.
    pub qualifiers: Vec<String>,
}

impl QualifiedName {
    /// An unqualified reference to `name`.
    pub fn bare(name: &str) -> QualifiedName {
        QualifiedName { name: name.to_ascii_uppercase(), qualifiers: Vec::new() }
    }

    /// Reads a reference as written in routes.toml or on a command line: the dotted path form
    /// `GROUP.SUB.NAME` (outermost first) or the COBOL form `NAME OF SUB IN GROUP`.
    pub fn parse(text: &str) -> Result<QualifiedName, String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let bad = || format!("{text:?} is not a field name, a dotted path (GROUP.NAME) or NAME OF GROUP");
        let valid = |w: &str| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        let names: Vec<String> = match words.as_slice() {
            [] => return Err(bad()),
            [one] => {
                let mut parts: Vec<String> = one.split('.').map(str::to_ascii_uppercase).collect();
                parts.reverse();
                parts
            }
            [first, rest @ ..] => {
                if rest.len() % 2 != 0 {
                    return Err(bad());
                }
                let mut out = vec![first.to_ascii_uppercase()];
                for pair in rest.chunks(2) {
                    if !matches!(pair[0].to_ascii_uppercase().as_str(), "OF" | "IN") {
                        return Err(bad());
                    }
                    out.push(pair[1].to_ascii_uppercase());
                }
                out
            }
        };
        if !names.iter().all(|n| valid(n)) {
            return Err(bad());
        }
        let mut names = names.into_iter();
        let name = names.next().ok_or_else(bad)?;
        Ok(QualifiedName { name, qualifiers: names.collect() })
    }

    /// True if an item named `name` under `ancestors` (outermost first, the record first)
    /// satisfies this reference.
    pub fn matches(&self, name: &str, ancestors: &[&str]) -> bool {
        if !self.name.eq_ignore_ascii_case(name) {
            return false;
        }
        // Qualifiers, innermost first, must appear in order walking outwards.
        let mut outward = ancestors.iter().rev();
        self.qualifiers.iter().all(|q| outward.any(|a| a.eq_ignore_ascii_case(q)))
    }
}

impl fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        for q in &self.qualifiers {
            write!(f, " OF {q}")?;
        }
        Ok(())
    }
}

/// Why a reference did not resolve to one item.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// No item matches.
    #[error("{reference} is not in record {record}")]
    NotFound {
        /// The reference as written.
        reference: String,
        /// The record searched.
        record: String,
    },
    /// Two or more items match.
    #[error("{reference} is ambiguous in record {record}: it names {}; qualify it (NAME OF GROUP)", candidates.join(" and "))]
    Ambiguous {
        /// The reference as written.
        reference: String,
        /// The record searched.
        record: String,
        /// Every matching item's path (`GROUP.NAME`, the record left out) and line.
        candidates: Vec<String>,
    },
}

/// An item found by [`resolve`], with its path from the record.
#[derive(Debug)]
pub struct Found<'a> {
    /// The item.
    pub item: &'a Item,
    /// Named groups from the record down to the item, joined by `.`; the record left out.
    pub path: String,
    /// The item is, or is inside, an item with OCCURS.
    pub in_table: bool,
}

/// The one item of the record `root` (below the record itself) that `reference` names.
pub fn resolve<'a>(root: &'a Item, reference: &QualifiedName) -> Result<Found<'a>, ResolveError> {
    let mut found = Vec::new();
    let record = root.display_name();
    if let ItemKind::Group(children) = &root.kind {
        let mut ancestors = vec![record];
        for c in children {
            walk(c, reference, &mut ancestors, false, &mut found);
        }
    }
    match found.len() {
        0 => Err(ResolveError::NotFound { reference: reference.to_string(), record: record.to_string() }),
        1 => Ok(found.remove(0)),
        _ => Err(ResolveError::Ambiguous {
            reference: reference.to_string(),
            record: record.to_string(),
            candidates: found.iter().map(|f| format!("{} (line {})", f.path, f.item.line)).collect(),
        }),
    }
}

/// `ancestors` holds the record's name, then every named group above `item` (FILLER groups
/// have no name to qualify by).
fn walk<'a>(
    item: &'a Item,
    reference: &QualifiedName,
    ancestors: &mut Vec<&'a str>,
    in_table: bool,
    found: &mut Vec<Found<'a>>,
) {
    let in_table = in_table || item.occurs.is_some();
    if let Some(name) = item.name.as_deref() {
        if reference.matches(name, ancestors) {
            let mut path: Vec<&str> = ancestors[1..].to_vec();
            path.push(name);
            found.push(Found { item, path: path.join("."), in_table });
        }
    }
    if let ItemKind::Group(children) = &item.kind {
        if let Some(name) = item.name.as_deref() {
            ancestors.push(name);
        }
        for c in children {
            walk(c, reference, ancestors, in_table, found);
        }
        if item.name.is_some() {
            ancestors.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_parse_to_the_same_reference() {
        let a = QualifiedName::parse("ord-date of ord-body in ord-rec").unwrap();
        let b = QualifiedName::parse("ORD-REC.ORD-BODY.ORD-DATE").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "ORD-DATE OF ORD-BODY OF ORD-REC");
        assert_eq!(QualifiedName::parse("X").unwrap(), QualifiedName::bare("x"));
        assert!(QualifiedName::parse("A OF").is_err());
        assert!(QualifiedName::parse("A BY B").is_err());
        assert!(QualifiedName::parse("A..B").is_err());
        assert!(QualifiedName::parse("ROW[1].X").is_err());
    }

    #[test]
    fn qualifiers_are_ancestors_in_order_at_any_depth() {
        let r = QualifiedName::parse("D OF B").unwrap();
        assert!(r.matches("D", &["R", "B", "C"]));
        assert!(!r.matches("D", &["R", "C"]));
        let r = QualifiedName::parse("D OF B OF C").unwrap();
        assert!(!r.matches("D", &["R", "B", "C"]), "B must be inside C");
        assert!(r.matches("D", &["R", "C", "B"]));
    }
}
