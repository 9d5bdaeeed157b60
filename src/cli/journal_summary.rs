//! `ficus journal summary` (대사): the day's journaled transactions per operation, upstream and
//! outcome — counts and, with `--sum FIELD`, the exact total of a request field read with the
//! route's request layout. These are the figures a bank compares with each system's own totals.
//!
//! The day is 00:00 to 24:00 at one UTC offset (a bank's business day is local); a transaction
//! belongs to the day it was received (claimed). Sums are [`Decimal`]s: nothing is rounded.

use super::clock::{self, Offset};
use super::journal_cmds::{print_json, store_failed};
use super::CliError;
use crate::codec::decimal::Decimal;
use crate::codec::ops::{Leaf, LeafKind};
use crate::journal::{Entry, EntryState, JournalPlan};
use crate::route::RouteTable;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// What `ficus journal summary` was asked.
pub struct SummaryArgs {
    /// The day (days since 1970-01-01), local to `offset`.
    pub day: i64,
    /// The day's offset from UTC.
    pub offset: Offset,
    /// The request field to total.
    pub sum: Option<String>,
    /// The response code of a posted transaction.
    pub ok_code: String,
    /// JSON instead of a table.
    pub json: bool,
}

/// A transaction's outcome bucket at `now`.
fn outcome(e: &Entry, now: i64, ok_code: &str) -> String {
    match e.state_at(now) {
        EntryState::Done => match e.response_code.as_deref().map(str::trim) {
            Some(code) if code == ok_code => "ok".into(),
            Some(code) if !code.is_empty() => format!("refused {code}"),
            _ => "refused (no code)".into(),
        },
        EntryState::Unknown => "unknown".into(),
        EntryState::InFlight => "in flight".into(),
    }
}

/// How `--sum FIELD` reads one operation's requests: the field in its request layout, or why not.
enum SumField<'t> {
    Read { leaf: &'t Leaf, at: usize },
    Missing(String),
}

fn sum_field<'t>(table: &'t RouteTable, op: &str, name: &str) -> Result<SumField<'t>, CliError> {
    let Some(codec) = table.routes.get(op).and_then(|r| r.request.as_deref()) else {
        return Ok(SumField::Missing(format!("{op}: routes.toml has no request layout for it; not summed")));
    };
    let leaf = match codec.plan().lookup(name) {
        Ok(leaf) => leaf,
        Err(e) => return Ok(SumField::Missing(format!("{op}: {e}; not summed"))),
    };
    match leaf.kind {
        LeafKind::Zoned { .. } | LeafKind::Packed { .. } | LeafKind::Binary { .. } => {}
        _ => {
            return Err(CliError::config(format!(
                "--sum {name}: {} in {op}'s request layout is not a fixed-point number (PIC 9, COMP-3, COMP), so it \
                 has no exact total",
                leaf.path
            )))
        }
    }
    if codec.plan().slides(leaf) {
        return Err(CliError::config(format!(
            "--sum {name}: {} in {op}'s request follows a table whose size varies (OCCURS DEPENDING ON)",
            leaf.path
        )));
    }
    Ok(SumField::Read { leaf, at: table.header.size + leaf.offset as usize })
}

#[derive(Default)]
struct Row {
    count: u64,
    sum: Option<Decimal>,
}

