//! Upstream faults on real sockets: a host killed and restarted, resetting mid-reply, answering
//! late or with a bad frame; a new service answering late or too much; retries only where safe
//! and within budget; the circuit breaker. Each gives its fixed-width error reply in time,
//! loses no message (every request gets a reply), and leaves fds and tasks at their baseline.
//!
//! The baseline counts the whole process's fds, so every test here that opens anything runs
//! through [`serial`] (never `#[tokio::test]`): one test and its runtime at a time. The last
//! tests check the check: a leak fails it and is named, a pooled connection does not.

mod common;

use common::faults::*;
use common::*;
use ficus::frame::Framing;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// routes.toml with the legacy host at `legacy`, extra keys for `[upstreams.legacy]` and
/// `[upstreams.accounts]`, and a `[limits]` body.
fn config(legacy: SocketAddr, accounts: &str, target: &str, legacy_keys: &str, accounts_keys: &str) -> String {
    let up = Upstreams { legacy: legacy.to_string(), accounts: accounts.into() };
    routes_toml(&up, target, "legacy", "")
        .replace("max_connections = 8\n", &format!("max_connections = 8\n{legacy_keys}\n"))
        .replace("timeout_ms = 1000\n\n[default]", &format!("timeout_ms = 1000\n{accounts_keys}\n\n[default]"))
}

fn acct(i: usize) -> Vec<u8> {
    serde_json::to_vec(&json!({ "ACCT-NO": format!("{i:016}") })).unwrap()
}

fn inquiry(gw: &Gateway, i: usize) -> Vec<u8> {
    gw.request("ACCTINQ", serde_json::from_slice(&acct(i)).unwrap())
}

fn transfer(gw: &Gateway) -> Vec<u8> {
    gw.request("XFER", json!({ "FROM-ACCT": "1", "TO-ACCT": "2", "AMOUNT": 1, "MEMO": "" }))
}

/// One framed exchange on a channel connection; `None` if no reply came within 3 s (lost).
async fn exchange(conn: &mut TcpStream, message: &[u8]) -> Option<Vec<u8>> {
    let framing = Framing::prefix(4);
    framing.write(conn, message).await.ok()?;
    tokio::time::timeout(Duration::from_secs(3), framing.read(conn, 1 << 20)).await.ok()?.ok()?
}

#[test]
fn host_killed_mid_traffic_then_restarted_recovers_within_a_second() {
    serial(async {
        let mut host = Host::start(Act::Echo).await;
        let gw = Gateway::start(&config(host.addr, "http://127.0.0.1:9/ops", "legacy", "", "")).await;
        let mut conn = TcpStream::connect(gw.tcp()).await.unwrap();
        for i in 0..20 {
            let m = inquiry(&gw, i);
            assert_eq!(exchange(&mut conn, &m).await.as_deref(), Some(&m[..]));
        }
        let base = Baseline::now(&gw).with_own_listener(host.addr);
        let (mut sent, mut answered, mut open_replies) = (0, 0, 0);
        let mut pace = tokio::time::interval(Duration::from_millis(5));
        host.kill().await;
        for i in 0..40 {
            pace.tick().await;
            let m = inquiry(&gw, 100 + i);
            sent += 1;
            let started = Instant::now();
            let reply = exchange(&mut conn, &m).await.expect("a reply for every message");
            answered += 1;
            let (code, text) = response_code(&gw, &reply);
            assert_eq!(code, "FC10", "{text}");
            assert!(started.elapsed() < Duration::from_millis(600), "no hang while the host is down");
            open_replies += usize::from(text.contains("circuit"));
        }
        assert!(open_replies >= 30, "the breaker answers without connecting: {open_replies} of 40");
        host.restart().await;
        let back = Instant::now();
        let recovery = loop {
            pace.tick().await;
            let m = inquiry(&gw, 1000 + sent);
            sent += 1;
            let reply = exchange(&mut conn, &m).await.expect("a reply for every message");
            answered += 1;
            if reply == m {
                break back.elapsed();
            }
            assert!(back.elapsed() < Duration::from_secs(2), "no recovery");
        };
        for i in 0..20 {
            let m = inquiry(&gw, 5000 + i);
            sent += 1;
            assert_eq!(exchange(&mut conn, &m).await.as_deref(), Some(&m[..]), "serving again");
            answered += 1;
        }
        assert!(recovery < Duration::from_secs(1), "recovered in {recovery:?}");
        assert_eq!(sent, answered, "messages lost");
        drop(conn);
        let settled = base.settle("host killed and restarted", Some(&gw)).await;
        println!("FAULT host-killed-restarted: FC10 x40 ({open_replies} by open breaker), recovery {recovery:?}, lost {}, settled in {settled:?}", sent - answered);
    });
}

