//! Two `ficus serve` replicas sharing one PostgreSQL journal (a real server, Debian's, started
//! in a temporary directory): a transfer resent to the other replica is posted once and both
//! channels get the same bytes; a duplicate sent while the first is in flight on the other
//! replica waits for its answer; a replica killed mid-write leaves the key unknown and the
//! duplicate is refused, not posted; a reversal sent to one replica goes where the other sent
//! its original, across a flip; owners moved under write load on both replicas lose nothing and
//! post nothing twice. Checked on the simulators' postings and ledger, not only on replies.

#[path = "support/postgres.rs"]
mod postgres;
#[path = "support/replica.rs"]
mod replica;

mod common;

use common::*;
use ficus::journal::owners::MoveTo;
use ficus::journal::{EntryState, Store};
use replica::Replica;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ACCT1: &str = "1000000000000001";
const ACCT2: &str = "1000000000000002";

fn config(legacy: &str, accounts: &str, journal_url: &str) -> String {
    let up = Upstreams { legacy: legacy.into(), accounts: accounts.into() };
    format!(
        "{}\n[routes.XFERCAN]\nrequest = \"XFERCAN.cpy#XFERCAN-REQ\"\nresponse = \"XFERCAN.cpy#XFERCAN-RESP\"\ntarget = \
         \"legacy\"\nreverses = \"XFER\"\noriginal_key = [\"ORG-SEQ-NO\"]\n\n[journal]\nstore = \"{journal_url}\"\n",
        routes_toml(&up, "legacy", "legacy", "owner_key = \"FROM-ACCT\"")
    )
}

fn xfer(table: &ficus::route::RouteTable, seq: u64, from: &str, to: &str, cents: i64) -> Vec<u8> {
    let body = json!({ "FROM-ACCT": from, "TO-ACCT": to, "AMOUNT": cents as f64 / 100.0, "MEMO": "FLEET" });
    ficus::cli::build_request(table, "XFER", &body, &json!({ "HDR-SEQ-NO": seq })).unwrap()
}

fn code(table: &ficus::route::RouteTable, reply: &[u8]) -> String {
    let h: Value = ficus::cli::decode_reply(table, "XFER", reply)["header"].clone();
    format!("{} {}", h["HDR-RESP-CODE"].as_str().unwrap_or(""), h["HDR-RESP-MSG"].as_str().unwrap_or(""))
}

