//! A hand-off never strands a channel mid-conversation (issue #11, kind 7), on real sockets.
//!
//! From the stop signal on: every HTTP reply says `Connection: close` and its connection closes
//! after it (the gateway's replies and the listener's own refusals alike); a keep-alive
//! connection between requests is closed at once, not left for its client to send a next message
//! into; a message already received is answered; TCP channel connections between messages close
//! at drain start, and a frame that has already arrived is answered before the close.
//!
//! The host here holds its replies until the test lets them go, so "in flight when the stop
//! comes" is a fact of the test, not a race. The listeners' read timeout is set long (30 s) and
//! every wait is bounded well below it (10 s): a connection that is closed only by that timeout
//! fails the test instead of passing late.

mod common;

use common::*;
use ficus::frame::Framing;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Far below the listeners' 30 s read timeout: what must happen at once happens within this.
const PROMPTLY: Duration = Duration::from_secs(10);

/// A legacy host (4-byte length prefix) that echoes message number n (counted over all its
/// connections, from 1) only once the test has allowed n messages.
struct GatedHost {
    addr: SocketAddr,
    received: watch::Receiver<usize>,
    allowed: watch::Sender<usize>,
}

impl GatedHost {
    async fn start(allowed: usize) -> GatedHost {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (count, received) = watch::channel(0usize);
        let (allowed, gate) = watch::channel(allowed);
        let count = Arc::new(count);
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let (count, mut gate) = (count.clone(), gate.clone());
                tokio::spawn(async move {
                    let framing = Framing::prefix(4);
                    while let Ok(Some(message)) = framing.read(&mut conn, 1 << 20).await {
                        let mut n = 0;
                        count.send_modify(|c| {
                            *c += 1;
                            n = *c;
                        });
                        if gate.wait_for(|allowed| *allowed >= n).await.is_err() {
                            return;
                        }
                        if framing.write(&mut conn, &message).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        GatedHost { addr, received, allowed }
    }

    /// Waits until the host holds (or has answered) `n` messages.
    async fn wait_received(&self, n: usize) {
        let mut received = self.received.clone();
        tokio::time::timeout(PROMPTLY, received.wait_for(|c| *c >= n)).await.expect("host never got it").unwrap();
    }

    /// Lets every message through from now on.
    fn open(&self) {
        self.allowed.send_replace(usize::MAX);
    }
}

async fn gateway(host: &GatedHost) -> Gateway {
    let up = Upstreams { legacy: host.addr.to_string(), accounts: "http://127.0.0.1:9/ops".into() };
    let limits = "\n[limits]\nread_timeout_ms = 30000\ndrain_timeout_ms = 60000\n";
    let toml = routes_toml(&up, "legacy", "legacy", limits).replacen(
        "timeout_ms = 1000\nconnect_timeout_ms",
        "timeout_ms = 60000\nconnect_timeout_ms",
        1,
    );
    Gateway::start(&toml).await
}

/// Stops the gateway in the background; returns once the stop signal is out, with the task
/// that finishes the drain.
async fn signal_stop(gw: Gateway) -> tokio::task::JoinHandle<()> {
    let mut stopped = gw.running.shutdown_signal();
    let Gateway { running, dir, .. } = gw;
    let stopping = tokio::spawn(async move {
        running.stop().await;
        drop(dir);
    });
    stopped.wait_for(|s| *s).await.unwrap();
    stopping
}

/// One HTTP/1.1 reply read off a persistent connection: status, head (lowercase), body.
struct HttpReply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl HttpReply {
    fn closes(&self) -> bool {
        self.head.lines().any(|l| l.starts_with("connection:") && l.contains("close"))
    }
}

/// A keep-alive POST: no `Connection` header, as HTTP/1.1 channels send them.
async fn send_post(conn: &mut TcpStream, message: &[u8]) {
    let head = format!("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n", message.len());
    conn.write_all(&[head.as_bytes(), message].concat()).await.unwrap();
}

async fn read_reply(conn: &mut TcpStream) -> HttpReply {
    let mut raw = Vec::new();
    let mut chunk = [0u8; 4096];
    let reply = loop {
        let n = tokio::time::timeout(PROMPTLY, conn.read(&mut chunk)).await.expect("no reply").unwrap();
        assert!(n > 0, "closed without a (whole) reply: {:?}", String::from_utf8_lossy(&raw));
        raw.extend_from_slice(&chunk[..n]);
        let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
        let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
        let length: usize =
            head.lines().find_map(|l| l.strip_prefix("content-length:")).map_or(0, |v| v.trim().parse().unwrap());
        if raw.len() >= split + 4 + length {
            assert_eq!(raw.len(), split + 4 + length, "nothing follows a reply");
            let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
            break HttpReply { status, head, body: raw[split + 4..].to_vec() };
        }
    };
    reply
}

/// Asserts the gateway closes `conn` (end of stream, not a reset), promptly.
async fn assert_closed(conn: &mut TcpStream, what: &str) {
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(PROMPTLY, conn.read(&mut byte)).await;
    let read = read.unwrap_or_else(|_| panic!("{what}: still open {PROMPTLY:?} after the stop signal"));
    assert_eq!(read.unwrap_or_else(|e| panic!("{what}: {e}")), 0, "{what}: bytes instead of a close");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_at_the_stop_signal() {
    let host = GatedHost::start(usize::MAX).await;
    let gw = gateway(&host).await;
    let m = gw.request("ACCTINQ", json!({ "ACCT-NO": "1000000000000001" }));
    let mut conn = TcpStream::connect(gw.http()).await.unwrap();
    send_post(&mut conn, &m).await;
    let first = read_reply(&mut conn).await;
    assert_eq!((first.status, &first.body), (200, &m));
    assert!(!first.closes(), "before the stop the connection is kept alive: {}", first.head);

    let stopping = signal_stop(gw).await;
    assert_closed(&mut conn, "an idle keep-alive connection").await;
    tokio::time::timeout(PROMPTLY, stopping).await.expect("drained").unwrap();
}

#[tokio::test]
async fn a_request_in_flight_at_the_stop_signal_is_answered_with_connection_close_then_closed() {
    let host = GatedHost::start(1).await;
    let gw = gateway(&host).await;
    let m1 = gw.request("ACCTINQ", json!({ "ACCT-NO": "1000000000000001" }));
    let m2 = gw.request(
        "XFER",
        json!({ "FROM-ACCT": "1000000000000001", "TO-ACCT": "1000000000000002", "AMOUNT": 1, "MEMO": "RENT" }),
    );
    let mut conn = TcpStream::connect(gw.http()).await.unwrap();
    send_post(&mut conn, &m1).await;
    assert_eq!(read_reply(&mut conn).await.status, 200);
    send_post(&mut conn, &m2).await;
    host.wait_received(2).await;

    let stopping = signal_stop(gw).await;
    host.open();
    let reply = read_reply(&mut conn).await;
    assert_eq!((reply.status, &reply.body), (200, &m2), "the message in flight is answered");
    assert!(reply.closes(), "a reply after the stop signal says Connection: close: {}", reply.head);
    assert_closed(&mut conn, "the connection after its last reply").await;
    tokio::time::timeout(PROMPTLY, stopping).await.expect("drained").unwrap();
}

#[tokio::test]
async fn a_request_pipelined_behind_another_is_answered_after_the_stop_signal() {
    let host = GatedHost::start(1).await;
    let gw = gateway(&host).await;
    let m1 = gw.request("ACCTINQ", json!({ "ACCT-NO": "1000000000000001" }));
    let m2 = gw.request("ACCTINQ", json!({ "ACCT-NO": "1000000000000002" }));
    // Both requests in one write: the second is read along with the first and served from the
    // listener's buffer after the first reply, without another read from the socket.
    let mut conn = TcpStream::connect(gw.http()).await.unwrap();
    let post = |m: &[u8]| {
        [format!("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n", m.len()).as_bytes(), m].concat()
    };
    conn.write_all(&[post(&m1), post(&m2)].concat()).await.unwrap();
    let first = read_reply(&mut conn).await;
    assert_eq!((first.status, &first.body), (200, &m1));
    host.wait_received(2).await;

    let stopping = signal_stop(gw).await;
    host.open();
    let second = read_reply(&mut conn).await;
    assert_eq!((second.status, &second.body), (200, &m2), "the pipelined request is answered");
    assert!(second.closes(), "{}", second.head);
    assert_closed(&mut conn, "the connection after its last reply").await;
    tokio::time::timeout(PROMPTLY, stopping).await.expect("drained").unwrap();
}

#[tokio::test]
async fn the_listeners_own_replies_after_the_stop_signal_close_too() {
    let host = GatedHost::start(usize::MAX).await;
    let gw = gateway(&host).await;
    let m = gw.request("ACCTINQ", json!({ "ACCT-NO": "1000000000000001" }));
    // Connected before the stop, first request after it: a fresh connection still gets to send
    // its first request (it may have been on its way), and its reply closes it.
    let mut refused = TcpStream::connect(gw.http()).await.unwrap();
    let mut served = TcpStream::connect(gw.http()).await.unwrap();
    let stopping = signal_stop(gw).await;

    refused.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await.unwrap();
    let reply = read_reply(&mut refused).await;
    assert_eq!(reply.status, 405);
    assert!(reply.closes(), "the listener's own refusal says Connection: close: {}", reply.head);
    assert_closed(&mut refused, "a connection after a refusal").await;

    send_post(&mut served, &m).await;
    let reply = read_reply(&mut served).await;
    assert_eq!((reply.status, &reply.body), (200, &m), "a fresh connection's first request is served");
    assert!(reply.closes(), "{}", reply.head);
    assert_closed(&mut served, "a fresh connection after its reply").await;
    tokio::time::timeout(PROMPTLY, stopping).await.expect("drained").unwrap();
}

#[tokio::test]
async fn tcp_idle_connections_close_at_drain_start_and_received_frames_are_answered() {
    let host = GatedHost::start(1).await;
    let gw = gateway(&host).await;
    let framing = Framing::prefix(4);
    let m = |n: u32| gw.request("ACCTINQ", json!({ "ACCT-NO": format!("10000000000000{n:02}") }));
    let (m1, m2, m3) = (m(1), m(2), m(3));

    let mut idle = TcpStream::connect(gw.tcp()).await.unwrap();
    framing.write(&mut idle, &m1).await.unwrap();
    assert_eq!(framing.read(&mut idle, 1 << 20).await.unwrap().as_deref(), Some(&m1[..]));
    // A channel that sent two messages back to back: the first is at the host when the stop
    // comes, the second has arrived behind it and waits.
    let mut busy = TcpStream::connect(gw.tcp()).await.unwrap();
    let mut both = Vec::new();
    framing.write(&mut both, &m2).await.unwrap();
    framing.write(&mut both, &m3).await.unwrap();
    busy.write_all(&both).await.unwrap();
    host.wait_received(2).await;

    let stopping = signal_stop(gw).await;
    // While the message is still held at the host: the drain has started, the idle one is gone.
    assert_closed(&mut idle, "an idle TCP connection at drain start").await;
    host.open();
    for (n, sent) in [(2, &m2), (3, &m3)] {
        let reply = tokio::time::timeout(PROMPTLY, framing.read(&mut busy, 1 << 20)).await.expect("no reply");
        let reply = reply.unwrap_or_else(|e| panic!("message {n}: {e}"));
        assert_eq!(reply.as_deref(), Some(&sent[..]), "message {n}, already received, is answered");
    }
    assert_closed(&mut busy, "a TCP connection after its last reply").await;
    tokio::time::timeout(PROMPTLY, stopping).await.expect("drained").unwrap();
}

#[tokio::test]
async fn the_admin_api_drains_like_the_channels() {
    let host = GatedHost::start(usize::MAX).await;
    let gw = gateway(&host).await;
    let admin = gw.admin();
    // A keep-alive admin connection that has been answered once, and one opened just before
    // the stop whose request arrives after it.
    let mut idle = TcpStream::connect(admin).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n").await.unwrap();
    let reply = read_reply(&mut idle).await;
    assert_eq!(reply.status, 200);
    assert!(!reply.closes(), "kept alive before the stop");
    let mut fresh = TcpStream::connect(admin).await.unwrap();
    let stopping = signal_stop(gw).await;
    assert_closed(&mut idle, "an idle admin keep-alive connection").await;
    fresh.write_all(b"GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n").await.unwrap();
    let reply = read_reply(&mut fresh).await;
    assert_eq!(reply.status, 200, "a request on a connection opened before the stop is answered");
    assert!(reply.closes(), "…with Connection: close: {}", reply.head);
    assert_closed(&mut fresh, "the admin connection after its last reply").await;
    tokio::time::timeout(PROMPTLY, stopping).await.expect("the drain ends").unwrap();
}
