//! ficus against a real COBOL host: GnuCOBOL programs for ACCTINQ, TXNHIST and XFER over an
//! indexed ledger file (`examples/cobol-host/`), the sample `accounts` service, and a gateway
//! in ASCII (GnuCOBOL's code page, so the host's bytes pass through untouched).
//!
//! One scripted day: morning inquiries and histories on the COBOL host, shadowed to
//! `accounts` (zero mismatches apart from HDR-TIMESTAMP and each side's own TXNHIST NEXT-KEY
//! token); the same requests flipped to `accounts` give byte-identical replies (those two aside); midday transfers (accepted and refused) on the
//! COBOL host; afternoon reads again, shadowed and flipped, now with the transfers in the
//! histories. The `accounts` service reads a replica of the ledger that the host's front end
//! keeps in step with every transfer the COBOL XFER accepted (change data capture), so the
//! two sides answer from the same data all day. Every reply is also checked against the Rust
//! business rules (`ficus::sim::ops`) run on a third, independent copy of the ledger.
//!
//! `cobc` missing is a failure with an install hint, never a skip (CI installs gnucobol3).

mod common;

#[allow(dead_code)]
#[path = "../examples/cobol-host/compile.rs"]
mod compile;
#[allow(dead_code)]
#[path = "../examples/cobol-host/front.rs"]
mod front;
#[allow(dead_code)]
#[path = "../examples/cobol-host/seed.rs"]
mod seed;
#[allow(dead_code)]
#[path = "../examples/cobol-host/sources.rs"]
mod sources;

use common::*;
use ficus::sim::ledger::Ledger;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// The COBOL host, the `accounts` service on the host's replica, and their data directory.
struct Hosts {
    cobol: Arc<front::CobolHost>,
    upstreams: Upstreams,
    replica: Arc<Ledger>,
    stop: tokio::sync::watch::Sender<bool>,
    _data: tempfile::TempDir,
}

async fn start_hosts() -> Hosts {
    let cache = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cobol-host");
    let sources = sources::Sources::resolve(None, None).unwrap();
    let programs =
        compile::compile(&sources, &cache).await.unwrap_or_else(|e| panic!("cannot build the COBOL host: {e}"));
    let data = tempfile::tempdir().unwrap();
    let loaded =
        seed::seed(&programs, &sources, data.path(), &Ledger::seeded()).unwrap_or_else(|e| panic!("seeding: {e}"));
    assert_eq!(loaded, 10 + 10 * 12 + 1, "accounts, history rows and the reference counter");
    let replica = Arc::new(Ledger::seeded());
    let cobol = Arc::new(front::CobolHost::new(programs, data.path(), &copybooks(), Some(replica.clone())).unwrap());
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    // Bound before the tasks start: a connection waits in the backlog until they accept.
    let host = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let service = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstreams = Upstreams {
        legacy: host.local_addr().unwrap().to_string(),
        accounts: format!("http://{}/ops", service.local_addr().unwrap()),
    };
    tokio::spawn(cobol.clone().serve(host, shutdown.clone()));
    tokio::spawn(ficus::sim::accounts::serve(service, replica.clone(), shutdown));
    Hosts { cobol, upstreams, replica, stop, _data: data }
}

/// The test routes in ASCII, with ACCTINQ and TXNHIST on the COBOL host and shadowed to
/// `accounts`; the timestamp is whoever answered's clock, and TXNHIST's NEXT-KEY each system's
/// own token (`H…` from the host, `S…` from the service), so comparisons leave them out.
fn cobol_routes(up: &Upstreams) -> String {
    let shadow = "read_only = true\nshadow = \"accounts\"\nignore = [\"HDR-TIMESTAMP\"]\n";
    let toml = ascii_routes(up).replace("read_only = true\n", shadow);
    let hist =
        "TXNHIST-RESP\"\ntarget   = \"legacy\"\nread_only = true\nshadow = \"accounts\"\nignore = [\"HDR-TIMESTAMP\"";
    assert!(toml.contains(hist), "{toml}");
    let toml = toml.replace(hist, &format!("{hist}, \"NEXT-KEY\""));
    assert!(toml.contains("\"ascii\"") && toml.matches("shadow = ").count() == 2, "{toml}");
    toml
}

