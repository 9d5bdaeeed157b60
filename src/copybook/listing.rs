//! A compiler-style listing of a laid-out record (text and JSON), for people and tools.
//!
//! Reads a [`Record`] only; it computes nothing the layout does not already hold. Slack bytes
//! the compiler inserts for SYNC items show as `FILLER (slack)` lines with their offsets, as an
//! IBM compiler listing shows them.

use super::{Category, Condition, ConditionValue, Elementary, Item, ItemKind, Literal, Record, Usage};
use serde_json::{json, Value};
use std::fmt::Write;

/// One line per item (groups, 88s and 66s too), indented by nesting, then the total size.
pub fn listing(record: &Record) -> String {
    let mut out = format!("{:<5} {:<40} {:>8} {:>8}  TYPE\n", "LEVEL", "NAME", "OFFSET", "LENGTH");
    item_lines(&record.root, 0, &mut out);
    for r in &record.renames {
        let thru = r.thru.as_ref().map(|t| format!(" THRU {t}")).unwrap_or_default();
        let _ = writeln!(out, "{:<5} {:<40} {:>8} {:>8}  RENAMES {}{thru}", "66", r.name, r.offset, r.size, r.from);
    }
    let _ = writeln!(out, "TOTAL {} BYTES", record.max_size());
    out
}

/// The text name of a slack-bytes line.
pub const SLACK_NAME: &str = "FILLER (slack)";

fn slack_line(level: u8, depth: usize, offset: usize, len: usize, why: &str, out: &mut String) {
    let name = format!("{}{SLACK_NAME}", "  ".repeat(depth));
    let _ = writeln!(out, "{:<5} {:<40} {:>8} {:>8}  SLACK {why}", format!("{level:02}"), name, offset, len);
}

/// Where a group's trailing slack is and why it is there.
fn slack_after(item: &Item) -> Option<(u8, usize, usize, &'static str)> {
    let ItemKind::Group(children) = &item.kind else { return None };
    let level = children.last().map_or(item.level, |c| c.level);
    let why = if item.occurs.is_some() { "(end of each occurrence)" } else { "(before a SYNC item)" };
    (item.slack_after > 0).then(|| (level, item.offset + item.size - item.slack_after, item.slack_after, why))
}

fn item_lines(item: &Item, depth: usize, out: &mut String) {
    if item.slack_before > 0 {
        let why = format!("(before {})", item.display_name());
        slack_line(item.level, depth, item.offset - item.slack_before, item.slack_before, &why, out);
    }
    let name = format!("{}{}", "  ".repeat(depth), item.display_name());
    let _ = writeln!(
        out,
        "{:<5} {:<40} {:>8} {:>8}  {}",
        format!("{:02}", item.level),
        name,
        item.offset,
        item.size,
        type_text(item)
    );
    for c in &item.conditions {
        let _ = writeln!(
            out,
            "{:<5} {:<40} {:>8} {:>8}  VALUE {}",
            "88",
            format!("{}  {}", "  ".repeat(depth), c.name),
            "",
            "",
            condition_text(c)
        );
    }
    if let ItemKind::Group(children) = &item.kind {
        children.iter().for_each(|c| item_lines(c, depth + 1, out));
    }
    if let Some((level, offset, len, why)) = slack_after(item) {
        slack_line(level, depth + 1, offset, len, why, out);
    }
}

/// The SIGN clause of a numeric elementary item (its own or its group's).
fn numeric_sign(item: &Item) -> Option<super::SignClause> {
    match &item.kind {
        ItemKind::Elementary(Elementary { sign, picture, .. })
            if matches!(picture.category, Category::Numeric { .. }) =>
        {
            *sign
        }
        _ => None,
    }
}

