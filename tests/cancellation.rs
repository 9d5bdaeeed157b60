//! Every slot, permit and probe is released when its future is dropped, and shadows only use
//! spare capacity (issue "never a wrong answer", kinds 2 and 3).

mod common;

use common::faults::{Act, Host};
use common::misbehave::BadService;
use common::Gateway;
use ficus::upstream::breaker::BreakerState;
use ficus::upstream::pool::TcpPool;
use ficus::upstream::Upstream;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

fn config(legacy: &str, accounts: &str, acctinq: &str, extra: &str) -> String {
    let up = common::Upstreams { legacy: legacy.into(), accounts: accounts.into() };
    common::routes_toml(&up, acctinq, "legacy", extra).replace(
        "timeout_ms = 1000\nconnect_timeout_ms = 500\nmax_connections = 8",
        "timeout_ms = 5000\nconnect_timeout_ms = 300\nmax_connections = 4\nbreaker_failures = 3\nbreaker_cooldown_ms = 100",
    )
}

fn with_pool<T>(gw: &Gateway, f: impl FnOnce(&TcpPool) -> T) -> T {
    let table = gw.table();
    match &table.upstreams["legacy"].upstream {
        Upstream::Tcp(pool) => f(pool),
        _ => panic!("legacy is a TCP pool"),
    }
}

fn request(gw: &Gateway, op: &str, seq: u64) -> Vec<u8> {
    let body = match op {
        "XFER" => json!({ "FROM-ACCT": "1", "TO-ACCT": "2", "AMOUNT": 1, "MEMO": "M" }),
        _ => json!({ "ACCT-NO": format!("{seq:016}") }),
    };
    ficus::cli::build_request(&gw.table(), op, &body, &json!({ "HDR-SEQ-NO": seq })).unwrap()
}

/// Polls `cond` (bounded) — the breaker's cool-down and connection close-downs take a moment.
async fn eventually(what: &str, cond: impl Fn() -> bool) {
    for _ in 0..300 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what}: not reached within 3 s");
}

#[tokio::test]
async fn a_cancelled_probe_never_leaves_the_breaker_stuck() {
    let mut host = Host::start(Act::SlowEcho(Duration::from_millis(200))).await;
    let gw = Gateway::start(&config(&host.addr.to_string(), "http://127.0.0.1:9/", "legacy", "")).await;
    let gateway = gw.running.gateway.clone();
    host.kill().await;
    for seq in 1..=3 {
        let _ = gateway.handle(request(&gw, "XFER", seq)).await;
    }
    assert_eq!(with_pool(&gw, |p| p.breaker_state()), BreakerState::Open);
    host.restart().await;
    // Cancel the probe at each of its await points: before the connection, during connect,
    // after the write, while the reply is awaited.
    for (i, cancel_after) in [0u64, 1, 3, 10, 50, 150].into_iter().enumerate() {
        eventually("the cool-down ends", || !with_pool(&gw, |p| p.gate().breaker().failing_fast())).await;
        let probe = gateway.handle(request(&gw, "XFER", 10 + i as u64));
        assert!(tokio::time::timeout(Duration::from_millis(cancel_after), probe).await.is_err(), "cancelled");
        assert_eq!(gateway.in_flight(), 0, "the cancelled message is counted out");
        assert_eq!(with_pool(&gw, |p| p.in_use()), 0, "its connection permit is back");
    }
    eventually("the next call may probe", || !with_pool(&gw, |p| p.gate().breaker().failing_fast())).await;
    let m = request(&gw, "XFER", 99);
    let reply = gateway.handle(m.clone()).await;
    assert_eq!((reply.status, reply.bytes), (200, m), "the host is back and so is the gateway");
    assert_eq!(with_pool(&gw, |p| p.breaker_state()), BreakerState::Closed);
    // The dashboard's history counts the cancelled ones too: errors on the legacy side, 3 failed
    // and 6 cancelled of 10.
    let tally = gateway.tallies.get("XFER").unwrap();
    let legacy = &tally.sides[ficus::route::tally::Side::Legacy as usize];
    let count = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!((count(&legacy.messages), count(&legacy.errors)), (10, 9));
    assert_eq!(legacy.buckets.iter().map(count).sum::<u64>(), 4, "a cancelled message has no latency");
}

