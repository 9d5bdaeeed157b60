//! Misbehaving upstreams for the "never a wrong answer" tests: a legacy host (4-byte length
//! prefix, echoing each request as its reply, so a reply names its request byte for byte) and a
//! JSON service, each doing what real peers do on a bad day — chosen per message by its
//! HDR-SEQ-NO. Both record every message they receive, so a test can tell whether a write
//! reached them twice.

use ficus::frame::Framing;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Offset and length of HDR-SEQ-NO (the message id) in the test header.
pub const SEQ: std::ops::Range<usize> = 17..27;
/// Offset and length of HDR-TRAN-CODE.
pub const TRAN: std::ops::Range<usize> = 6..14;

/// What the upstream does with one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Answer it (the legacy host echoes the request).
    Good,
    /// Answer after this many milliseconds.
    Slow(u64),
    /// Answer, and when the next request arrives on the connection send this answer again
    /// before answering that one (a host's internal retransmission).
    Duplicate,
    /// Answer after this many milliseconds — past the gateway's deadline.
    Late(u64),
    /// Answer with the previous message's reply (another message id).
    OtherId,
    /// Send the start of a reply, then reset the connection.
    PartialReset,
    /// Close the connection as the request arrives, answering nothing.
    Close,
    /// Never answer (the connection stays open).
    Stall,
    /// Answer with bytes that are not a frame, then close.
    Garbage,
    /// Answer, then send a reply to a request never sent.
    Unsolicited,
}

impl Mode {
    /// Every mode, for random choice.
    pub const ALL: [Mode; 10] = [
        Mode::Good,
        Mode::Slow(40),
        Mode::Duplicate,
        Mode::Late(700),
        Mode::OtherId,
        Mode::PartialReset,
        Mode::Close,
        Mode::Stall,
        Mode::Garbage,
        Mode::Unsolicited,
    ];
}

/// Reads HDR-SEQ-NO (EBCDIC or ASCII digits) of a message.
pub fn seq_of(message: &[u8]) -> u64 {
    message.get(SEQ).unwrap_or_default().iter().fold(0, |n, b| n * 10 + u64::from(b & 0x0F))
}

/// Shared state of a misbehaving upstream.
#[derive(Default)]
pub struct Script {
    modes: Mutex<HashMap<u64, Mode>>,
    received: Mutex<Vec<(u64, Vec<u8>)>>,
    last_reply: Mutex<Option<Vec<u8>>>,
}

impl Script {
    /// Sets what happens to the message with id `seq` (default: Good).
    pub fn set(&self, seq: u64, mode: Mode) {
        self.modes.lock().unwrap().insert(seq, mode);
    }

    fn mode(&self, seq: u64) -> Mode {
        self.modes.lock().unwrap().get(&seq).copied().unwrap_or(Mode::Good)
    }

    /// How many times the message with id `seq` arrived.
    pub fn times(&self, seq: u64) -> usize {
        self.received.lock().unwrap().iter().filter(|(s, _)| *s == seq).count()
    }

    /// Every message received, in order: (id, bytes).
    pub fn received(&self) -> Vec<(u64, Vec<u8>)> {
        self.received.lock().unwrap().clone()
    }
}

/// A misbehaving legacy host on 127.0.0.1:0.
pub struct BadHost {
    pub addr: SocketAddr,
    pub script: Arc<Script>,
}

/// Listens on 127.0.0.1:0 and serves each connection with `conn`, sharing one script.
async fn listen<F, Fut>(conn: F) -> (SocketAddr, Arc<Script>)
where
    F: Fn(TcpStream, Arc<Script>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let script = Arc::new(Script::default());
    let s = script.clone();
    tokio::spawn(async move {
        while let Ok((c, _)) = listener.accept().await {
            tokio::spawn(conn(c, s.clone()));
        }
    });
    (addr, script)
}

impl BadHost {
    pub async fn start() -> BadHost {
        let (addr, script) = listen(host_conn).await;
        BadHost { addr, script }
    }
}