/// `X(16)`, `S9(13)V99 COMP-3`, `GROUP`, plus SIGN / OCCURS / REDEFINES / SYNC.
fn type_text(item: &Item) -> String {
    let mut t = match &item.kind {
        ItemKind::Group(_) => "GROUP".to_string(),
        ItemKind::Elementary(el) => match (&el.picture.category, el.usage) {
            (Category::None, u) => u.to_string(),
            (_, Usage::Display | Usage::National | Usage::Display1) => el.picture.source.clone(),
            (_, u) => format!("{} {u}", el.picture.source),
        },
    };
    // The sign's position changes the bytes (and SEPARATE the length): show it.
    if let Some(s) = numeric_sign(item) {
        t.push_str(if s.leading { " SIGN LEADING" } else { " SIGN TRAILING" });
        if s.separate {
            t.push_str(" SEPARATE");
        }
    }
    if let Some(o) = &item.occurs {
        match o.depending_path.as_ref().or(o.depending_on.as_ref()) {
            // The counter as resolved, fully qualified (`N OF B1 OF C2`): never a bare name
            // that two fields could have.
            Some(d) => {
                let qualified = d.rsplit('.').collect::<Vec<_>>().join(" OF ");
                let _ = write!(t, " OCCURS {} TO {} DEPENDING ON {qualified}", o.min, o.max);
            }
            None => {
                let _ = write!(t, " OCCURS {}", o.max);
            }
        }
    }
    if let Some(r) = &item.redefines {
        let _ = write!(t, " REDEFINES {r}");
    }
    if item.sync {
        t.push_str(" SYNC");
    }
    t
}

pub(crate) fn literal_text(l: &Literal) -> String {
    match l {
        Literal::Text(s) => format!("'{}'", s.replace('\'', "''")),
        Literal::Hex(b) => format!("X'{}'", b.iter().map(|b| format!("{b:02X}")).collect::<String>()),
        Literal::Number(n) => n.clone(),
        Literal::Figurative(f) => format!("{f:?}").to_ascii_uppercase(),
        Literal::All(l) => format!("ALL {}", literal_text(l)),
    }
}

