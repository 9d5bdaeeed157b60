//! A reply is delivered only to the request it answers (issue: "never a wrong answer", kinds 1
//! and 6): duplicate, late, stray and other-id replies from the host are never handed to a
//! channel; read-only messages are retried on another connection, writes end with an
//! "outcome unknown" error and reach the host once; every upstream kind follows one retry rule.

mod common;

use common::misbehave::{seq_of, BadHost, BadService, Mode};
use common::{routes_toml, Gateway, Upstreams};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// routes.toml with a legacy host and a JSON service; tight deadlines.
pub fn tight(legacy: &str, accounts: &str, acctinq: &str, extra: &str) -> String {
    let up = Upstreams { legacy: legacy.into(), accounts: accounts.into() };
    routes_toml(&up, acctinq, "legacy", extra).replace(
        "timeout_ms = 1000\nconnect_timeout_ms = 500\nmax_connections = 8",
        "timeout_ms = 300\nconnect_timeout_ms = 300\nmax_connections = 4\nbreaker_failures = 3\nbreaker_cooldown_ms = 100",
    )
}

fn acctinq(gw: &Gateway, seq: u64, acct: u64) -> Vec<u8> {
    let body = json!({ "ACCT-NO": format!("{acct:016}") });
    ficus::cli::build_request(&gw.table(), "ACCTINQ", &body, &json!({ "HDR-SEQ-NO": seq })).unwrap()
}

fn xfer(gw: &Gateway, seq: u64) -> Vec<u8> {
    let body = json!({ "FROM-ACCT": "1000000000000001", "TO-ACCT": "1000000000000002", "AMOUNT": 10, "MEMO": "RENT" });
    ficus::cli::build_request(&gw.table(), "XFER", &body, &json!({ "HDR-SEQ-NO": seq })).unwrap()
}

fn code(gw: &Gateway, reply: &[u8]) -> (String, String) {
    common::response_code(gw, reply)
}

#[tokio::test]
async fn a_duplicate_reply_is_never_delivered_to_the_next_read() {
    let host = BadHost::start().await;
    let gw = Gateway::start(&tight(&host.addr.to_string(), "http://127.0.0.1:9/", "legacy", "")).await;
    // Message 1 is answered, and its answer is sent again as message 2 arrives on the same
    // pooled connection, before message 2's own answer.
    host.script.set(1, Mode::Duplicate);
    let first = acctinq(&gw, 1, 1);
    assert_eq!(gw.post(&first).await, (200, first.clone()));
    let second = acctinq(&gw, 2, 2);
    let (status, reply) = gw.post(&second).await;
    assert_eq!((status, &reply), (200, &second), "account 2 gets its own answer, never account 1's");
    assert_eq!(host.script.times(2), 2, "the read was retried once, on another connection");
}

#[tokio::test]
async fn a_write_answered_with_another_messages_reply_has_an_unknown_outcome() {
    let host = BadHost::start().await;
    let gw = Gateway::start(&tight(&host.addr.to_string(), "http://127.0.0.1:9/", "legacy", "")).await;
    host.script.set(1, Mode::Duplicate);
    let first = acctinq(&gw, 1, 1);
    assert_eq!(gw.post(&first).await.1, first);
    let write = xfer(&gw, 2);
    let (status, reply) = gw.post(&write).await;
    assert_eq!(status, 502);
    assert_ne!(reply, first, "never the other message's reply");
    let (c, text) = code(&gw, &reply);
    assert_eq!(c, "FC12");
    assert!(text.starts_with("OUTCOME UNKNOWN"), "{text}");
    assert_eq!(seq_of(&reply), 2, "the error reply carries the write's own id");
    assert_eq!(host.script.times(2), 1, "a write reaches the host once");
}

