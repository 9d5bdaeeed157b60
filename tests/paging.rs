//! Paged inquiries (연속조회) pinned to one backend: TXNHIST paged two rows at a time through two
//! `ficus serve` replicas sharing one PostgreSQL journal, the route flipped between the host and
//! the new service before every page — every row exactly once, in order, each conversation on
//! the system that started it (and without `continuation`, the same flips break it). On the
//! embedded SQLite journal: a key without a pin is refused (FC26) or routed when told, the last
//! page ends the conversation, pins expire, an ambiguous pin is refused, continued pages are not
//! shadowed, a canary or fallback never takes a pinned page, and a continuation key the store
//! cannot pin refuses the page (FC24) or passes it when told.

#[path = "support/postgres.rs"]
mod postgres;
#[allow(dead_code)] // the fleet tests use all of it
#[path = "support/replica.rs"]
mod replica;

mod common;

use common::*;
use replica::Replica;
use serde_json::{json, Value};
use std::time::Duration;

const ACCT: &str = "1000000000000003";
const CONT: &str = "continuation = { reply_key = \"NEXT-KEY\", request_key = \"NEXT-KEY\", ttl_s = 600 }\n";

/// The test routes with TXNHIST on `txnhist`, paged (`continuation`) when `paged`, and `journal`.
fn config(up: &Upstreams, txnhist: &str, paged: bool, journal: &str) -> String {
    let toml = routes_toml(up, "legacy", txnhist, "");
    let hist = "TXNHIST-RESP\"\ntarget   = \"";
    let at = toml.find(hist).unwrap();
    let (head, tail) = toml.split_at(at);
    let tail = if paged {
        tail.replacen("read_only = true\n", &format!("read_only = true\n{CONT}"), 1)
    } else {
        tail.to_string()
    };
    format!("{head}{tail}{journal}")
}

fn page_request(rows: u32, key: &str) -> Value {
    json!({ "ACCT-NO": ACCT, "FROM-DATE": 0, "TO-DATE": 0, "MAX-ROWS": rows, "NEXT-KEY": key })
}

fn build(table: &ficus::route::RouteTable, body: &Value) -> Vec<u8> {
    ficus::cli::build_request(table, "TXNHIST", body, &json!({})).unwrap()
}

