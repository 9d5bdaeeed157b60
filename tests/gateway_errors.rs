//! Every cause of a gateway error reply: a fixed-width reply (the request's header with a
//! response code and message) and a matching HTTP status; malformed messages never reach an
//! upstream.

mod common;

use common::*;
use serde_json::json;

fn req() -> serde_json::Value {
    json!({ "ACCT-NO": "1000000000000001" })
}

async fn expect_error(gw: &Gateway, message: &[u8], status: u16, code: &str) -> String {
    let (s, reply) = gw.post(message).await;
    assert_eq!(reply.len(), 85, "an error reply is exactly one header");
    let (c, m) = response_code(gw, &reply);
    assert_eq!((s, c.as_str()), (status, code), "message: {m}");
    let stated = gw.decode("ACCTINQ", &reply)["header"]["HDR-MSG-LEN"].to_string();
    assert_eq!(stated, "85");
    m
}

/// The harness's dead addresses stay dead: a connection is refused, and nothing else in this
/// binary can be given the port (a gateway listening there would make a "dead" upstream its own
/// listener), while a freed address given for a later listener is never given twice.
#[tokio::test]
async fn dead_addresses_stay_dead_and_free_ones_are_given_once() {
    let dead = dead_address().await;
    let refused = tokio::net::TcpStream::connect(dead).await.expect_err("nothing listens there");
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused, "{refused}");
    let taken = tokio::net::TcpListener::bind(dead).await.expect_err("the port is held");
    assert_eq!(taken.kind(), std::io::ErrorKind::AddrInUse, "{taken}");
    let mut given = std::collections::HashSet::new();
    for _ in 0..200 {
        let a = free_address().await;
        assert!(a.port() != dead.port() && given.insert(a.port()), "{a} given twice or dead");
        tokio::net::TcpListener::bind(a).await.expect("a free address can be listened on");
    }
}

#[tokio::test]
async fn malformed_and_oversized_messages_never_reach_the_host() {
    let host = FakeHost::start(HostScript::Reply(vec![0x40; 85])).await;
    let up = Upstreams { legacy: host.addr.to_string(), accounts: "http://127.0.0.1:9/ops".into() };
    let gw = Gateway::start(&routes_toml(&up, "legacy", "legacy", "")).await;
    let good = gw.request("ACCTINQ", req());

    let m = expect_error(&gw, &good[..40], 400, "FC01").await;
    assert!(m.starts_with("MALFORMED"), "{m}");

    let mut wrong_len = good.clone();
    wrong_len[4] = 0xF9; // HDR-MSG-LEN says 191, the message has 101 bytes
    expect_error(&gw, &wrong_len, 400, "FC01").await;

    // XFER with invalid packed data in AMOUNT: the body does not fit its copybook.
    let mut xfer = gw.request("XFER", json!({ "FROM-ACCT": "1", "TO-ACCT": "2", "AMOUNT": 1, "MEMO": "" }));
    let amount_at = 85 + 32;
    xfer[amount_at] = 0xAB;
    let m = expect_error(&gw, &xfer, 400, "FC03").await;
    assert!(m.contains("AMOUNT"), "the message names the field: {m}");

    // Oversized: over [limits] max_message_bytes (64 KiB by default).
    let (status, _) = gw.post(&vec![0x40; 70_000]).await;
    assert_eq!(status, 413);

    assert_eq!(host.count(), 0, "no malformed message may reach the host");
    let (status, _) = gw.post(&good).await;
    assert_eq!(status, 200);
    assert_eq!(host.count(), 1);
}

#[tokio::test]
async fn disabled_operation_answers_with_its_error() {
    let host = FakeHost::start(HostScript::Reply(vec![0x40; 85])).await;
    let up = Upstreams { legacy: host.addr.to_string(), accounts: "http://127.0.0.1:9/ops".into() };
    let toml = routes_toml(&up, "legacy", "legacy", "")
        .replace("read_only = true\n\n[routes.TXNHIST]", "read_only = true\nenabled = false\n\n[routes.TXNHIST]");
    let gw = Gateway::start(&toml).await;
    expect_error(&gw, &gw.request("ACCTINQ", req()), 503, "FC04").await;
    assert_eq!(host.count(), 0);
}

