//! Noise means non-determinism, never a consistent difference (issue 11, kind 8), through real
//! sockets: a new service whose BALANCE is 0.01 too high every time is a finding with its delta
//! — in `GET /shadow`, `ficus shadow report` and `ficus replay` alike — and never suggested for
//! `ignore`; a timestamp the host sets on every call is noise, with its `ignore` line; a new
//! service that answers each account's balance as it was before the last transfer (a lagging
//! replica) is a `state_changes` finding, although the primary's balance changes between repeats.

mod common;

use common::*;
use ficus::frame::Framing;
use ficus::sim::ledger::Ledger;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

/// The four accounts the issue asks about, five times each.
const ACCOUNTS: [u64; 4] = [1, 2, 3, 6];
const ROUNDS: usize = 5;

/// Serves `handler` as a JSON service; its URL.
async fn service(handler: ficus::sim::http::Handler) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ops", listener.local_addr().unwrap());
    let (keep, shutdown) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let _keep = keep;
        ficus::sim::http::serve(listener, handler, shutdown).await
    });
    url
}

/// A new service that answers like the sample one, but with every BALANCE 0.01 too high.
async fn cent_too_high_service() -> String {
    let ledger = Arc::new(Ledger::seeded());
    service(Arc::new(move |body, _| {
        let (status, mut reply) = ficus::sim::accounts::answer(&ledger, &body);
        if let Some(b) = reply["response"]["BALANCE"].as_number().map(|n| n.as_str().parse::<f64>().unwrap()) {
            reply["response"]["BALANCE"] = ficus::codec::json::number_value(&format!("{:.2}", b + 0.01));
        }
        (status, "application/json", serde_json::to_vec(&reply).unwrap())
    }))
    .await
}

/// A new service reading a lagging replica of the host's own ledger: each account's BALANCE
/// is the one it had at the previous inquiry (the first time, the current one).
async fn lagging_replica_service(ledger: Arc<Ledger>) -> String {
    let seen: Mutex<HashMap<String, Value>> = Mutex::default();
    service(Arc::new(move |body, _| {
        let (status, mut reply) = ficus::sim::accounts::answer(&ledger, &body);
        if let Some(acct) = reply["response"]["ACCT-NO"].as_str().map(String::from) {
            let now = reply["response"]["BALANCE"].clone();
            let before = seen.lock().unwrap().insert(acct, now.clone());
            reply["response"]["BALANCE"] = before.unwrap_or(now);
        }
        (status, "application/json", serde_json::to_vec(&reply).unwrap())
    }))
    .await
}

