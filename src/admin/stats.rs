//! `GET /stats`: what the dashboard shows per operation — traffic, error rate and p99 per side
//! (legacy / new) over the last half minute — and per channel (messages, errors, conversion
//! errors), derived from the Prometheus recorder, so the dashboard and Prometheus never disagree.
//!
//! Each call renders the recorder, keeps a timestamped snapshot (bounded: at most one a second,
//! for a minute) and compares with the oldest snapshot of the window. Like the counters, the
//! snapshots are per process. This is not on the message path.

use super::metrics::{installed_at, parse_sample, render_raw};
use crate::route::RouteTable;
use crate::upstream::Upstream;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Rates and p99 are computed over at most this much history.
const WINDOW: Duration = Duration::from_secs(30);
/// Snapshots closer together than this are not kept.
const MIN_GAP: Duration = Duration::from_secs(1);
/// Most snapshots kept.
const MAX_SNAPSHOTS: usize = 64;

/// Counts of one side (legacy or new) of one operation, cumulative since process start.
#[derive(Clone, Debug, Default)]
struct Side {
    messages: f64,
    /// Errors, when `ficus_messages_total` carries an `outcome` label.
    errors: Option<f64>,
    /// Cumulative histogram buckets: upper bound (seconds) → count.
    buckets: BTreeMap<u64, f64>,
    targets: Vec<String>,
}

/// Cumulative counts of one operation.
#[derive(Clone, Debug, Default)]
struct Op {
    messages: f64,
    errors: f64,
    /// Duplicates answered from the journal (`ficus_duplicates_total`).
    duplicates: f64,
    sides: BTreeMap<&'static str, Side>,
}

/// Cumulative counts of one channel (`ficus_channel_messages_total`,
/// `ficus_conversion_errors_total`).
#[derive(Clone, Debug, Default)]
struct Channel {
    messages: f64,
    errors: f64,
    conversion_errors: f64,
}

#[derive(Clone, Debug)]
struct Snapshot {
    at: Instant,
    ops: BTreeMap<String, Op>,
    channels: BTreeMap<String, Channel>,
}

static HISTORY: Mutex<VecDeque<Snapshot>> = Mutex::new(VecDeque::new());

/// Which side an upstream is on, by its kind in `table`.
fn side_of(table: &RouteTable, target: &str) -> &'static str {
    match table.upstreams.get(target) {
        Some(e) if !e.upstream.is_bytes() => "new",
        _ => "legacy",
    }
}

fn label<'a>(labels: &'a [(String, String)], key: &str) -> Option<&'a str> {
    labels.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Reads the per-operation counts out of a text exposition.
fn snapshot(text: &str, table: &RouteTable, at: Instant) -> Snapshot {
    let mut ops: BTreeMap<String, Op> = BTreeMap::new();
    let mut channels: BTreeMap<String, Channel> = BTreeMap::new();
    for (name, labels, value) in text.lines().filter_map(parse_sample) {
        if let ("ficus_channel_messages_total" | "ficus_conversion_errors_total", Some(channel)) =
            (name, label(&labels, "channel"))
        {
            let entry = channels.entry(channel.to_string()).or_default();
            match name {
                "ficus_conversion_errors_total" => entry.conversion_errors += value,
                _ => {
                    entry.messages += value;
                    if label(&labels, "outcome") != Some("ok") {
                        entry.errors += value;
                    }
                }
            }
            continue;
        }
        let Some(op) = label(&labels, "op") else { continue };
        let entry = ops.entry(op.to_string()).or_default();
        match name {
            "ficus_message_outcomes_total" => {
                entry.messages += value;
                if label(&labels, "outcome") != Some("ok") {
                    entry.errors += value;
                }
            }
            "ficus_duplicates_total" => entry.duplicates += value,
            "ficus_messages_total" | "ficus_message_seconds_bucket" => {
                let Some(target) = label(&labels, "target") else { continue };
                let side = entry.sides.entry(side_of(table, target)).or_default();
                if !side.targets.iter().any(|t| t == target) {
                    side.targets.push(target.to_string());
                }
                if name == "ficus_messages_total" {
                    side.messages += value;
                    if let Some(outcome) = label(&labels, "outcome") {
                        *side.errors.get_or_insert(0.0) += if outcome == "ok" { 0.0 } else { value };
                    }
                } else if let Some(le) = label(&labels, "le") {
                    let bound = le.parse::<f64>().unwrap_or(f64::INFINITY);
                    *side.buckets.entry(bound.to_bits()).or_default() += value;
                }
            }
            _ => {}
        }
    }
    Snapshot { at, ops, channels }
}

/// The latency below which `q` of the samples fall, interpolated within a bucket as
/// Prometheus' `histogram_quantile` does; `None` without samples.
fn quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    let total = buckets.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let (mut lower, mut below) = (0.0, 0.0);
    for &(bound, count) in buckets {
        if count >= rank {
            if bound.is_infinite() {
                return Some(lower);
            }
            let share = if count > below { (rank - below) / (count - below) } else { 1.0 };
            return Some(lower + (bound - lower) * share);
        }
        (lower, below) = (bound, count);
    }
    Some(lower)
}

/// Bucket deltas between two cumulative sets, sorted by bound.
fn bucket_delta(now: &BTreeMap<u64, f64>, then: Option<&BTreeMap<u64, f64>>) -> Vec<(f64, f64)> {
    let mut v: Vec<(f64, f64)> = now
        .iter()
        .map(|(b, c)| (f64::from_bits(*b), c - then.and_then(|t| t.get(b)).copied().unwrap_or(0.0)))
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v
}

