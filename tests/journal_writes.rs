//! The transaction journal on its embedded SQLite store, through a real gateway and the demo's
//! simulated host: a write is sent once whatever the channel resends, a resend gets the first
//! reply's bytes, a key reused for another request is refused, a duplicate of a write whose
//! outcome is unknown is refused and never sent, and a journal that cannot be reached refuses
//! writes (or passes them, when told to) instead of sending them unguarded silently.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;

const JOURNAL: &str = "\n[journal]\nstore = \"sqlite:journal.db\"\n";

fn xfer(amount: f64) -> Value {
    json!({ "FROM-ACCT": "1000000000000001", "TO-ACCT": "1000000000000002", "AMOUNT": amount, "MEMO": "DEDUPE" })
}

fn request(gw: &Gateway, seq: u64, body: &Value) -> Vec<u8> {
    ficus::cli::build_request(&gw.table(), "XFER", body, &json!({ "HDR-SEQ-NO": seq })).unwrap()
}

fn balance(sims: &ficus::demo::Sims, account: &str) -> i128 {
    sims.ledger.account(account).unwrap().balance
}

/// A config with the journal, XFER to `legacy` at `legacy_addr`.
fn config(legacy: &str, accounts: &str, journal: &str) -> String {
    let up = Upstreams { legacy: legacy.into(), accounts: accounts.into() };
    format!("{}{journal}", routes_toml(&up, "legacy", "legacy", ""))
}

#[tokio::test]
async fn a_resent_transfer_is_posted_once_and_gets_the_first_replys_bytes() {
    let sims = sims().await;
    let up = sim_upstreams(&sims);
    let gw = Gateway::start(&config(&up.legacy, &up.accounts, JOURNAL)).await;
    let before = balance(&sims, "1000000000000001");
    let message = request(&gw, 4242, &xfer(10.0));
    let (s1, first) = gw.post(&message).await;
    assert_eq!(s1, 200);
    assert_eq!(response_code(&gw, &first).0, "0000");
    // Over HTTP and over TCP, the same transaction again: the same bytes, nothing posted.
    let (s2, again) = gw.post(&message).await;
    let over_tcp = tcp_exchange(gw.tcp(), std::slice::from_ref(&message)).await.remove(0);
    assert_eq!(s2, 200);
    assert_eq!(again, first, "a duplicate gets the original reply, byte for byte (timestamp and reference too)");
    assert_eq!(over_tcp, first);
    assert_eq!(balance(&sims, "1000000000000001"), before - 1000, "posted once");
    // Another transaction number is another transfer.
    let (_, second) = gw.post(&request(&gw, 4243, &xfer(10.0))).await;
    assert_eq!(response_code(&gw, &second).0, "0000");
    assert_eq!(balance(&sims, "1000000000000001"), before - 2000);
    assert!(gw.dir.path().join("journal.db").exists(), "sqlite:journal.db is relative to routes.toml");
}

#[tokio::test]
async fn a_key_reused_for_another_request_is_refused_and_not_sent() {
    let sims = sims().await;
    let up = sim_upstreams(&sims);
    let gw = Gateway::start(&config(&up.legacy, &up.accounts, JOURNAL)).await;
    let (_, first) = gw.post(&request(&gw, 77, &xfer(10.0))).await;
    assert_eq!(response_code(&gw, &first).0, "0000");
    let before = balance(&sims, "1000000000000001");
    let (status, reused) = gw.post(&request(&gw, 77, &xfer(99.0))).await;
    let (code, text) = response_code(&gw, &reused);
    assert_eq!((status, code.as_str()), (409, "FC22"), "{text}");
    assert!(text.starts_with("KEY REUSED"), "{text}");
    assert_eq!(balance(&sims, "1000000000000001"), before, "never sent");
}

#[tokio::test]
async fn a_missing_key_is_refused_naming_the_field() {
    let sims = sims().await;
    let up = sim_upstreams(&sims);
    let gw = Gateway::start(&config(&up.legacy, &up.accounts, JOURNAL)).await;
    let before = balance(&sims, "1000000000000001");
    let (status, reply) = gw.post(&request(&gw, 0, &xfer(10.0))).await;
    let (code, text) = response_code(&gw, &reply);
    assert_eq!((status, code.as_str()), (400, "FC05"), "{text}");
    assert!(text.contains("HDR-SEQ-NO"), "{text}");
    assert_eq!(balance(&sims, "1000000000000001"), before);
    // Reads are not journaled: ACCTINQ without a sequence number is served.
    let inq = ficus::cli::build_request(
        &gw.table(),
        "ACCTINQ",
        &json!({"ACCT-NO": "1000000000000001"}),
        &json!({"HDR-SEQ-NO": 0}),
    )
    .unwrap();
    assert_eq!(response_code(&gw, &gw.post(&inq).await.1).0, "0000");
}

