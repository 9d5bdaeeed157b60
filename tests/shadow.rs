//! Shadow traffic against a deliberately divergent new service: the report shows exactly the
//! real differences (a balance), not the normalised ones (a trailing space); a slow or dead
//! shadow never slows or fails the primary; writes are shadowed only as dry runs; masks hide
//! values, in findings too; replaying a capture finds what the live shadow found. Noise versus
//! findings is tested in `shadow_noise.rs`.

mod common;

use common::*;
use ficus::sim::ledger::Ledger;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Accounts the divergent service gets wrong, and how.
const WRONG_BALANCE: u64 = 2;
const TRAILING_SPACE: u64 = 3;
const SLOW: u64 = 4;
const DEAD: u64 = 5;

/// Starts the divergent service; returns its URL and the headers it received.
async fn divergent_service() -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    let ledger = Arc::new(Ledger::seeded());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let handler: ficus::sim::http::Handler = Arc::new(move |body, headers| {
        for (k, v) in headers {
            log.lock().unwrap().push((k.to_string(), v.to_str().unwrap_or("").to_string()));
        }
        let (status, mut reply) = ficus::sim::accounts::answer(&ledger, &body);
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let acct = request["request"]["ACCT-NO"].as_str().unwrap_or("").trim().to_string();
        let n = acct.parse::<u64>().unwrap_or(0).saturating_sub(1_000_000_000_000_000);
        if let Some(h) = reply["header"].as_object_mut() {
            h.insert("HDR-TIMESTAMP".into(), json!(19990101000000u64));
        }
        match n {
            WRONG_BALANCE => {
                let b: f64 = reply["response"]["BALANCE"].to_string().parse().unwrap();
                reply["response"]["BALANCE"] = ficus::codec::json::number_value(&format!("{:.2}", b + 1.0));
            }
            TRAILING_SPACE => {
                let name = format!("{} ", reply["response"]["CUST-NAME"].as_str().unwrap());
                reply["response"]["CUST-NAME"] = json!(name);
            }
            // A slow service; block_in_place lets the runtime move other connections off this thread.
            SLOW => tokio::task::block_in_place(|| std::thread::sleep(Duration::from_millis(1200))),
            DEAD => return (500, "application/json", b"{}".to_vec()),
            _ => {}
        }
        (status, "application/json", serde_json::to_vec(&reply).unwrap())
    });
    // Its own runtime on its own threads, like a separate process: its blocking sleeps must not
    // stall the gateway's workers.
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}/ops", std_listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
            let (_keep, shutdown) = tokio::sync::watch::channel(false);
            ficus::sim::http::serve(listener, handler, shutdown).await
        });
    });
    (url, seen)
}

fn acct(n: u64) -> Value {
    json!({ "ACCT-NO": format!("{}", 1_000_000_000_000_000u64 + n) })
}

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

fn shadow_route(extra: &str) -> String {
    format!("shadow = \"accounts\"\nshadow_timeout_ms = 300\n{extra}")
}

