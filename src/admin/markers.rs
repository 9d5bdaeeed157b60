//! Markers for the dashboard's time axis: every applied change of an operation's route (a flip,
//! a rollback, a canary change, anything else), every owner move, and every rejected reload or
//! refused change — each with its time and who made it.
//!
//! Applied changes come from the audit log (`routes.audit.jsonl`), rejections from the
//! reloader's memory ([`crate::control::rejections`]). Read only when `/history` is asked for.

use crate::control::audit::AuditEntry;
use crate::control::reload::Reloader;
use crate::route::RouteTable;
use serde_json::{json, Value};

/// Audit entries read back for markers (an hour of changes is far fewer).
const AUDIT_READ: usize = 1000;

/// The side an upstream named in a route is on, by the running table (unknown: `None`).
fn is_legacy(table: &RouteTable, name: &str) -> Option<bool> {
    table.upstreams.get(name).map(|e| e.upstream.is_bytes())
}

/// What one route change was, and its label: `flip` (its target moved to a new service),
/// `rollback` (back to the legacy host), `canary` (the canary's share or target), or `change`.
pub fn classify(table: &RouteTable, before: &Value, after: &Value) -> (&'static str, String) {
    let target = |v: &Value| v.get("target").and_then(Value::as_str).map(String::from);
    let (was, now) = (target(before), target(after));
    match (&was, &now) {
        (Some(a), Some(b)) if a != b => {
            return match is_legacy(table, b) {
                Some(true) => ("rollback", format!("rollback → {b}")),
                _ => ("flip", format!("flip → {b}")),
            };
        }
        (None, Some(b)) => return ("change", format!("route added → {b}")),
        (Some(_), None) => return ("change", "route removed".into()),
        _ => {}
    }
    let canary = |v: &Value| v.get("canary").filter(|c| !c.is_null()).cloned();
    if canary(before) != canary(after) {
        return match canary(after) {
            Some(c) => {
                let percent = c["percent"].as_f64().map_or_else(|| "?".to_string(), |p| p.to_string());
                ("canary", format!("canary {percent}% → {}", c["to"].as_str().unwrap_or("?")))
            }
            None => ("canary", "canary off".into()),
        };
    }
    let enabled = |v: &Value| v.get("enabled").and_then(Value::as_bool).unwrap_or(true);
    if enabled(before) != enabled(after) {
        return ("change", if enabled(after) { "enabled" } else { "disabled" }.into());
    }
    let keys: Vec<String> = match (before.as_object(), after.as_object()) {
        (Some(b), Some(a)) => a
            .keys()
            .chain(b.keys())
            .filter(|k| a.get(*k) != b.get(*k))
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect(),
        _ => Vec::new(),
    };
    ("change", if keys.is_empty() { "changed".into() } else { format!("changed {}", keys.join(", ")) })
}

/// The markers of one audit entry for `op`.
fn from_entry(table: &RouteTable, op: &str, e: &AuditEntry) -> Vec<Value> {
    let marker = |kind: &str, label: String| json!({ "time": e.time, "kind": kind, "label": label, "who": e.who, "source": e.source, "generation": e.generation });
    if let Some(o) = &e.owners {
        let rollback = o["rollback"].as_bool().unwrap_or(false);
        let label = if rollback {
            format!("owners: {} account(s) rolled back", o["moved"])
        } else {
            format!("owners: {} account(s) → {}", o["moved"], o["to"].as_str().unwrap_or("?"))
        };
        return vec![marker(if rollback { "rollback" } else { "owners" }, label)];
    }
    e.changes
        .iter()
        .filter(|c| c["op"].as_str() == Some(op))
        .map(|c| {
            let (kind, label) = classify(table, &c["before"], &c["after"]);
            marker(kind, label)
        })
        .collect()
}

/// Most characters of a rejection's reason in its label (the whole reason is in `error`).
const REASON_CHARS: usize = 60;

/// `rejected: ` and the start of the reason's first line.
fn rejected_label(error: &str) -> String {
    let line = error.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    // `/path/to/routes.toml: routes.X.canary …`: the path says nothing on a chart.
    let line = match line.split_once(": ") {
        Some((path, rest)) if path.ends_with(".toml") => rest,
        _ => line,
    };
    let mut short: String = line.chars().take(REASON_CHARS).collect();
    if line.chars().count() > REASON_CHARS {
        short.push('…');
    }
    format!("rejected: {short}")
}

/// Every marker for `op` at or after `since` (Unix seconds), oldest first.
pub fn markers(reloader: &Reloader, table: &RouteTable, op: &str, since: u64) -> Vec<Value> {
    let mut all: Vec<Value> = reloader
        .audit()
        .recent(AUDIT_READ)
        .iter()
        .filter(|e| e.time >= since)
        .flat_map(|e| from_entry(table, op, e))
        .collect();
    for r in reloader.rejections().since(since) {
        all.push(json!({
            "time": r.time, "kind": "rejected", "label": rejected_label(&r.error), "who": r.who, "source": r.source,
            "error": r.error,
        }));
    }
    all.sort_by_key(|m| m["time"].as_u64().unwrap_or(0));
    all
}