#[tokio::test]
async fn stray_bytes_and_other_ids_never_reach_a_channel() {
    let host = BadHost::start().await;
    let gw = Gateway::start(&tight(&host.addr.to_string(), "http://127.0.0.1:9/", "legacy", "")).await;
    // A reply to a request never sent arrives on the idle connection after message 1.
    host.script.set(1, Mode::Unsolicited);
    let first = acctinq(&gw, 1, 1);
    assert_eq!(gw.post(&first).await.1, first);
    // Message 2 is answered with message 1's reply (another id).
    host.script.set(2, Mode::OtherId);
    let second = acctinq(&gw, 2, 2);
    assert_eq!(gw.post(&second).await.1, second, "retried on a fresh connection; its own answer");
    for seq in 3..8 {
        let m = acctinq(&gw, seq, seq);
        assert_eq!(gw.post(&m).await.1, m);
    }
}

#[tokio::test]
async fn a_json_service_may_not_answer_with_another_message_id() {
    let service = BadService::start().await;
    let gw = Gateway::start(&tight("127.0.0.1:9", &service.url(), "accounts", "")).await;
    service.script.set(5, Mode::OtherId);
    let (status, reply) = gw.post(&acctinq(&gw, 5, 5)).await;
    assert_eq!((status, code(&gw, &reply).0), (502, "FC12".to_string()));
    assert_eq!(seq_of(&reply), 5);
    let (status, reply) = gw.post(&acctinq(&gw, 6, 6)).await;
    assert_eq!(status, 200);
    assert_eq!(gw.decode("ACCTINQ", &reply)["response"]["ACCT-NO"], "0000000000000006");
    // Nor relabel the operation; echoing the id in another JSON form is fine.
    service.script.set(7, Mode::Unsolicited);
    let (status, reply) = gw.post(&acctinq(&gw, 7, 7)).await;
    assert_eq!((status, code(&gw, &reply).0), (502, "FC12".to_string()));
    assert_eq!(&reply[6..10], &[0xC1, 0xC3, 0xC3, 0xE3], "the error reply names the request's operation");
    service.script.set(8, Mode::Duplicate);
    let (status, reply) = gw.post(&acctinq(&gw, 8, 8)).await;
    assert_eq!((status, seq_of(&reply)), (200, 8));
}

/// A JSON service that answers the first request on each kept-alive connection and closes the
/// connection when the next one arrives on it — hyper's "connection closed before message
/// completed" race, every second message.
async fn closing_service(answered: Arc<AtomicUsize>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else { return };
            let answered = answered.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let Some(body) = common::misbehave::read_request(&mut conn, &mut buf).await else { return };
                let request: Value = serde_json::from_slice(&body).unwrap();
                let acct = request["request"]["ACCT-NO"].clone();
                let text = json!({ "response": { "ACCT-NO": acct, "CUST-NAME": "X", "ACCT-STATUS": "A", "BALANCE": 1,
                    "AVAIL-BAL": 1, "INT-RATE": 0, "LAST-TXN-DATE": 20260101 } })
                .to_string();
                let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", text.len());
                conn.write_all(head.as_bytes()).await.unwrap();
                conn.write_all(text.as_bytes()).await.unwrap();
                answered.fetch_add(1, Ordering::SeqCst);
                // The next request on this connection is read, then the connection closes.
                let _ = common::misbehave::read_request(&mut conn, &mut buf).await;
            });
        }
    });
    format!("http://{addr}/ops")
}

#[tokio::test]
async fn reads_to_a_json_service_are_retried_when_a_kept_alive_connection_closes() {
    let answered = Arc::new(AtomicUsize::new(0));
    let url = closing_service(answered.clone()).await;
    let gw = Gateway::start(&tight("127.0.0.1:9", &url, "accounts", "")).await;
    for seq in 1..=8u64 {
        let (status, reply) = gw.post(&acctinq(&gw, seq, seq)).await;
        assert_eq!(status, 200, "message {seq}: {:?}", code(&gw, &reply));
        assert_eq!(gw.decode("ACCTINQ", &reply)["response"]["ACCT-NO"], format!("{seq:016}"));
    }
    assert_eq!(answered.load(Ordering::SeqCst), 8);
}