/// The test routes in ASCII, every route on the COBOL host, nothing shadowed.
fn ascii_routes(up: &Upstreams) -> String {
    routes_toml(up, "legacy", "legacy", "").replace("codepage    = \"cp037\"", "codepage    = \"ascii\"")
}

fn account(n: u64) -> String {
    format!("{}", 1_000_000_000_000_000u64 + n)
}

/// A day's reads: every account's inquiry and two histories, a narrow window, unknown accounts.
fn reads() -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    for n in 1..=10 {
        out.push(("ACCTINQ", json!({ "ACCT-NO": account(n) })));
        out.push((
            "TXNHIST",
            json!({ "ACCT-NO": account(n), "FROM-DATE": 20260101, "TO-DATE": 20261231, "MAX-ROWS": 7 }),
        ));
        out.push(("TXNHIST", json!({ "ACCT-NO": account(n), "FROM-DATE": 0, "TO-DATE": 0, "MAX-ROWS": 50 })));
    }
    out.push(("TXNHIST", json!({ "ACCT-NO": account(4), "FROM-DATE": 20260301, "TO-DATE": 20260430, "MAX-ROWS": 5 })));
    out.push(("TXNHIST", json!({ "ACCT-NO": account(6), "FROM-DATE": 20261101, "TO-DATE": 0, "MAX-ROWS": 3 })));
    out.push(("ACCTINQ", json!({ "ACCT-NO": "9999999999999999" })));
    out.push(("TXNHIST", json!({ "ACCT-NO": "9999999999999999", "FROM-DATE": 0, "TO-DATE": 0, "MAX-ROWS": 5 })));
    out
}

/// How many of a round's first requests [`send_all`] also sends over HTTP.
const HTTP_TOO: usize = 3;

