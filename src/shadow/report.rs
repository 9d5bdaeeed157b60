//! Shadow reports from comparison records: a terminal summary and a self-contained HTML page
//! (per operation: match rate over time, top differing fields, example diffs side by side,
//! latency of both sides). Each differing field is classified exactly as `GET /shadow` does
//! it (the records are fed to the same `stats`): noise (the primary itself answers the same
//! request differently) with a suggested `ignore` line, or a finding (a difference that repeats)
//! with its deltas and examples, never to be ignored. No scripts, no external assets: the page
//! can be mailed.

use super::noise::FieldReport;
use super::record::ShadowRecord;
use super::stats::{Outcome, ShadowStats};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;

mod html;
pub use html::{html, html_as};

/// Example mismatches kept per operation.
const EXAMPLES: usize = 5;
/// Findings listed per operation in the terminal summary.
const FIELDS_SHOWN: usize = 8;
/// Points on the match-rate-over-time chart.
const TIME_BUCKETS: usize = 24;

/// Everything the report shows for one operation.
#[derive(Debug, Default)]
pub struct OpReport {
    /// Messages compared (both sides replied).
    pub compared: u64,
    /// Of those, equal.
    pub matched: u64,
    /// Shadow failures.
    pub errors: u64,
    /// Differing fields (generalised) by count of messages, most first.
    pub top_fields: Vec<(String, u64)>,
    /// The same fields with their verdicts (noise or finding), most first.
    pub fields: Vec<FieldReport>,
    /// The first mismatches.
    pub examples: Vec<ShadowRecord>,
    /// (bucket start time, compared, matched), oldest first.
    pub timeline: Vec<(f64, u64, u64)>,
    /// Legacy-side latencies, ms, sorted.
    pub legacy_ms: Vec<f64>,
    /// New-side latencies, ms, sorted.
    pub new_ms: Vec<f64>,
}

impl OpReport {
    /// Share of compared messages that matched.
    pub fn match_rate(&self) -> f64 {
        if self.compared == 0 {
            0.0
        } else {
            self.matched as f64 / self.compared as f64
        }
    }
}

/// Reads every record from JSON Lines files (lines that are not records are counted, not fatal).
pub fn load(paths: &[PathBuf]) -> Result<(Vec<ShadowRecord>, usize), String> {
    let mut records = Vec::new();
    let mut bad = 0;
    for path in paths {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match serde_json::from_str::<ShadowRecord>(line) {
                Ok(r) => records.push(r),
                Err(_) => bad += 1,
            }
        }
    }
    records.sort_by(|a, b| a.time.total_cmp(&b.time));
    Ok((records, bad))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// The outcome a record stands for, as the live counters saw it (a compared one: `error`
/// records are counted apart).
pub(crate) fn outcome(r: &ShadowRecord) -> Outcome {
    let primary_is_legacy = r.primary_is_legacy.unwrap_or(true);
    let (legacy, new) = (r.legacy_ms.unwrap_or(0.0) / 1000.0, r.new_ms.unwrap_or(0.0) / 1000.0);
    Outcome::Compared {
        diffs: r.diffs.clone(),
        primary_secs: if primary_is_legacy { legacy } else { new },
        shadow_secs: if primary_is_legacy { new } else { legacy },
        primary_is_legacy,
        key: r.key.as_deref().and_then(|k| u64::from_str_radix(k, 16).ok()),
        id: r.id.clone(),
    }
}

/// Aggregates records (oldest first) per operation.
pub fn build(records: &[ShadowRecord]) -> BTreeMap<String, OpReport> {
    let (t0, t1) = (records.first().map_or(0.0, |r| r.time), records.last().map_or(0.0, |r| r.time));
    let mut builder = Builder::new(t0, t1);
    records.iter().for_each(|r| builder.push(r));
    builder.finish()
}

/// The report built one record at a time (oldest first), so a source of any size — every
/// replica's records in the store — is read as a stream: what it keeps is per operation (counts,
/// a timeline, the first examples, field statistics) plus two latencies per record.
pub struct Builder {
    t0: f64,
    width: f64,
    ops: BTreeMap<String, OpReport>,
    stats: ShadowStats,
}

impl Builder {
    /// A report whose timeline spans `t0`..`t1` (seconds since the Unix epoch: the oldest and
    /// newest record's time).
    pub fn new(t0: f64, t1: f64) -> Builder {
        let width = ((t1 - t0) / TIME_BUCKETS as f64).max(1e-3);
        Builder { t0, width, ops: BTreeMap::new(), stats: ShadowStats::default() }
    }