#[test]
fn host_resetting_mid_reply_is_unavailable_and_never_retried() {
    serial(async {
        let host = Host::start(Act::ResetMidReply).await;
        let gw = Gateway::start(&config(host.addr, "http://127.0.0.1:9/ops", "legacy", "", "")).await;
        let base = Baseline::now(&gw);
        for m in [inquiry(&gw, 1), transfer(&gw)] {
            let started = Instant::now();
            let (status, reply) = gw.post(&m).await;
            let (code, text) = response_code(&gw, &reply);
            assert_eq!((status, code.as_str()), (502, "FC10"), "{text}");
            assert!(started.elapsed() < Duration::from_secs(1));
        }
        assert_eq!(host.count(), 2, "a reply had started: never sent again");
        let settled = base.settle("reset mid-reply", Some(&gw)).await;
        println!("FAULT reset-mid-reply: 502 FC10, retries 0, settled in {settled:?}");
    });
}

#[test]
fn slow_host_times_out_in_time_and_its_late_reply_is_never_delivered() {
    serial(async {
        let n = Arc::new(AtomicUsize::new(0));
        let host = Host::with(Arc::new(move |_, _| {
            if n.fetch_add(1, Ordering::SeqCst) == 1 {
                Act::SlowEcho(Duration::from_millis(1500))
            } else {
                Act::Echo
            }
        }))
        .await;
        let toml = config(host.addr, "http://127.0.0.1:9/ops", "legacy", "", "").replacen(
            "timeout_ms = 1000\nconnect_timeout_ms",
            "timeout_ms = 300\nconnect_timeout_ms",
            1,
        );
        let gw = Gateway::start(&toml).await;
        let warm = inquiry(&gw, 0);
        assert_eq!(gw.post(&warm).await, (200, warm), "warm-up: one pooled connection, as at the end");
        let base = Baseline::now(&gw);
        let (a, b) = (inquiry(&gw, 1), inquiry(&gw, 2));
        let started = Instant::now();
        let (status, reply) = gw.post(&a).await;
        let took = started.elapsed();
        assert_eq!((status, response_code(&gw, &reply).0.as_str()), (504, "FC11"));
        assert!(took >= Duration::from_millis(290) && took < Duration::from_millis(800), "FC11 after {took:?}");
        let (status, reply) = gw.post(&b).await;
        assert_eq!((status, reply), (200, b), "the next message gets its own reply, not the late one");
        let settled = base.settle("slow host", Some(&gw)).await;
        println!(
            "FAULT slow-host: 504 FC11 after {took:?} (timeout 300 ms), next message served, settled in {settled:?}"
        );
    });
}

#[test]
fn malformed_reply_frame_is_a_bad_reply() {
    serial(async {
        let host = Host::start(Act::Raw(vec![0xFF, 0xFF, 0xFF, 0xFF, 0x40, 0x40])).await;
        let gw = Gateway::start(&config(host.addr, "http://127.0.0.1:9/ops", "legacy", "", "")).await;
        let base = Baseline::now(&gw);
        let (status, reply) = gw.post(&inquiry(&gw, 1)).await;
        let (code, text) = response_code(&gw, &reply);
        assert_eq!((status, code.as_str()), (502, "FC12"), "{text}");
        let settled = base.settle("malformed reply", Some(&gw)).await;
        println!("FAULT malformed-reply-frame: 502 FC12, settled in {settled:?}");
    });
}