/// (response code, message, rows, next key) of a TXNHIST reply.
fn page_of(table: &ficus::route::RouteTable, reply: &[u8]) -> (String, String, Vec<Value>, String) {
    let v = ficus::cli::decode_reply(table, "TXNHIST", reply);
    let h = &v["header"];
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    let rows = v["response"]["TXN-ROW"].as_array().cloned().unwrap_or_default();
    (text(&h["HDR-RESP-CODE"]), text(&h["HDR-RESP-MSG"]), rows, text(&v["response"]["NEXT-KEY"]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_page_a_history_while_the_route_flips_every_page() {
    let pg = postgres::Postgres::start();
    let url = pg.create_database("paging");
    let sims = sims().await;
    let up = sim_upstreams(&sims);
    let journal = format!("\n[journal]\nstore = \"{url}\"\n");
    let toml = config(&up, "legacy", true, &journal);
    let (a, b) = (Replica::start(&toml).await, Replica::start(&toml).await);
    let (_, whole) = a.post(&build(&a.table, &page_request(50, ""))).await;
    let (code, _, all, next) = page_of(&a.table, &whole);
    assert_eq!((code.as_str(), next.as_str()), ("0000", ""), "one page holds it all");
    assert!(all.len() >= 5, "account {ACCT} has a history to page: {}", all.len());

    // Two conversations, one started on each system; every page to the other replica than the
    // page before, and TXNHIST flipped (on both replicas) before every page.
    let mut targets = ["legacy", "accounts"].into_iter().cycle();
    for started_on in ["legacy", "accounts"] {
        for r in [&a, &b] {
            r.flip("TXNHIST", started_on).await;
        }
        let (mut rows, mut key, mut forms, mut pages) = (Vec::new(), String::new(), Vec::new(), 0);
        loop {
            let replica = if pages % 2 == 0 { &a } else { &b };
            let (status, reply) = replica.post(&build(&replica.table, &page_request(2, &key))).await;
            let (code, text, got, next) = page_of(&replica.table, &reply);
            assert_eq!((status, code.as_str()), (200, "0000"), "page {pages} started on {started_on}: {text}");
            rows.extend(got);
            pages += 1;
            if next.is_empty() || pages > 50 {
                break;
            }
            forms.push(next.as_bytes()[0]);
            key = next;
            let flip_to = targets.next().unwrap();
            for r in [&a, &b] {
                r.flip("TXNHIST", flip_to).await;
            }
        }
        assert_eq!(rows, all, "started on {started_on}: every row once, in order, over {pages} pages");
        let form = if started_on == "legacy" { b'H' } else { b'S' };
        assert!(forms.iter().all(|f| *f == form), "every page from {started_on}: {forms:?}");
        assert!(pages >= 3, "pages {pages}");
    }

    // Without `continuation` the same flips send page 2 to a system that never saw page 1.
    let unpaged = config(&up, "legacy", false, "");
    let c = Replica::start(&unpaged).await;
    let (_, first) = c.post(&build(&c.table, &page_request(2, ""))).await;
    let (_, _, _, key) = page_of(&c.table, &first);
    c.flip("TXNHIST", "accounts").await;
    let (_, second) = c.post(&build(&c.table, &page_request(2, &key))).await;
    let (code, text, ..) = page_of(&c.table, &second);
    assert_eq!((code.as_str(), text.as_str()), ("E302", "INVALID NEXT KEY"), "unpinned, page 2 went astray");
}

/// A gateway on the demo's simulators with TXNHIST paged and an SQLite journal; `options`
/// replaces `ttl_s = 600` in the route's `continuation` (`""`: as it is).
async fn paged_gateway(sims: &ficus::demo::Sims, txnhist: &str, options: &str) -> Gateway {
    let up = sim_upstreams(sims);
    let journal = "\n[journal]\nstore = \"sqlite:journal.db\"\n";
    let toml = config(&up, txnhist, true, journal);
    let toml = if options.is_empty() { toml } else { toml.replacen("ttl_s = 600", options, 1) };
    Gateway::start(&toml).await
}

async fn send(gw: &Gateway, body: &Value) -> (u16, (String, String, Vec<Value>, String)) {
    let (status, reply) = gw.post(&gw.request("TXNHIST", body.clone())).await;
    (status, page_of(&gw.table(), &reply))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_without_a_pin_is_refused_and_pages_may_be_sent_again() {
    // A key the host would take, but not handed out through ficus: never sent to a guess.
    let host = FakeHost::start(HostScript::Silent).await;
    let up = Upstreams { legacy: host.addr.to_string(), accounts: "http://127.0.0.1:9/ops".into() };
    let toml = config(&up, "legacy", true, "\n[journal]\nstore = \"sqlite:journal.db\"\n");
    let gw = Gateway::start(&toml).await;
    let (status, (code, text, ..)) = send(&gw, &page_request(2, "H0000002")).await;
    assert_eq!((status, code.as_str()), (422, "FC26"), "{text}");
    assert_eq!(text, "START AGAIN: KEY H0000002 UNKNOWN");
    assert_eq!(host.count(), 0, "not sent");

    let sims = sims().await;
    let gw = paged_gateway(&sims, "legacy", "").await;
    // Page to the end; the last page's key is then unknown: its conversation ended.
    let mut keys = vec![String::new()];
    for _ in 0..50 {
        let (_, (code, _, _, next)) = send(&gw, &page_request(2, keys.last().unwrap())).await;
        assert_eq!(code, "0000");
        if next.is_empty() {
            break;
        }
        keys.push(next);
    }
    assert!(keys.len() >= 3, "at least three pages: {keys:?}");
    // The last page sent again (its answer lost): its pin lives on, so the same system answers.
    let last = keys.last().unwrap();
    let (status, (code, _, rows, next)) = send(&gw, &page_request(2, last)).await;
    assert_eq!((status, code.as_str(), next.as_str()), (200, "0000", ""), "the last page again");
    assert!(!rows.is_empty());
    // An earlier page's pin lives until its time to live: a channel may page back.
    let (_, (code, _, _, next)) = send(&gw, &page_request(2, &keys[1])).await;
    assert_eq!((code.as_str(), next.as_str()), ("0000", keys[2].as_str()));
    // Another inquiry (other rows per page) is another conversation: the key is not its own.
    let (status, (code, ..)) = send(&gw, &page_request(3, &keys[1])).await;
    assert_eq!((status, code.as_str()), (422, "FC26"), "scope: the whole request but the key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_route_sends_an_unpinned_key_where_the_route_says() {
    let sims = sims().await;
    let gw = paged_gateway(&sims, "legacy", "ttl_s = 600, unknown = \"route\"").await;
    let (status, (code, text, rows, _)) = send(&gw, &page_request(2, "H0000002")).await;
    assert_eq!((status, code.as_str(), rows.len()), (200, "0000", 2), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_expires_after_its_time_to_live() {
    let sims = sims().await;
    let gw = paged_gateway(&sims, "legacy", "ttl_s = 1").await;
    let (_, (_, _, _, key)) = send(&gw, &page_request(2, "")).await;
    assert!(!key.is_empty());
    // The pin's time to live is the point here: wait it out.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, (code, ..)) = send(&gw, &page_request(2, &key)).await;
    assert_eq!((status, code.as_str()), (422, "FC26"), "expired");
}

/// Two upstreams handing out one key for one inquiry make the pin ambiguous: the next page is
/// refused, on either store. A pin renewed by its own upstream, or taken over once expired, is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pins_turn_ambiguous_when_two_upstreams_hand_out_one_key() {
    let pg = postgres::Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    for url in ["sqlite:pins.db".to_string(), pg.create_database("pins")] {
        let store = ficus::journal::Store::open(&url, dir.path(), 2).unwrap();
        store.ready().await.unwrap();
        let (now, ttl) = (ficus::journal::now_ms(), Duration::from_secs(60));
        store.pin_to("k1", "TXNHIST", "legacy", now, ttl, false).await.unwrap();
        store.pin_to("k1", "TXNHIST", "legacy", now + 1, ttl, false).await.unwrap();
        assert_eq!(store.pin("k1", now).await.unwrap().unwrap().upstream, "legacy", "{url}: renewed");
        store.pin_to("k1", "TXNHIST", "accounts", now + 2, ttl, false).await.unwrap();
        assert_eq!(store.pin("k1", now).await.unwrap().unwrap().upstream, "", "{url}: ambiguous");
        store.pin_to("k1", "TXNHIST", "legacy", now + 3, ttl, true).await.unwrap();
        assert_eq!(
            store.pin("k1", now).await.unwrap().unwrap().upstream,
            "legacy",
            "{url}: a first page's key is its own"
        );
        store.pin_to("k1", "TXNHIST", "accounts", now + 4, ttl, false).await.unwrap();
        store.pin_to("k2", "TXNHIST", "legacy", now - 120_000, ttl, false).await.unwrap();
        assert_eq!(store.pin("k2", now).await.unwrap(), None, "{url}: expired pins are not found");
        store.pin_to("k2", "TXNHIST", "accounts", now, ttl, false).await.unwrap();
        assert_eq!(store.pin("k2", now).await.unwrap().unwrap().upstream, "accounts", "{url}: taken over");
        store.unpin("k2").await.unwrap();
        assert_eq!(store.pin("k2", now).await.unwrap(), None, "{url}: ended");
        assert_eq!(store.purge_pins(now + 61_000).await.unwrap(), 1, "{url}: k1 purged once expired");
    }

    // Through the gateway: the ambiguous pin of a real conversation refuses its next page.
    let sims = sims().await;
    let gw = paged_gateway(&sims, "legacy", "").await;
    let (_, (_, _, _, key)) = send(&gw, &page_request(2, "")).await;
    let table = gw.table();
    let c = table.routes["TXNHIST"].continuation.clone().unwrap();
    let message = gw.request("TXNHIST", page_request(2, &key));
    let pin_key = c.pin_key("TXNHIST", &message, table.header.size, &key).unwrap();
    let store = &table.journal.as_ref().unwrap().store;
    store.pin_to(&pin_key, "TXNHIST", "accounts", ficus::journal::now_ms(), c.ttl, false).await.unwrap();
    let (status, (code, ..)) = send(&gw, &page_request(2, &key)).await;
    assert_eq!((status, code.as_str()), (422, "FC26"), "two upstreams issued {key}");
}

/// A shadowed paged route: first pages are mirrored and match (each system's own NEXT-KEY is
/// never a difference); continued pages are not mirrored — the shadow never issued their key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continued_pages_are_not_shadowed_and_next_keys_never_differ() {
    let sims = sims().await;
    let gw = paged_gateway(&sims, "legacy", "").await;
    gw.put_route("TXNHIST", json!({ "shadow": "accounts", "ignore": ["HDR-TIMESTAMP"] })).await;
    let mut pages = 0;
    for _ in 0..3 {
        let mut key = String::new();
        loop {
            let (_, (code, _, _, next)) = send(&gw, &page_request(2, &key)).await;
            assert_eq!(code, "0000");
            pages += 1;
            if next.is_empty() {
                break;
            }
            key = next;
        }
    }
    assert!(pages >= 9, "{pages}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let stats = loop {
        let (_, v) = gw.admin_call("GET", "/shadow", None, None).await;
        let s = v["operations"]["TXNHIST"].clone();
        if s["compared"].as_u64() >= Some(3) || std::time::Instant::now() > deadline {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!((stats["compared"].as_u64(), stats["mismatched"].as_u64()), (Some(3), Some(0)), "{stats}");
}

/// A canary (or a flip) that came after page 1 never takes page 2: the pin wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_never_takes_a_pinned_page() {
    let sims = sims().await;
    let gw = paged_gateway(&sims, "legacy", "").await;
    let (_, (_, _, _, key)) = send(&gw, &page_request(2, "")).await;
    assert!(key.starts_with('H'), "{key}");
    gw.put_route("TXNHIST", json!({ "canary": { "to": "accounts", "percent": 100, "sticky": "ACCT-NO" } })).await;
    let (_, (code, _, _, next)) = send(&gw, &page_request(2, &key)).await;
    assert_eq!(code, "0000");
    assert!(next.starts_with('H'), "page 2 from the host, not the canary: {next}");
    let (_, (_, _, _, fresh)) = send(&gw, &page_request(2, "")).await;
    assert!(fresh.starts_with('S'), "a new inquiry follows the canary: {fresh}");
}

/// The store unreachable: a page's next key cannot be pinned, so the page is refused (FC24) —
/// or, with `on_store_error = "pass"`, served unpinned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_store_refuses_pages_or_passes_them_when_told() {
    let sims = sims().await;
    let up = sim_upstreams(&sims);
    let dead = dead_address().await;
    let down = format!("\n[journal]\nstore = \"postgres://ficus@{dead}/ficus\"\n");
    let gw = Gateway::start(&config(&up, "legacy", true, &down)).await;
    let (status, (code, text, ..)) = send(&gw, &page_request(2, "")).await;
    assert_eq!((status, code.as_str()), (503, "FC24"), "{text}");
    let gw = Gateway::start(&config(&up, "legacy", true, &format!("{down}on_store_error = \"pass\"\n"))).await;
    let (status, (code, _, rows, key)) = send(&gw, &page_request(2, "")).await;
    assert_eq!((status, code.as_str(), rows.len()), (200, "0000", 2));
    let (status, (code, ..)) = send(&gw, &page_request(2, &key)).await;
    assert_eq!((status, code.as_str()), (200, "0000"), "unpinned, sent where the route says");
}

#[test]
fn each_unsafe_or_misnamed_continuation_is_refused_with_its_reason() {
    let up = Upstreams { legacy: "127.0.0.1:7001".into(), accounts: "http://127.0.0.1:7002/ops".into() };
    let journal = "\n[journal]\nstore = \"sqlite:journal.db\"\n";
    let problems = |text: &str| {
        let dir = tempfile::tempdir().unwrap();
        match ficus::config::build::build(text, &dir.path().join("routes.toml"), None, 1) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    };
    let with = |spec: &str| config(&up, "legacy", true, journal).replacen(CONT.trim_end(), spec, 1);
    assert_eq!(problems(&config(&up, "legacy", true, journal)), "", "the well-formed one builds");
    let cases: &[(String, &str)] = &[
        (config(&up, "legacy", true, ""), "continuation needs a [journal] section"),
        (
            format!("{}{journal}", routes_toml(&up, "legacy", "legacy", CONT)),
            "continuation is for paged inquiries (read_only = true)",
        ),
        (with("continuation = { reply_key = \"NEXT-KY\", request_key = \"NEXT-KEY\" }"), "no field NEXT-KY"),
        (
            with("continuation = { reply_key = \"TXN-MEMO\", request_key = \"NEXT-KEY\" }"),
            "TXN-ROW[].TXN-MEMO is inside one and has no fixed offset",
        ),
        (
            with("continuation = { reply_key = \"NEXT-KEY\", request_key = \"NEXT-KEY\", unknown = \"guess\" }"),
            "continuation unknown = \"guess\"",
        ),
        (
            with("continuation = { reply_key = \"NEXT-KEY\", request_key = \"NEXT-KEY\", ttl_s = 0 }"),
            "ttl_s must be at least 1",
        ),
        (
            with("continuation = { reply_key = \"NEXT-KEY\", request_key = \"NEXT-KEY\", scope = [\"ACCT-NUMBER\"] }"),
            "no field ACCT-NUMBER",
        ),
        (with("continuation = { reply_ky = \"NEXT-KEY\", request_key = \"NEXT-KEY\" }"), "unknown field `reply_ky`"),
        (
            with("continuation = { reply_key = \"ROW-COUNT\", request_key = \"NEXT-KEY\" }"),
            "must both be text or both numbers",
        ),
        (
            with("continuation = { reply_key = \"ACCT-NO\", request_key = \"NEXT-KEY\" }"),
            "(16 bytes) is longer than request_key NEXT-KEY (10 bytes)",
        ),
    ];
    for (text, expected) in cases {
        let found = problems(text);
        assert!(found.contains(expected), "expected {expected:?} in:\n{found}\n{text}");
        assert!(found.contains("routes.toml:"), "a line is named: {found}");
    }
}
