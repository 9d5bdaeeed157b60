//! Link management messages over real sockets: channel heartbeats answered by the gateway
//! (TCP and HTTP) without the host seeing them, and polls on idle host links that find a dead
//! link (silent, answering for another message, closing) before a customer's message is sent
//! on it, while a healthy link keeps its connection (tests/links_config.rs: the settings).

mod common;
#[path = "support/links.rs"]
mod links;

use common::*;
use ficus::codec::charset::CodePage;
use ficus::frame::Framing;
use links::*;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const TRAN: std::ops::Range<usize> = 6..14;
const RESP_CODE: std::ops::Range<usize> = 41..45;
/// Long enough for anything on a loaded machine; only a broken gateway waits this long.
const PATIENCE: Duration = Duration::from_secs(20);
/// Held by the tests that send unrouted operations or count them (counters are per process).
static UNROUTED: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn op_of(message: &[u8]) -> String {
    let mut s = String::new();
    CodePage::Cp037.decode_into(&message[TRAN], &mut s).unwrap();
    s.trim().to_string()
}

/// What the test host saw.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    /// A message on connection `conn` (numbered from 1 in accept order).
    Message { conn: usize, op: String, id: Vec<u8>, len: usize },
    /// Connection `conn` ended (the gateway dropped it, or the host closed it).
    Closed { conn: usize },
}

/// What the host does with every message on connection 1 after answering its first one.
#[derive(Clone, Copy, Debug)]
enum Then {
    Answer,
    Silent,
    WrongId,
    Close,
}

/// A host (4-byte prefix) answering each message with its header and code 0000, reporting
/// every message and every closed connection; connection 1 turns `then` after its first answer.
async fn link_host(then: Then) -> (SocketAddr, mpsc::UnboundedReceiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let conns = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let conn = conns.fetch_add(1, Ordering::SeqCst) + 1;
            let tx = tx.clone();
            tokio::spawn(async move {
                let framing = Framing::prefix(4);
                let mut answered = 0;
                while let Ok(Some(m)) = framing.read(&mut stream, 1 << 20).await {
                    let id = m[MESSAGE_ID].to_vec();
                    let _ = tx.send(Seen::Message { conn, op: op_of(&m), id, len: m.len() });
                    let mode = if conn == 1 && answered > 0 { then } else { Then::Answer };
                    let mut reply = m[..HEADER].to_vec();
                    reply[..6].copy_from_slice(&cp037("000085", 6));
                    reply[RESP_CODE].copy_from_slice(&cp037("0000", 4));
                    match mode {
                        Then::Answer => {}
                        Then::Silent => continue,
                        Then::WrongId => reply[MESSAGE_ID.end - 1] ^= 0x01,
                        Then::Close => break,
                    }
                    if framing.write(&mut stream, &reply).await.is_err() {
                        break;
                    }
                    answered += 1;
                }
                let _ = tx.send(Seen::Closed { conn });
            });
        }
    });
    (addr, rx)
}

/// Waits for the first event `want` accepts (others are passed over), or fails naming it.
async fn wait_for(rx: &mut mpsc::UnboundedReceiver<Seen>, what: &str, want: impl Fn(&Seen) -> bool) -> Seen {
    let found = tokio::time::timeout(PATIENCE, async {
        while let Some(seen) = rx.recv().await {
            if want(&seen) {
                return Some(seen);
            }
        }
        None
    });
    found.await.ok().flatten().unwrap_or_else(|| panic!("the host never saw {what}"))
}

fn is_poll(seen: &Seen, on: usize) -> bool {
    matches!(seen, Seen::Message { conn, op, .. } if *conn == on && op == "HEARTBT")
}