    /// Adds one record.
    pub fn push(&mut self, r: &ShadowRecord) {
        let (t0, width) = (self.t0, self.width);
        let op = self.ops.entry(r.op.clone()).or_default();
        if op.timeline.is_empty() {
            op.timeline = (0..TIME_BUCKETS).map(|i| (t0 + width * i as f64, 0, 0)).collect();
        }
        if r.result == "error" {
            op.errors += 1;
            return;
        }
        op.compared += 1;
        let slot = (((r.time - t0) / width).max(0.0) as usize).min(TIME_BUCKETS - 1);
        op.timeline[slot].1 += 1;
        if r.result == "match" {
            op.matched += 1;
            op.timeline[slot].2 += 1;
        } else {
            self.stats.record(&r.op, &outcome(r));
            if op.examples.len() < EXAMPLES {
                op.examples.push(r.clone());
            }
        }
        op.legacy_ms.extend(r.legacy_ms);
        op.new_ms.extend(r.new_ms);
    }

    /// The report per operation.
    pub fn finish(mut self) -> BTreeMap<String, OpReport> {
        for (name, op) in self.ops.iter_mut() {
            op.fields = self.stats.field_reports(name);
            op.top_fields = op.fields.iter().map(|f| (f.field.clone(), f.mismatches)).collect();
            op.legacy_ms.sort_by(f64::total_cmp);
            op.new_ms.sort_by(f64::total_cmp);
        }
        self.ops
    }
}

/// A differing field's path as people read it: the empty path is a whole part that differs
/// (a body against none, or one that does not decode).
fn field_name(path: &str) -> &str {
    if path.is_empty() {
        "(the whole reply body)"
    } else {
        path
    }
}

/// The match rate, or `-` when nothing was compared (0 of 0 is not 0%).
fn rate_text(op: &OpReport) -> String {
    if op.compared == 0 {
        "-".into()
    } else {
        format!("{:.2}%", op.match_rate() * 100.0)
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Null => "(none)".into(),
        other => other.to_string(),
    }
}

/// What the two sides of the records are called in a report. Live shadow records hold the
/// legacy and the new side; `ficus replay` records hold the captured reply (in the legacy slot)
/// and the replayed one, named by who answered them.
#[derive(Clone, Debug)]
pub struct Sides {
    /// The side in the records' `legacy` slot (`legacy_ms`, `diffs[].legacy`).
    pub legacy: String,
    /// The side in the `new` slot.
    pub new: String,
    /// The legacy slot's latencies were measured (a captured reply's were not).
    pub legacy_timed: bool,
    /// What the primary (the reply the channel got) is called in examples.
    pub primary: String,
    /// What the compared side is called in examples.
    pub shadow: String,
    /// The primary's name per message id, where messages differ in it (a capture spanning
    /// several targets): `captured (legacy)` for one, `captured (accounts)` for another.
    pub primary_by_id: BTreeMap<String, String>,
    /// The heading over findings: whom they are for.
    pub findings: String,
}

impl Sides {
    /// What the primary of message `id` is called.
    pub fn primary_of(&self, id: Option<&str>) -> &str {
        id.and_then(|id| self.primary_by_id.get(id)).unwrap_or(&self.primary)
    }
}

impl Default for Sides {
    /// Live shadow records: legacy and new, primary and shadow.
    fn default() -> Self {
        Sides {
            legacy: "legacy".into(),
            new: "new".into(),
            legacy_timed: true,
            primary: "primary".into(),
            shadow: "shadow".into(),
            primary_by_id: BTreeMap::new(),
            findings: "findings — differences to fix on the new side, never to ignore".into(),
        }
    }
}

/// The terminal summary.
pub fn terminal(ops: &BTreeMap<String, OpReport>) -> String {
    terminal_as(ops, &Sides::default())
}