/// A legacy host that stamps HDR-TIMESTAMP on every call, as real hosts do: a proxy in front of
/// the simulated host that writes a clock reading one second later per reply (EBCDIC digits).
async fn host_with_a_moving_clock(host: SocketAddr) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let clock = Arc::new(AtomicU64::new(20260616090000));
    tokio::spawn(async move {
        while let Ok((mut channel, _)) = listener.accept().await {
            let clock = clock.clone();
            tokio::spawn(async move {
                let framing = Framing::prefix(4);
                let Ok(mut upstream) = TcpStream::connect(host).await else { return };
                while let Ok(Some(message)) = framing.read(&mut channel, 1 << 20).await {
                    if framing.write(&mut upstream, &message).await.is_err() {
                        return;
                    }
                    let Ok(Some(mut reply)) = framing.read(&mut upstream, 1 << 20).await else { return };
                    let now = clock.fetch_add(1, Ordering::SeqCst).to_string();
                    for (byte, digit) in reply[TIMESTAMP].iter_mut().zip(now.bytes()) {
                        *byte = 0xF0 + (digit - b'0'); // cp037 digits
                    }
                    if framing.write(&mut channel, &reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

fn acct(n: u64) -> Value {
    json!({ "ACCT-NO": format!("{}", 1_000_000_000_000_000u64 + n) })
}

/// Polls `GET /shadow` until `op` has compared `total` messages (bounded).
async fn shadow_stats(gw: &Gateway, op: &str, total: u64) -> Value {
    let mut last = Value::Null;
    for _ in 0..400 {
        let (_, v) = gw.admin_call("GET", "/shadow", None, None).await;
        last = v["operations"][op].clone();
        if last["compared"].as_u64().unwrap_or(0) + last["shadow_errors"].as_u64().unwrap_or(0) >= total {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("shadow never compared {total} messages: {last}");
}

/// Reads a JSON Lines file once it has `lines` lines (the writer is a background thread).
async fn lines_of(path: &std::path::Path, lines: usize) -> String {
    for _ in 0..400 {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.lines().count() >= lines {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{} never had {lines} lines", path.display());
}

fn field<'a>(list: &'a Value, name: &str) -> Option<&'a Value> {
    list.as_array()?.iter().find(|f| f["field"] == name)
}

/// ACCTINQ served by `host`, shadowed to `service` with `extra` route settings.
async fn gateway(host: String, service: String, extra: &str) -> Gateway {
    let up = Upstreams { legacy: host, accounts: service };
    let toml = routes_toml(&up, "legacy", "legacy", "").replacen(
        "read_only = true\n",
        &format!("read_only = true\nshadow = \"accounts\"\nshadow_timeout_ms = 1000\n{extra}\n"),
        1,
    );
    Gateway::start(&toml).await
}

async fn ask_each_account(gw: &Gateway) {
    for _ in 0..ROUNDS {
        for n in ACCOUNTS {
            let (status, reply) = gw.post(&gw.request("ACCTINQ", acct(n))).await;
            assert_eq!((status, response_code(gw, &reply).0.as_str()), (200, "0000"), "account {n}");
        }
    }
}

fn ficus(args: &[&std::ffi::OsStr]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ficus")).args(args).output().unwrap();
    assert!(out.status.success(), "ficus {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The case: BALANCE 0.01 too high, the same way every time, 4 accounts × 5 times.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_consistent_balance_error_is_a_finding_never_noise() {
    let sims = sims().await;
    let service = cent_too_high_service().await;
    let gw =
        gateway(sims.host_tcp.to_string(), service, "ignore = [\"HDR-TIMESTAMP\"]\ncapture = { percent = 100 }").await;
    ask_each_account(&gw).await;
    let total = (ACCOUNTS.len() * ROUNDS) as u64;
    let s = shadow_stats(&gw, "ACCTINQ", total).await;
    assert_eq!((s["compared"].as_u64(), s["mismatched"].as_u64()), (Some(total), Some(total)), "{s}");

    // Not noise, and no `ignore` suggested for it anywhere.
    assert!(field(&s["likely_noise"], "BALANCE").is_none(), "BALANCE listed as noise: {s}");
    assert!(!s.to_string().contains("ignore = [\\\"BALANCE\\\"]"), "{s}");
    // A consistent finding, with its delta and examples.
    let finding = field(&s["findings"], "BALANCE").unwrap_or_else(|| panic!("no BALANCE finding: {s}"));
    assert_eq!(finding["kind"], "consistent", "{finding}");
    assert_eq!(finding["delta"]["summary"], "always +0.01", "{finding}");
    assert_eq!(finding["delta"]["most_common"], json!([{ "delta": "+0.01", "count": total }]));
    assert!(finding.get("suggest").is_none(), "{finding}");
    let example = &finding["examples"][0];
    let (primary, shadow): (f64, f64) =
        (example["primary"].to_string().parse().unwrap(), example["shadow"].to_string().parse().unwrap());
    assert!((shadow - primary - 0.01).abs() < 1e-9, "{example}");
    assert!(example["id"].is_string() && example["key"].as_str().is_some_and(|k| k.len() == 16), "{example}");

    // `ficus shadow report` (terminal and HTML) says the same.
    let records = gw.dir.path().join("shadow/shadow.jsonl");
    lines_of(&records, total as usize).await;
    let html = gw.dir.path().join("report.html");
    let text = ficus(&["shadow".as_ref(), "report".as_ref(), records.as_os_str(), "--html".as_ref(), html.as_os_str()]);
    assert!(text.contains("BALANCE") && text.contains("consistent, always +0.01"), "{text}");
    assert!(!text.contains("ignore = [\"BALANCE\"]") && !text.contains("likely noise"), "{text}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("finding: consistent") && page.contains("always +0.01"), "{page}");
    assert!(!page.contains("ignore = [&quot;BALANCE&quot;]"));

    // And so does `ficus replay` of the captured traffic against the same service.
    let captures = gw.dir.path().join("shadow/capture.jsonl");
    lines_of(&captures, total as usize).await;
    let replay = ficus(&[
        "replay".as_ref(),
        captures.as_os_str(),
        "--config".as_ref(),
        gw.config.as_os_str(),
        "--against".as_ref(),
        "accounts".as_ref(),
    ]);
    assert!(replay.contains("consistent, always +0.01") && !replay.contains("ignore = [\"BALANCE\"]"), "{replay}");
    sims.stop();
}

/// A timestamp the host sets on every call differs for the same request: noise, with its
/// `ignore` line — while the balance error beside it stays a finding.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_value_the_primary_changes_for_the_same_request_is_noise() {
    let sims = sims().await;
    let host = host_with_a_moving_clock(sims.host_tcp).await;
    let gw = gateway(host.to_string(), cent_too_high_service().await, "").await;
    ask_each_account(&gw).await;
    let s = shadow_stats(&gw, "ACCTINQ", (ACCOUNTS.len() * ROUNDS) as u64).await;
    let noise = field(&s["likely_noise"], "HDR-TIMESTAMP").unwrap_or_else(|| panic!("timestamp not noise: {s}"));
    assert_eq!(noise["suggest"], "ignore = [\"HDR-TIMESTAMP\"]", "{noise}");
    assert_eq!(noise["kind"], "primary_varies", "{noise}");
    assert_eq!(s["likely_noise"].as_array().map(Vec::len), Some(1), "{s}");
    assert_eq!(field(&s["findings"], "BALANCE").map(|f| f["kind"].clone()), Some(json!("consistent")), "{s}");
    sims.stop();
}

/// The primary's balance changes between two inquiries about the same account because a
/// transfer happened in between; the new service answers the balance before it. The primary
/// varies for the same request — through state, not non-determinism: a `state_changes` finding,
/// never suggested for `ignore` (it was `primary_varies` noise, with an `ignore` line).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_balance_a_transfer_behind_is_a_state_finding_never_noise() {
    let sims = sims().await;
    let service = lagging_replica_service(sims.ledger.clone()).await;
    let gw = gateway(sims.host_tcp.to_string(), service, "ignore = [\"HDR-TIMESTAMP\"]").await;
    let mut inquiries = 0;
    for round in 0..ROUNDS as u64 {
        for n in ACCOUNTS {
            // A transfer out of the account (a different amount each time), through the gateway
            // to the host, then an inquiry about it: the host's balance has moved.
            let amount = ficus::codec::json::number_value(&format!("{}.{:02}", 10 + round * 3 + n, n * 7));
            let xfer = json!({ "FROM-ACCT": acct(n)["ACCT-NO"], "TO-ACCT": acct(7)["ACCT-NO"], "AMOUNT": amount, "MEMO": "RENT" });
            let (status, reply) = gw.post(&gw.request("XFER", xfer)).await;
            assert_eq!((status, response_code(&gw, &reply).0.as_str()), (200, "0000"), "transfer from {n}");
            let (status, reply) = gw.post(&gw.request("ACCTINQ", acct(n))).await;
            assert_eq!((status, response_code(&gw, &reply).0.as_str()), (200, "0000"), "account {n}");
            // The shadow reads the ledger before the next transfer does.
            inquiries += 1;
            shadow_stats(&gw, "ACCTINQ", inquiries).await;
        }
    }
    let s = shadow_stats(&gw, "ACCTINQ", inquiries).await;
    let later = (ACCOUNTS.len() * (ROUNDS - 1)) as u64;
    assert_eq!(s["mismatched"].as_u64(), Some(later), "every inquiry after the first differs: {s}");
    assert!(field(&s["likely_noise"], "BALANCE").is_none(), "a stale balance listed as noise: {s}");
    assert!(!s.to_string().contains("ignore = [\\\"BALANCE\\\"]"), "{s}");
    let finding = field(&s["findings"], "BALANCE").unwrap_or_else(|| panic!("no BALANCE finding: {s}"));
    assert_eq!(finding["kind"], "state_changes", "{finding}");
    assert!(finding["why"].as_str().is_some_and(|w| w.contains("lags")), "{finding}");
    assert!(finding.get("suggest").is_none() && finding["examples"].as_array().is_some_and(|e| !e.is_empty()));

    // `ficus shadow report` says the same.
    let records = gw.dir.path().join("shadow/shadow.jsonl");
    lines_of(&records, later as usize).await;
    let text = ficus(&["shadow".as_ref(), "report".as_ref(), records.as_os_str()]);
    assert!(text.contains("BALANCE") && text.contains("state_changes"), "{text}");
    assert!(!text.contains("ignore = [\"BALANCE\"]"), "{text}");
    sims.stop();
}