async fn store(url: &str) -> Store {
    let store = Store::open(url, Path::new("."), 2).unwrap();
    store.ready().await.unwrap();
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_post_a_resent_transfer_once_and_wait_for_one_in_flight() {
    let pg = postgres::Postgres::start();
    let url = pg.create_database("resend");
    let sims = sims().await;
    let up = sim_upstreams(&sims);
    let slow = slow_host(sims.host_tcp, Duration::from_millis(400)).await;
    let (a, b) = (
        Replica::start(&config(&slow.to_string(), &up.accounts, &url)).await,
        Replica::start(&config(&slow.to_string(), &up.accounts, &url)).await,
    );
    let before = sims.ledger.balances();
    let m = xfer(&a.table, 7001, ACCT1, ACCT2, 1234);
    let (s1, first) = a.post(&m).await;
    assert_eq!((s1, &code(&a.table, &first)[..4]), (200, "0000"));
    let (s2, again) = b.post(&m).await;
    assert_eq!(s2, 200);
    assert_eq!(again, first, "replica B answers with replica A's reply bytes");
    assert_eq!(sims.host_postings.transfers(), 1);
    assert_eq!(sims.ledger.balances()[ACCT1], before[ACCT1] - 1234);

    // The second one while the first is still at the host, through the other replica: it waits
    // for the first's answer and gets the same bytes.
    let m = xfer(&a.table, 7002, ACCT1, ACCT2, 100);
    let first = tokio::spawn({
        let (http, m) = (a.http, m.clone());
        async move { post(http, &m).await }
    });
    let journal = store(&url).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while journal.get("7002").await.unwrap().is_none() {
        assert!(Instant::now() < deadline, "replica A never claimed 7002");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (s2, dup) = b.post(&m).await;
    let (s1, first) = first.await.unwrap();
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(&code(&a.table, &first)[..4], "0000");
    assert_eq!(dup, first);
    assert_eq!(sims.host_postings.transfers(), 2, "posted once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_write_leaves_the_key_unknown_and_the_duplicate_is_refused() {
    let pg = postgres::Postgres::start();
    let url = pg.create_database("killed");
    let host = FakeHost::start(HostScript::Silent).await;
    let (mut a, b) = (
        Replica::start(&config(&host.addr.to_string(), "http://127.0.0.1:9/ops", &url)).await,
        Replica::start(&config(&host.addr.to_string(), "http://127.0.0.1:9/ops", &url)).await,
    );
    let m = xfer(&a.table, 8001, ACCT1, ACCT2, 100);
    let lost = tokio::spawn({
        let (http, m) = (a.http, m.clone());
        async move { tokio::time::timeout(Duration::from_secs(10), post(http, &m)).await }
    });
    wait_for("the host to hold the transfer", || host.count() == 1).await;
    a.child.start_kill().unwrap();
    a.child.wait().await.unwrap();
    let _ = lost.await;
    let (status, reply) = b.post(&m).await;
    let said = code(&b.table, &reply);
    assert_eq!(status, 409, "{said}");
    assert!(said.starts_with("FC21 OUTCOME UNKNOWN, DO NOT RESEND"), "{said}");
    assert_eq!(host.count(), 1, "never sent again");
    // Once its lease passes, the journal says unknown: the row for reconciliation.
    let journal = store(&url).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let unknown = journal.unknown(ficus::journal::now_ms(), 10).await.unwrap();
        if unknown.iter().any(|e| e.key == "8001") {
            break;
        }
        assert!(Instant::now() < deadline, "8001 never became unknown");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let row = journal.get("8001").await.unwrap().unwrap();
    assert_eq!(row.state_at(ficus::journal::now_ms()), EntryState::Unknown);
    assert_eq!(row.route_key.as_deref(), Some(ACCT1));
    let (status, _) = b.post(&m).await;
    assert_eq!(status, 409);
    assert_eq!(host.count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reversal_sent_to_one_replica_goes_where_the_other_sent_the_original() {
    let pg = postgres::Postgres::start();
    let url = pg.create_database("reversal");
    let sims = sims().await;
    let up = sim_upstreams(&sims);
    let (a, b) = (
        Replica::start(&config(&up.legacy, &up.accounts, &url)).await,
        Replica::start(&config(&up.legacy, &up.accounts, &url)).await,
    );
    let total = sims.ledger.total();
    assert_eq!(&code(&a.table, &a.post(&xfer(&a.table, 9001, ACCT1, ACCT2, 300)).await.1)[..4], "0000");
    for r in [&a, &b] {
        r.flip("XFER", "accounts").await;
        r.flip("XFERCAN", "accounts").await;
    }
    let body = json!({ "ORG-SEQ-NO": 9001, "FROM-ACCT": ACCT1, "AMOUNT": 3.0 });
    let cancel = ficus::cli::build_request(&b.table, "XFERCAN", &body, &json!({ "HDR-SEQ-NO": 9002 })).unwrap();
    let (status, reply) = b.post(&cancel).await;
    assert_eq!((status, &code(&b.table, &reply)[..4]), (200, "0000"), "{}", code(&b.table, &reply));
    assert_eq!(sims.host_postings.cancellations(), 1, "the host posted it, the host cancelled it");
    assert_eq!(sims.accounts_postings.cancellations(), 0);
    assert_eq!(sims.ledger.total(), total);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_moved_under_load_on_two_replicas_lose_nothing_and_post_nothing_twice() {
    let pg = postgres::Postgres::start();
    let url = pg.create_database("owners");
    let sims = sims().await;
    let up = sim_upstreams(&sims);
    let replicas = Arc::new([
        Replica::start(&config(&up.legacy, &up.accounts, &url)).await,
        Replica::start(&config(&up.legacy, &up.accounts, &url)).await,
    ]);
    let journal = store(&url).await;
    let accounts: Vec<String> = (1..=4).map(|i| format!("10000000000000{i:02}")).collect();
    let (start, total) = (sims.ledger.balances(), sims.ledger.total());
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4u64 {
        let (replicas, accounts, stop) = (replicas.clone(), accounts.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut ok = Vec::new();
            for n in 0..100_000u64 {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let r = &replicas[(w + n) as usize % 2];
                let (from, to) = (&accounts[(w + n) as usize % 4], &accounts[(w + n + 1) as usize % 4]);
                let (_, reply) = r.post(&xfer(&r.table, 10_000 + w * 1_000_000 + n, from, to, 1)).await;
                match &code(&r.table, &reply)[..4] {
                    "0000" => ok.push((from.clone(), to.clone())),
                    "FC25" => {}
                    other => panic!("unexpected {other}: {}", code(&r.table, &reply)),
                }
            }
            ok
        }));
    }
    let moving: Vec<String> = accounts[..2].to_vec();
    for round in 0..6 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let to = if round % 2 == 0 { MoveTo::Upstream("accounts".into()) } else { MoveTo::Previous };
        journal.move_owners(&moving, &to, "test", Duration::from_secs(5)).await.unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut ok = Vec::new();
    for w in writers {
        ok.extend(w.await.unwrap());
    }
    assert!(ok.len() > 50, "load ran: {}", ok.len());
    assert_eq!(sims.host_postings.transfers() + sims.accounts_postings.transfers(), ok.len() as u64);
    assert!(sims.accounts_postings.transfers() > 0 && sims.host_postings.transfers() > 0);
    assert_eq!(sims.ledger.total(), total);
    let balances = sims.ledger.balances();
    for a in &accounts {
        let out = ok.iter().filter(|(f, _)| f == a).count() as i128;
        let inn = ok.iter().filter(|(_, t)| t == a).count() as i128;
        assert_eq!(balances[a], start[a] - out + inn, "account {a}");
    }
    let rows = journal.between(0, i64::MAX).await.unwrap();
    for a in &moving {
        let mine: Vec<_> = rows.iter().filter(|r| r.route_key.as_deref() == Some(a.as_str())).collect();
        for r1 in &mine {
            for r2 in &mine {
                let overlap = r1.created_ms < r2.updated_ms && r2.created_ms < r1.updated_ms;
                assert!(r1.upstream == r2.upstream || !overlap, "account {a}: {} and {} overlap", r1.key, r2.key);
            }
        }
    }
}

async fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