#[tokio::test]
async fn reads_to_a_legacy_http_front_are_retried_the_same_way() {
    // The same race on the legacy side spoken over HTTP: bytes in, bytes out.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let Some(body) = common::misbehave::read_request(&mut conn, &mut buf).await else { return };
                let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
                conn.write_all(head.as_bytes()).await.unwrap();
                conn.write_all(&body).await.unwrap();
                let _ = common::misbehave::read_request(&mut conn, &mut buf).await;
            });
        }
    });
    let toml = tight("127.0.0.1:9", "http://127.0.0.1:9/", "legacy", "").replace(
        "[upstreams.legacy]\nkind = \"tcp\"\naddress = \"127.0.0.1:9\"",
        &format!("[upstreams.legacy]\nkind = \"http\"\nurl = \"http://{addr}/\""),
    );
    let gw = Gateway::start(&toml).await;
    for seq in 1..=6u64 {
        let m = acctinq(&gw, seq, seq);
        assert_eq!(gw.post(&m).await, (200, m), "message {seq}");
    }
}

#[tokio::test]
async fn a_write_whose_channel_goes_away_is_recorded_as_an_unknown_outcome() {
    let host = BadHost::start().await;
    let gw = Gateway::start(&tight(&host.addr.to_string(), "http://127.0.0.1:9/", "legacy", "")).await;
    let gateway = gw.running.gateway.clone();
    host.script.set(7, Mode::Slow(250));
    host.script.set(8, Mode::Slow(250));
    // The channel disconnects while the host holds the transfer.
    let write = xfer(&gw, 7);
    let mut conn = tokio::net::TcpStream::connect(gw.http()).await.unwrap();
    let head = format!("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n", write.len());
    conn.write_all(&[head.as_bytes(), &write].concat()).await.unwrap();
    for _ in 0..300 {
        if host.script.times(7) == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    drop(conn);
    for _ in 0..300 {
        if gateway.unknown_outcomes() == 1 && gateway.in_flight() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(gateway.unknown_outcomes(), 1, "the write the host has is recorded as an unknown outcome");
    assert_eq!(gateway.in_flight(), 0);
    // A read whose channel goes away is no unknown outcome.
    let read = acctinq(&gw, 8, 8);
    let _ = tokio::time::timeout(std::time::Duration::from_millis(50), gateway.handle(read)).await;
    assert_eq!(gateway.unknown_outcomes(), 1);
    assert_eq!(host.script.times(7), 1, "and it was sent once");
}

#[tokio::test]
async fn a_connection_is_never_reused_for_a_message_with_the_same_id() {
    // A channel that numbers two different inquiries alike: the host's duplicate of the first
    // answer (sent as the next message arrives on that connection) would carry the same id.
    for id in [11u64, 0] {
        let host = BadHost::start().await;
        let gw = Gateway::start(&tight(&host.addr.to_string(), "http://127.0.0.1:9/", "legacy", "")).await;
        host.script.set(id, Mode::Duplicate);
        let first = acctinq(&gw, id, 1);
        assert_eq!(gw.post(&first).await.1, first);
        let second = acctinq(&gw, id, 2);
        let (status, reply) = gw.post(&second).await;
        assert_eq!((status, &reply), (200, &second), "id {id}: account 2 gets its own answer");
    }
}

#[tokio::test]
async fn a_read_reaches_an_http_host_at_most_twice_whatever_goes_wrong() {
    // Per message id: attempt 1 closes, attempt 2 answers with another id, attempt 3 closes,
    // attempt 4 answers.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let attempts = Arc::new(std::sync::Mutex::new(std::collections::HashMap::<u64, usize>::new()));
    let seen = attempts.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else { return };
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                while let Some(mut body) = common::misbehave::read_request(&mut conn, &mut buf).await {
                    let n = {
                        let mut a = seen.lock().unwrap();
                        let n = a.entry(seq_of(&body)).or_default();
                        *n += 1;
                        *n
                    };
                    match n {
                        1 | 3 => return,
                        2 => body[common::misbehave::SEQ.end - 1] ^= 0x01,
                        _ => {}
                    }
                    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
                    if conn.write_all(head.as_bytes()).await.is_err() || conn.write_all(&body).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let toml = tight("127.0.0.1:9", "http://127.0.0.1:9/", "legacy", "").replace(
        "[upstreams.legacy]\nkind = \"tcp\"\naddress = \"127.0.0.1:9\"",
        &format!("[upstreams.legacy]\nkind = \"http\"\nurl = \"http://{addr}/\""),
    );
    let gw = Gateway::start(&toml).await;
    let m = acctinq(&gw, 21, 21);
    let (status, reply) = gw.post(&m).await;
    assert_ne!(reply, m, "not answered: the host did not answer it within two sends");
    assert!(status >= 500, "an error reply, never another message's: {status}");
    assert_eq!(seq_of(&reply), 21);
    assert_eq!(attempts.lock().unwrap()[&21], 2, "sent once and retried once, never more");
}

#[tokio::test]
async fn a_write_whose_tcp_channel_closes_before_its_answer_is_an_unknown_outcome() {
    let host = BadHost::start().await;
    let gw = Gateway::start(&tight(&host.addr.to_string(), "http://127.0.0.1:9/", "legacy", "")).await;
    let gateway = gw.running.gateway.clone();
    host.script.set(31, Mode::Slow(200));
    let mut conn = tokio::net::TcpStream::connect(gw.tcp()).await.unwrap();
    ficus::frame::Framing::prefix(4).write(&mut conn, &xfer(&gw, 31)).await.unwrap();
    for _ in 0..300 {
        if host.script.times(31) == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    drop(conn);
    for _ in 0..300 {
        if gateway.unknown_outcomes() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(gateway.unknown_outcomes(), 1, "the host answered a write its channel never reads");
    // An answered write whose channel reads it is no unknown outcome.
    let write = xfer(&gw, 32);
    assert_eq!(common::tcp_exchange(gw.tcp(), std::slice::from_ref(&write)).await, vec![write]);
    assert_eq!(gateway.unknown_outcomes(), 1);
}

#[tokio::test]
async fn a_write_the_service_answered_unusably_has_an_unknown_outcome() {
    // XFER flipped to a JSON service whose answer does not fit XFER's response copybook: the
    // service may have posted the transfer, so the channel is told the outcome is unknown.
    let service = BadService::start().await;
    let toml = tight("127.0.0.1:9", &service.url(), "legacy", "").replace(
        "response = \"XFER.cpy#XFER-RESP\"\ntarget   = \"legacy\"",
        "response = \"XFER.cpy#XFER-RESP\"\ntarget   = \"accounts\"",
    );
    let gw = Gateway::start(&toml).await;
    let (status, reply) = gw.post(&xfer(&gw, 51)).await;
    let (c, text) = code(&gw, &reply);
    assert_eq!((status, c.as_str()), (502, "FC12"));
    assert!(text.starts_with("OUTCOME UNKNOWN"), "{text}");
    assert_eq!(gw.running.gateway.unknown_outcomes(), 1);
}

#[tokio::test]
async fn a_write_cancelled_before_it_left_is_no_unknown_outcome() {
    let host = BadHost::start().await;
    let toml = tight(&host.addr.to_string(), "http://127.0.0.1:9/", "legacy", "")
        .replace("max_connections = 4\nbreaker_failures = 3", "max_connections = 1\nbreaker_failures = 3");
    let gw = Gateway::start(&toml).await;
    let gateway = gw.running.gateway.clone();
    host.script.set(61, Mode::Slow(250));
    let first = {
        let (g, m) = (gateway.clone(), xfer(&gw, 61));
        tokio::spawn(async move { g.handle(m).await })
    };
    for _ in 0..300 {
        if host.script.times(61) == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // The second transfer waits for the one connection, and its channel gives up meanwhile.
    let second = tokio::time::timeout(std::time::Duration::from_millis(50), gateway.handle(xfer(&gw, 62))).await;
    assert!(second.is_err(), "cancelled while waiting");
    assert_eq!(first.await.unwrap().status, 200);
    assert_eq!(host.script.times(62), 0, "it never left");
    assert_eq!(gateway.unknown_outcomes(), 0, "so its outcome is known: not applied");
}