#[test]
fn new_service_answering_late_or_too_much_gets_its_error_in_time() {
    serial(async {
        let huge = Arc::new(vec![b' '; (1 << 20) + 10]);
        let good = r#"{"response":{"ACCT-NO":"1","CUST-NAME":"X","ACCT-STATUS":"A","BALANCE":1,"AVAIL-BAL":0,"INT-RATE":0,"LAST-TXN-DATE":0}}"#;
        let cases = [
            (raw_service(Duration::ZERO, huge).await, 502, "FC12", "too-large reply"),
            (
                raw_service(Duration::from_millis(1500), Arc::new(good.as_bytes().to_vec())).await,
                504,
                "FC11",
                "late reply",
            ),
        ];
        let legacy = dead_address().await;
        for (service, want_status, want_code, what) in cases {
            let toml = config(legacy, &format!("http://{service}/ops"), "accounts", "", "")
                .replace("timeout_ms = 1000\n\n\n[default]", "timeout_ms = 300\n\n\n[default]");
            let gw = Gateway::start(&toml).await;
            let base = Baseline::now(&gw);
            let started = Instant::now();
            let (status, reply) = gw.post(&inquiry(&gw, 1)).await;
            let took = started.elapsed();
            let (code, text) = response_code(&gw, &reply);
            assert_eq!((status, code.as_str()), (want_status, want_code), "{what}: {text}");
            assert!(took < Duration::from_millis(900), "{what}: answered after {took:?}");
            drop(gw);
            let settled = base.settle(what, None).await;
            println!("FAULT new-service {what}: {want_status} {want_code} after {took:?}, settled in {settled:?}");
        }
    });
}

#[test]
fn retries_only_for_reads_and_within_the_budget() {
    serial(async {
        // Each connection answers its first message and drops the second unanswered: a reused
        // connection fails before any reply byte, the one case where a read may be retried.
        let host = Host::with(Arc::new(|n, _| if n == 1 { Act::Echo } else { Act::Close })).await;
        let gw =
            Gateway::start(&config(host.addr, "http://127.0.0.1:9/ops", "legacy", "breaker_failures = 0", "")).await;
        let mut ok = 0;
        for i in 0..100 {
            let m = inquiry(&gw, i);
            let (status, reply) = gw.post(&m).await;
            if status == 200 {
                assert_eq!(reply, m);
                ok += 1;
            } else {
                assert_eq!(response_code(&gw, &reply).0, "FC10");
            }
        }
        let retries = host.count() - 100;
        assert!(retries > 0 && retries <= 10 + 10 + 1, "retries {retries}: a reserve of 10 plus 10% of 100");
        let before = host.count();
        for _ in 0..20 {
            let (status, _) = gw.post(&transfer(&gw)).await;
            assert!(status == 200 || status == 502);
        }
        assert_eq!(host.count() - before, 20, "writes are never sent twice");
        println!("FAULT retry-budget: 100 reads on half-dead connections -> {ok} served, {retries} retries; 20 writes -> 0 retries");
    });
}

