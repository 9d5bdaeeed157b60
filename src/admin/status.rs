//! `GET /status`: one replica as the fleet view sees it — who it is, the table it serves
//! (generation and the hash of routes.toml and the copybooks it uses), its last reload, the
//! messages in flight and each upstream's circuit breaker. `ficus fleet` asks every replica
//! for it and compares the hashes: replicas that share one routes.toml serve one hash.

use crate::control::reload::Reloader;
use crate::upstream::breaker::BreakerState;
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

/// Milliseconds since the epoch when this process first answered (the replica's start, near
/// enough: the admin API starts with it).
fn started_ms() -> i64 {
    static STARTED: OnceLock<i64> = OnceLock::new();
    *STARTED.get_or_init(crate::journal::now_ms)
}

/// The breaker's state as the fleet view prints it.
pub fn breaker_word(state: BreakerState) -> &'static str {
    match state {
        BreakerState::Closed => "closed",
        BreakerState::Open => "open",
        BreakerState::HalfOpen => "half_open",
    }
}

/// The replica's status (see the module docs for the fields).
pub fn status_json(reloader: &Reloader) -> Value {
    let gateway = reloader.gateway();
    let table = gateway.table();
    let upstreams: Map<String, Value> = table
        .upstreams
        .iter()
        .map(|(name, e)| {
            let breaker = breaker_word(e.upstream.gate().breaker().state());
            (name.clone(), json!({ "kind": e.settings.kind, "breaker": breaker }))
        })
        .collect();
    json!({
        "replica": {
            "host": hostname(),
            "pid": std::process::id(),
            "version": env!("CARGO_PKG_VERSION"),
            "started_ms": started_ms(),
        },
        "generation": table.generation,
        "hash": table.hash,
        "reload": reloader.status(),
        "in_flight": gateway.in_flight(),
        "upstreams": upstreams,
    })
}

/// This machine's name (`HOSTNAME`, else /etc/hostname; a pod's name in Kubernetes).
fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "-".into())
}
