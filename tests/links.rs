//! Link management messages over real sockets: channel heartbeats answered by the gateway
//! (TCP and HTTP) without the host seeing them, and polls on idle host links that find a dead
//! link (silent, answering for another message, closing) before a customer's message is sent
//! on it, while a healthy link keeps its connection. Configuration mistakes are refused with
//! the setting, the field and the value named.

mod common;

use common::*;
use ficus::codec::charset::{CodePage, Overflow};
use ficus::frame::Framing;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const HEADER: usize = 85;
const TRAN: std::ops::Range<usize> = 6..14;
const RESP_CODE: std::ops::Range<usize> = 41..45;
/// Long enough for anything on a loaded machine; only a broken gateway waits this long.
const PATIENCE: Duration = Duration::from_secs(20);
/// Held by the tests that send unrouted operations or count them (counters are per process).
static UNROUTED: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn cp037(text: &str, width: usize) -> Vec<u8> {
    let mut out = vec![0u8; width];
    CodePage::Cp037.encode_into(text, &mut out, Overflow::Error).unwrap();
    out
}

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

/// The test routes with `[gateway] heartbeat` and a poll on `legacy`.
fn link_routes(legacy: SocketAddr, poll: &str) -> String {
    let up = Upstreams { legacy: legacy.to_string(), accounts: "http://127.0.0.1:9/ops".into() };
    routes_toml(&up, "legacy", "legacy", "")
        .replace(
            "tcp_framing = { length_prefix = 4 }",
            "tcp_framing = { length_prefix = 4 }\nheartbeat = { op = \"HEARTBT\", reply_code = \"0000\" }",
        )
        .replacen("max_connections = 8\n", &format!("max_connections = 8\n{poll}\n"), 1)
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

fn problems(toml: &str) -> String {
    let path = std::path::Path::new("/nonexistent/routes.toml");
    match ficus::config::build::build(toml, path, None, 1) {
        Ok(_) => panic!("accepted:\n{toml}"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn link_settings_that_cannot_work_are_refused_by_name() {
    let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let base = link_routes(addr, "");
    let routed = problems(&base.replace("op = \"HEARTBT\"", "op = \"ACCTINQ\""));
    assert!(routed.contains("heartbeat op \"ACCTINQ\" is also routed ([routes.ACCTINQ])"), "{routed}");
    let line = base.lines().position(|l| l.starts_with("heartbeat")).unwrap() + 1;
    assert!(routed.contains(&format!("routes.toml:{line}:")), "points at the heartbeat line: {routed}");
    let code = problems(&base.replace("reply_code = \"0000\"", "reply_code = \"00000\""));
    assert!(code.contains("reply_code = \"00000\" does not fit HDR-RESP-CODE (4 bytes)"), "{code}");
    let long = problems(&base.replace("op = \"HEARTBT\"", "op = \"HEARTBEAT\""));
    assert!(long.contains("\"HEARTBEAT\" does not fit HDR-TRAN-CODE (8 bytes)"), "{long}");
    let unknown = problems(&base.replace("reply_code = \"0000\"", "reply = \"0000\""));
    assert!(unknown.contains("reply"), "{unknown}");

    let poll = |p: &str| problems(&link_routes(addr, p));
    assert!(poll("poll = { every_ms = 0, op = \"HEARTBT\" }").contains("poll: every_ms must be at least 1"));
    assert!(
        poll("poll = { every_ms = 10, op = \"HEARTBT\", timeout_ms = 0 }").contains("timeout_ms must be at least 1")
    );
    assert!(poll("poll = { every_ms = 10, op = \"HEARTBEAT\" }").contains("HDR-TRAN-CODE"));
    let http = problems(&base.replacen(
        "timeout_ms = 1000\n\n[default]",
        "timeout_ms = 1000\npoll = { every_ms = 10, op = \"HEARTBT\" }\n\n[default]",
        1,
    ));
    assert!(http.contains("poll is for tcp upstreams"), "{http}");

    // `ficus check` says what a valid file does, and refuses the same as a configuration error.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("routes.toml");
    std::fs::write(dir.path().join("tokens"), format!("{ADMIN_NAME}:{ADMIN_TOKEN}\n")).unwrap();
    std::fs::write(&file, link_routes(addr, "poll = { every_ms = 30000, op = \"HEARTBT\" }")).unwrap();
    let (code, out, err) = ficus_cli(&["check", "--config", file.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("heartbeat HEARTBT answered by ficus with 0000"), "{out}");
    assert!(
        out.contains("upstream legacy idle connections polled with HEARTBT after 30000 ms (no answer in 1000 ms"),
        "{out}"
    );
    std::fs::write(&file, base.replace("op = \"HEARTBT\"", "op = \"ACCTINQ\"")).unwrap();
    let (code, _, err) = ficus_cli(&["check", "--config", file.to_str().unwrap()]).await;
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("is also routed ([routes.ACCTINQ])"), "{err}");
}

/// `ficus send` numbers its messages as polls do: a fresh id that fits the header's message id
/// field, whatever its width or picture (a 10-digit clock reading did not fit a 6-digit field).
#[test]
fn fresh_message_ids_fit_the_header_field() {
    for (pic, width) in [("PIC 9(6).", 6), ("PIC X(6).", 6), ("PIC 9(12).", 12)] {
        let dir = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(copybooks()).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
        let header = std::fs::read_to_string(copybooks().join("COMMHDR.cpy")).unwrap();
        let header = header.replace("HDR-SEQ-NO              PIC 9(10).", &format!("HDR-SEQ-NO              {pic}"));
        std::fs::write(dir.path().join("COMMHDR.cpy"), header).unwrap();
        let up = Upstreams { legacy: "127.0.0.1:9".into(), accounts: "http://127.0.0.1:9/ops".into() };
        let toml = routes_toml(&up, "legacy", "legacy", "")
            .replace(&copybooks().display().to_string(), &dir.path().display().to_string());
        let table = ficus::config::build::build(&toml, &dir.path().join("routes.toml"), None, 1).unwrap();
        let m = ficus::cli::build_request(&table, "ACCTINQ", &json!({ "ACCT-NO": "1" }), &serde_json::Value::Null)
            .unwrap_or_else(|e| panic!("{pic}: {e}"));
        let id = table.header.message_id(&m).unwrap();
        assert!(id.trim_start_matches('0').len() <= width && id.parse::<u64>().unwrap() > 0, "{pic}: {id}");
        let poll = table.header.link_message("HEARTBT", table.header.message_id_capacity().unwrap()).unwrap();
        assert_eq!(table.header.message_id(&poll).unwrap().trim_start_matches('0'), "9".repeat(width), "{pic}");
    }
}

/// A reload keeps an upstream's pool (and its open connections) only when it would poll the
/// same way with the same bytes: a header that moved the message id builds a new one.
#[test]
fn a_reload_keeps_a_polling_pool_only_while_its_poll_is_the_same() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(copybooks()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    let up = Upstreams { legacy: "127.0.0.1:9".into(), accounts: "http://127.0.0.1:9/ops".into() };
    let poll = "max_connections = 8\npoll = { every_ms = 30000, op = \"HEARTBT\" }\n";
    let toml = routes_toml(&up, "legacy", "legacy", "")
        .replace(&copybooks().display().to_string(), &dir.path().display().to_string())
        .replacen("max_connections = 8\n", poll, 1);
    let path = dir.path().join("routes.toml");
    let build = |text: &str, previous| ficus::config::build::build(text, &path, previous, 1).unwrap();
    let legacy = |t: &ficus::route::RouteTable| t.upstreams["legacy"].clone();
    let first = build(&toml, None);
    let same = build(&toml, Some(&first));
    assert!(Arc::ptr_eq(&legacy(&first), &legacy(&same)), "nothing changed: the pool is kept");
    let slower = build(&toml.replace("every_ms = 30000", "every_ms = 60000"), Some(&first));
    assert!(!Arc::ptr_eq(&legacy(&first), &legacy(&slower)), "another poll: a new pool");
    let header = std::fs::read_to_string(dir.path().join("COMMHDR.cpy")).unwrap();
    let wider = header.replace("HDR-CHANNEL             PIC X(3).", "HDR-CHANNEL             PIC X(4).");
    assert_ne!(header, wider);
    std::fs::write(dir.path().join("COMMHDR.cpy"), wider).unwrap();
    let moved = build(&toml, Some(&first));
    assert!(!Arc::ptr_eq(&legacy(&first), &legacy(&moved)), "the id moved: polls would be wrong bytes");
}

/// A poll's length field follows the rule the links give it: here the channel's framing makes
/// HDR-MSG-LEN count the body, so a header-only poll states 0.
#[test]
fn a_poll_states_its_length_as_the_links_count_it() {
    let up = Upstreams { legacy: "127.0.0.1:9".into(), accounts: "http://127.0.0.1:9/ops".into() };
    let toml = routes_toml(&up, "legacy", "legacy", "")
        .replace(
            "tcp_framing = { length_prefix = 4 }",
            "tcp_framing = { length_field = \"HDR-MSG-LEN\", counts = \"body\" }",
        )
        .replacen("max_connections = 8\n", "max_connections = 8\npoll = { every_ms = 10, op = \"HEARTBT\" }\n", 1);
    let table = ficus::config::build::build(&toml, std::path::Path::new("/nonexistent/routes.toml"), None, 1).unwrap();
    let ficus::upstream::Upstream::Tcp(pool) = &table.upstreams["legacy"].upstream else { panic!("tcp") };
    let poll = (pool.poll_plan().unwrap().message)(5);
    assert_eq!(poll.len(), HEADER);
    assert_eq!(poll[..6], cp037("000000", 6)[..], "the body's length: none");
}
