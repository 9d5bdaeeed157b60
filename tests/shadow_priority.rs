//! Shadows on their own low-priority thread (`[shadow] priority = "low"`): a shadow
//! thread that gets no CPU delays no primary — not even one sent on a host connection a shadow
//! opened (it is the workers' reactor that serves it) — and a shadow that could not begin
//! within half its deadline is dropped unsent, counted as dropped, never as its upstream's error.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Polls `GET /shadow` until `op` has accounted for `total` messages (bounded).
async fn shadow_stats(gw: &Gateway, op: &str, total: u64) -> Value {
    let mut last = Value::Null;
    for _ in 0..200 {
        let (_, v) = gw.admin_call("GET", "/shadow", None, None).await;
        let s = &v["operations"][op];
        let seen = ["compared", "shadow_errors", "dropped"].iter().map(|k| s[*k].as_u64().unwrap_or(0)).sum::<u64>();
        last = s.clone();
        if seen >= total {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("shadow never accounted for {total} messages: {last}");
}

/// `toml` with `[shadow] priority = "low"`.
fn low(toml: String) -> String {
    format!("{toml}\n[shadow]\npriority = \"low\"\n")
}

/// Keeps the shadow thread busy for `busy` (a task that never yields), as a core taken by
/// primaries would; returns once it runs.
async fn occupy_shadow_thread(gw: &Gateway, busy: Duration) {
    let (running, started) = tokio::sync::oneshot::channel();
    gw.running.gateway.shadow.runner.spawn(async move {
        let _ = running.send(());
        std::thread::sleep(busy);
    });
    tokio::time::timeout(Duration::from_secs(5), started).await.expect("the shadow thread runs").unwrap();
}

fn acctinq(n: u64) -> Value {
    json!({ "ACCT-NO": format!("{}", 1_000_000_000_000_000u64 + n) })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shadow_held_from_the_cpu_past_half_its_deadline_is_dropped_unsent_and_no_primary_waits() {
    let sims = sims().await;
    let toml = routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "").replacen(
        "read_only = true\n",
        "read_only = true\nshadow = \"accounts\"\nshadow_timeout_ms = 300\n",
        1,
    );
    let gw = Gateway::start(&low(toml)).await;
    assert!(gw.running.gateway.shadow.runner.is_low());
    let (status, _) = gw.post(&gw.request("ACCTINQ", acctinq(1))).await;
    assert_eq!(status, 200);
    let s = shadow_stats(&gw, "ACCTINQ", 1).await;
    assert_eq!(s["compared"], 1, "{s}");

    occupy_shadow_thread(&gw, Duration::from_millis(1200)).await;
    for n in 1..=5 {
        let started = Instant::now();
        let (status, reply) = gw.post(&gw.request("ACCTINQ", acctinq(n))).await;
        assert_eq!((status, response_code(&gw, &reply).0.as_str()), (200, "0000"), "account {n}");
        assert!(started.elapsed() < Duration::from_millis(500), "account {n}: {:?}", started.elapsed());
    }
    let s = shadow_stats(&gw, "ACCTINQ", 6).await;
    assert_eq!((s["compared"].as_u64(), s["dropped"].as_u64()), (Some(1), Some(5)), "{s}");
    assert_eq!(s["shadow_errors"].as_u64().unwrap_or(0), 0, "a shadow starved of CPU is not its upstream's error: {s}");
}

#[tokio::test]
async fn shadows_run_on_the_workers_unless_told() {
    let sims = sims().await;
    let gw = Gateway::start(&routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "")).await;
    assert!(!gw.running.gateway.shadow.runner.is_low(), "priority = \"normal\" is the default");
    let gw = Gateway::start(&low(routes_toml(&sim_upstreams(&sims), "legacy", "legacy", ""))).await;
    assert!(gw.running.gateway.shadow.runner.is_low());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_connection_a_shadow_opened_serves_a_primary_while_the_shadow_thread_is_busy() {
    let sims = sims().await;
    // ACCTINQ moved to the new service, the host shadowing it (reverse shadow); TXNHIST still on
    // the host: both use the host's one pool.
    let toml = routes_toml(&sim_upstreams(&sims), "accounts", "legacy", "").replacen(
        "read_only = true\n",
        "read_only = true\nshadow = \"legacy\"\nshadow_timeout_ms = 2000\n",
        1,
    );
    let gw = Gateway::start(&low(toml)).await;
    let (status, _) = gw.post(&gw.request("ACCTINQ", acctinq(1))).await;
    assert_eq!(status, 200);
    let s = shadow_stats(&gw, "ACCTINQ", 1).await;
    assert_eq!(s["compared"], 1, "the shadow opened a host connection and gave it back: {s}");

    // The pool's one idle connection is the shadow's; the thread that ran the shadow is busy for
    // longer than the host's timeout (1 s), so a primary it had to serve would fail.
    occupy_shadow_thread(&gw, Duration::from_millis(2500)).await;
    let started = Instant::now();
    let request =
        gw.request("TXNHIST", json!({ "ACCT-NO": "1000000000000002", "FROM-DATE": 0, "TO-DATE": 0, "MAX-ROWS": 5 }));
    let (status, reply) = gw.post(&request).await;
    let header = &gw.decode("TXNHIST", &reply)["header"];
    assert_eq!((status, header["HDR-RESP-CODE"].as_str()), (200, Some("0000")), "{header}");
    assert!(started.elapsed() < Duration::from_millis(700), "the primary waited {:?}", started.elapsed());
}