fn ratio(part: f64, whole: f64) -> Value {
    if whole > 0.0 {
        json!(part / whole)
    } else {
        Value::Null
    }
}

fn side_json(now: &Side, then: Option<&Side>, secs: Option<f64>) -> Value {
    let delta = now.messages - then.map_or(0.0, |t| t.messages);
    let errors = now.errors.map(|e| e - then.and_then(|t| t.errors).unwrap_or(0.0));
    let p99 = secs.and_then(|_| quantile(0.99, &bucket_delta(&now.buckets, then.map(|t| &t.buckets))));
    json!({
        "targets": now.targets,
        "total": now.messages,
        "rate": secs.map(|s| delta / s),
        "error_rate": errors.map_or(Value::Null, |e| ratio(e, delta)),
        "p99_ms": p99.map(|s| s * 1000.0),
    })
}

/// The `/stats` document for `table`'s gateway (per process), or `None` if metrics are off.
pub fn stats(table: &RouteTable) -> Option<Value> {
    let text = render_raw()?;
    let now = Instant::now();
    let current = snapshot(&text, table, now);
    let mut history = HISTORY.lock().unwrap_or_else(|p| p.into_inner());
    while history.front().is_some_and(|s| now.duration_since(s.at) > WINDOW * 2) || history.len() >= MAX_SNAPSHOTS {
        history.pop_front();
    }
    // The oldest snapshot of the window; before there is one (the dashboard's first load), the
    // moment the recorder was installed, when every counter was zero: rates are then over the
    // whole uptime, and `window_seconds` says how long that is.
    // A snapshot under half a second old gives too short a window to mean anything; the
    // install moment always gives exact counts, however recent.
    let min_window = |at: Instant| now.duration_since(at) >= MIN_GAP / 2;
    let base = history
        .iter()
        .find(|s| now.duration_since(s.at) <= WINDOW && min_window(s.at))
        .cloned()
        .or_else(|| installed_at().map(|at| Snapshot { at, ops: BTreeMap::new(), channels: BTreeMap::new() }));
    if history.back().is_none_or(|s| now.duration_since(s.at) >= MIN_GAP) {
        history.push_back(current.clone());
    }
    drop(history);
    let secs = base.as_ref().map(|b| now.duration_since(b.at).as_secs_f64()).filter(|s| *s > 0.0);
    let base = base.filter(|_| secs.is_some());
    let mut ops = Map::new();
    for (name, op) in &current.ops {
        let then = base.as_ref().and_then(|b| b.ops.get(name));
        let delta = op.messages - then.map_or(0.0, |t| t.messages);
        let errors = op.errors - then.map_or(0.0, |t| t.errors);
        let sides: Map<String, Value> = op
            .sides
            .iter()
            .map(|(side, s)| (side.to_string(), side_json(s, then.and_then(|t| t.sides.get(side)), secs)))
            .collect();
        ops.insert(
            name.clone(),
            json!({
                "total": op.messages,
                "errors": op.errors,
                "duplicates": op.duplicates,
                "rate": secs.map(|s| delta / s),
                "error_rate": ratio(errors, delta),
                "sides": sides,
            }),
        );
    }
    let upstreams: Map<String, Value> = table
        .upstreams
        .iter()
        .map(|(name, e)| {
            let pool = match &e.upstream {
                Upstream::Tcp(p) => json!({ "in_use": p.in_use(), "idle": p.idle_count() }),
                Upstream::TcpAsync(l) => {
                    let (waiting, held) = l.outstanding();
                    json!({ "waiting": waiting, "held_keys": held, "send_up": l.send_up(), "receive_up": l.receive_up() })
                }
                _ => Value::Null,
            };
            (name.clone(), json!({ "side": side_of(table, name), "kind": e.settings.kind, "pool": pool }))
        })
        .collect();
    Some(json!({
        "generation": table.generation,
        "window_seconds": secs,
        "ops": ops,
        "channels": channels_json(table, &current, base.as_ref(), secs),
        "upstreams": upstreams,
    }))
}

/// Every channel of `table` (the default one first, then `[[channels]]` in the file's order),
/// with its code page and its counts; a channel that has seen nothing yet shows zeros.
fn channels_json(table: &RouteTable, now: &Snapshot, base: Option<&Snapshot>, secs: Option<f64>) -> Value {
    let rows: Vec<Value> = table
        .channels
        .iter()
        .map(|plan| {
            let name: &str = &plan.name;
            let c = now.channels.get(name).cloned().unwrap_or_default();
            let then = base.and_then(|b| b.channels.get(name));
            let delta = c.messages - then.map_or(0.0, |t| t.messages);
            json!({
                "name": name,
                "codepage": plan.codepage.name(),
                "converting": plan.conversion.is_some(),
                "messages": c.messages,
                "errors": c.errors,
                "conversion_errors": c.conversion_errors,
                "rate": secs.map(|s| delta / s),
            })
        })
        .collect();
    Value::Array(rows)
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantile_interpolates_within_the_bucket() {
        let b = [(0.001, 0.0), (0.01, 50.0), (0.1, 100.0), (f64::INFINITY, 100.0)];
        let p50 = quantile(0.5, &b).unwrap();
        assert!((p50 - 0.01).abs() < 1e-12, "{p50}");
        let p99 = quantile(0.99, &b).unwrap();
        assert!((p99 - 0.0982).abs() < 1e-9, "{p99}");
        assert_eq!(quantile(0.99, &[(0.1, 0.0), (f64::INFINITY, 0.0)]), None);
        assert_eq!(quantile(0.99, &[(0.1, 0.0), (f64::INFINITY, 4.0)]), Some(0.1), "overflow → top bound");
    }
}
