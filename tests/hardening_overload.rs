//! Overload on real sockets: beyond `[limits] max_in_flight` the gateway answers at once with
//! the fixed-width busy reply (FC20, HTTP 503) instead of queueing, the host sees only what was
//! admitted, memory stays bounded, and throughput comes back as soon as load drops.

mod common;

use common::faults::*;
use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

#[test]
fn beyond_max_in_flight_messages_are_shed_at_once_and_service_recovers() {
    serial(async {
        let host = Host::start(Act::SlowEcho(Duration::from_millis(300))).await;
        let up = Upstreams { legacy: host.addr.to_string(), accounts: "http://127.0.0.1:9/ops".into() };
        let toml = routes_toml(&up, "legacy", "legacy", "\n[limits]\nmax_in_flight = 4\n");
        let gw = Gateway::start(&toml).await;
        let message = gw.request("ACCTINQ", json!({ "ACCT-NO": "1000000000000001" }));
        let rss_before = rss_kib();

        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let (addr, m) = (gw.http(), message.clone());
            calls.spawn(async move {
                let started = Instant::now();
                let (status, reply) = post(addr, &m).await;
                (status, reply, started.elapsed())
            });
        }
        let (mut served, mut shed, mut slowest_shed) = (0, 0, Duration::ZERO);
        while let Some(result) = calls.join_next().await {
            let (status, reply, took) = result.unwrap();
            match status {
                200 => served += 1,
                503 => {
                    assert_eq!(response_code(&gw, &reply).0, "FC20");
                    assert_eq!(reply.len(), 85, "the busy reply is one fixed-width header");
                    shed += 1;
                    slowest_shed = slowest_shed.max(took);
                }
                other => panic!("unexpected status {other}"),
            }
        }
        assert_eq!((served, shed), (4, 16), "exactly max_in_flight admitted");
        assert!(slowest_shed < Duration::from_millis(250), "shed without waiting: {slowest_shed:?}");
        assert_eq!(host.count(), 4, "shed messages never reach the host");
        assert_eq!(gw.running.admission.in_flight(), 0);

        // A wave ten times the bound, over TCP and HTTP together: bounded, nothing queued.
        let wave_started = Instant::now();
        let mut calls = tokio::task::JoinSet::new();
        for i in 0..200 {
            let (http, tcp, m) = (gw.http(), gw.tcp(), message.clone());
            calls.spawn(async move {
                if i % 2 == 0 {
                    post(http, &m).await.0
                } else {
                    let reply = tcp_exchange(tcp, &[m]).await.remove(0);
                    if reply.len() == 85 {
                        503
                    } else {
                        200
                    }
                }
            });
        }
        let mut wave_served = 0;
        while let Some(status) = calls.join_next().await {
            wave_served += usize::from(status.unwrap() == 200);
        }
        let bound = 4 * (wave_started.elapsed().as_millis() as usize / 300 + 1);
        assert!(wave_served <= bound, "at most 4 per 300 ms reply: {wave_served} > {bound}");
        let rss_growth_kib = rss_kib().saturating_sub(rss_before);

        // Load drops: every message is served again, at once.
        let started = Instant::now();
        for _ in 0..4 {
            let (status, reply) = gw.post(&message).await;
            assert_eq!((status, &reply), (200, &message));
        }
        let recovered = started.elapsed();
        assert!(recovered < Duration::from_secs(2), "{recovered:?}");
        println!(
            "OVERLOAD: 20 concurrent at max_in_flight=4 -> 4 served, 16 x 503 FC20 within {slowest_shed:?}; \
         200-message wave -> {wave_served} served; RSS +{rss_growth_kib} KiB; 4 sequential served in {recovered:?}"
        );
    });
}