#[tokio::test]
async fn cancelling_calls_anywhere_gives_back_every_slot() {
    let host = Host::start(Act::SlowEcho(Duration::from_millis(100))).await;
    let gw = Gateway::start(&config(&host.addr.to_string(), "http://127.0.0.1:9/", "legacy", "")).await;
    let gateway = gw.running.gateway.clone();
    // Four calls hold every connection; a fifth waits for one and is cancelled there, the
    // others at points from connect to reply.
    let mut calls = Vec::new();
    for seq in 1..=6u64 {
        let g = gateway.clone();
        let m = request(&gw, "ACCTINQ", seq);
        calls.push(tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_millis(seq * 20), g.handle(m)).await;
        }));
    }
    for c in calls {
        c.await.unwrap();
    }
    assert_eq!(gateway.in_flight(), 0);
    assert_eq!(with_pool(&gw, |p| p.in_use()), 0);
    assert_eq!(gw.running.admission.in_flight(), 0);
    let m = request(&gw, "ACCTINQ", 50);
    assert_eq!(gw.post(&m).await, (200, m));
    assert_eq!(with_pool(&gw, |p| p.breaker_state()), BreakerState::Closed, "cancellations are no verdict");
}

#[tokio::test]
async fn a_shadow_past_its_deadline_releases_its_connection() {
    let service = BadService::start().await;
    let host = Host::start(Act::SlowEcho(Duration::from_millis(400))).await;
    let extra = "";
    let toml = config(&host.addr.to_string(), &service.url(), "accounts", extra).replace(
        "target   = \"accounts\"\nread_only = true",
        "target   = \"accounts\"\nread_only = true\nshadow = \"legacy\"\nshadow_timeout_ms = 50",
    );
    let gw = Gateway::start(&toml).await;
    let m = request(&gw, "ACCTINQ", 7);
    assert_eq!(gw.post(&m).await.0, 200);
    eventually("the shadow reached the host", || host.count() == 1).await;
    eventually("the shadow's permit is released at its deadline", || with_pool(&gw, |p| p.in_use()) == 0).await;
    assert_eq!(with_pool(&gw, |p| p.breaker_state()), BreakerState::Closed);
}

#[tokio::test]
async fn shadows_never_take_the_connections_a_write_needs() {
    // ACCTINQ is served by the new service and reverse-shadowed to a host that takes 3 s per
    // ACCTINQ; the host has 4 connections. Sixteen ACCTINQs, then a transfer.
    let service = BadService::start().await;
    let behaviour: common::faults::Behaviour = Arc::new(|_, m: &[u8]| {
        if m.get(6..14) == Some(&[0xC1, 0xC3, 0xC3, 0xE3, 0xC9, 0xD5, 0xD8, 0x40][..]) {
            Act::SlowEcho(Duration::from_secs(3))
        } else {
            Act::Echo
        }
    });
    let host = Host::with(behaviour).await;
    let toml = config(&host.addr.to_string(), &service.url(), "accounts", "").replace(
        "target   = \"accounts\"\nread_only = true",
        "target   = \"accounts\"\nread_only = true\nshadow = \"legacy\"\nshadow_timeout_ms = 5000",
    );
    let gw = Gateway::start(&toml).await;
    for seq in 1..=16 {
        let (status, _) = gw.post(&request(&gw, "ACCTINQ", seq)).await;
        assert_eq!(status, 200);
    }
    let write = request(&gw, "XFER", 100);
    let (status, reply) = gw.post(&write).await;
    assert_eq!((status, &reply), (200, &write));
    // Answered while the two shadows the share allows were still at the host: the others were
    // dropped, not queued for connections.
    let shadows_at_host = host.count() - 1;
    assert!(shadows_at_host <= 3, "{shadows_at_host} shadows reached the host (share: 2 of 4 connections)");
    assert!(with_pool(&gw, |p| p.in_use()) <= 2, "the shadows hold at most their share");
    let stats = gw.running.gateway.shadow.stats.to_json();
    let dropped = stats["operations"]["ACCTINQ"]["dropped"].as_u64().unwrap_or(0);
    assert!(dropped >= 13, "the shadows beyond the share were dropped and counted: {stats}");
}

