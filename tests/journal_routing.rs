//! Where the journal sends writes: a reversal (XFERCAN) to the upstream that posted its
//! original, whatever the route says now; an account's writes to its owner (per-account
//! cut-over), moved under load with nothing lost and nothing posted twice — checked on the
//! simulators' own postings and the ledger, not only on replies.

mod common;

use common::*;
use ficus::journal::owners::MoveTo;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

const ACCT1: &str = "1000000000000001";
const ACCT2: &str = "1000000000000002";

fn config(sims: &ficus::demo::Sims, xfercan_extra: &str) -> String {
    format!(
        "{}\n[routes.XFERCAN]\nrequest = \"XFERCAN.cpy#XFERCAN-REQ\"\nresponse = \"XFERCAN.cpy#XFERCAN-RESP\"\ntarget = \
         \"legacy\"\nreverses = \"XFER\"\noriginal_key = [\"ORG-SEQ-NO\"]\n{xfercan_extra}\n[journal]\nstore = \
         \"sqlite:journal.db\"\nmove_wait_ms = 5000\n",
        routes_toml(&sim_upstreams(sims), "legacy", "legacy", "owner_key = \"FROM-ACCT\"")
    )
}

fn xfer(gw: &Gateway, seq: u64, from: &str, to: &str, cents: i64) -> Vec<u8> {
    let body = json!({ "FROM-ACCT": from, "TO-ACCT": to, "AMOUNT": cents as f64 / 100.0, "MEMO": "ROUTING" });
    ficus::cli::build_request(&gw.table(), "XFER", &body, &json!({ "HDR-SEQ-NO": seq })).unwrap()
}

fn cancel(gw: &Gateway, seq: u64, original: u64, from: &str, cents: i64) -> Vec<u8> {
    let body = json!({ "ORG-SEQ-NO": original, "FROM-ACCT": from, "AMOUNT": cents as f64 / 100.0 });
    ficus::cli::build_request(&gw.table(), "XFERCAN", &body, &json!({ "HDR-SEQ-NO": seq })).unwrap()
}

fn code(gw: &Gateway, reply: &[u8]) -> (String, String) {
    let h: Value = gw.decode("XFER", reply)["header"].clone();
    (h["HDR-RESP-CODE"].as_str().unwrap_or("").into(), h["HDR-RESP-MSG"].as_str().unwrap_or("").into())
}

#[tokio::test]
async fn a_reversal_goes_where_its_original_went_after_a_flip() {
    let sims = sims().await;
    let gw = Gateway::start(&config(&sims, "")).await;
    let before = sims.ledger.total();
    assert_eq!(code(&gw, &gw.post(&xfer(&gw, 100, ACCT1, ACCT2, 500)).await.1).0, "0000");
    assert_eq!(sims.host_postings.transfers(), 1);
    // Both operations move to the new service; the cancellation still goes to the host.
    gw.put_route("XFER", json!({ "target": "accounts" })).await;
    gw.put_route("XFERCAN", json!({ "target": "accounts" })).await;
    let (status, reply) = gw.post(&cancel(&gw, 101, 100, ACCT1, 500)).await;
    assert_eq!((status, code(&gw, &reply).0.as_str()), (200, "0000"), "{:?}", code(&gw, &reply));
    assert_eq!(sims.host_postings.cancellations(), 1, "the host, which posted it, cancelled it");
    assert_eq!(sims.accounts_postings.cancellations(), 0);
    assert_eq!(sims.ledger.total(), before);
    // A new transfer goes to accounts now; its cancellation goes there too.
    assert_eq!(code(&gw, &gw.post(&xfer(&gw, 102, ACCT1, ACCT2, 700)).await.1).0, "0000");
    assert_eq!(sims.accounts_postings.transfers(), 1);
    gw.put_route("XFERCAN", json!({ "target": "legacy" })).await;
    assert_eq!(code(&gw, &gw.post(&cancel(&gw, 103, 102, ACCT1, 700)).await.1).0, "0000");
    assert_eq!(sims.accounts_postings.cancellations(), 1);
    // The same cancellation again is a duplicate: answered from the journal, not sent.
    let (_, dup) = gw.post(&cancel(&gw, 103, 102, ACCT1, 700)).await;
    assert_eq!(code(&gw, &dup).0, "0000");
    assert_eq!(sims.accounts_postings.cancellations() + sims.host_postings.cancellations(), 2);
}

