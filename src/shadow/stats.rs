//! Per-operation shadow counters for the admin API: compared, matched, mismatched, dropped,
//! shadow errors, latency of both sides, the fields that differ most, and which of those look
//! like noise (they differ on most messages, whatever the input — timestamps, sequence numbers).

use super::compare::FieldDiff;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// A field counts as likely noise when it differs on at least this share of compared messages…
pub const NOISE_SHARE: f64 = 0.5;
/// …over at least this many compared messages.
pub const NOISE_MIN_COMPARED: u64 = 10;

/// What happened to one shadowed message.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Both replied; these fields differ (empty: a match).
    Compared {
        /// The differences.
        diffs: Vec<FieldDiff>,
        /// Primary latency, seconds.
        primary_secs: f64,
        /// Shadow latency, seconds.
        shadow_secs: f64,
    },
    /// The shadow failed or timed out.
    ShadowError(String),
    /// Dropped: too many shadows in flight.
    Dropped,
}

#[derive(Default, Clone)]
struct OpStats {
    compared: u64,
    matched: u64,
    mismatched: u64,
    dropped: u64,
    errors: u64,
    primary_secs: f64,
    shadow_secs: f64,
    fields: HashMap<String, u64>,
}

/// Counters for every shadowed operation.
#[derive(Default)]
pub struct ShadowStats {
    ops: Mutex<BTreeMap<String, OpStats>>,
}

/// `TXN-ROW[3].TXN-TIME` → `TXN-ROW[*].TXN-TIME`: one counter per field, not per element.
pub fn generalise(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
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
    out
}

impl ShadowStats {
    /// Counts one outcome for `op`.
    pub fn record(&self, op: &str, outcome: &Outcome) {
        let Ok(mut ops) = self.ops.lock() else { return };
        // Look up before inserting: this runs for every dropped shadow, so no allocation then.
        if !ops.contains_key(op) {
            ops.insert(op.to_string(), OpStats::default());
        }
        let Some(s) = ops.get_mut(op) else { return };
        match outcome {
            Outcome::Dropped => s.dropped += 1,
            Outcome::ShadowError(_) => s.errors += 1,
            Outcome::Compared { diffs, primary_secs, shadow_secs } => {
                s.compared += 1;
                s.primary_secs += primary_secs;
                s.shadow_secs += shadow_secs;
                if diffs.is_empty() {
                    s.matched += 1;
                } else {
                    s.mismatched += 1;
                    let mut seen: Vec<String> = diffs.iter().map(|d| generalise(&d.path)).collect();
                    seen.sort();
                    seen.dedup();
                    for f in seen {
                        *s.fields.entry(f).or_default() += 1;
                    }
                }
            }
        }
    }

    /// Everything as JSON, per operation (for `GET /shadow`).
    pub fn to_json(&self) -> Value {
        let ops = self.ops.lock().map(|o| o.clone()).unwrap_or_default();
        let per_op: serde_json::Map<String, Value> = ops.iter().map(|(op, s)| (op.clone(), op_json(s))).collect();
        json!({ "operations": per_op })
    }
}

fn op_json(s: &OpStats) -> Value {
    let mut fields: Vec<(&String, &u64)> = s.fields.iter().collect();
    fields.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let top: Vec<Value> = fields.iter().take(10).map(|(f, n)| json!({ "field": f, "mismatches": n })).collect();
    let noise: Vec<Value> = fields
        .iter()
        .filter(|(_, n)| s.compared >= NOISE_MIN_COMPARED && **n as f64 >= NOISE_SHARE * s.compared as f64)
        .map(|(f, n)| json!({ "field": f, "share": **n as f64 / s.compared as f64, "suggest": format!("ignore = [\"{f}\"]") }))
        .collect();
    let avg = |sum: f64| if s.compared > 0 { sum / s.compared as f64 * 1000.0 } else { 0.0 };
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
        "likely_noise": noise,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff(path: &str) -> FieldDiff {
        FieldDiff { path: path.into(), legacy: Value::from(1), new: Value::from(2) }
    }

    #[test]
    fn counts_top_fields_and_flags_noise() {
        let stats = ShadowStats::default();
        for i in 0..20 {
            let mut diffs = vec![diff("HDR-TIMESTAMP")];
            if i % 5 == 0 {
                diffs.push(diff(&format!("TXN-ROW[{i}].TXN-AMT")));
            }
            stats.record("TXNHIST", &Outcome::Compared { diffs, primary_secs: 0.001, shadow_secs: 0.002 });
        }
        stats.record("TXNHIST", &Outcome::Dropped);
        stats.record("TXNHIST", &Outcome::ShadowError("timeout".into()));
        let j = stats.to_json();
        let op = &j["operations"]["TXNHIST"];
        assert_eq!(
            (op["compared"].as_u64(), op["mismatched"].as_u64(), op["dropped"].as_u64()),
            (Some(20), Some(20), Some(1))
        );
        assert_eq!(op["top_fields"][0]["field"], "HDR-TIMESTAMP");
        assert_eq!(op["top_fields"][1]["field"], "TXN-ROW[*].TXN-AMT");
        assert_eq!(op["top_fields"][1]["mismatches"], 4);
        let noise = op["likely_noise"].as_array().unwrap();
        assert_eq!(noise.len(), 1, "only the timestamp differs on most messages: {noise:?}");
        assert_eq!(noise[0]["suggest"], "ignore = [\"HDR-TIMESTAMP\"]");
    }
}
