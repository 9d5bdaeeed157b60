//! A simulated asynchronous host for the `tcp-async` tests: it accepts ficus's send
//! connection(s) and hands every request it reads to the test, and answers on a receive
//! connection of its own — one it opens to ficus (`receive = { listen }`) or one it accepts from
//! ficus (`receive = { connect }`). The test decides what is answered, when, how often and in
//! which order.

#![allow(dead_code)]

use crate::common::Gateway;
use ficus::codec::charset::CodePage;
use ficus::frame::Framing;
use ficus::upstream::async_link::AsyncLink;
use ficus::upstream::Upstream;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// Long enough for anything on a loaded machine; only a broken gateway waits this long.
pub const PATIENCE: Duration = Duration::from_secs(20);
/// HDR-RESP-CODE and HDR-RESP-MSG, ACCT-NO (the body of ACCTINQ) in the demo layouts.
pub const RESP_CODE: std::ops::Range<usize> = 41..45;
pub const RESP_MSG: std::ops::Range<usize> = 45..85;
pub const ACCT_NO: std::ops::Range<usize> = 85..101;

/// The simulated host.
pub struct AsyncHost {
    /// Where ficus sends requests (`send = ...`).
    pub send_addr: SocketAddr,
    requests: mpsc::UnboundedReceiver<Vec<u8>>,
    accepted: Arc<AtomicUsize>,
    /// Readers of ficus's send connections; aborting one closes that connection.
    send_conns: Arc<std::sync::Mutex<JoinSet<()>>>,
    /// The receive connection replies are written on.
    pub reply_conn: Option<TcpStream>,
    /// For `receive = { connect }`: where ficus connects.
    pub receive_listener: Option<TcpListener>,
}