#[test]
fn open_breaker_fails_fast_and_closes_when_the_host_is_back() {
    serial(async {
        let host = Host::start(Act::Echo).await;
        let gw = Gateway::start(&config(host.addr, "http://127.0.0.1:9/ops", "legacy", "", "")).await;
        let warm = transfer(&gw);
        assert_eq!(gw.post(&warm).await, (200, warm), "warm-up: one pooled connection, as at the end");
        let base = Baseline::now(&gw);
        host.set(Act::Close);
        let hits_before = host.count();
        let mut slowest_open = Duration::ZERO;
        for i in 0..30 {
            let started = Instant::now();
            let (status, reply) = gw.post(&transfer(&gw)).await;
            assert_eq!((status, response_code(&gw, &reply).0.as_str()), (502, "FC10"));
            if i >= 5 {
                slowest_open = slowest_open.max(started.elapsed());
            }
        }
        let hits = host.count() - hits_before;
        assert!(hits <= 6, "the dead host was hit {hits} times for 30 messages");
        host.set(Act::Echo);
        let back = Instant::now();
        let mut pace = tokio::time::interval(Duration::from_millis(10));
        let recovery = loop {
            pace.tick().await;
            let m = transfer(&gw);
            let (status, reply) = gw.post(&m).await;
            if status == 200 {
                assert_eq!(reply, m);
                break back.elapsed();
            }
            assert!(back.elapsed() < Duration::from_secs(2), "breaker never closed");
        };
        assert!(recovery < Duration::from_secs(1), "{recovery:?}");
        let settled = base.settle("breaker", Some(&gw)).await;
        println!("FAULT breaker: 30 x 502 FC10, host hit {hits} times, open-breaker reply <= {slowest_open:?}, recovery {recovery:?}, settled in {settled:?}");
    });
}

/// A fresh gateway in front of an echoing host, with a baseline taken before any connection.
async fn idle_gateway() -> (Host, Gateway) {
    let host = Host::start(Act::Echo).await;
    let gw = Gateway::start(&config(host.addr, "http://127.0.0.1:9/ops", "legacy", "", "")).await;
    (host, gw)
}

#[test]
fn the_baseline_check_names_a_leaked_file_even_when_the_count_is_back() {
    serial(async {
        let (_host, gw) = idle_gateway().await;
        let closes_later = std::fs::File::open(env!("CARGO_MANIFEST_DIR").to_string() + "/Cargo.toml").unwrap();
        let base = Baseline::now(&gw);
        drop(closes_later);
        let leaked = std::fs::File::open(&gw.config).unwrap();
        let err = base.check(Some(&gw), Duration::from_millis(200)).await.expect_err("a leaked file fails");
        assert!(err.contains(&gw.config.display().to_string()), "the leaked file is named: {err}");
        drop(leaked);
        base.check(Some(&gw), Duration::from_secs(10)).await.expect("back once it is closed");
    });
}

#[test]
fn the_baseline_check_names_a_leaked_connection_by_its_ports() {
    serial(async {
        let (host, gw) = idle_gateway().await;
        let base = Baseline::now(&gw);
        let stray = TcpStream::connect(host.addr).await.unwrap();
        let err = base.check(Some(&gw), Duration::from_millis(200)).await.expect_err("a leaked connection fails");
        let ports = format!("{} -> {} ESTABLISHED", stray.local_addr().unwrap(), host.addr);
        assert!(err.contains(&ports), "the connection is named ({ports}): {err}");
        drop(stray);
        base.check(Some(&gw), Duration::from_secs(10)).await.expect("back once it is closed");
    });
}

#[test]
fn a_connection_the_pool_keeps_is_not_a_leak() {
    serial(async {
        let (_host, gw) = idle_gateway().await;
        let base = Baseline::now(&gw);
        assert_eq!(base.pooled, 0);
        let m = inquiry(&gw, 1);
        assert_eq!(gw.post(&m).await, (200, m));
        assert_eq!(pooled_idle(&gw), 1, "one connection kept for the next message");
        base.check(Some(&gw), Duration::from_secs(10)).await.expect("a pooled connection is allowed");
    });
}

#[test]
fn socket_addresses_read_as_the_kernel_prints_them() {
    use common::fds::addr;
    assert_eq!(addr("0100007F:1F90"), Some("127.0.0.1:8080".parse().unwrap()));
    assert_eq!(addr("00000000000000000000000001000000:0050"), Some("[::1]:80".parse().unwrap()));
    assert_eq!(addr("0000000000000000FFFF00000100007F:0050"), Some("[::ffff:127.0.0.1]:80".parse().unwrap()));
}