/// Sends `requests` over the channel's framed TCP listener (one connection) and returns the
/// replies; the first [`HTTP_TOO`] also go over HTTP, which must give the same bytes.
async fn send_all(gw: &Gateway, requests: &[(&'static str, Vec<u8>)]) -> Vec<Vec<u8>> {
    let messages: Vec<Vec<u8>> = requests.iter().map(|(_, m)| m.clone()).collect();
    let replies = tcp_exchange(gw.tcp(), &messages).await;
    for (i, (op, m)) in requests.iter().enumerate().take(HTTP_TOO) {
        let (status, mut over_http) = gw.post(m).await;
        assert_eq!(status, 200, "{op}");
        let mut over_tcp = replies[i].clone();
        over_http[TIMESTAMP].fill(b'0');
        over_tcp[TIMESTAMP].fill(b'0');
        assert_eq!(over_http, over_tcp, "{op}: HTTP and TCP channels differ");
    }
    replies
}

/// The reply the Rust business rules give for `request` on `reference`, decoded as the
/// gateway decodes replies, to check a COBOL reply against.
fn expected(reference: &Ledger, op: &str, request: &Value) -> Value {
    let r = ficus::sim::ops::serve(reference, op, request, ficus::sim::ops::now()).unwrap();
    json!({ "code": r.code, "message": r.message, "response": r.response.unwrap_or(Value::Null) })
}

/// Checks each COBOL reply: header echoed and finished, body as the business rules say.
fn check_replies(gw: &Gateway, reference: &Ledger, reads: &[(&'static str, Value)], replies: &[Vec<u8>]) {
    let today = ficus::sim::ops::now().0 as u64;
    for ((op, request), reply) in reads.iter().zip(replies) {
        let got = gw.decode(op, reply);
        let h = &got["header"];
        let want = expected(reference, op, request);
        assert_eq!((&h["HDR-RESP-CODE"], &h["HDR-RESP-MSG"]), (&want["code"], &want["message"]), "{op} {request}");
        assert_eq!(h["HDR-TRAN-CODE"], *op);
        assert_eq!(h["HDR-MSG-LEN"].as_u64(), Some(reply.len() as u64), "{op}: HDR-MSG-LEN is the whole reply");
        let stamp = h["HDR-TIMESTAMP"].as_u64().unwrap_or(0);
        assert!(stamp / 1_000_000 + 1 >= today, "{op}: HDR-TIMESTAMP {stamp} is not now");
        assert_eq!(got["response"], want["response"], "{op} {request}");
    }
}

/// Polls `GET /shadow` until every shadowed message of `op` is accounted for (bounded).
async fn shadow_settled(gw: &Gateway, op: &str, total: u64) -> Value {
    let mut last = Value::Null;
    for _ in 0..300 {
        let (_, v) = gw.admin_call("GET", "/shadow", None, None).await;
        let s = v["operations"][op].clone();
        let seen: u64 = ["compared", "shadow_errors", "dropped"].iter().map(|k| s[*k].as_u64().unwrap_or(0)).sum();
        if seen >= total {
            return s;
        }
        last = v;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the shadow never accounted for {total} {op} messages: {last}");
}

/// Waits for the shadows of `rounds` rounds of [`send_all`] and asserts there were no
/// mismatches or errors.
async fn assert_shadow_clean(gw: &Gateway, reads: &[(&'static str, Value)], rounds: u64) {
    for op in ["ACCTINQ", "TXNHIST"] {
        let per_round =
            reads.iter().filter(|(o, _)| *o == op).count() + reads[..HTTP_TOO].iter().filter(|(o, _)| *o == op).count();
        let total = per_round as u64 * rounds;
        let s = shadow_settled(gw, op, total).await;
        assert_eq!(
            (s["compared"].as_u64(), s["mismatched"].as_u64(), s["shadow_errors"].as_u64()),
            (Some(total), Some(0), Some(0)),
            "{op}: shadow against the COBOL host: {s}"
        );
    }
}

/// Flips ACCTINQ and TXNHIST to `accounts` (shadowing the COBOL host instead), replays the
/// requests and asserts the channel gets the COBOL host's bytes, timestamp aside; flips back.
async fn assert_flip_identical(
    gw: &Gateway,
    host: &front::CobolHost,
    requests: &[(&'static str, Vec<u8>)],
    cobol: &[Vec<u8>],
) {
    for op in ["ACCTINQ", "TXNHIST"] {
        gw.put_route(op, json!({ "target": "accounts", "shadow": null })).await;
    }
    let served_before = host.served();
    let from_service = send_all(gw, requests).await;
    assert_eq!(host.served(), served_before, "flipped: the COBOL host served none of them");
    for (((op, _), from_cobol), service) in requests.iter().zip(cobol).zip(&from_service) {
        let (mut from_cobol, mut service) = (from_cobol.clone(), service.clone());
        from_cobol[TIMESTAMP].fill(b'0');
        service[TIMESTAMP].fill(b'0');
        if *op == "TXNHIST" && from_cobol.len() >= NEXT_KEY.end && service.len() >= NEXT_KEY.end {
            // Each system's own continuation token, the same row: H0000005 and S00000005.
            let (h, s) = (&from_cobol[NEXT_KEY], &service[NEXT_KEY]);
            assert_eq!(h.iter().any(|b| *b != b' '), s.iter().any(|b| *b != b' '), "{op}: one side has a next page");
            if h[0] == b'H' {
                let seq = |k: &[u8], radix| u32::from_str_radix(std::str::from_utf8(&k[1..]).unwrap().trim(), radix);
                assert_eq!((s[0], seq(h, 10)), (b'S', seq(s, 16)), "{op}: keys name one row");
            }
            from_cobol[NEXT_KEY].fill(b' ');
            service[NEXT_KEY].fill(b' ');
        }
        assert_eq!(
            from_cobol,
            service,
            "{op}: accounts differs from the COBOL host\nCOBOL:    {}\naccounts: {}",
            gw.decode(op, &from_cobol),
            gw.decode(op, &service)
        );
    }
    for op in ["ACCTINQ", "TXNHIST"] {
        gw.put_route(op, json!({ "target": "legacy", "shadow": "accounts" })).await;
    }
}

/// Midday: transfers on the COBOL host, accepted and refused with the ledger's codes.
async fn transfers(gw: &Gateway, hosts: &Hosts, reference: &Ledger) -> usize {
    let available = |n: u64| {
        let a = reference.account(&account(n)).unwrap();
        (a.balance - a.hold) as f64 / 100.0
    };
    let all_of_7 = available(7);
    let day: Vec<(Value, &str)> = vec![
        (json!({ "FROM-ACCT": account(2), "TO-ACCT": account(3), "AMOUNT": 150.25, "MEMO": "RENT" }), "0000"),
        (json!({ "FROM-ACCT": account(1), "TO-ACCT": account(4), "AMOUNT": 1000, "MEMO": "SALARY ADVANCE" }), "0000"),
        (
            json!({ "FROM-ACCT": account(2), "TO-ACCT": account(3), "AMOUNT": 99999999999.99, "MEMO": "TOO MUCH" }),
            "E201",
        ),
        (json!({ "FROM-ACCT": account(9), "TO-ACCT": account(3), "AMOUNT": 5, "MEMO": "DORMANT SOURCE" }), "E102"),
        (json!({ "FROM-ACCT": account(3), "TO-ACCT": account(9), "AMOUNT": 5, "MEMO": "DORMANT TARGET" }), "E102"),
        (json!({ "FROM-ACCT": account(1), "TO-ACCT": account(1), "AMOUNT": 5, "MEMO": "SAME" }), "E301"),
        (json!({ "FROM-ACCT": account(1), "TO-ACCT": account(2), "AMOUNT": 0, "MEMO": "ZERO" }), "E301"),
        (json!({ "FROM-ACCT": account(1), "TO-ACCT": "9999999999999999", "AMOUNT": 5, "MEMO": "NOBODY" }), "E101"),
        (json!({ "FROM-ACCT": account(7), "TO-ACCT": account(5), "AMOUNT": all_of_7, "MEMO": "EVERYTHING" }), "0000"),
        (json!({ "FROM-ACCT": account(7), "TO-ACCT": account(5), "AMOUNT": 0.01, "MEMO": "ONE MORE CENT" }), "E201"),
        (json!({ "FROM-ACCT": account(5), "TO-ACCT": account(6), "AMOUNT": 12.34, "MEMO": "LUNCH" }), "0000"),
        (json!({ "FROM-ACCT": account(6), "TO-ACCT": account(2), "AMOUNT": 0.01, "MEMO": "A CENT BACK" }), "0000"),
    ];
    let mut accepted = 0;
    for (request, code) in &day {
        let (status, reply) = gw.post(&gw.request("XFER", request.clone())).await;
        assert_eq!(status, 200);
        let got = gw.decode("XFER", &reply);
        assert_eq!(got["header"]["HDR-RESP-CODE"], *code, "{request}: {got}");
        // The reference ledger takes the same transfer at the host's time; both must agree.
        let stamp = got["header"]["HDR-TIMESTAMP"].as_u64().unwrap();
        let cents = (request["AMOUNT"].as_f64().unwrap() * 100.0).round() as i128;
        let (from, to, memo) = (
            request["FROM-ACCT"].as_str().unwrap(),
            request["TO-ACCT"].as_str().unwrap(),
            request["MEMO"].as_str().unwrap(),
        );
        let want = reference.transfer(from, to, cents, memo, (stamp / 1_000_000) as u32, (stamp % 1_000_000) as u32);
        match want {
            Err(refusal) => {
                assert_eq!(refusal.code().0, *code, "{request}");
                assert_eq!(got["header"]["HDR-RESP-MSG"], refusal.code().1);
                assert_eq!(reply.len(), 85, "a refusal is the header alone");
            }
            Ok((after, reference_no)) => {
                assert_eq!(got["response"]["FROM-ACCT"], from);
                assert_eq!(got["response"]["FROM-BAL-AFTER"].to_string(), ficus::sim::ledger::money(after).to_string());
                assert_eq!(got["response"]["XFER-REF"], reference_no);
                accepted += 1;
            }
        }
    }
    assert_eq!(accepted, 5);
    assert_eq!(hosts.cobol.replica_mismatches(), 0, "the replica followed every accepted transfer");
    accepted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_on_the_cobol_host_shadowed_and_flipped_byte_identical() {
    let started = std::time::Instant::now();
    let hosts = start_hosts().await;
    let gw = Gateway::start(&cobol_routes(&hosts.upstreams)).await;
    let reference = Ledger::seeded();
    let reads = reads();

    // Morning: reads on the COBOL host, shadowed to accounts.
    let requests: Vec<(&str, Vec<u8>)> = reads.iter().map(|(op, body)| (*op, gw.request(op, body.clone()))).collect();
    let morning = send_all(&gw, &requests).await;
    check_replies(&gw, &reference, &reads, &morning);
    let lee = gw.decode("ACCTINQ", &morning[3]);
    assert_eq!(lee["response"]["CUST-NAME"], "LEE DOYUN", "{lee}");
    assert_eq!(lee["response"]["BALANCE"].to_string(), "20073.45");
    assert_eq!(lee["response"]["AVAIL-BAL"].to_string(), "20023.45");
    assert_shadow_clean(&gw, &reads, 1).await;
    assert_flip_identical(&gw, &hosts.cobol, &requests, &morning).await;

    // Midday: transfers, always on the COBOL host.
    transfers(&gw, &hosts, &reference).await;

    // Afternoon: the same reads, the transfers now in balances and histories.
    let afternoon = send_all(&gw, &requests).await;
    check_replies(&gw, &reference, &reads, &afternoon);
    assert_ne!(morning[3], afternoon[3], "account 2's balance moved");
    let hist = gw.decode("TXNHIST", &afternoon[5]);
    assert_eq!(hist["response"]["TXN-ROW"][0]["TXN-MEMO"], "A CENT BACK", "newest first: {hist}");
    assert_eq!(hist["response"]["TXN-ROW"][1]["TXN-TYPE"], "TO");
    assert_shadow_clean(&gw, &reads, 2).await;
    assert_flip_identical(&gw, &hosts.cobol, &requests, &afternoon).await;

    for n in 1..=10 {
        assert_eq!(hosts.replica.account(&account(n)), reference.account(&account(n)), "account {n}");
    }
    let served = hosts.cobol.served();
    assert_eq!(served, 2 * (reads.len() + HTTP_TOO) as u64 + 12, "COBOL transactions run");
    eprintln!("COBOL host: {served} transactions; whole day {:?}", started.elapsed());
    hosts.stop.send(true).unwrap();
}

/// TXNHIST pages on the COBOL host as the Rust rules page: following NEXT-KEY two rows at a time
/// gives every row of the one-page answer once, in order; each page is the Rust rules' page; a
/// key the host did not hand out (the service's form, or past the history) is E302.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cobol_host_pages_a_history_by_next_key() {
    let hosts = start_hosts().await;
    let gw = Gateway::start(&ascii_routes(&hosts.upstreams)).await;
    let reference = Ledger::seeded();
    let whole = json!({ "ACCT-NO": account(3), "FROM-DATE": 0, "TO-DATE": 0, "MAX-ROWS": 50 });
    let reply = &tcp_exchange(gw.tcp(), &[gw.request("TXNHIST", whole.clone())]).await[0];
    let all = gw.decode("TXNHIST", reply)["response"]["TXN-ROW"].as_array().unwrap().clone();
    assert!(all.len() >= 5, "account 3 has a history to page: {}", all.len());
    let (mut rows, mut key, mut pages) = (Vec::new(), String::new(), 0);
    loop {
        let request = json!({ "ACCT-NO": account(3), "FROM-DATE": 0, "TO-DATE": 0, "MAX-ROWS": 2, "NEXT-KEY": key });
        let reply = &tcp_exchange(gw.tcp(), &[gw.request("TXNHIST", request.clone())]).await[0];
        let got = gw.decode("TXNHIST", reply);
        assert_eq!(got["header"]["HDR-RESP-CODE"], "0000", "{got}");
        assert_eq!(got["response"], expected(&reference, "TXNHIST", &request)["response"], "page {pages}");
        rows.extend(got["response"]["TXN-ROW"].as_array().unwrap().iter().cloned());
        pages += 1;
        key = got["response"]["NEXT-KEY"].as_str().unwrap().to_string();
        if key.is_empty() || pages > 50 {
            break;
        }
        assert!(key.starts_with('H'), "the host's own key form: {key}");
    }
    assert_eq!(rows, all, "every row once, in order, over {pages} pages");
    assert_eq!(pages, all.len().div_ceil(2), "no empty last page when the rows divide evenly: {pages}");
    for foreign in ["S00000003", "H9999999", "X", "H12"] {
        let request =
            json!({ "ACCT-NO": account(3), "FROM-DATE": 0, "TO-DATE": 0, "MAX-ROWS": 2, "NEXT-KEY": foreign });
        let reply = &tcp_exchange(gw.tcp(), &[gw.request("TXNHIST", request)]).await[0];
        assert_eq!(gw.table().header.response_code(reply).as_deref(), Some("E302"), "{foreign}");
    }
    hosts.stop.send(true).unwrap();
}

/// The COBOL dispatcher answers the link poll itself (header alone, 0000, no program runs), so
/// a gateway polling its idle connection keeps it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cobol_host_answers_link_polls_and_keeps_its_connection() {
    let hosts = start_hosts().await;
    let poll = "max_connections = 8\npoll = { every_ms = 50, op = \"HEARTBT\" }\n";
    let gw = Gateway::start(&cobol_routes(&hosts.upstreams).replacen("max_connections = 8\n", poll, 1)).await;
    let table = gw.table();
    let heartbeat = table.header.link_message("HEARTBT", 31337).unwrap();
    let reply = hosts.cobol.reply(&heartbeat).await;
    assert_eq!(reply.len(), table.header.size, "the header alone: {:?}", String::from_utf8_lossy(&reply));
    assert_eq!(table.header.response_code(&reply).as_deref(), Some("0000"));
    assert_eq!(reply[MESSAGE_ID], heartbeat[MESSAGE_ID]);
    table.header.check_length(&reply).unwrap();

    let ok = |s: &str| s.starts_with("ficus_upstream_polls_total{") && s.contains("\"legacy\"") && s.contains("\"ok\"");
    let polled = || -> u64 {
        let text = ficus::admin::metrics::install().unwrap().render();
        text.lines().filter(|l| ok(l)).filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok()).sum()
    };
    let before = polled();
    let request = gw.request("ACCTINQ", json!({ "ACCT-NO": account(1) }));
    let answer = &tcp_exchange(gw.tcp(), &[request]).await[0];
    assert_eq!(response_code(&gw, answer).0, "0000");
    // Two polls answered on the idle connection, within a generous deadline.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while polled() < before + 2 {
        assert!(std::time::Instant::now() < deadline, "no polls answered by the COBOL host");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(gw.table().upstreams["legacy"].upstream.gate().in_use(), 0);
    hosts.stop.send(true).unwrap();
}
