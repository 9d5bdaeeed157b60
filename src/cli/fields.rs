//! Checking a JSON object typed by a person against a record's fields before it is encoded:
//! every key must name a field (a typo is refused with the record's field list and the close
//! name it probably meant), and operation codes get the same "did you mean" help.
//!
//! The codec itself ignores keys it does not know (a service may send more than the copybook
//! holds); a person at `ficus send` who types `ACCT_NO` must not get a request with a blank
//! account number instead.

use crate::codec::decode::body_len;
use crate::codec::ops::Op;
use crate::codec::plan::Plan;
use serde_json::{Map, Value};
use std::fmt::Write;

/// The field names of one level of a record: members of the record, of a group or of a table's
/// element, with every REDEFINES alternative (any of them may be given).
fn level(ops: &[Op]) -> Vec<(&str, &Op, &[Op])> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < ops.len() {
        let next = i + 1 + body_len(&ops[i]);
        let body = &ops[i + 1..next];
        match &ops[i] {
            Op::Leaf { leaf, .. } => out.push((&*leaf.name, &ops[i], body)),
            Op::Group { name, .. } | Op::Array { name, .. } => out.push((&**name, &ops[i], body)),
            // A FILLER view's fields are members of this level.
            Op::Lifted { .. } => out.extend(level(body)),
            Op::Fill { .. } | Op::Skip { .. } => {}
        }
        i = next;
    }
    out
}

/// One key that names no field.
struct Unknown {
    /// Where it was (`TXN-ROW[0]`, or empty at the top).
    at: String,
    key: String,
    /// The fields that level has.
    fields: Vec<String>,
}

fn walk(ops: &[Op], object: &Map<String, Value>, at: &str, out: &mut Vec<Unknown>) {
    let fields = level(ops);
    for (key, value) in object {
        let Some((_, op, body)) = fields.iter().find(|(name, ..)| *name == key) else {
            let names = fields.iter().map(|(n, ..)| n.to_string()).collect();
            out.push(Unknown { at: at.to_string(), key: key.clone(), fields: names });
            continue;
        };
        let path = if at.is_empty() { key.clone() } else { format!("{at}.{key}") };
        match (op, value) {
            (Op::Group { .. }, Value::Object(o)) => walk(body, o, &path, out),
            (Op::Array { elements_are_objects: true, .. }, Value::Array(items)) => {
                for (n, item) in items.iter().enumerate() {
                    if let Value::Object(o) = item {
                        walk(body, o, &format!("{path}[{n}]"), out);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Refuses keys of `value` that name no field of `plan`'s record, listing each level's fields
/// and a close name where there is one. `what` says what the object is (`body`, `--header`).
pub fn check_keys(plan: &Plan, value: &Value, what: &str) -> Result<(), String> {
    let Value::Object(object) = value else {
        return Err(format!("{what}: must be a JSON object of {} fields, e.g. {}", plan.record, plan.blank_json()));
    };
    let mut unknown = Vec::new();
    walk(&plan.ops, object, "", &mut unknown);
    if unknown.is_empty() {
        return Ok(());
    }
    let mut text = String::new();
    let _ = write!(text, "{what}: {} field name(s) not in {}:", unknown.len(), plan.record);
    for u in &unknown {
        let shown = if u.at.is_empty() { u.key.clone() } else { format!("{}.{}", u.at, u.key) };
        let _ = write!(text, "\n  {shown:?}");
        if let Some(close) = suggest(&u.key, u.fields.iter().map(String::as_str)) {
            let _ = write!(text, " — did you mean {close:?}?");
        }
    }
    let mut listed = Vec::new();
    for u in &unknown {
        if listed.contains(&u.at) {
            continue;
        }
        let owner = if u.at.is_empty() { plan.record.clone() } else { u.at.clone() };
        let _ = write!(text, "\n{owner} has: {}", u.fields.join(", "));
        listed.push(u.at.clone());
    }
    Err(text)
}

pub use crate::copybook::suggest::suggest;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{Codec, CodecOptions};
    use serde_json::json;

    fn plan() -> Codec {
        let text = "       01  REQ.\n           05  ACCT-NO     PIC X(16).\n           05  PERIOD.\n               10  FROM-DATE PIC 9(8).\n           05  ROWS OCCURS 2.\n               10  AMT     PIC 9(5).\n           05  FILLER      PIC X(4).\n";
        let book = crate::copybook::parse_copybook(text, "t.cpy", &crate::copybook::NoCopy).unwrap();
        Codec::new(book.record(None).unwrap(), CodecOptions::default()).unwrap()
    }

    #[test]
    fn a_known_object_passes() {
        let c = plan();
        let v = json!({ "ACCT-NO": "1", "PERIOD": { "FROM-DATE": 1 }, "ROWS": [{ "AMT": 1 }, { "AMT": 2 }] });
        assert_eq!(check_keys(c.plan(), &v, "body"), Ok(()));
    }

    #[test]
    fn unknown_keys_are_named_with_the_fields_and_a_close_name() {
        let c = plan();
        let v = json!({ "acct_no": "1", "PERIOD": { "FROM_DATE": 1 }, "ROWS": [{ "AMT": 1 }, { "AMOUNT": 2 }], "ZZZZZZ": 0 });
        let e = check_keys(c.plan(), &v, "body").unwrap_err();
        assert!(e.contains("\"acct_no\" — did you mean \"ACCT-NO\"?"), "{e}");
        assert!(e.contains("\"PERIOD.FROM_DATE\" — did you mean \"FROM-DATE\"?"), "{e}");
        assert!(e.contains("\"ROWS[1].AMOUNT\""), "{e}");
        assert!(e.contains("\"ZZZZZZ\"\n") || e.contains("\"ZZZZZZ\"\nREQ"), "no suggestion for a far name: {e}");
        assert!(e.contains("REQ has: ACCT-NO, PERIOD, ROWS"), "{e}");
        assert!(e.contains("PERIOD has: FROM-DATE"), "{e}");
        assert!(e.contains("ROWS[1] has: AMT"), "{e}");
        assert!(!e.contains("FILLER"), "{e}");
    }

    #[test]
    fn suggestions_fold_case_and_underscores_then_allow_two_edits() {
        let ops = ["ACCTINQ", "TXNHIST", "XFER"];
        assert_eq!(suggest("acctinq", ops.iter().copied()), Some("ACCTINQ"));
        assert_eq!(suggest("XFR", ops.iter().copied()), Some("XFER"));
        assert_eq!(suggest("PAYMENT", ops.iter().copied()), None);
        assert_eq!(suggest("AB", ["AC", "AD"].iter().copied()), None, "a tie suggests nothing");
    }
}
