//! The gateway on real sockets: legacy replies pass through untouched, JSON services give the
//! same bytes as the host, and the TCP channel carries many messages per connection.

mod common;

use common::*;
use serde_json::{json, Value};

fn acctinq(n: u64) -> serde_json::Value {
    json!({ "ACCT-NO": format!("{}", 1_000_000_000_000_000u64 + n) })
}

fn txnhist(n: u64) -> serde_json::Value {
    json!({ "ACCT-NO": format!("{}", 1_000_000_000_000_000u64 + n), "FROM-DATE": 20260101, "TO-DATE": 20261231, "MAX-ROWS": 7 })
}

#[tokio::test]
async fn legacy_reply_bytes_pass_through_untouched() {
    // A reply no encoder would produce (unsigned packed sign F, odd bytes in text) must reach
    // the channel exactly as the host sent it.
    let mut canned = vec![0x40u8; 85];
    canned[..6].copy_from_slice(&[0xF0, 0xF0, 0xF0, 0xF0, 0xF9, 0xF5]);
    canned.extend_from_slice(&[0x12, 0x34, 0x5F, 0x00, 0xFF, 0x0E, 0x0F, 0x41, 0x42, 0x43]);
    let host = FakeHost::start(HostScript::Reply(canned.clone())).await;
    let up = Upstreams { legacy: host.addr.to_string(), accounts: "http://127.0.0.1:9/ops".into() };
    let gw = Gateway::start(&routes_toml(&up, "legacy", "legacy", "")).await;
    // The host puts the request's message id into its reply (as real hosts do; see
    // tests/correlation.rs for hosts that do not).
    let answer = |request: &[u8]| {
        let mut expected = canned.clone();
        expected[common::MESSAGE_ID].copy_from_slice(&request[common::MESSAGE_ID]);
        expected
    };
    let request = gw.request("ACCTINQ", acctinq(1));
    let (status, reply) = gw.post(&request).await;
    assert_eq!(status, 200);
    assert_eq!(reply, answer(&request), "legacy reply must be byte-for-byte the host's");
    // An unknown operation goes to the default target, also untouched.
    let mut unknown = gw.request("ACCTINQ", acctinq(1));
    unknown[6..14].copy_from_slice(&[0xE9, 0xE9, 0xE9, 0x40, 0x40, 0x40, 0x40, 0x40]);
    let (status, reply) = gw.post(&unknown).await;
    assert_eq!((status, reply), (200, answer(&unknown)));
    assert_eq!(host.count(), 2);
}

#[tokio::test]
async fn flipping_to_the_new_service_keeps_reply_bytes_identical() {
    let sims = sims().await;
    let up = sim_upstreams(&sims);
    let legacy = Gateway::start(&routes_toml(&up, "legacy", "legacy", "")).await;
    let modern = Gateway::start(&routes_toml(&up, "accounts", "accounts", "")).await;
    let mut compared = 0;
    for n in 1..=10u64 {
        for (op, body) in [("ACCTINQ", acctinq(n)), ("TXNHIST", txnhist(n))] {
            let request = legacy.request(op, body);
            let (s1, mut from_host) = legacy.post(&request).await;
            let (s2, mut from_service) = modern.post(&request).await;
            assert_eq!((s1, s2), (200, 200), "{op} {n}");
            let decoded = modern.decode(op, &from_service);
            assert_eq!(decoded["header"]["HDR-RESP-CODE"], "0000", "{op} {n}: {decoded}");
            // The timestamp is whoever answered's clock, and TXNHIST's NEXT-KEY each system's own
            // token for the same next row (H0000005, S00000005); everything else must match.
            from_host[TIMESTAMP].fill(0);
            from_service[TIMESTAMP].fill(0);
            if op == "TXNHIST" {
                let (h, s) = (&legacy.decode(op, &from_host), &decoded);
                let key = |v: &Value| v["response"]["NEXT-KEY"].as_str().unwrap_or("").to_string();
                let (hk, sk) = (key(h), key(s));
                let row = |k: &str, radix| u32::from_str_radix(k.get(1..).unwrap_or(""), radix).ok();
                assert_eq!((hk.get(..1), sk.get(..1)), (Some("H"), Some("S")), "{op} {n}");
                assert_eq!(row(&hk, 10), row(&sk, 16), "{op} {n}: one next row");
                from_host[NEXT_KEY].fill(0);
                from_service[NEXT_KEY].fill(0);
            }
            assert_eq!(
                from_host,
                from_service,
                "{op} account {n}: replies differ\nhost:    {}\nservice: {}",
                legacy.decode(op, &from_host),
                decoded
            );
            compared += 1;
        }
    }
    // Unknown accounts give the same header-only refusal from both sides.
    let request = legacy.request("ACCTINQ", json!({ "ACCT-NO": "9999999999999999" }));
    let (_, mut a) = legacy.post(&request).await;
    let (_, mut b) = modern.post(&request).await;
    assert_eq!(response_code(&legacy, &a).0, "E101");
    a[TIMESTAMP].fill(0);
    b[TIMESTAMP].fill(0);
    assert_eq!(a, b);
    assert_eq!(a.len(), 85, "a refusal is the header alone");
    assert_eq!(compared, 20);
    sims.stop();
}

