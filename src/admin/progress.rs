//! `GET /progress`: how far the migration has come — every operation by stage (legacy,
//! shadow, canary, new, retired, as the running route table says), the share of traffic the
//! new services serve (since start and over the last minute), and, with a `[journal]`, the
//! accounts whose writes moved to a new service (the journal's owner table).

use super::api::Admin;
use super::dashboard::{text, Reply};
use crate::route::tally::Side;
use crate::route::RouteTable;
use hyper::StatusCode;
use serde_json::{json, Map, Value};
use std::sync::atomic::Ordering;

/// How long `/progress` waits for the journal's owner counts.
const JOURNAL_PATIENCE: std::time::Duration = std::time::Duration::from_secs(1);

/// The stage of `op`'s route: `retired` (disabled), `new` (a new service answers), `canary`
/// (a share goes to another upstream), `shadow` (the host answers, a new service is compared)
/// or `legacy`.
pub fn stage(table: &RouteTable, op: &str) -> &'static str {
    let Some(r) = table.routes.get(op) else { return "legacy" };
    if !r.enabled {
        "retired"
    } else if !r.target.upstream.is_bytes() {
        "new"
    } else if r.canary.as_ref().is_some_and(|c| c.threshold > 0) {
        "canary"
    } else if r.shadow.is_some() {
        "shadow"
    } else {
        "legacy"
    }
}

fn share(sides: [u64; 2]) -> Value {
    let total = sides[0] + sides[1];
    json!({
        "legacy": sides[0],
        "new": sides[1],
        "new_share": if total > 0 { json!(sides[1] as f64 / total as f64) } else { Value::Null },
    })
}

/// The `/progress` reply.
pub async fn progress(admin: &Admin, table: &RouteTable) -> Reply {
    let mut ops: Vec<&String> = table.routes.keys().collect();
    ops.sort();
    let mut by_stage: Map<String, Value> =
        ["legacy", "shadow", "canary", "new", "retired"].iter().map(|s| (s.to_string(), json!(0))).collect();
    let operations: Vec<Value> = ops
        .iter()
        .map(|op| {
            let st = stage(table, op);
            if let Some(n) = by_stage.get_mut(st) {
                *n = json!(n.as_u64().unwrap_or(0) + 1);
            }
            let canary = table.routes[*op].file_canary_percent(table);
            json!({ "op": op, "stage": st, "mode": super::api::mode(table, op), "canary_percent": canary })
        })
        .collect();
    let mut since_start = [0u64; 2];
    for (_, t) in admin.reloader.gateway().tallies.all() {
        for side in [Side::Legacy, Side::New] {
            since_start[side as usize] += t.sides[side as usize].messages.load(Ordering::Relaxed);
        }
    }
    let last_minute = admin.history.totals(60, super::history::now_secs());
    let accounts = match &table.journal {
        None => Value::Null,
        Some(plan) => match tokio::time::timeout(JOURNAL_PATIENCE, plan.store.count_owners()).await {
            Ok(Ok(counts)) => {
                let moved: u64 = counts
                    .iter()
                    .filter(|(u, _)| table.upstreams.get(u).is_some_and(|e| !e.upstream.is_bytes()))
                    .map(|(_, n)| n)
                    .sum();
                let by: Map<String, Value> = counts.into_iter().map(|(u, n)| (u, json!(n))).collect();
                json!({ "store": plan.store.display(), "moved_to_new": moved, "by_upstream": by })
            }
            Ok(Err(e)) => json!({ "store": plan.store.display(), "error": e.to_string() }),
            Err(_) => json!({ "store": plan.store.display(), "error": "no answer in 1 s" }),
        },
    };
    let v = json!({
        "generation": table.generation,
        "operations": operations,
        "by_stage": by_stage,
        "traffic": { "since_start": share(since_start), "last_minute": share(last_minute) },
        "accounts": accounts,
    });
    text(StatusCode::OK, "application/json", serde_json::to_vec_pretty(&v).unwrap_or_default())
}
