//! The admin port and the record store when what is behind them hangs: a PostgreSQL stopped
//! with SIGSTOP (connections accepted, nothing answered) and a peer that accepts and never
//! answers. The records writer gives up on its statements in bounded time (logged, counted,
//! `last_error`) and writes again once the store resumes; a flood of `/fleet` and `/shadow`
//! calls never keeps `/healthz` and `/readyz` from being answered, and `/fleet` shows the silent
//! peer as a row that timed out. The journal's writes, reads and housekeeping on that store are
//! bounded too. And the fleet view counts replicas per process: one replica
//! reached at several addresses is one row.

#[path = "support/postgres.rs"]
mod postgres;
#[allow(dead_code)]
#[path = "support/replica.rs"]
mod replica;

mod common;

use common::*;
use replica::Replica;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Messages sent per round.
const EACH: u64 = 3;

const OVERRIDE: [&str; 6] = ["--listen-http", "127.0.0.1:0", "--listen-tcp", "127.0.0.1:0", "--admin", "127.0.0.1:0"];

/// routes.toml: ACCTINQ answered by the host, shadowed to `accounts`; records in the store at `url`.
fn config(up: &Upstreams, url: &str) -> String {
    routes_toml(up, "legacy", "legacy", "").replace(
        "target   = \"legacy\"\nread_only = true\n\n[routes.TXNHIST]",
        "target   = \"legacy\"\nread_only = true\nshadow = \"accounts\"\nshadow_timeout_ms = 2000\n\n[routes.TXNHIST]",
    ) + &format!("\n[journal]\nstore = \"{url}\"\n\n[shadow]\nrecords = \"postgres\"\n")
}

async fn traffic(r: &Replica, first_seq: u64) {
    for seq in first_seq..first_seq + EACH {
        let acct = format!("100000000000000{}", 1 + seq % 3);
        let m =
            ficus::cli::build_request(&r.table, "ACCTINQ", &json!({ "ACCT-NO": acct }), &json!({ "HDR-SEQ-NO": seq }))
                .unwrap();
        let (status, _) = r.post(&m).await;
        assert_eq!(status, 200, "message {seq} answered, store or not");
    }
}

/// Sends one XFER (journaled): (HTTP status, response code).
async fn xfer(r: &Replica, seq: u64) -> (u16, String) {
    let body =
        json!({ "FROM-ACCT": "1000000000000001", "TO-ACCT": "1000000000000002", "AMOUNT": 10.0, "MEMO": "HUNG" });
    let m = ficus::cli::build_request(&r.table, "XFER", &body, &json!({ "HDR-SEQ-NO": seq })).unwrap();
    let (status, reply) = r.post(&m).await;
    let h = &ficus::cli::decode_reply(&r.table, "XFER", &reply)["header"];
    (status, h["HDR-RESP-CODE"].as_str().unwrap_or("").to_string())
}

