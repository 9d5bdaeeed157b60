//! Per-operation shadow counters for the admin API: compared, matched, mismatched, dropped,
//! shadow errors, latency of both sides, the fields that differ most — and, for each differing
//! field, whether it is noise (the primary itself answers the same request differently: a
//! clock, a sequence number — safe to `ignore`) or a finding (a difference that repeats for the
//! same request, with examples and numeric deltas — never to be ignored). `noise` decides.

use super::compare::FieldDiff;
use super::noise::{FieldReport, FieldTrack, Observation};
use super::window::{self, Recent};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// Differing fields classified per operation, at most; differences in further fields are only
/// counted (as unclassified), so memory stays bounded whatever the replies hold.
pub const MAX_FIELDS: usize = 256;
/// Fields listed in `top_fields`.
const TOP: usize = 10;

/// What happened to one shadowed message.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Both replied; these fields differ (empty: a match).
    Compared {
        /// The differences (values of masked fields already hashed, as in the records).
        diffs: Vec<FieldDiff>,
        /// Primary latency, seconds.
        primary_secs: f64,
        /// Shadow latency, seconds.
        shadow_secs: f64,
        /// The primary (who answered the channel) is the legacy side of each diff.
        primary_is_legacy: bool,
        /// For a mismatch: the request's key, equal for the same request asked again.
        key: Option<u64>,
        /// For a mismatch: the message id, for examples.
        id: Option<String>,
    },
    /// The shadow failed or timed out.
    ShadowError(String),
    /// Dropped: too many shadows in flight.
    Dropped,
}

#[derive(Default)]
struct OpStats {
    compared: u64,
    matched: u64,
    mismatched: u64,
    dropped: u64,
    errors: u64,
    primary_secs: f64,
    shadow_secs: f64,
    fields: HashMap<String, FieldTrack>,
    unclassified: u64,
    recent: Recent,
}

/// Counters for every shadowed operation.
#[derive(Default)]
pub struct ShadowStats {
    ops: Mutex<BTreeMap<String, OpStats>>,
}

/// `TXN-ROW[3].TXN-TIME` → `TXN-ROW[*].TXN-TIME`: one counter per field, not per element.
pub fn generalise(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    generalise_into(path, &mut out);
    out
}

/// [`generalise`] into `out` (cleared first), reusing its allocation.
pub fn generalise_into(path: &str, out: &mut String) {
    out.clear();
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push_str("[*");
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            _ => out.push(c),
        }
    }
}

impl ShadowStats {
    /// Counts one outcome for `op`.
    pub fn record(&self, op: &str, outcome: &Outcome) {
        self.record_at(op, outcome, Some(window::now_secs()));
    }

    /// Counts one outcome for `op` that happened at `at` ([`window::now_secs`] time; `None`:
    /// before the recent window, so it counts only in the totals).
    pub fn record_at(&self, op: &str, outcome: &Outcome, at: Option<u64>) {
        let Ok(mut ops) = self.ops.lock() else { return };
        // Look up before inserting: this runs for every dropped shadow, so no allocation then.
        if !ops.contains_key(op) {
            ops.insert(op.to_string(), OpStats::default());
        }
        let Some(s) = ops.get_mut(op) else { return };
        match outcome {
            Outcome::Dropped => s.dropped += 1,
            Outcome::ShadowError(_) => s.errors += 1,
            Outcome::Compared { diffs, primary_secs, shadow_secs, primary_is_legacy, key, id } => {
                s.compared += 1;
                if let Some(at) = at {
                    s.recent.add(at, diffs.is_empty());
                }
                s.primary_secs += primary_secs;
                s.shadow_secs += shadow_secs;
                if diffs.is_empty() {
                    s.matched += 1;
                } else {
                    s.mismatched += 1;
                    let serial = s.mismatched;
                    let mut field = String::new();
                    for d in diffs {
                        generalise_into(&d.path, &mut field);
                        if !s.fields.contains_key(field.as_str()) {
                            if s.fields.len() >= MAX_FIELDS {
                                s.unclassified += 1;
                                continue;
                            }
                            s.fields.insert(field.clone(), FieldTrack::new(&field));
                        }
                        let Some(track) = s.fields.get_mut(field.as_str()) else { continue };
                        track.count_message(serial);
                        let (primary, shadow) =
                            if *primary_is_legacy { (&d.legacy, &d.new) } else { (&d.new, &d.legacy) };
                        track.observe(&Observation { key: *key, path: &d.path, primary, shadow, id: id.as_deref() });
                    }
                }
            }
        }
    }

    /// Every differing field of `op` with its verdict, most mismatches first.
    pub fn field_reports(&self, op: &str) -> Vec<FieldReport> {
        let Ok(ops) = self.ops.lock() else { return Vec::new() };
        ops.get(op).map(reports).unwrap_or_default()
    }

    /// Cumulative (compared, matched) per operation, for the dashboard's history sampler.
    pub fn totals(&self) -> Vec<(String, u64, u64)> {
        let Ok(ops) = self.ops.lock() else { return Vec::new() };
        ops.iter().map(|(op, s)| (op.clone(), s.compared, s.matched)).collect()
    }

    /// Everything as JSON, per operation (for `GET /shadow`).
    pub fn to_json(&self) -> Value {
        let Ok(ops) = self.ops.lock() else { return json!({ "operations": {} }) };
        let per_op: serde_json::Map<String, Value> = ops.iter().map(|(op, s)| (op.clone(), op_json(s))).collect();
        json!({ "operations": per_op })
    }
}