async fn host_conn(conn: TcpStream, script: Arc<Script>) {
    let framing = Framing::prefix(4);
    let (mut read, write) = conn.into_split();
    let write = Arc::new(tokio::sync::Mutex::new(write));
    let mut duplicate: Option<Vec<u8>> = None;
    while let Ok(Some(message)) = framing.read(&mut read, 1 << 20).await {
        let seq = seq_of(&message);
        script.received.lock().unwrap().push((seq, message.clone()));
        if let Some(again) = duplicate.take() {
            let _ = framing.write(&mut *write.lock().await, &again).await;
        }
        let previous = script.last_reply.lock().unwrap().replace(message.clone());
        let mut w = write.lock().await;
        let reply = match script.mode(seq) {
            Mode::Good => message,
            Mode::Slow(ms) => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                message
            }
            Mode::Duplicate => {
                duplicate = Some(message.clone());
                message
            }
            Mode::Late(ms) => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                message
            }
            Mode::OtherId => previous.unwrap_or_else(|| {
                let mut other = message.clone();
                other[SEQ.start] ^= 0x01;
                other
            }),
            Mode::PartialReset => {
                let _ = w.write_all(&[0, 0, 0, 200, 0xF0, 0xF0]).await;
                let _ = w.flush().await;
                let stream: &TcpStream = (*w).as_ref();
                let _ = socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO));
                return;
            }
            Mode::Close => return,
            Mode::Stall => {
                drop(w);
                std::future::pending::<()>().await;
                return;
            }
            Mode::Garbage => {
                let _ = w.write_all(b"\xFF\xFF\xFF\xFFgarbage").await;
                return;
            }
            Mode::Unsolicited => {
                // An id no request here carries: a frame naming a request not yet sent cannot
                // be told from its answer by any gateway (README, reply correlation).
                let mut stray = message.clone();
                stray[SEQ.start] = 0xF9;
                if framing.write(&mut *w, &message).await.is_err() {
                    return;
                }
                stray
            }
        };
        if framing.write(&mut *w, &reply).await.is_err() {
            return;
        }
    }
}

/// A misbehaving JSON service on 127.0.0.1:0 (keep-alive HTTP/1.1), answering ACCTINQ with the
/// account asked for. Its modes: Good, Slow, Late, Stall, Close (as the request arrives),
/// Garbage (not JSON), OtherId (a header override naming another message id), Duplicate (the
/// same id echoed as a zero-padded string), Unsolicited (the reply relabelled as XFER); the
/// others answer as Good.
pub struct BadService {
    pub addr: SocketAddr,
    pub script: Arc<Script>,
}

impl BadService {
    pub async fn start() -> BadService {
        let (addr, script) = listen(service_conn).await;
        BadService { addr, script }
    }

    pub fn url(&self) -> String {
        format!("http://{}/ops", self.addr)
    }
}

/// Reads one HTTP/1.1 request (Content-Length body); `None` when the peer closed.
pub async fn read_request(conn: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    read_exchange(conn, buf).await.map(|(_, body)| body)
}

/// As [`read_request`], with the request's head (lowercased) beside its body.
pub async fn read_exchange(conn: &mut TcpStream, buf: &mut Vec<u8>) -> Option<(String, Vec<u8>)> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                let body = buf[end + 4..end + 4 + len].to_vec();
                buf.drain(..end + 4 + len);
                return Some((head, body));
            }
        }
        let mut chunk = [0u8; 8192];
        match conn.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

async fn service_conn(mut conn: TcpStream, script: Arc<Script>) {
    let mut buf = Vec::new();
    while let Some(body) = read_request(&mut conn, &mut buf).await {
        let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let seq = request["header"]["HDR-SEQ-NO"].as_u64().unwrap_or(0);
        script.received.lock().unwrap().push((seq, body.clone()));
        let acct = request["request"]["ACCT-NO"].as_str().unwrap_or("").to_string();
        let mut reply = serde_json::json!({
            "header": { "HDR-RESP-CODE": "0000" },
            "response": { "ACCT-NO": acct, "CUST-NAME": format!("OWNER OF {acct}"), "ACCT-STATUS": "A",
                          "BALANCE": 100, "AVAIL-BAL": 100, "INT-RATE": 1, "LAST-TXN-DATE": 20260101 }
        });
        let mut text = reply.to_string();
        match script.mode(seq) {
            Mode::Slow(ms) | Mode::Late(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
            Mode::Stall => std::future::pending::<()>().await,
            Mode::Close => return,
            Mode::Garbage => text = "<html>not json".into(),
            Mode::OtherId => {
                reply["header"]["HDR-SEQ-NO"] = serde_json::json!(seq + 1);
                text = reply.to_string();
            }
            // The same id echoed in another JSON form (a zero-padded string): still its own.
            Mode::Duplicate => {
                reply["header"]["HDR-SEQ-NO"] = serde_json::json!(format!("{seq:010}"));
                text = reply.to_string();
            }
            // The reply relabelled as another operation.
            Mode::Unsolicited => {
                reply["header"]["HDR-TRAN-CODE"] = serde_json::json!("XFER");
                text = reply.to_string();
            }
            _ => {}
        }
        let head =
            format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", text.len());
        if conn.write_all(head.as_bytes()).await.is_err() || conn.write_all(text.as_bytes()).await.is_err() {
            return;
        }
    }
}
