//! `GET /history` and `GET /progress` against a real gateway on 127.0.0.1 with the demo's
//! simulators: real traffic shows up per second on the side that served it, with p99 and the
//! shadow match rate; a flip, a rollback and a refused change made through the admin API
//! appear as markers naming who made them; bad queries get messages that say what to send.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// How long the sampler (one sample a second) may take to show something.
const PATIENCE: Duration = Duration::from_secs(15);

fn acct(n: u64) -> Value {
    json!({ "ACCT-NO": format!("{}", 1_000_000_000_000_000u64 + (n % 10) + 1) })
}

fn sum(v: &Value) -> f64 {
    v.as_array().map_or(0.0, |a| a.iter().filter_map(Value::as_f64).sum())
}

/// Polls `/history?op=ACCTINQ` until `ok` holds, for at most [`PATIENCE`].
async fn history_until(gw: &Gateway, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (status, v) = gw.admin_call("GET", "/history?op=ACCTINQ&seconds=120", None, None).await;
        assert_eq!(status, 200, "{v}");
        if ok(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not seen within {PATIENCE:?}; last /history: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn send(gw: &Gateway, n: u64) {
    for i in 0..n {
        let (status, _) = gw.post(&gw.request("ACCTINQ", acct(i))).await;
        assert_eq!(status, 200);
    }
}

fn marker<'a>(v: &'a Value, kind: &str) -> Option<&'a Value> {
    v["markers"].as_array()?.iter().find(|m| m["kind"] == kind)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_shows_traffic_per_side_and_changes_as_markers_with_who() {
    let sims = sims().await;
    let toml = routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "").replacen(
        "read_only = true\n",
        "read_only = true\nshadow = \"accounts\"\n",
        1,
    );
    let gw = Gateway::start_unwatched(&toml).await;

    send(&gw, 20).await;
    let v = history_until(&gw, "20 ACCTINQ on the legacy side", |v| sum(&v["series"]["legacy_per_s"]) >= 20.0).await;
    assert_eq!(v["times"].as_array().unwrap().len(), 120, "one entry per second asked for");
    assert_eq!(v["series"]["legacy_per_s"].as_array().unwrap().len(), 120, "columns as long as times");
    assert_eq!(sum(&v["series"]["new_per_s"]), 0.0, "the host served them all");
    assert!(sum(&v["series"]["legacy_p99_ms"]) > 0.0, "a p99 for the seconds with traffic: {v}");
    assert_eq!(v["mode"], "legacy");
    // The shadow's comparisons arrive a little after the replies.
    let v = history_until(&gw, "a shadow match rate", |v| {
        v["series"]["shadow_match_rate"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_f64().is_some_and(|r| (0.0..=1.0).contains(&r)))
    })
    .await;
    assert!(sum(&v["series"]["shadow_compared_per_s"]) >= 1.0);

    // A flip through the admin API: a marker with who made it, and the new side's traffic.
    gw.put_route("ACCTINQ", json!({ "target": "accounts", "shadow": null })).await;
    send(&gw, 7).await;
    let v = history_until(&gw, "the flip's marker and 7 on the new side", |v| {
        marker(v, "flip").is_some() && sum(&v["series"]["new_per_s"]) >= 7.0
    })
    .await;
    let flip = marker(&v, "flip").unwrap();
    assert_eq!(flip["who"], ADMIN_NAME, "{flip}");
    assert_eq!(flip["label"], "flip → accounts");
    assert_eq!(v["mode"], "new");
    assert!(sum(&v["series"]["new_p99_ms"]) > 0.0);

    // A refused change (an upstream that does not exist) and a rollback, both with who.
    let (status, body) =
        gw.admin_call("PUT", "/routes/ACCTINQ", Some(ADMIN_TOKEN), Some(json!({ "target": "nowhere" }))).await;
    assert!(status >= 400, "{body}");
    gw.put_route("ACCTINQ", json!({ "target": "legacy" })).await;
    let v = history_until(&gw, "the rejection and the rollback", |v| {
        marker(v, "rejected").is_some() && marker(v, "rollback").is_some()
    })
    .await;
    let rejected = marker(&v, "rejected").unwrap();
    assert_eq!(rejected["who"], ADMIN_NAME);
    assert!(rejected["error"].as_str().unwrap().contains("nowhere"), "{rejected}");
    assert!(rejected["label"].as_str().unwrap().starts_with("rejected: "), "{rejected}");
    assert_eq!(marker(&v, "rollback").unwrap()["label"], "rollback → legacy");
    // A canary change: its share and upstream in the label.
    gw.put_route("ACCTINQ", json!({ "canary": { "to": "accounts", "percent": 10, "sticky": "ACCT-NO" } })).await;
    let v = history_until(&gw, "the canary marker", |v| marker(v, "canary").is_some()).await;
    assert_eq!(marker(&v, "canary").unwrap()["label"], "canary 10% → accounts");
    let times: Vec<u64> = v["markers"].as_array().unwrap().iter().map(|m| m["time"].as_u64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "markers in time order: {times:?}");

    // Progress: by stage, and the new services' share of the traffic so far (7 of 27).
    let (status, p) = gw.admin_call("GET", "/progress", None, None).await;
    assert_eq!(status, 200, "{p}");
    assert_eq!((p["by_stage"]["legacy"].as_u64(), p["by_stage"]["canary"].as_u64()), (Some(2), Some(1)), "{p}");
    let since = &p["traffic"]["since_start"];
    assert_eq!((since["legacy"].as_u64(), since["new"].as_u64()), (Some(20), Some(7)), "{p}");
    assert_eq!(p["accounts"], Value::Null, "no journal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_says_what_to_ask_for() {
    let sims = sims().await;
    let gw = Gateway::start_unwatched(&routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "")).await;
    let (status, v) = gw.admin_call("GET", "/history", None, None).await;
    assert_eq!(status, 400);
    assert!(v["error"].as_str().unwrap().contains("ACCTINQ, TXNHIST, XFER"), "{v}");
    let (status, v) = gw.admin_call("GET", "/history?op=ACCTINQ&seconds=7200", None, None).await;
    assert_eq!(status, 400);
    assert!(v["error"].as_str().unwrap().contains("from 1 to 3600, not \"7200\""), "{v}");
    let (status, v) = gw.admin_call("GET", "/history?op=NOSUCH", None, None).await;
    assert_eq!(status, 404, "{v}");
    // A route without traffic yet: its seconds, all empty (600 by default).
    let (status, v) = gw.admin_call("GET", "/history?op=XFER", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(v["times"].as_array().unwrap().len(), 600);
    assert!(v["series"]["legacy_per_s"].as_array().unwrap().iter().all(Value::is_null));
}