#[tokio::test]
async fn host_down_silent_or_broken_gives_its_error_in_time() {
    let dead = dead_address().await;
    let silent = FakeHost::start(HostScript::Silent).await;
    let closing = FakeHost::start(HostScript::Close).await;
    let truncated = FakeHost::start(HostScript::Truncated).await;
    for (addr, status, code) in
        [(dead, 502, "FC10"), (silent.addr, 504, "FC11"), (closing.addr, 502, "FC10"), (truncated.addr, 502, "FC10")]
    {
        let up = Upstreams { legacy: addr.to_string(), accounts: "http://127.0.0.1:9/ops".into() };
        let gw = Gateway::start(&routes_toml(&up, "legacy", "legacy", "")).await;
        let started = std::time::Instant::now();
        expect_error(&gw, &gw.request("ACCTINQ", req()), status, code).await;
        // Bounded by the 1 s upstream timeout (plus slack); never a hang.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}

#[tokio::test]
async fn new_service_failures_are_reported_not_guessed() {
    for (status, body, code) in [
        (500, "{}", "FC13"),
        (200, "not json", "FC12"),
        (200, r#"{"response": {"ACCT-NO": "1"}}"#, "FC12"),
        (
            200,
            r#"{"response": {"ACCT-NO":"1","CUST-NAME":"X","ACCT-STATUS":"A","BALANCE":1e20,"AVAIL-BAL":0,"INT-RATE":0,"LAST-TXN-DATE":0}}"#,
            "FC12",
        ),
        (
            200,
            r#"{"response": {"ACCT-NO":"1","CUST-NAME":"X","ACCT-STATUS":"A","BALANCE":1.234,"AVAIL-BAL":0,"INT-RATE":0,"LAST-TXN-DATE":0}}"#,
            "FC12",
        ),
    ] {
        let service = fake_service(status, body).await;
        let up = Upstreams { legacy: dead_address().await.to_string(), accounts: format!("http://{service}/ops") };
        let gw = Gateway::start(&routes_toml(&up, "accounts", "legacy", "")).await;
        let m = expect_error(&gw, &gw.request("ACCTINQ", req()), 502, code).await;
        assert!(!m.is_empty());
    }
    let up = Upstreams {
        legacy: dead_address().await.to_string(),
        accounts: format!("http://{}/ops", dead_address().await),
    };
    let gw = Gateway::start(&routes_toml(&up, "accounts", "legacy", "")).await;
    expect_error(&gw, &gw.request("ACCTINQ", req()), 502, "FC10").await;
}

#[tokio::test]
async fn bad_tcp_frame_gets_an_error_reply_then_close() {
    let host = FakeHost::start(HostScript::Reply(vec![0x40; 85])).await;
    let up = Upstreams { legacy: host.addr.to_string(), accounts: "http://127.0.0.1:9/ops".into() };
    let gw = Gateway::start(&routes_toml(&up, "legacy", "legacy", "")).await;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(gw.tcp()).await.unwrap();
    conn.write_all(&[0x7F, 0, 0, 0]).await.unwrap();
    let framing = ficus::frame::Framing::prefix(4);
    let reply = framing.read(&mut conn, 1 << 20).await.unwrap().unwrap();
    assert_eq!(response_code(&gw, &reply).0, "FC02");
    let mut rest = Vec::new();
    conn.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty(), "connection closed after a bad frame");
    assert_eq!(host.count(), 0);
}

/// POSTs `message` and returns the response head (lower case).
async fn head_of(gw: &Gateway, message: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(gw.http()).await.unwrap();
    let head = format!("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", message.len());
    conn.write_all(&[head.as_bytes(), message].concat()).await.unwrap();
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).await.unwrap();
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase()
}

#[tokio::test]
async fn http_error_replies_carry_the_whole_reason_in_a_header() {
    let host = FakeHost::start(HostScript::Reply(vec![0x40; 85])).await;
    let up = Upstreams { legacy: host.addr.to_string(), accounts: "http://127.0.0.1:9/ops".into() };
    let gw = Gateway::start(&routes_toml(&up, "legacy", "legacy", "")).await;
    let (_, short) = response_code(&gw, &gw.post(b"12345").await.1);
    let head = head_of(&gw, b"12345").await;
    let reason = "ficus-error: fc01 malformed: message is 5 bytes, shorter than the 85-byte header";
    assert!(head.contains(reason), "{head}");
    assert!(short.len() <= 40 && reason.len() > 40 + 13, "the fixed-width field cuts it: {short:?}");
    assert!(!head_of(&gw, &gw.request("ACCTINQ", req())).await.contains("ficus-error"), "served: no error header");
}
