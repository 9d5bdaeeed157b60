//! Finding a field of a compiled plan by a reference from routes.toml or the command line:
//! `ACCT-NO`, the dotted path `CUST.ACCT-NO` (outermost first, as `ignore`/`mask` paths and
//! the JSON are written) or COBOL's `ACCT-NO OF CUST`. Qualifiers name groups the field is
//! under at any depth; the record's own name may be one. A name that matches two fields is an
//! error listing both paths — never the first one.

use super::ops::{Leaf, Op};
use super::plan::Plan;
use crate::copybook::qualify::QualifiedName;

/// Why a reference does not name exactly one field outside the tables.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// Not a name, a dotted path or `NAME OF GROUP`.
    #[error("{0}")]
    Syntax(String),
    /// No field matches (fields inside tables do not count: they have no fixed offset).
    #[error("record {record} has no field {reference}{note}")]
    NotFound {
        /// The reference as written.
        reference: String,
        /// The record.
        record: String,
        /// Extra help, e.g. that the name is inside a table.
        note: String,
    },
    /// Two or more fields match.
    #[error("{reference} is ambiguous in record {record}: it names {}; write the dotted path", candidates.join(" and "))]
    Ambiguous {
        /// The reference as written.
        reference: String,
        /// The record.
        record: String,
        /// The path of every field it matches.
        candidates: Vec<String>,
    },
}

impl Plan {
    /// True when `leaf` lies at or after a table whose size varies (OCCURS DEPENDING ON): its
    /// offset is then the largest form's, and in a shorter message the field is elsewhere.
    pub fn slides(&self, leaf: &Leaf) -> bool {
        self.ops.iter().any(|op| match op {
            Op::Array { offset, min, max, .. } | Op::Skip { offset, min, max, .. } => {
                min != max && leaf.offset >= *offset
            }
            _ => false,
        })
    }

    /// The one field outside any table that `reference` names.
    pub fn lookup(&self, reference: &str) -> Result<&Leaf, LookupError> {
        let q = QualifiedName::parse(reference).map_err(LookupError::Syntax)?;
        let (mut found, mut in_tables) = (Vec::new(), Vec::new());
        let mut array_end = 0;
        for (i, op) in self.ops.iter().enumerate() {
            if let Op::Array { body, .. } = op {
                array_end = array_end.max(i + 1 + *body as usize);
            }
            let Op::Leaf { leaf, .. } = op else { continue };
            let mut ancestors: Vec<&str> = vec![&self.record];
            let segments: Vec<&str> = leaf.path.split('.').map(|s| s.trim_end_matches("[]")).collect();
            ancestors.extend(&segments[..segments.len().saturating_sub(1)]);
            if q.matches(&leaf.name, &ancestors) {
                if i < array_end {
                    in_tables.push(leaf.path.to_string());
                } else {
                    found.push(leaf);
                }
            }
        }
        match found.len() {
            1 => Ok(found[0]),
            0 => Err(LookupError::NotFound {
                reference: reference.to_string(),
                record: self.record.clone(),
                note: match in_tables.first() {
                    Some(p) => format!(" outside a table ({p} is inside one and has no fixed offset)"),
                    None => self.not_found_note(&q),
                },
            }),
            _ => Err(LookupError::Ambiguous {
                reference: reference.to_string(),
                record: self.record.clone(),
                candidates: found.iter().map(|l| l.path.to_string()).collect(),
            }),
        }
    }
}

impl Plan {
    /// Why a reference that names no elementary field may have been meant: it names a group
    /// (which has no single value), or it goes through FILLER (which is no level of a path).
    fn not_found_note(&self, q: &QualifiedName) -> String {
        if q.qualifiers.iter().any(|n| n == "FILLER") {
            let rest: Vec<&str> =
                q.qualifiers.iter().rev().filter(|n| *n != "FILLER").map(String::as_str).chain([&*q.name]).collect();
            return format!(
                " (FILLER is no level of a path: the fields of a FILLER group belong to the group above it, as in \
                 the JSON and in `ficus layout --json` paths; write {})",
                rest.join(".")
            );
        }
        let group = self.ops.iter().find_map(|op| match op {
            Op::Group { name, .. } if name.eq_ignore_ascii_case(&q.name) => Some("a group"),
            Op::Array { name, .. } if name.eq_ignore_ascii_case(&q.name) => Some("a table"),
            _ => None,
        });
        match group {
            Some(what) => format!(" ({} is {what}, which has no single value: name one of its fields)", q.name),
            None => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::plan::{CodecOptions, Plan};
    use crate::copybook::{parse_copybook, NoCopy};

    const HDR: &str = "       01 HDR.\n          05 REQ.\n             10 CODE PIC X(4).\n          05 RSP.\n             10 CODE PIC X(4).\n          05 ROWS OCCURS 2.\n             10 AMT PIC 9(3).\n          05 TRACE-ID PIC X(8).\n";

    fn plan() -> Plan {
        let cb = parse_copybook(HDR, "h.cpy", &NoCopy).unwrap();
        Plan::compile(cb.record(None).unwrap(), CodecOptions::default()).unwrap()
    }

    #[test]
    fn qualified_dotted_and_bare_references() {
        let p = plan();
        assert_eq!(p.lookup("RSP.CODE").unwrap().offset, 4);
        assert_eq!(p.lookup("code of req").unwrap().offset, 0);
        assert_eq!(p.lookup("CODE IN RSP OF HDR").unwrap().offset, 4);
        assert_eq!(p.lookup("HDR.TRACE-ID").unwrap().offset, 14);
        assert_eq!(p.lookup("TRACE-ID").unwrap().offset, 14);
        let e = p.lookup("CODE").unwrap_err().to_string();
        assert_eq!(e, "CODE is ambiguous in record HDR: it names REQ.CODE and RSP.CODE; write the dotted path");
        let e = p.lookup("AMT").unwrap_err().to_string();
        assert!(e.contains("ROWS[].AMT is inside one"), "{e}");
        assert!(p.field("CODE").is_none(), "never the first match");
        assert!(p.lookup("CODE OF").is_err());
        let e = p.lookup("REQ").unwrap_err().to_string();
        assert!(e.ends_with("(REQ is a group, which has no single value: name one of its fields)"), "{e}");
    }

    #[test]
    fn a_path_through_filler_says_to_leave_filler_out() {
        let text = "       01 R.\n          05 FILLER.\n             10 CUST-ID PIC X(4).\n";
        let cb = parse_copybook(text, "f.cpy", &NoCopy).unwrap();
        let p = Plan::compile(cb.record(None).unwrap(), CodecOptions::default()).unwrap();
        assert_eq!(p.lookup("R.CUST-ID").unwrap().offset, 0);
        let e = p.lookup("FILLER.CUST-ID").unwrap_err().to_string();
        assert!(e.contains("FILLER is no level of a path") && e.ends_with("write CUST-ID)"), "{e}");
    }
}