/// The value of the counter series whose line holds every one of `labels` (0 if none).
fn counter(name: &str, labels: &[&str]) -> u64 {
    let text = ficus::admin::metrics::install().expect("a recorder").render();
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) && labels.iter().all(|x| l.contains(x)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

fn acctinq(gw: &Gateway) -> Vec<u8> {
    gw.request("ACCTINQ", json!({ "ACCT-NO": "1002003004005006" }))
}

#[tokio::test]
async fn heartbeats_are_answered_by_the_gateway_on_tcp_and_http_and_never_reach_the_host() {
    let host = FakeHost::start(HostScript::Reply({
        let mut r = vec![0x40; HEADER];
        r[RESP_CODE].copy_from_slice(&cp037("0000", 4));
        r
    }))
    .await;
    let gw = Gateway::start_unwatched(&link_routes(host.addr, "")).await;
    let _alone = UNROUTED.lock().await;
    let unrouted = counter("ficus_messages_total", &["op=\"unknown\""]);
    let (tcp_before, http_before) =
        (counter("ficus_heartbeats_total", &["\"tcp\""]), counter("ficus_heartbeats_total", &["\"http\""]));
    let table = gw.table();
    let heartbeat = table.header.link_message("HEARTBT", 4711).unwrap();
    let mut with_body = table.header.link_message("HEARTBT", 4712).unwrap();
    with_body.extend_from_slice(&[0x40; 20]);
    table.header.set_length(&mut with_body);

    let replies = tcp_exchange(gw.tcp(), &[heartbeat.clone(), with_body.clone(), acctinq(&gw)]).await;
    let (status, over_http) = gw.post(&heartbeat).await;
    assert_eq!(status, 200);
    for (request, reply) in [(&heartbeat, &replies[0]), (&with_body, &replies[1]), (&heartbeat, &over_http)] {
        assert_eq!(reply.len(), HEADER, "a heartbeat's answer is the header alone");
        assert_eq!(response_code(&gw, reply), ("0000".into(), String::new()));
        assert_eq!(reply[MESSAGE_ID], request[MESSAGE_ID], "the request's message id");
        assert_eq!(reply[TRAN], request[TRAN], "the request's operation");
        table.header.check_length(reply).expect("HDR-MSG-LEN states the answer's length");
    }
    assert_eq!(host.count(), 1, "only ACCTINQ reached the host");
    assert_eq!(counter("ficus_heartbeats_total", &["\"tcp\""]) - tcp_before, 2);
    assert_eq!(counter("ficus_heartbeats_total", &["\"http\""]) - http_before, 1);
    // A heartbeat counted as a message would show as an unrouted operation.
    assert_eq!(counter("ficus_messages_total", &["op=\"unknown\""]), unrouted, "not counted as messages");
}

#[tokio::test]
async fn a_reload_changes_the_heartbeat_op() {
    let host = FakeHost::start(HostScript::Reply(vec![0x40; HEADER])).await;
    let gw = Gateway::start_unwatched(&link_routes(host.addr, "")).await;
    let _alone = UNROUTED.lock().await;
    let text = std::fs::read_to_string(&gw.config).unwrap().replace("op = \"HEARTBT\"", "op = \"LINKTST\"");
    std::fs::write(&gw.config, text).unwrap();
    gw.running.reloader.reload(ficus::control::reload::Trigger::File).unwrap();
    let table = gw.table();
    let (old, new) =
        (table.header.link_message("HEARTBT", 1).unwrap(), table.header.link_message("LINKTST", 2).unwrap());
    let replies = tcp_exchange(gw.tcp(), &[old, new]).await;
    assert_eq!(host.count(), 1, "HEARTBT is an ordinary message now: it went to the host");
    assert_eq!(response_code(&gw, &replies[1]).0, "0000", "LINKTST is answered by the gateway");
}

/// A link that stops answering (or answers for another message, or closes) is polled once it
/// has been idle `every_ms`, dropped, and the next customer message gets a fresh connection
/// and its own answer.
#[tokio::test]
async fn a_poll_finds_a_dead_link_before_a_customer_message_uses_it() {
    for (then, outcome) in [(Then::Silent, "timeout"), (Then::WrongId, "uncorrelated"), (Then::Close, "closed")] {
        let (addr, mut seen) = link_host(then).await;
        let poll = r#"poll = { every_ms = 100, op = "HEARTBT", timeout_ms = 300 }"#;
        let gw = Gateway::start_unwatched(&link_routes(addr, poll)).await;
        let before = counter("ficus_upstream_polls_total", &[&format!("outcome=\"{outcome}\"")]);
        let first = acctinq(&gw);
        let reply = &tcp_exchange(gw.tcp(), std::slice::from_ref(&first)).await[0];
        assert_eq!(response_code(&gw, reply).0, "0000", "{then:?}");
        let poll = wait_for(&mut seen, "a poll on connection 1", |s| is_poll(s, 1)).await;
        assert!(matches!(poll, Seen::Message { len: HEADER, .. }), "a poll is the header alone: {poll:?}");
        wait_for(&mut seen, "connection 1 dropped", |s| *s == Seen::Closed { conn: 1 }).await;

        let second = acctinq(&gw);
        let reply = &tcp_exchange(gw.tcp(), std::slice::from_ref(&second)).await[0];
        assert_eq!(response_code(&gw, reply).0, "0000", "{then:?}: answered, not an error");
        assert_eq!(reply[MESSAGE_ID], second[MESSAGE_ID]);
        let on =
            wait_for(&mut seen, "the second ACCTINQ", |s| matches!(s, Seen::Message { op, .. } if op == "ACCTINQ"))
                .await;
        assert!(matches!(on, Seen::Message { conn: 2, .. }), "{then:?}: on a fresh connection: {on:?}");
        let after = counter("ficus_upstream_polls_total", &[&format!("outcome=\"{outcome}\"")]);
        assert!(after > before, "{then:?}: counted as {outcome}");
    }
}

#[tokio::test]
async fn a_healthy_link_is_polled_and_keeps_its_connection() {
    let (addr, mut seen) = link_host(Then::Answer).await;
    let poll = r#"poll = { every_ms = 50, op = "HEARTBT" }"#;
    let gw = Gateway::start_unwatched(&link_routes(addr, poll)).await;
    let reply = &tcp_exchange(gw.tcp(), &[acctinq(&gw)]).await[0];
    assert_eq!(response_code(&gw, reply).0, "0000");
    let mut ids = Vec::new();
    while ids.len() < 3 {
        match wait_for(&mut seen, "three polls", |s| is_poll(s, 1) || matches!(s, Seen::Closed { .. })).await {
            Seen::Message { id, .. } => ids.push(id),
            closed => panic!("a healthy link was dropped: {closed:?}"),
        }
    }
    ids.dedup();
    assert_eq!(ids.len(), 3, "each poll carries a fresh message id");
    let later = acctinq(&gw);
    let reply = &tcp_exchange(gw.tcp(), std::slice::from_ref(&later)).await[0];
    assert_eq!(reply[MESSAGE_ID], later[MESSAGE_ID]);
    let on = wait_for(&mut seen, "the later ACCTINQ", |s| {
        matches!(s, Seen::Message { op, .. } if op == "ACCTINQ") || matches!(s, Seen::Closed { .. })
    })
    .await;
    assert!(matches!(on, Seen::Message { conn: 1, .. }), "the polled connection carried it: {on:?}");
}

/// Polls every millisecond while four channels keep the link busy: a poll never shares a
/// connection with a customer message (retries are off, so one that did would get another
/// message's answer and fail).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polls_never_share_a_connection_with_a_customer_message() {
    let (addr, mut seen) = link_host(Then::Answer).await;
    let poll = "poll = { every_ms = 1, op = \"HEARTBT\" }\nretry_budget_percent = 0";
    let gw = Arc::new(Gateway::start_unwatched(&link_routes(addr, poll)).await);
    let mut channels = Vec::new();
    for _ in 0..4 {
        let gw = gw.clone();
        channels.push(tokio::spawn(async move {
            let mut conn = tokio::net::TcpStream::connect(gw.tcp()).await.unwrap();
            for _ in 0..40 {
                let m = acctinq(&gw);
                Framing::prefix(4).write(&mut conn, &m).await.unwrap();
                let reply = Framing::prefix(4).read(&mut conn, 1 << 20).await.unwrap().unwrap();
                assert_eq!(response_code(&gw, &reply).0, "0000", "{:?}", response_code(&gw, &reply));
                assert_eq!(reply[MESSAGE_ID], m[MESSAGE_ID]);
                // Idle moments for the poller between messages.
                tokio::task::yield_now().await;
            }
        }));
    }
    for c in channels {
        c.await.unwrap();
    }
    wait_for(&mut seen, "a poll", |s| matches!(s, Seen::Message { op, .. } if op == "HEARTBT")).await;
}

#[tokio::test]
async fn the_simulated_host_answers_the_poll_with_its_header_and_0000() {
    let sims = sims().await;
    let gw = Gateway::start_unwatched(&link_routes(sims.host_tcp, "")).await;
    let poll = gw.table().header.link_message("HEARTBT", 99).unwrap();
    let mut conn = tokio::net::TcpStream::connect(sims.host_tcp).await.unwrap();
    Framing::prefix(4).write(&mut conn, &poll).await.unwrap();
    let reply = Framing::prefix(4).read(&mut conn, 1 << 20).await.unwrap().unwrap();
    assert_eq!(reply.len(), HEADER);
    assert_eq!(response_code(&gw, &reply), ("0000".into(), String::new()));
    assert_eq!(reply[MESSAGE_ID], poll[MESSAGE_ID]);
}