#[tokio::test]
async fn shadow_failures_never_open_the_breaker_real_traffic_uses() {
    // ACCTINQ is served by the new service and reverse-shadowed to a host that takes 2 s per
    // ACCTINQ, past the host's 300 ms deadline: every shadow fails. A transfer must still go.
    let service = BadService::start().await;
    let behaviour: common::faults::Behaviour = Arc::new(|_, m: &[u8]| {
        if m.get(6..10) == Some(&[0xC1, 0xC3, 0xC3, 0xE3][..]) {
            Act::SlowEcho(Duration::from_secs(2))
        } else {
            Act::Echo
        }
    });
    let host = Host::with(behaviour).await;
    let toml = config(&host.addr.to_string(), &service.url(), "accounts", "")
        .replace("timeout_ms = 5000\nconnect_timeout_ms = 300", "timeout_ms = 300\nconnect_timeout_ms = 300")
        .replace(
            "target   = \"accounts\"\nread_only = true",
            "target   = \"accounts\"\nread_only = true\nshadow = \"legacy\"\nshadow_timeout_ms = 1000",
        );
    let gw = Gateway::start(&toml).await;
    for seq in 1..=6 {
        assert_eq!(gw.post(&request(&gw, "ACCTINQ", seq)).await.0, 200);
        // One shadow at a time reaches the host and fails at its deadline.
        eventually("the shadow is done", || with_pool(&gw, |p| p.in_use()) == 0).await;
    }
    assert!(host.count() >= 3, "the shadows reached the host and failed: {}", host.count());
    assert_eq!(with_pool(&gw, |p| p.breaker_state()), BreakerState::Closed, "shadows give the host no verdict");
    let write = request(&gw, "XFER", 100);
    assert_eq!(gw.post(&write).await, (200, write), "the transfer goes through");
}

#[tokio::test]
async fn shadows_past_their_deadline_open_the_shadows_breaker_only() {
    let service = BadService::start().await;
    let host = Host::start(Act::SlowEcho(Duration::from_millis(400))).await;
    let toml = config(&host.addr.to_string(), &service.url(), "accounts", "")
        .replace("breaker_cooldown_ms = 100", "breaker_cooldown_ms = 60000")
        .replace(
            "target   = \"accounts\"\nread_only = true",
            "target   = \"accounts\"\nread_only = true\nshadow = \"legacy\"\nshadow_timeout_ms = 50",
        );
    let gw = Gateway::start(&toml).await;
    for seq in 1..=6 {
        assert_eq!(gw.post(&request(&gw, "ACCTINQ", seq)).await.0, 200);
        eventually("the shadow is done or skipped", || with_pool(&gw, |p| p.in_use()) == 0).await;
    }
    eventually("three shadows timed out", || with_pool(&gw, |p| p.gate().shadows_failing_fast())).await;
    assert!(host.count() <= 4, "after three timeouts the shadows stop going: {}", host.count());
    assert_eq!(with_pool(&gw, |p| p.breaker_state()), BreakerState::Closed, "real traffic's breaker is untouched");
    let write = request(&gw, "XFER", 100);
    assert_eq!(gw.post(&write).await, (200, write));
}