#[tokio::test]
async fn a_reversal_whose_original_is_not_journaled_goes_nowhere() {
    let sims = sims().await;
    let gw = Gateway::start(&config(&sims, "")).await;
    let (status, reply) = gw.post(&cancel(&gw, 201, 999, ACCT1, 500)).await;
    let (c, text) = code(&gw, &reply);
    assert_eq!((status, c.as_str()), (422, "FC23"), "{text}");
    assert!(text.starts_with("ORIGINAL NOT FOUND"), "{text}");
    assert_eq!(sims.host_postings.cancellations() + sims.accounts_postings.cancellations(), 0);
    // An XFERCAN's own key is not an XFER: naming it as an original finds nothing either.
    let gw2 = Gateway::start(&config(&sims, "original_missing = { code = \"E404\", message = \"NO ORIGINAL\" }")).await;
    let (status, reply) = gw2.post(&cancel(&gw2, 201, 201, ACCT1, 500)).await;
    assert_eq!((status, code(&gw2, &reply)), (422, ("E404".into(), "NO ORIGINAL".into())));
}

#[tokio::test]
async fn an_accounts_writes_follow_its_owner_and_roll_back() {
    let sims = sims().await;
    let gw = Gateway::start(&config(&sims, "")).await;
    let store = gw.table().journal.as_ref().unwrap().store.clone();
    let moved = store
        .move_owners(&[ACCT1.to_string()], &MoveTo::Upstream("accounts".into()), "test", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(moved.moved, 1);
    assert_eq!(code(&gw, &gw.post(&xfer(&gw, 300, ACCT1, ACCT2, 100)).await.1).0, "0000");
    assert_eq!(code(&gw, &gw.post(&xfer(&gw, 301, ACCT2, ACCT1, 100)).await.1).0, "0000");
    assert_eq!(sims.accounts_postings.transfers(), 1, "account 1 is owned by accounts");
    assert_eq!(sims.host_postings.transfers(), 1, "account 2 still goes where the route says");
    assert_eq!(store.get("300").await.unwrap().unwrap().upstream, "accounts");
    store.move_owners(&[ACCT1.to_string()], &MoveTo::Previous, "test", Duration::from_secs(5)).await.unwrap();
    assert_eq!(code(&gw, &gw.post(&xfer(&gw, 302, ACCT1, ACCT2, 100)).await.1).0, "0000");
    assert_eq!(sims.host_postings.transfers(), 2, "rolled back: the route decides again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_owners_under_write_load_loses_nothing_and_posts_nothing_twice() {
    let sims = sims().await;
    let gw = Arc::new(Gateway::start(&config(&sims, "")).await);
    let store = gw.table().journal.as_ref().unwrap().store.clone();
    let accounts: Vec<String> = (1..=4).map(|i| format!("10000000000000{i:02}")).collect();
    let start_balances = sims.ledger.balances();
    let total = sims.ledger.total();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4u64 {
        let (gw, accounts, stop) = (gw.clone(), accounts.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut sent: Vec<(String, String, i64)> = Vec::new();
            let mut refused = 0;
            for n in 0..10_000u64 {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let (from, to) = (&accounts[(w + n) as usize % 4], &accounts[(w + n + 1) as usize % 4]);
                let seq = 1_000 + w * 100_000 + n;
                let (_, reply) = gw.post(&xfer(&gw, seq, from, to, 1)).await;
                match code(&gw, &reply).0.as_str() {
                    "0000" => sent.push((from.clone(), to.clone(), 1)),
                    "FC25" => refused += 1,
                    other => panic!("unexpected reply {other}: {:?}", code(&gw, &reply)),
                }
            }
            (sent, refused)
        }));
    }
    let half: Vec<String> = accounts[..2].to_vec();
    for round in 0..6 {
        tokio::time::sleep(Duration::from_millis(60)).await;
        let to = if round % 2 == 0 { MoveTo::Upstream("accounts".into()) } else { MoveTo::Previous };
        store.move_owners(&half, &to, "test", Duration::from_secs(5)).await.unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut ok = Vec::new();
    for w in writers {
        let (sent, _refused) = w.await.unwrap();
        ok.extend(sent);
    }
    assert!(ok.len() > 50, "load ran: {}", ok.len());
    let posted = sims.host_postings.transfers() + sims.accounts_postings.transfers();
    assert_eq!(posted, ok.len() as u64, "every answered transfer posted exactly once, none unanswered");
    assert!(sims.accounts_postings.transfers() > 0 && sims.host_postings.transfers() > 0, "both sides wrote");
    assert_eq!(sims.ledger.total(), total);
    let balances = sims.ledger.balances();
    for a in &accounts {
        let out: i128 = ok.iter().filter(|(f, _, _)| f == a).map(|(_, _, c)| *c as i128).sum();
        let inn: i128 = ok.iter().filter(|(_, t, _)| t == a).map(|(_, _, c)| *c as i128).sum();
        assert_eq!(balances[a], start_balances[a] - out + inn, "account {a}");
    }
    // One writer per account: no two of its writes on different upstreams were ever in flight
    // at once (each row's claim-to-answer interval, from the journal every replica shares).
    let rows = store.between(0, i64::MAX).await.unwrap();
    for a in &half {
        let mine: Vec<_> = rows.iter().filter(|r| r.route_key.as_deref() == Some(a.as_str())).collect();
        for r1 in &mine {
            for r2 in &mine {
                let overlap = r1.created_ms < r2.updated_ms && r2.created_ms < r1.updated_ms;
                assert!(
                    r1.upstream == r2.upstream || !overlap,
                    "account {a}: {} on {} [{}, {}] overlaps {} on {} [{}, {}]",
                    r1.key,
                    r1.upstream,
                    r1.created_ms,
                    r1.updated_ms,
                    r2.key,
                    r2.upstream,
                    r2.created_ms,
                    r2.updated_ms
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reversal_never_overtakes_its_original_still_in_flight() {
    let sims = sims().await;
    // Transfers wait 300 ms at the host's door, cancellations do not: a cancellation sent right
    // after its transfer would reach the host first and be refused (E401, original not found).
    let slow = slow_host_for(sims.host_tcp, Duration::from_millis(300), is_transfer).await;
    let up = Upstreams { legacy: slow.to_string(), accounts: format!("http://{}/ops", sims.accounts) };
    let toml =
        config(&sims, "").replace(&format!("address = \"{}\"", sims.host_tcp), &format!("address = \"{}\"", up.legacy));
    let gw = Arc::new(Gateway::start(&toml).await);
    let before = sims.ledger.total();
    let transfer = tokio::spawn({
        let (gw, m) = (gw.clone(), xfer(&gw, 500, ACCT1, ACCT2, 250));
        async move { gw.post(&m).await }
    });
    let store = gw.table().journal.as_ref().unwrap().store.clone();
    while store.get("500").await.unwrap().is_none() {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let (status, reply) = gw.post(&cancel(&gw, 501, 500, ACCT1, 250)).await;
    assert_eq!((status, code(&gw, &reply).0.as_str()), (200, "0000"), "{:?}", code(&gw, &reply));
    assert_eq!(code(&gw, &transfer.await.unwrap().1).0, "0000");
    assert_eq!((sims.host_postings.transfers(), sims.host_postings.cancellations()), (1, 1));
    assert_eq!(sims.ledger.total(), before);
}

/// True for an XFER (`HDR-TRAN-CODE` "XFER" in cp037, at offset 6).
fn is_transfer(m: &[u8]) -> bool {
    m.get(6..14) == Some(&[0xE7, 0xC6, 0xC5, 0xD9, 0x40, 0x40, 0x40, 0x40][..])
}