/// Runs the summary.
pub async fn summary(table: &RouteTable, plan: &JournalPlan, args: &SummaryArgs) -> Result<(), CliError> {
    let now = crate::journal::now_ms();
    let (from, to) = clock::day_bounds(args.day, args.offset.seconds);
    let entries = plan.store.between(from, to).await.map_err(store_failed)?;
    let mut fields: BTreeMap<String, SumField> = BTreeMap::new();
    let mut rows: BTreeMap<(String, String, String), Row> = BTreeMap::new();
    let mut unreadable = Vec::new();
    for e in &entries {
        let row = rows.entry((e.op.clone(), e.upstream.clone(), outcome(e, now, args.ok_code.trim()))).or_default();
        row.count += 1;
        let Some(name) = &args.sum else { continue };
        if !fields.contains_key(&e.op) {
            fields.insert(e.op.clone(), sum_field(table, &e.op, name)?);
        }
        let SumField::Read { leaf, at } = &fields[&e.op] else { continue };
        let value = e
            .request
            .get(*at..*at + leaf.len as usize)
            .and_then(|bytes| crate::header::field_text(leaf.kind, bytes, table.options.codepage))
            .and_then(|text| text.parse::<Decimal>().ok());
        let Some(value) = value else {
            unreadable.push(format!("{} ({}): {} cannot be read from the stored request", e.key, e.op, leaf.path));
            continue;
        };
        let total = row
            .sum
            .unwrap_or(Decimal::ZERO)
            .checked_add(&value)
            .ok_or_else(|| CliError::runtime(format!("--sum {name}: the total of {} passes 38 digits", e.op)))?;
        row.sum = Some(total);
    }
    if let Some(name) = &args.sum {
        if !entries.is_empty() && fields.values().all(|f| matches!(f, SumField::Missing(_))) {
            let why: Vec<&str> = fields
                .values()
                .filter_map(|f| if let SumField::Missing(w) = f { Some(w.as_str()) } else { None })
                .collect();
            return Err(CliError::config(format!(
                "--sum {name}: no operation of the day has a numeric field {name} in its request layout:\n  {}",
                why.join("\n  ")
            )));
        }
    }
    let day = clock::format_ms(from, args.offset.seconds);
    let day = day.split(' ').next().unwrap_or("").to_string();
    let boundary = format!(
        "{} to {} ({}, {})",
        clock::format_ms(from, args.offset.seconds),
        clock::format_ms(to, args.offset.seconds),
        args.offset.text(),
        args.offset.from
    );
    let notes: Vec<String> =
        fields.values().filter_map(|f| if let SumField::Missing(w) = f { Some(w.clone()) } else { None }).collect();
    if args.json {
        let list: Vec<Value> = rows
            .iter()
            .map(|((op, upstream, outcome), r)| {
                let mut v = json!({ "op": op, "upstream": upstream, "outcome": outcome, "count": r.count });
                if args.sum.is_some() {
                    // A string: exact, with its scale ("30.00"), as no JSON reader rounds it.
                    v["sum"] = r.sum.map_or(Value::Null, |d| Value::from(d.to_string()));
                }
                v
            })
            .collect();
        print_json(&json!({
            "date": day,
            "from_ms": from,
            "to_ms": to,
            "utc_offset": args.offset.text(),
            "offset_from": args.offset.from,
            "store": plan.store.display(),
            "sum_field": args.sum,
            "transactions": entries.len(),
            "rows": list,
            "notes": notes,
            "unreadable": unreadable,
        }))?;
    } else {
        println!("journal summary (대사) for {day}: {boundary}");
        println!("store {}: {} transaction(s) received that day", plan.store.display(), entries.len());
        if rows.is_empty() {
            println!("No journaled transaction that day.");
        } else {
            let sum_header = args.sum.as_ref().map_or("SUM".to_string(), |f| format!("SUM {f}"));
            let cells: Vec<[String; 5]> = rows
                .iter()
                .map(|((op, upstream, outcome), r)| {
                    let sum = match (&args.sum, r.sum) {
                        (None, _) => String::new(),
                        (Some(_), Some(d)) => d.to_string(),
                        (Some(_), None) => "-".into(),
                    };
                    [op.clone(), upstream.clone(), outcome.clone(), r.count.to_string(), sum]
                })
                .collect();
            let header = ["OP", "UPSTREAM", "OUTCOME", "COUNT", sum_header.as_str()];
            print!("{}", super::admin_cmds::columns(&header, [8, 10, 12, 5, 0], &cells));
            println!(
                "ok: done with response code {}; refused CODE: done with another code (not posted);",
                args.ok_code
            );
            println!("unknown: sent, no answer (reconcile: ficus journal unknown); in flight: being sent now.");
        }
        for note in &notes {
            println!("note: {note}");
        }
    }
    if !unreadable.is_empty() {
        return Err(CliError::runtime(format!(
            "{} stored request(s) could not be read for --sum, so the sums above leave them out:\n  {}",
            unreadable.len(),
            unreadable.join("\n  ")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(state: EntryState, code: Option<&str>, lease_ms: i64) -> Entry {
        Entry {
            key: "1".into(),
            op: "XFER".into(),
            request_hash: String::new(),
            route_key: None,
            upstream: "legacy".into(),
            state,
            response_code: code.map(String::from),
            request: Vec::new(),
            reply: None,
            claim: "h:1:0:0".into(),
            generation: 1,
            created_ms: 0,
            updated_ms: 0,
            lease_ms,
        }
    }

    #[test]
    fn outcomes_split_posted_refused_unknown_and_in_flight() {
        assert_eq!(outcome(&entry(EntryState::Done, Some("0000"), 0), 10, "0000"), "ok");
        assert_eq!(outcome(&entry(EntryState::Done, Some("E201"), 0), 10, "0000"), "refused E201");
        assert_eq!(outcome(&entry(EntryState::Done, None, 0), 10, "0000"), "refused (no code)");
        assert_eq!(outcome(&entry(EntryState::Unknown, None, 0), 10, "0000"), "unknown");
        assert_eq!(outcome(&entry(EntryState::InFlight, None, 20), 10, "0000"), "in flight");
        assert_eq!(outcome(&entry(EntryState::InFlight, None, 5), 10, "0000"), "unknown", "its lease passed");
    }
}