impl AsyncHost {
    /// A host accepting send connections on 127.0.0.1:0.
    pub async fn start() -> AsyncHost {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let send_addr = listener.local_addr().unwrap();
        let (tx, requests) = mpsc::unbounded_channel();
        let accepted = Arc::new(AtomicUsize::new(0));
        let send_conns = Arc::new(std::sync::Mutex::new(JoinSet::new()));
        let (count, conns) = (accepted.clone(), send_conns.clone());
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let tx = tx.clone();
                conns.lock().unwrap().spawn(async move {
                    while let Ok(Some(m)) = Framing::prefix(4).read(&mut conn, 1 << 20).await {
                        if tx.send(m).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        AsyncHost { send_addr, requests, accepted, send_conns, reply_conn: None, receive_listener: None }
    }

    /// Also listens for ficus's receive connection (`receive = { connect }`); returns where.
    pub async fn listen_for_receive(&mut self) -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let at = l.local_addr().unwrap();
        self.receive_listener = Some(l);
        at
    }

    /// Accepts ficus's (next) receive connection.
    pub async fn accept_receive(&mut self) {
        let l = self.receive_listener.as_ref().expect("listen_for_receive first");
        let (conn, _) = tokio::time::timeout(PATIENCE, l.accept()).await.expect("ficus connects").unwrap();
        self.reply_conn = Some(conn);
    }

    /// Opens a receive connection to ficus (`receive = { listen }`), replacing the host's own
    /// older one (which it keeps open: ficus must drop it).
    pub async fn connect_receive(&mut self, ficus: SocketAddr) -> Option<TcpStream> {
        let conn = TcpStream::connect(ficus).await.unwrap();
        self.reply_conn.replace(conn)
    }

    /// Send connections ficus has opened so far.
    pub fn send_connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Closes every send connection ficus has open, with a reset (as a host that restarted).
    pub fn drop_send_connections(&self) {
        self.send_conns.lock().unwrap().abort_all();
    }

    /// The next request ficus sent.
    pub async fn next_request(&mut self) -> Vec<u8> {
        tokio::time::timeout(PATIENCE, self.requests.recv()).await.expect("a request within patience").unwrap()
    }

    /// The next request ficus sends, waiting as long as it takes (for `select!`).
    pub async fn recv(&mut self) -> Option<Vec<u8>> {
        self.requests.recv().await
    }

    /// A request already read, if any (never waits).
    pub fn try_request(&mut self) -> Option<Vec<u8>> {
        self.requests.try_recv().ok()
    }

    /// Writes `reply` framed on the receive connection.
    pub async fn reply(&mut self, reply: &[u8]) {
        let conn = self.reply_conn.as_mut().expect("a receive connection");
        Framing::prefix(4).write(conn, reply).await.unwrap();
    }
}

/// The host's answer to `request`: its header and body, code 0000, message `ANSWER <acct>`.
pub fn answer(gw: &Gateway, request: &[u8]) -> Vec<u8> {
    let mut reply = request.to_vec();
    let acct = text(&request[ACCT_NO]);
    gw.table().header.set_response(&mut reply, "0000", &format!("ANSWER {acct}"));
    reply
}

/// cp037 bytes as trimmed text.
pub fn text(bytes: &[u8]) -> String {
    let mut s = String::new();
    CodePage::Cp037.decode_into(bytes, &mut s).unwrap();
    s.trim().to_string()
}

/// An ACCTINQ request for account `acct` with HDR-SEQ-NO `seq` (and optionally HDR-TIMESTAMP).
pub fn inquiry(gw: &Gateway, acct: &str, seq: u64, timestamp: Option<u64>) -> Vec<u8> {
    let mut header = json!({ "HDR-SEQ-NO": seq });
    if let Some(ts) = timestamp {
        header["HDR-TIMESTAMP"] = json!(ts);
    }
    ficus::cli::build_request(&gw.table(), "ACCTINQ", &json!({ "ACCT-NO": acct }), &header).unwrap()
}

/// The link named `name` in the gateway's table.
pub fn link(gw: &Gateway, name: &str) -> Arc<ficus::route::UpstreamEntry> {
    let entry = gw.table().upstreams.get(name).cloned().expect("the upstream");
    assert!(matches!(entry.upstream, Upstream::TcpAsync(_)), "{name} is tcp-async");
    entry
}

/// The [`AsyncLink`] inside `entry`.
pub fn as_link(entry: &ficus::route::UpstreamEntry) -> &AsyncLink {
    match &entry.upstream {
        Upstream::TcpAsync(l) => l,
        _ => unreachable!(),
    }
}

/// Routes with ACCTINQ (read-only) and XFER (a write) on the tcp-async upstream `kftc`, whose
/// `receive` is `receive` and whose other settings `extra` adds to.
pub fn async_routes(send: SocketAddr, receive: &str, extra: &str) -> String {
    format!(
        r#"
[gateway]
listen_http = "127.0.0.1:0"
admin       = "127.0.0.1:0"
admin_token_file = "tokens"
copybooks   = "{copybooks}"
codepage    = "cp037"

[header]
copybook  = "COMMHDR.cpy"
operation = ["HDR-TRAN-CODE"]
response_code    = "HDR-RESP-CODE"
response_message = "HDR-RESP-MSG"
length_field     = "HDR-MSG-LEN"
message_id       = "HDR-SEQ-NO"

[upstreams.kftc]
kind = "tcp-async"
send = "{send}"
receive = {receive}
framing = {{ length_prefix = 4 }}
timeout_ms = 500
connect_timeout_ms = 1000
max_connections = 32
{extra}

[default]
target = "kftc"

[routes.ACCTINQ]
request  = "ACCTINQ.cpy#ACCTINQ-REQ"
response = "ACCTINQ.cpy#ACCTINQ-RESP"
target   = "kftc"
read_only = true

[routes.XFER]
request  = "XFER.cpy#XFER-REQ"
response = "XFER.cpy#XFER-RESP"
target   = "kftc"
"#,
        copybooks = crate::common::copybooks().display(),
    )
}

/// (response code, response message, account) of a reply.
pub fn read_reply(reply: &[u8]) -> (String, String, String) {
    (text(&reply[RESP_CODE]), text(&reply[RESP_MSG]), reply.get(ACCT_NO).map(text).unwrap_or_default())
}