#[tokio::test]
async fn a_duplicate_of_a_write_without_an_answer_is_refused_and_never_sent() {
    let host = FakeHost::start(HostScript::Silent).await;
    let gw = Gateway::start(&config(&host.addr.to_string(), "http://127.0.0.1:9/ops", JOURNAL)).await;
    let message = request(&gw, 555, &xfer(10.0));
    let first = tokio::spawn({
        let (addr, m) = (gw.http(), message.clone());
        async move { post(addr, &m).await }
    });
    // The duplicate arrives while the first is in flight: it waits, then is told not to resend.
    while host.count() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (status, dup) = gw.post(&message).await;
    let (code, text) = response_code(&gw, &dup);
    assert_eq!((status, code.as_str()), (409, "FC21"), "{text}");
    assert!(text.starts_with("OUTCOME UNKNOWN, DO NOT RESEND"), "{text}");
    let (_, first) = first.await.unwrap();
    let (code, text) = response_code(&gw, &first);
    assert_eq!(code, "FC11", "{text}");
    assert!(text.starts_with("OUTCOME UNKNOWN"), "{text}");
    // After the first timed out: unknown, so still refused.
    let (status, later) = gw.post(&message).await;
    assert_eq!((status, response_code(&gw, &later).0.as_str()), (409, "FC21"));
    assert_eq!(host.count(), 1, "the host saw the transfer once");
}

#[tokio::test]
async fn a_write_that_never_left_can_be_sent_again() {
    let dead = dead_address().await;
    let gw = Gateway::start(&config(&dead.to_string(), "http://127.0.0.1:9/ops", JOURNAL)).await;
    let message = request(&gw, 31337, &xfer(10.0));
    let (_, reply) = gw.post(&message).await;
    assert_eq!(response_code(&gw, &reply).0, "FC10", "connection refused: not sent");
    let (_, again) = gw.post(&message).await;
    assert_eq!(response_code(&gw, &again).0, "FC10", "the claim was given back: tried again, not FC21");
}

#[tokio::test]
async fn an_unreachable_journal_refuses_writes_or_passes_them_when_told() {
    let host = FakeHost::start(HostScript::Silent).await;
    let dead = dead_address().await;
    let down = format!("\n[journal]\nstore = \"postgres://ficus@{dead}/ficus\"\n");
    let gw = Gateway::start(&config(&host.addr.to_string(), "http://127.0.0.1:9/ops", &down)).await;
    let (status, reply) = gw.post(&request(&gw, 1, &xfer(10.0))).await;
    let (code, text) = response_code(&gw, &reply);
    assert_eq!((status, code.as_str()), (503, "FC24"), "{text}");
    assert!(text.starts_with("JOURNAL UNAVAILABLE, NOT SENT"), "{text}");
    assert_eq!(host.count(), 0);

    let sims = sims().await;
    let up = sim_upstreams(&sims);
    let pass = format!("{down}on_store_error = \"pass\"\n");
    let gw = Gateway::start(&config(&up.legacy, &up.accounts, &pass)).await;
    let (status, reply) = gw.post(&request(&gw, 2, &xfer(10.0))).await;
    assert_eq!((status, response_code(&gw, &reply).0.as_str()), (200, "0000"), "sent unguarded");
}

#[tokio::test]
async fn ficus_send_says_a_duplicate_was_answered_by_the_journal() {
    let sims = sims().await;
    let up = sim_upstreams(&sims);
    let gw = Gateway::start(&config(&up.legacy, &up.accounts, JOURNAL)).await;
    let cfg = gw.config.display().to_string();
    let body = r#"{"FROM-ACCT":"1000000000000001","TO-ACCT":"1000000000000002","AMOUNT":10,"MEMO":"RENT"}"#;
    let to = gw.http().to_string();
    let args = ["send", "--config", &cfg, "--to", &to, "--header", r#"{"HDR-SEQ-NO":4242}"#, "XFER", body];
    let (code, first, err1) = ficus_cli(&args).await;
    assert_eq!(code, 0, "{err1}");
    assert!(err1.contains("legacy"), "{err1}");
    let (code, again, err2) = ficus_cli(&args).await;
    assert_eq!(code, 0, "{err2}");
    assert!(err2.contains("journal"), "the duplicate was answered by the journal: {err2}");
    assert_eq!(first, again, "the same reply, decoded");
}