#[tokio::test]
async fn tcp_channel_carries_many_messages_per_connection() {
    let sims = sims().await;
    let gw = Gateway::start(&routes_toml(&sim_upstreams(&sims), "accounts", "legacy", "")).await;
    let messages: Vec<Vec<u8>> =
        (1..=10).flat_map(|n| [gw.request("ACCTINQ", acctinq(n)), gw.request("TXNHIST", txnhist(n))]).collect();
    let replies = tcp_exchange(gw.tcp(), &messages).await;
    assert_eq!(replies.len(), 20);
    for (i, reply) in replies.iter().enumerate() {
        let op = if i % 2 == 0 { "ACCTINQ" } else { "TXNHIST" };
        let decoded = gw.decode(op, reply);
        assert_eq!(decoded["header"]["HDR-RESP-CODE"], "0000", "{op}: {decoded}");
        assert_eq!(decoded["header"]["HDR-MSG-LEN"].to_string(), reply.len().to_string());
        assert_eq!(decoded["response"]["ACCT-NO"], format!("{}", 1_000_000_000_000_001u64 + i as u64 / 2));
    }
    let hist = gw.decode("TXNHIST", &replies[1]);
    assert_eq!(hist["response"]["ROW-COUNT"].to_string(), "7");
    assert_eq!(hist["response"]["TXN-ROW"].as_array().unwrap().len(), 7);
    sims.stop();
}

#[tokio::test]
async fn transfers_move_money_and_refuse_overdrafts() {
    let sims = sims().await;
    let gw = Gateway::start(&routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "")).await;
    let before = gw.decode("ACCTINQ", &gw.post(&gw.request("ACCTINQ", acctinq(2))).await.1);
    let xfer =
        json!({ "FROM-ACCT": "1000000000000002", "TO-ACCT": "1000000000000003", "AMOUNT": 150.25, "MEMO": "RENT" });
    let (status, reply) = gw.post(&gw.request("XFER", xfer)).await;
    assert_eq!(status, 200);
    let done = gw.decode("XFER", &reply);
    assert_eq!(done["header"]["HDR-RESP-CODE"], "0000", "{done}");
    let balance: f64 = before["response"]["BALANCE"].to_string().parse().unwrap();
    let after: f64 = done["response"]["FROM-BAL-AFTER"].to_string().parse().unwrap();
    assert!((balance - 150.25 - after).abs() < 0.001, "{balance} - 150.25 != {after}");
    let overdraft = json!({ "FROM-ACCT": "1000000000000002", "TO-ACCT": "1000000000000003", "AMOUNT": 99999999999.99, "MEMO": "TOO MUCH" });
    let (_, reply) = gw.post(&gw.request("XFER", overdraft)).await;
    assert_eq!(response_code(&gw, &reply).0, "E201");
    sims.stop();
}