/// The terminal summary, with the sides called as `sides` says.
pub fn terminal_as(ops: &BTreeMap<String, OpReport>, sides: &Sides) -> String {
    let mut out = String::new();
    let (legacy_col, new_col) =
        (format!("{} p50/p99", sides.legacy.to_uppercase()), format!("{} p50/p99", sides.new.to_uppercase()));
    let (lw, nw) = (legacy_col.len().max(14), new_col.len().max(14));
    let _ = writeln!(
        out,
        "{:<10} {:>9} {:>9} {:>8} {:>7}  {:>lw$}  {:>nw$}",
        "OP", "COMPARED", "MATCHED", "RATE", "ERRORS", legacy_col, new_col
    );
    for (name, op) in ops {
        let lat = |v: &[f64]| format!("{:.1}/{:.1} ms", percentile(v, 0.5), percentile(v, 0.99));
        let legacy_lat = if sides.legacy_timed { lat(&op.legacy_ms) } else { "-".into() };
        let _ = writeln!(
            out,
            "{:<10} {:>9} {:>9} {:>8} {:>7}  {:>lw$}  {:>nw$}",
            name,
            op.compared,
            op.matched,
            rate_text(op),
            op.errors,
            legacy_lat,
            lat(&op.new_ms)
        );
        let (noise, findings): (Vec<&FieldReport>, Vec<&FieldReport>) =
            op.fields.iter().partition(|f| f.class.is_noise());
        if !findings.is_empty() {
            let _ = writeln!(out, "  {}:", sides.findings);
        }
        for f in findings.iter().take(FIELDS_SHOWN) {
            let delta = f.delta.as_deref().map(|d| format!(", {d}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "    {:<32} differs in {} message(s): {}{delta}",
                field_name(&f.field),
                f.mismatches,
                f.class.name()
            );
            let _ = writeln!(out, "      {}", f.why);
            for e in f.examples.iter().take(2) {
                let _ = writeln!(
                    out,
                    "      e.g. message {} (request {}) {}: {} {}  {} {}",
                    e.id.as_deref().unwrap_or("-"),
                    e.key.as_deref().unwrap_or("-"),
                    field_name(&e.path),
                    sides.primary_of(e.id.as_deref()),
                    show(&e.primary),
                    sides.shadow,
                    show(&e.shadow)
                );
            }
        }
        if findings.len() > FIELDS_SHOWN {
            let _ = writeln!(out, "    … and {} more field(s)", findings.len() - FIELDS_SHOWN);
        }
        if !noise.is_empty() {
            let _ = writeln!(out, "  likely noise — the primary itself varies for the same request:");
        }
        for f in &noise {
            let suggest = f.suggest().unwrap_or_default();
            let _ = writeln!(out, "    {:<32} differs in {} message(s): {suggest}", field_name(&f.field), f.mismatches);
            let _ = writeln!(out, "      {}", f.why);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shadow::compare::FieldDiff;

    fn rec(t: f64, result: &str, diffs: Vec<FieldDiff>) -> ShadowRecord {
        ShadowRecord {
            time: t,
            op: "ACCTINQ".into(),
            id: Some(format!("{t}")),
            channel: None,
            result: result.into(),
            primary: "legacy".into(),
            shadow: "accounts".into(),
            legacy_ms: Some(1.0),
            new_ms: Some(3.0),
            diffs,
            error: None,
            key: None,
            primary_is_legacy: Some(true),
        }
    }

    #[test]
    fn aggregates_and_renders() {
        let d = FieldDiff { path: "BALANCE".into(), legacy: Value::from(1), new: Value::from(2) };
        let records = vec![
            rec(1.0, "match", vec![]),
            rec(2.0, "mismatch", vec![d]),
            rec(3.0, "match", vec![]),
            rec(4.0, "error", vec![]),
        ];
        let ops = build(&records);
        let op = &ops["ACCTINQ"];
        assert_eq!((op.compared, op.matched, op.errors), (3, 2, 1));
        assert_eq!(op.top_fields, vec![("BALANCE".to_string(), 1)]);
        let text = terminal(&ops);
        assert!(text.contains("ACCTINQ") && text.contains("66.67%") && text.contains("BALANCE"), "{text}");
        let page = html(&ops, &[PathBuf::from("shadow.jsonl")]);
        assert!(page.contains("<svg") && page.contains("<code>BALANCE</code>") && !page.contains("<script"));
    }

    #[test]
    fn a_consistent_balance_error_is_a_finding_and_a_moving_clock_is_noise() {
        let num = crate::codec::json::number_value;
        let mut records = Vec::new();
        let mut clock = 20260616101010u64;
        for round in 0..5 {
            for account in 1..=4u64 {
                clock += 1;
                let balance = format!("{}.00", account * 100);
                let plus = format!("{}.01", account * 100);
                let mut r = rec(
                    (round * 4 + account) as f64,
                    "mismatch",
                    vec![
                        FieldDiff {
                            path: "HDR-TIMESTAMP".into(),
                            legacy: Value::from(clock),
                            new: Value::from(19990101000000u64),
                        },
                        FieldDiff { path: "BALANCE".into(), legacy: num(&balance), new: num(&plus) },
                    ],
                );
                r.key = Some(format!("{:016x}", account * 0x1111));
                records.push(r);
            }
        }
        // Records go through JSON as they do on disk.
        let records: Vec<ShadowRecord> =
            records.iter().map(|r| serde_json::from_str(&serde_json::to_string(r).unwrap()).unwrap()).collect();
        let ops = build(&records);
        let fields = &ops["ACCTINQ"].fields;
        let balance = fields.iter().find(|f| f.field == "BALANCE").unwrap();
        assert!(!balance.class.is_noise() && balance.suggest().is_none(), "{balance:?}");
        assert_eq!(balance.delta.as_deref(), Some("always +0.01"));
        let clock = fields.iter().find(|f| f.field == "HDR-TIMESTAMP").unwrap();
        assert!(clock.class.is_noise(), "{clock:?}");
        let text = terminal(&ops);
        assert!(text.contains("always +0.01") && text.contains("ignore = [\"HDR-TIMESTAMP\"]"), "{text}");
        assert!(!text.contains("ignore = [\"BALANCE\"]"), "{text}");
        let page = html(&ops, &[PathBuf::from("shadow.jsonl")]);
        assert!(page.contains("finding: consistent") && page.contains("always +0.01"), "{page}");
        assert!(!page.contains("ignore = [&quot;BALANCE&quot;]"));
    }
}