fn reports(s: &OpStats) -> Vec<FieldReport> {
    let mut all: Vec<FieldReport> = s.fields.iter().map(|(f, t)| t.report(f)).collect();
    all.sort_by(|a, b| b.mismatches.cmp(&a.mismatches).then(a.field.cmp(&b.field)));
    all
}

fn op_json(s: &OpStats) -> Value {
    let fields = reports(s);
    let top: Vec<Value> =
        fields.iter().take(TOP).map(|f| json!({ "field": f.field, "mismatches": f.mismatches })).collect();
    let (noise, findings): (Vec<&FieldReport>, Vec<&FieldReport>) = fields.iter().partition(|f| f.class.is_noise());
    let avg = |sum: f64| if s.compared > 0 { sum / s.compared as f64 * 1000.0 } else { 0.0 };
    let recent = s.recent.totals(window::now_secs());
    json!({
        "compared": s.compared,
        "matched": s.matched,
        "mismatched": s.mismatched,
        "dropped": s.dropped,
        "shadow_errors": s.errors,
        "match_rate": if s.compared > 0 { s.matched as f64 / s.compared as f64 } else { 0.0 },
        "primary_ms_avg": avg(s.primary_secs),
        "shadow_ms_avg": avg(s.shadow_secs),
        "top_fields": top,
        "likely_noise": noise.iter().map(|f| f.to_json(s.compared)).collect::<Vec<_>>(),
        "findings": findings.iter().map(|f| f.to_json(s.compared)).collect::<Vec<_>>(),
        "unclassified_differences": s.unclassified,
        "recent": {
            "window_seconds": window::WINDOW_SECS,
            "compared": recent.compared,
            "matched": recent.matched,
            "mismatched": recent.compared - recent.matched,
            "match_rate": if recent.compared > 0 { Value::from(recent.matched as f64 / recent.compared as f64) } else { Value::Null },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff(path: &str, legacy: Value, new: Value) -> FieldDiff {
        FieldDiff { path: path.into(), legacy, new }
    }

    fn compared(diffs: Vec<FieldDiff>, key: u64) -> Outcome {
        Outcome::Compared {
            diffs,
            primary_secs: 0.001,
            shadow_secs: 0.002,
            primary_is_legacy: true,
            key: Some(key),
            id: Some(format!("{key:010}")),
        }
    }

    #[test]
    fn counts_top_fields_and_tells_noise_from_findings() {
        let stats = ShadowStats::default();
        for i in 0..20u64 {
            // The host's clock moves on every call; the shadow's amount in row 0 is always 0.01 high.
            let mut diffs = vec![diff("HDR-TIMESTAMP", json!(20260616101010u64 + i), json!(19990101000000u64))];
            if i % 5 == 0 {
                diffs.push(diff("TXN-ROW[0].TXN-AMT", json!(1), json!(2)));
            }
            stats.record("TXNHIST", &compared(diffs, i % 4));
        }
        stats.record("TXNHIST", &Outcome::Dropped);
        stats.record("TXNHIST", &Outcome::ShadowError("timeout".into()));
        let j = stats.to_json();
        let op = &j["operations"]["TXNHIST"];
        assert_eq!(
            (op["compared"].as_u64(), op["mismatched"].as_u64(), op["dropped"].as_u64()),
            (Some(20), Some(20), Some(1))
        );
        assert_eq!(op["recent"]["compared"], 20, "all within the last five minutes");
        assert_eq!(op["recent"]["mismatched"], 20);
        assert_eq!(op["top_fields"][0]["field"], "HDR-TIMESTAMP");
        assert_eq!(op["top_fields"][1]["field"], "TXN-ROW[*].TXN-AMT");
        assert_eq!(op["top_fields"][1]["mismatches"], 4);
        let noise = op["likely_noise"].as_array().unwrap();
        assert_eq!(noise.len(), 1, "only the clock varies for the same request: {noise:?}");
        assert_eq!(noise[0]["suggest"], "ignore = [\"HDR-TIMESTAMP\"]");
        assert_eq!(op["findings"][0]["field"], "TXN-ROW[*].TXN-AMT");
        assert_eq!(op["findings"][0]["kind"], "consistent");
        assert_eq!(op["findings"][0]["delta"]["summary"], "always +1");
        assert!(op["findings"][0].get("suggest").is_none());
    }

    #[test]
    fn a_reverse_shadow_takes_the_new_side_as_primary() {
        let stats = ShadowStats::default();
        for i in 0..8u64 {
            let mut o = compared(vec![diff("BALANCE", json!(10), json!(12))], i % 2);
            if let Outcome::Compared { primary_is_legacy, .. } = &mut o {
                *primary_is_legacy = false;
            }
            stats.record("ACCTINQ", &o);
        }
        let f = &stats.field_reports("ACCTINQ")[0];
        assert_eq!(f.delta.as_deref(), Some("always -2"), "shadow (legacy) minus primary (new)");
    }

    #[test]
    fn fields_beyond_the_cap_are_counted_not_classified() {
        let stats = ShadowStats::default();
        let diffs: Vec<FieldDiff> = (0..MAX_FIELDS + 5).map(|i| diff(&format!("F{i}"), json!(1), json!(2))).collect();
        stats.record("BIG", &compared(diffs, 1));
        let j = stats.to_json();
        assert_eq!(j["operations"]["BIG"]["unclassified_differences"], 5);
        assert_eq!(stats.field_reports("BIG").len(), MAX_FIELDS);
    }
}
