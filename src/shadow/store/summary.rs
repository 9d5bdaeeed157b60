//! `GET /shadow` over the store: every replica's comparison records counted and classified by
//! the same `stats` the live counters use, with where they came from (the store, which
//! replicas) and this replica's writer counters (rows written, dropped, the last failure).

use super::{Kind, Loaded, StoreWriter};
use crate::shadow::record::ShadowRecord;
use crate::shadow::stats::{Outcome, ShadowStats};
use crate::shadow::window;
use serde_json::{json, Value};

/// Counters as the live ones would be had they seen every record: `error` records as shadow
/// errors, the rest compared; those of the last five minutes also in `recent`.
pub fn stats_of(records: &[ShadowRecord]) -> ShadowStats {
    let stats = ShadowStats::default();
    let (wall, now) = (crate::shadow::mirror::now_secs(), window::now_secs());
    for r in records {
        let age = (wall - r.time).max(0.0) as u64;
        let at = (age < window::WINDOW_SECS).then(|| now.saturating_sub(age));
        let outcome = if r.result == "error" {
            Outcome::ShadowError(r.error.clone().unwrap_or_default())
        } else {
            crate::shadow::report::outcome(r)
        };
        stats.record_at(&r.op, &outcome, at);
    }
    stats
}

/// This replica's writer: its name, rows written and dropped per kind, the last failure.
pub fn writer_json(w: &StoreWriter) -> Value {
    let c = w.counters();
    let per = |f: &dyn Fn(Kind) -> u64| json!({ "comparisons": f(Kind::Comparison), "captures": f(Kind::Capture) });
    json!({
        "replica": w.replica(),
        "written": per(&|k| c.written(k)),
        "dropped": per(&|k| c.dropped(k)),
        "last_error": c.last_error(),
    })
}

/// The summary of every replica's records (`source: "store"`).
pub fn fleet_json(loaded: &Loaded, w: &StoreWriter) -> Value {
    let mut v = fleet_json_of(loaded, w.display());
    v["this_replica"] = writer_json(w);
    v
}

/// [`fleet_json`] without this replica's writer counters (`display`: the store, no password).
pub fn fleet_json_of(loaded: &Loaded, display: &str) -> Value {
    let mut v = stats_of(&loaded.records).to_json();
    v["source"] = json!("store");
    v["store"] = json!(display);
    v["replicas"] = json!(loaded.replicas);
    v["records_read"] = json!(loaded.records.len());
    v["read_limit"] = json!(super::READ_LIMIT);
    v["capped"] = json!(loaded.records.len() as i64 >= super::READ_LIMIT);
    v
}