/// Waits (with a deadline) until `GET path` on `r` satisfies `done`.
async fn until(r: &Replica, path: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let (code, v) = admin_call_at(r.admin, "GET", path, None, None).await;
        if code == 200 && done(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: GET {path} says {code} {v:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_store_and_a_silent_peer_never_silence_the_writer_or_starve_the_probes() {
    let pg = postgres::Postgres::start();
    let url = pg.create_database("hung");
    let sims = sims().await;
    // Accepts (the kernel does) and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_addr = silent.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("routes.toml");
    std::fs::write(&path, config(&sim_upstreams(&sims), &url)).unwrap();
    std::fs::write(dir.path().join("tokens"), format!("{ADMIN_NAME}:{ADMIN_TOKEN}\n")).unwrap();
    let mut args = OVERRIDE.to_vec();
    args.extend(["--peers", &silent_addr]);
    let r = Replica::serve(&path, &args, tempfile::tempdir().unwrap()).await;
    traffic(&r, 100).await;
    until(&r, "/shadow", "the first records in the store", |v| v["records_read"].as_u64() == Some(EACH)).await;
    // A journaled write while the store answers: the journal's writer holds a connection now.
    let (status, code) = xfer(&r, 50).await;
    assert_eq!((status, code.as_str()), (200, "0000"));

    pg.pause();
    traffic(&r, 200).await;

    // A flood of heavy calls; the probes are answered meanwhile.
    let flood: Vec<_> = (0..200)
        .map(|i| {
            let admin = r.admin;
            tokio::spawn(async move {
                let path = if i % 2 == 0 { "/fleet" } else { "/shadow" };
                (path, admin_call_at(admin, "GET", path, None, None).await)
            })
        })
        .collect();
    for probe in ["/healthz", "/readyz"] {
        let (code, v) = admin_call_at(r.admin, "GET", probe, None, None).await;
        assert_eq!(code, 200, "{probe} during the flood: {v}");
    }
    let still_running = flood.iter().filter(|f| !f.is_finished()).count();
    let mut fleet_rows = Vec::new();
    for f in flood {
        let (path, (code, v)) = f.await.unwrap();
        assert!(code == 200 || code == 503, "{path}: {code} {v}");
        if code == 503 {
            assert!(v["error"].as_str().unwrap().contains("busy"), "{v}");
        } else if path == "/fleet" {
            fleet_rows.push(v);
        }
    }
    assert!(still_running > 0, "the probes were asked while the flood was being served");
    let timed_out = |v: &Value| {
        let rows = v["replicas"].as_array().unwrap();
        rows.len() == 1 && rows[0]["address"] == silent_addr.as_str() && v["unreachable"] == 1
    };
    assert!(!fleet_rows.is_empty(), "some /fleet calls of the flood were answered");
    for v in &fleet_rows {
        assert!(timed_out(v), "{v:#}");
        assert!(v["replicas"][0]["error"].as_str().unwrap().contains("no answer in 3 s"), "{v:#}");
    }
    // Asked again at once: the failure is remembered, with its age, and the peer not asked.
    let v = until(&r, "/fleet", "the silent peer's failure remembered", |v| {
        v["replicas"][0]["error"].as_str().is_some_and(|e| e.contains("s ago; asked again after"))
    })
    .await;
    assert!(timed_out(&v), "{v:#}");

    // The writer gave up on the hung store: logged, counted, shown.
    let v = until(&r, "/shadow", "the hung store's batch dropped and counted", |v| {
        v["this_replica"]["dropped"]["comparisons"].as_u64() == Some(EACH)
    })
    .await;
    let last = v["this_replica"]["last_error"].as_str().unwrap_or_else(|| panic!("{v:#}"));
    assert!(last.contains("no answer within"), "{v:#}");
    assert_eq!(v["source"], "this replica", "{v:#}");
    assert!(v["store_error"].as_str().is_some_and(|e| !e.is_empty()), "{v:#}");
    assert!(v["store_error_seconds_ago"].is_u64(), "{v:#}");
    let logged = r.log.lock().unwrap().join("\n");
    assert!(logged.contains("records not written to the store") && logged.contains("no answer within"), "{logged}");

    // The journal on the same store: its admin read and its housekeeping are bounded too.
    let (code, v) = admin_call_at(r.admin, "GET", "/owners/1000000000000001", None, None).await;
    assert_eq!(code, 503, "{v}");
    assert!(v["error"].as_str().unwrap().contains("journal store postgres://"), "{v}");
    let deadline = Instant::now() + Duration::from_secs(40);
    while !r.log.lock().unwrap().iter().any(|l| l.contains("journal store unreachable")) {
        assert!(Instant::now() < deadline, "journal housekeeping silent: {}", r.log.lock().unwrap().join("\n"));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A journaled write on the hung store: its claim is given up in bounded time and the write
    // refused, not sent (on_store_error = "refuse"), rather than waited for forever.
    let (status, code) = tokio::time::timeout(Duration::from_secs(60), xfer(&r, 51))
        .await
        .expect("a journaled write on a hung store is answered (the claim's statement is bounded)");
    assert_eq!((status, code.as_str()), (503, "FC24"));

    // Resumed: the writer connects again and writes.
    pg.resume();
    traffic(&r, 300).await;
    let v = until(&r, "/shadow", "written again after the store resumed", |v| {
        v["this_replica"]["written"]["comparisons"].as_u64() == Some(2 * EACH)
            && v["this_replica"]["last_error"].is_null()
    })
    .await;
    assert_eq!(v["this_replica"]["dropped"]["comparisons"].as_u64(), Some(EACH), "{v:#}");

    // The refused write's claim reached the server before it froze and commits as it resumes
    // (its statement was given up, not withdrawn). It was never sent: its claim is given back,
    // and the channel's resend is sent — once — not refused as an unknown outcome.
    let before = sims.ledger.account("1000000000000001").unwrap().balance;
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let (status, code) = xfer(&r, 51).await;
        if code == "0000" {
            break;
        }
        assert!(Instant::now() < deadline, "the resend of a refused write never went: {status} {code}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(xfer(&r, 51).await, (200, "0000".to_string()), "a second resend: the journal's copy");
    assert_eq!(sims.ledger.account("1000000000000001").unwrap().balance, before - 1000, "posted once");
    let logged = r.log.lock().unwrap().join("\n");
    assert!(logged.contains("claim had landed late: given back"), "the claim did land: {logged}");
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_replica_reached_at_several_addresses_is_one_replica() {
    let up = Upstreams { legacy: "127.0.0.1:9".into(), accounts: "http://127.0.0.1:9/ops".into() };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("routes.toml");
    std::fs::write(&path, routes_toml(&up, "legacy", "legacy", "")).unwrap();
    std::fs::write(dir.path().join("tokens"), format!("{ADMIN_NAME}:{ADMIN_TOKEN}\n")).unwrap();
    // Every IPv4 address (tokens are configured): 127.0.0.1 and 127.0.0.2 reach the same process.
    let args = ["--listen-http", "127.0.0.1:0", "--listen-tcp", "127.0.0.1:0", "--admin", "0.0.0.0:0"];
    let r = Replica::serve(&path, &args, tempfile::tempdir().unwrap()).await;
    let port = r.admin.port();
    let (one, two, name) = (format!("127.0.0.1:{port}"), format!("127.0.0.2:{port}"), format!("localhost:{port}"));
    let targets = format!("{one},{two},{name}");

    let (code, out, err) = ficus_cli(&["fleet", "--targets", &targets, "--json"]).await;
    assert_eq!(code, 0, "{out}{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["count"], 1, "{doc:#}");
    assert_eq!(doc["unreachable"], 0, "{doc:#}");
    let rows = doc["replicas"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{doc:#}");
    assert_eq!(rows[0]["address"], one.as_str(), "{doc:#}");
    assert_eq!(rows[0]["also"], json!([two]), "{doc:#}");
    let (code, out, err) = ficus_cli(&["fleet", "--targets", &targets]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("one table on all 1 replica(s)"), "{out}");
    assert!(out.contains(&format!("{one} (also {two})")), "{out}");

    // Another replica is another row.
    let other = Replica::serve(&path, &OVERRIDE, tempfile::tempdir().unwrap()).await;
    let (code, out, err) = ficus_cli(&["fleet", "--targets", &format!("{targets},{}", other.admin)]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("one table on all 2 replica(s)"), "{out}");
}