async fn start(extra: &str) -> (Gateway, ficus::demo::Sims, Arc<Mutex<Vec<(String, String)>>>) {
    let sims = sims().await;
    let (url, seen) = divergent_service().await;
    let up = Upstreams { legacy: sims.host_tcp.to_string(), accounts: url };
    let toml = routes_toml(&up, "legacy", "legacy", "").replacen(
        "read_only = true\n",
        &format!("read_only = true\n{}\n", shadow_route(extra)),
        1,
    );
    (Gateway::start(&toml).await, sims, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn report_shows_the_real_differences_and_the_primary_is_never_slowed() {
    let (gw, sims, _) = start("ignore = [\"HDR-TIMESTAMP\"]\nmask = [\"CUST-NAME\"]").await;
    for _round in 0..3 {
        for n in 1..=10 {
            let started = Instant::now();
            let (status, reply) = gw.post(&gw.request("ACCTINQ", acct(n))).await;
            assert_eq!(
                (status, response_code(&gw, &reply).0.as_str()),
                (200, "0000"),
                "account {n}: the primary answers"
            );
            assert!(
                started.elapsed() < Duration::from_millis(900),
                "account {n}: the slow shadow must not delay the primary"
            );
        }
    }
    let s = shadow_stats(&gw, "ACCTINQ", 30).await;
    assert_eq!(s["compared"], 24, "{s}");
    assert_eq!(s["shadow_errors"], 6, "slow and dead shadows: {s}");
    assert_eq!(s["mismatched"], 3, "only the wrong balance, three times: {s}");
    assert_eq!(s["top_fields"], json!([{ "field": "BALANCE", "mismatches": 3 }]));

    let path = gw.dir.path().join("shadow/shadow.jsonl");
    let mut lines = Vec::new();
    for _ in 0..200 {
        lines = std::fs::read_to_string(&path).unwrap_or_default().lines().map(String::from).collect();
        if lines.len() >= 30 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let records: Vec<Value> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    let mismatches: Vec<&Value> = records.iter().filter(|r| r["result"] == "mismatch").collect();
    assert_eq!(mismatches.len(), 3);
    for m in &mismatches {
        assert_eq!(m["diffs"].as_array().unwrap().len(), 1, "{m}");
        assert_eq!(m["diffs"][0]["path"], "BALANCE");
        let (legacy, new): (f64, f64) =
            (m["diffs"][0]["legacy"].to_string().parse().unwrap(), m["diffs"][0]["new"].to_string().parse().unwrap());
        assert!((new - legacy - 1.0).abs() < 1e-9, "{m}");
        assert!(m["legacy_ms"].as_f64().is_some() && m["new_ms"].as_f64().is_some());
    }
    assert_eq!(records.iter().filter(|r| r["result"] == "error").count(), 6);

    // The report CLI reads the records.
    let html = gw.dir.path().join("report.html");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ficus"))
        .args(["shadow", "report"])
        .arg(&path)
        .arg("--html")
        .arg(&html)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("ACCTINQ") && summary.contains("87.50%") && summary.contains("BALANCE"), "{summary}");
    assert!(std::fs::read_to_string(&html).unwrap().contains("<code>BALANCE</code>"));
    sims.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn masks_hide_values_in_records_and_in_findings() {
    let (gw, sims, _) = start("mask = [\"BALANCE\"]").await;
    for n in [1, 2, 6, 7, 8, 9, 10, 1, 2, 6, 7, 8] {
        assert_eq!(gw.post(&gw.request("ACCTINQ", acct(n))).await.0, 200);
    }
    let s = shadow_stats(&gw, "ACCTINQ", 12).await;
    // The wrong balance (account 2, asked twice) is a finding whose examples `GET /shadow`
    // shows as masked, like the records: no values, so no numeric delta either.
    let balance = s["findings"].as_array().unwrap().iter().find(|f| f["field"] == "BALANCE").cloned();
    let balance = balance.unwrap_or_else(|| panic!("no BALANCE finding: {s}"));
    assert_eq!(balance["kind"], "consistent", "{balance}");
    assert!(balance["delta"].is_null(), "{balance}");
    for e in balance["examples"].as_array().unwrap() {
        assert!(e["primary"].as_str().unwrap().starts_with("mask:"), "{e}");
        assert!(e["shadow"].as_str().unwrap().starts_with("mask:"), "{e}");
    }
    assert!(
        !s["likely_noise"].as_array().unwrap().iter().any(|f| f["field"] == "BALANCE"),
        "a repeated wrong balance is never noise: {s}"
    );
    let path = gw.dir.path().join("shadow/shadow.jsonl");
    let mut text = String::new();
    for _ in 0..200 {
        text = std::fs::read_to_string(&path).unwrap_or_default();
        if text.lines().count() >= 12 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let balance: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .flat_map(|r| r["diffs"].as_array().cloned().unwrap_or_default())
        .filter(|d| d["path"] == "BALANCE")
        .collect();
    assert_eq!(balance.len(), 2);
    for d in balance {
        assert!(
            d["legacy"].as_str().unwrap().starts_with("mask:") && d["new"].as_str().unwrap().starts_with("mask:"),
            "{d}"
        );
        assert_ne!(d["legacy"], d["new"], "different values keep different hashes");
    }
    sims.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_are_shadowed_only_as_dry_runs() {
    let sims = sims().await;
    let (url, seen) = divergent_service().await;
    let up = Upstreams { legacy: sims.host_tcp.to_string(), accounts: url };
    let base = routes_toml(&up, "legacy", "legacy", "");
    let rejected = |toml: String| async move {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("routes.toml");
        std::fs::write(&path, toml).unwrap();
        ficus::config::load(&path, None, 1).err().map(|e| e.to_string())
    };
    let without = rejected(base.clone() + "shadow = \"accounts\"\n")
        .await
        .expect("a write shadow without dry-run must be refused");
    assert!(without.contains("dry-run"), "{without}");
    let to_host = rejected(base.clone() + "shadow = \"legacy\"\nshadow_writes = \"dry-run\"\n")
        .await
        .expect("never to the host twice");
    assert!(to_host.contains("never sent to the host twice"), "{to_host}");

    let gw = Gateway::start(&(base + "shadow = \"accounts\"\nshadow_writes = \"dry-run\"\n")).await;
    let body = json!({ "FROM-ACCT": "1000000000000006", "TO-ACCT": "1000000000000007", "AMOUNT": 10, "MEMO": "T" });
    let (status, reply) = gw.post(&gw.request("XFER", body)).await;
    assert_eq!((status, response_code(&gw, &reply).0.as_str()), (200, "0000"));
    shadow_stats(&gw, "XFER", 1).await;
    let headers = seen.lock().unwrap().clone();
    assert!(headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("ficus-shadow") && v == "dry-run"), "{headers:?}");
    assert!(
        headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("ficus-message-id")),
        "the message id travels: {headers:?}"
    );
    sims.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replaying_a_capture_finds_what_the_live_shadow_found() {
    let (gw, sims, _) = start("ignore = [\"HDR-TIMESTAMP\"]\ncapture = { percent = 100 }").await;
    for n in [1, 2, 3, 6, 2] {
        assert_eq!(gw.post(&gw.request("ACCTINQ", acct(n))).await.0, 200);
    }
    let live = shadow_stats(&gw, "ACCTINQ", 5).await;
    let path = gw.dir.path().join("shadow/capture.jsonl");
    let mut captures = Vec::new();
    for _ in 0..200 {
        captures = ficus::shadow::capture::read(&path).unwrap_or_default();
        if captures.len() >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(captures.len(), 5);
    let summary = ficus::replay::replay(&gw.table(), &captures, "accounts", None, None, b"k", |_, _| {}).await.unwrap();
    let replayed = summary.stats.to_json();
    let r = &replayed["operations"]["ACCTINQ"];
    for key in ["compared", "matched", "mismatched", "top_fields"] {
        assert_eq!(r[key], live[key], "{key}: replay {r} vs live {live}");
    }
    assert_eq!(r["mismatched"], 2);
    sims.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dead_shadow_is_skipped_once_its_breaker_opens() {
    let sims = sims().await;
    let up = Upstreams { legacy: sims.host_tcp.to_string(), accounts: format!("http://{}/ops", dead_address().await) };
    let toml = routes_toml(&up, "legacy", "legacy", "").replacen(
        "read_only = true\n",
        &format!("read_only = true\n{}\n", shadow_route("")),
        1,
    );
    let gw = Gateway::start(&toml).await;
    for n in 0..30 {
        assert_eq!(gw.post(&gw.request("ACCTINQ", acct(1 + n % 10))).await.0, 200, "the primary is never affected");
    }
    let s = shadow_stats(&gw, "ACCTINQ", 30).await;
    assert_eq!(s["shadow_errors"], 30, "{s}");
    let (_, metrics) = {
        let (status, _) = gw.admin_call("GET", "/healthz", None, None).await;
        assert_eq!(status, 200);
        let mut conn = tokio::net::TcpStream::connect(gw.admin()).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await.unwrap();
        let mut raw = Vec::new();
        conn.read_to_end(&mut raw).await.unwrap();
        parse_response(&raw)
    };
    let text = String::from_utf8_lossy(&metrics);
    let skipped: f64 = text
        .lines()
        .filter(|l| l.starts_with("ficus_shadow_total{") && l.contains("result=\"circuit_open\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(skipped >= 20.0, "after the breaker opened (5 failures), later shadows are skipped: {skipped}");
    sims.stop();
}