fn condition_text(c: &Condition) -> String {
    c.values
        .iter()
        .map(|v| match v {
            ConditionValue::Single(l) => literal_text(l),
            ConditionValue::Range(a, b) => format!("{} THRU {}", literal_text(a), literal_text(b)),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// An array of every item: level, name, path, offset, length, picture, usage, occurs.
///
/// `path` is the reference routes.toml takes and the JSON's nesting (the record's name first):
/// a FILLER group adds no level (its fields belong to the group above, as in the JSON), an
/// unnamed table holding named fields is its generated key ([`super::unnamed_table_key`]);
/// FILLER items themselves end in `.FILLER`. `occurs.depending_on` is the counter's `path`.
pub fn listing_json(record: &Record) -> Value {
    let mut items = Vec::new();
    let mut unnamed_tables = 0;
    item_json(&record.root, "", &record.name, &mut unnamed_tables, &mut items);
    for r in &record.renames {
        items.push(json!({"level": 66, "name": r.name, "path": r.name, "offset": r.offset, "length": r.size, "renames": r.from, "thru": r.thru}));
    }
    Value::Array(items)
}

fn slack_json(level: u8, path: &str, offset: usize, len: usize) -> Value {
    json!({"level": level, "name": "FILLER", "path": format!("{path}.FILLER"), "offset": offset, "length": len, "slack": true})
}

fn item_json(item: &Item, parent: &str, record: &str, unnamed_tables: &mut usize, out: &mut Vec<Value>) {
    if item.slack_before > 0 {
        out.push(slack_json(item.level, parent, item.offset - item.slack_before, item.slack_before));
    }
    let name = match &item.name {
        Some(n) => n.clone(),
        None if item.occurs.is_some() && item.has_named_subordinate() => {
            *unnamed_tables += 1;
            super::unnamed_table_key(*unnamed_tables)
        }
        None => "FILLER".to_string(),
    };
    let path = if parent.is_empty() { name.clone() } else { format!("{parent}.{name}") };
    // What the group's members are under: a FILLER group (not a table) adds no level.
    let members = if item.name.is_none() && item.occurs.is_none() && !parent.is_empty() { parent } else { &path };
    let (picture, usage) = match &item.kind {
        ItemKind::Elementary(el) => (Some(el.picture.source.clone()), Some(el.usage.to_string())),
        ItemKind::Group(_) => (None, None),
    };
    let occurs = item.occurs.as_ref().map(|o| {
        let counter = o.depending_path.as_ref().or(o.depending_on.as_ref()).map(|p| format!("{record}.{p}"));
        json!({"min": o.min, "max": o.max, "depending_on": counter})
    });
    out.push(json!({"level": item.level, "name": item.display_name(), "path": path, "offset": item.offset, "length": item.size, "picture": picture, "usage": usage, "occurs": occurs}));
    if let (Some(s), Some(Value::Object(o))) = (numeric_sign(item), out.last_mut()) {
        o.insert("sign".into(), json!({"leading": s.leading, "separate": s.separate}));
    }
    for c in &item.conditions {
        out.push(
            json!({"level": 88, "name": c.name, "path": format!("{path}.{}", c.name), "values": condition_text(c)}),
        );
    }
    if let ItemKind::Group(children) = &item.kind {
        children.iter().for_each(|c| item_json(c, members, record, unnamed_tables, out));
    }
    if let Some((level, offset, len, _)) = slack_after(item) {
        out.push(slack_json(level, members, offset, len));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::copybook::{parse_copybook, NoCopy};

    const CB: &str = "       01 TXN.\n          05 CNT PIC 9(2).\n          05 ROW OCCURS 0 TO 50 DEPENDING ON CNT.\n             10 AMT PIC S9(13)V99 COMP-3.\n                88 ZERO-AMT VALUE 0.\n          66 ALL-CNT RENAMES CNT.\n";

    #[test]
    fn text_listing() {
        let cb = parse_copybook(CB, "t", &NoCopy).unwrap();
        let text = listing(&cb.records[0]);
        assert!(text.contains("GROUP OCCURS 0 TO 50 DEPENDING ON CNT"), "{text}");
        assert!(text.contains("S9(13)V99 COMP-3"), "{text}");
        assert!(text.contains("      AMT"), "{text}");
        assert!(text.contains("ZERO-AMT"), "{text}");
        assert!(text.contains("RENAMES CNT"), "{text}");
        assert!(text.ends_with("TOTAL 402 BYTES\n"), "{text}");
    }

    #[test]
    fn json_listing() {
        let cb = parse_copybook(CB, "t", &NoCopy).unwrap();
        let v = listing_json(&cb.records[0]);
        assert_eq!(v[2]["path"], "TXN.ROW");
        assert_eq!(v[3]["offset"], 2);
        assert_eq!(v[3]["length"], 8);
        assert_eq!(v[3]["usage"], "COMP-3");
        assert_eq!(v[2]["occurs"]["max"], 50);
        assert_eq!(v[2]["occurs"]["depending_on"], "TXN.CNT");
    }

    #[test]
    fn counters_are_qualified_and_paths_have_no_filler_level() {
        let cb = "       01 Q.\n          05 C1.\n             10 N PIC 9.\n          05 C2.\n             10 N PIC 9.\n          05 FILLER.\n             10 K PIC X.\n          05 FILLER OCCURS 1 TO 3 DEPENDING ON N OF C2.\n             10 V PIC X.\n";
        let cb = parse_copybook(cb, "q", &NoCopy).unwrap();
        let text = listing(&cb.records[0]);
        assert!(text.contains("GROUP OCCURS 1 TO 3 DEPENDING ON N OF C2"), "{text}");
        let v = listing_json(&cb.records[0]);
        let paths: Vec<&str> = v.as_array().unwrap().iter().map(|i| i["path"].as_str().unwrap()).collect();
        assert_eq!(paths, ["Q", "Q.C1", "Q.C1.N", "Q.C2", "Q.C2.N", "Q.FILLER", "Q.K", "Q.FILLER-1", "Q.FILLER-1.V"]);
        assert_eq!(v[7]["occurs"]["depending_on"], "Q.C2.N");
    }

    /// SIGN LEADING/TRAILING [SEPARATE] changes where the sign is and (SEPARATE) the length:
    /// both listings show it, on numeric items only (a group's SIGN reaches its numbers).
    #[test]
    fn sign_clauses_are_listed() {
        let cb = "       01 S.\n          05 A PIC S9(3) SIGN LEADING SEPARATE.\n          05 B PIC S9(3) SIGN TRAILING.\n          05 G SIGN LEADING.\n             10 C PIC S9 OCCURS 2.\n             10 D PIC X.\n";
        let cb = parse_copybook(cb, "t", &NoCopy).unwrap();
        let text = listing(&cb.records[0]);
        assert!(text.contains("S9(3) SIGN LEADING SEPARATE\n"), "{text}");
        assert!(text.contains("S9(3) SIGN TRAILING\n"), "{text}");
        assert!(text.contains("S9 SIGN LEADING OCCURS 2\n"), "{text}");
        assert!(text.contains(" X\n"), "{text}");
        let v = listing_json(&cb.records[0]);
        assert_eq!(v[1]["sign"], json!({"leading": true, "separate": true}));
        assert_eq!(v[1]["length"], 4);
        assert!(v[5].get("sign").is_none(), "{}", v[5]);
    }
}
