//! Test harness for the gateway: real sockets on 127.0.0.1:0, the demo's simulators, scripted
//! fake upstreams for faults, and helpers to build and send messages.
#![allow(dead_code)]

pub mod faults;
pub mod fds;
pub mod misbehave;

use ficus::cli::{build_request, decode_reply};
use ficus::demo::{start_sims, Sims};
use ficus::frame::Framing;
use ficus::route::RouteTable;
use ficus::server::Running;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

/// The repository's copybook directory.
pub fn copybooks() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("copybooks")
}

/// Offset and length of HDR-SEQ-NO, the message id, in the demo header.
pub const MESSAGE_ID: std::ops::Range<usize> = 17..27;

/// Offset and length of HDR-TIMESTAMP in the demo header (set by whoever answers).
pub const TIMESTAMP: std::ops::Range<usize> = 27..41;
/// TXNHIST-RESP's NEXT-KEY in a whole reply (after the 85-byte header and ACCT-NO's 16 bytes):
/// each system's own paging token (`H…` from the host, `S…` from the service).
pub const NEXT_KEY: std::ops::Range<usize> = 101..111;

/// The admin token every test gateway accepts, and its holder's name.
pub const ADMIN_TOKEN: &str = "s3cret-test-token";
/// The name the audit log records for [`ADMIN_TOKEN`].
pub const ADMIN_NAME: &str = "ops";

/// Where routes go in a test configuration.
pub struct Upstreams {
    /// Legacy host `host:port`.
    pub legacy: String,
    /// JSON service URL.
    pub accounts: String,
}

/// A routes.toml for tests: listeners on port 0, the given upstreams, ACCTINQ/TXNHIST targets.
pub fn routes_toml(up: &Upstreams, acctinq: &str, txnhist: &str, extra: &str) -> String {
    format!(
        r#"
[gateway]
listen_http = "127.0.0.1:0"
listen_tcp  = "127.0.0.1:0"
admin       = "127.0.0.1:0"
admin_token_file = "tokens"
copybooks   = "{copybooks}"
codepage    = "cp037"
tcp_framing = {{ length_prefix = 4 }}

[header]
copybook  = "COMMHDR.cpy"
operation = ["HDR-TRAN-CODE"]
response_code    = "HDR-RESP-CODE"
response_message = "HDR-RESP-MSG"
length_field     = "HDR-MSG-LEN"
message_id       = "HDR-SEQ-NO"

[upstreams.legacy]
kind = "tcp"
address = "{legacy}"
timeout_ms = 1000
connect_timeout_ms = 500
max_connections = 8

[upstreams.accounts]
kind = "http-json"
url = "{accounts}"
timeout_ms = 1000

[default]
target = "legacy"

[routes.ACCTINQ]
request  = "ACCTINQ.cpy#ACCTINQ-REQ"
response = "ACCTINQ.cpy#ACCTINQ-RESP"
target   = "{acctinq}"
read_only = true

[routes.TXNHIST]
request  = "TXNHIST.cpy#TXNHIST-REQ"
response = "TXNHIST.cpy#TXNHIST-RESP"
target   = "{txnhist}"
read_only = true

[routes.XFER]
request  = "XFER.cpy#XFER-REQ"
response = "XFER.cpy#XFER-RESP"
target   = "legacy"
{extra}
"#,
        copybooks = copybooks().display(),
        legacy = up.legacy,
        accounts = up.accounts,
    )
}

/// A gateway under test, with its configuration on disk.
pub struct Gateway {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub running: Running,
}

impl Gateway {
    /// Writes `toml` and starts a gateway on it.
    pub async fn start(toml: &str) -> Gateway {
        Gateway::start_with(
            toml,
            ficus::server::Options { watch: true, sighup: false, takeover: false, ..Default::default() },
        )
        .await
    }

    /// A gateway without the file watcher, so a test decides when the disk is read.
    pub async fn start_unwatched(toml: &str) -> Gateway {
        Gateway::start_with(
            toml,
            ficus::server::Options { watch: false, sighup: false, takeover: false, ..Default::default() },
        )
        .await
    }

    pub async fn start_with(toml: &str, options: ficus::server::Options) -> Gateway {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("routes.toml");
        std::fs::write(&config, toml).unwrap();
        std::fs::write(dir.path().join("tokens"), format!("{ADMIN_NAME}:{ADMIN_TOKEN}\n")).unwrap();
        let running =
            ficus::server::start(&config, options).await.unwrap_or_else(|e| panic!("test config invalid:\n{e}"));
        Gateway { dir, config, running }
    }

    pub fn table(&self) -> Arc<RouteTable> {
        self.running.gateway.table()
    }

    pub fn admin(&self) -> SocketAddr {
        self.running.admin.unwrap()
    }

    /// Calls the admin API: (status, JSON body).
    pub async fn admin_call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
        admin_call_at(self.admin(), method, path, token, body).await
    }

    pub async fn put_route(&self, op: &str, patch: Value) -> Value {
        let (status, body) = self.admin_call("PUT", &format!("/routes/{op}"), Some(ADMIN_TOKEN), Some(patch)).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    pub fn generation(&self) -> u64 {
        self.table().generation
    }

    pub fn http(&self) -> SocketAddr {
        self.running.http.unwrap()
    }

    pub fn tcp(&self) -> SocketAddr {
        self.running.tcp.unwrap()
    }

    /// Builds a request for `op` with `body` JSON.
    pub fn request(&self, op: &str, body: Value) -> Vec<u8> {
        build_request(&self.table(), op, &body, &Value::Null).unwrap()
    }

    /// Decodes a reply into {"header", "response"}.
    pub fn decode(&self, op: &str, reply: &[u8]) -> Value {
        decode_reply(&self.table(), op, reply)
    }

    /// POSTs `message` to the HTTP listener: (status, reply bytes).
    pub async fn post(&self, message: &[u8]) -> (u16, Vec<u8>) {
        post(self.http(), message).await
    }
}

/// One admin API call to the gateway whose admin listener is `admin`: (status, JSON body).
pub async fn admin_call_at(
    admin: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    use tokio::io::AsyncWriteExt;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: t\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut conn = TcpStream::connect(admin).await.unwrap();
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(body.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).await.unwrap();
    let (status, body) = parse_response(&raw);
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// The demo simulators on port 0.
pub async fn sims() -> Sims {
    start_sims(&copybooks(), ficus::codec::charset::CodePage::Cp037, "127.0.0.1:0", Some("127.0.0.1:0"), "127.0.0.1:0")
        .await
        .unwrap()
}

/// Upstreams pointing at `sims`.
pub fn sim_upstreams(sims: &Sims) -> Upstreams {
    Upstreams { legacy: sims.host_tcp.to_string(), accounts: format!("http://{}/ops", sims.accounts) }
}

/// A raw HTTP/1.1 POST over a fresh connection: (status, body).
pub async fn post(addr: SocketAddr, message: &[u8]) -> (u16, Vec<u8>) {
    use tokio::io::AsyncWriteExt;
    let mut conn = TcpStream::connect(addr).await.unwrap();
    let head = format!("POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", message.len());
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(message).await.unwrap();
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).await.unwrap();
    parse_response(&raw)
}

/// Splits a raw HTTP/1.1 response (Content-Length bodies) into (status, body).
pub fn parse_response(raw: &[u8]) -> (u16, Vec<u8>) {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("no end of headers");
    let head = String::from_utf8_lossy(&raw[..split]);
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, raw[split + 4..].to_vec())
}

/// Sends framed messages over one TCP connection and reads each reply.
pub async fn tcp_exchange(addr: SocketAddr, messages: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut conn = TcpStream::connect(addr).await.unwrap();
    let framing = Framing::prefix(4);
    let mut replies = Vec::new();
    for m in messages {
        framing.write(&mut conn, m).await.unwrap();
        replies.push(framing.read(&mut conn, 1 << 20).await.unwrap().expect("connection closed"));
    }
    replies
}

/// The header's response code and message of a reply (cp037).
pub fn response_code(gw: &Gateway, reply: &[u8]) -> (String, String) {
    let h = &gw.decode("ACCTINQ", reply)["header"];
    (h["HDR-RESP-CODE"].as_str().unwrap_or("").to_string(), h["HDR-RESP-MSG"].as_str().unwrap_or("").to_string())
}

/// What a scripted fake legacy host does with each message.
#[derive(Clone)]
pub enum HostScript {
    /// Reply with these bytes (framed with a 4-byte prefix).
    Reply(Vec<u8>),
    /// Never answer.
    Silent,
    /// Close the connection without answering.
    Close,
    /// Send a frame header claiming more bytes than follow, then close.
    Truncated,
}

/// A fake legacy host on 127.0.0.1:0 that counts the messages it receives.
pub struct FakeHost {
    pub addr: SocketAddr,
    pub received: Arc<AtomicUsize>,
}

impl FakeHost {
    pub async fn start(script: HostScript) -> FakeHost {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(AtomicUsize::new(0));
        let count = received.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut conn, _)) = listener.accept().await else { return };
                let script = script.clone();
                let count = count.clone();
                tokio::spawn(async move {
                    let framing = Framing::prefix(4);
                    while let Ok(Some(request)) = framing.read(&mut conn, 1 << 20).await {
                        count.fetch_add(1, Ordering::SeqCst);
                        match &script {
                            HostScript::Reply(bytes) => {
                                // As a real host does, the reply carries its request's message id.
                                let mut bytes = bytes.clone();
                                if let (Some(dst), Some(src)) = (bytes.get_mut(MESSAGE_ID), request.get(MESSAGE_ID)) {
                                    dst.copy_from_slice(src);
                                }
                                if framing.write(&mut conn, &bytes).await.is_err() {
                                    return;
                                }
                            }
                            HostScript::Silent => std::future::pending::<()>().await,
                            HostScript::Close => return,
                            HostScript::Truncated => {
                                use tokio::io::AsyncWriteExt;
                                let _ = conn.write_all(&[0, 0, 0, 100, 1, 2, 3]).await;
                                return;
                            }
                        }
                    }
                });
            }
        });
        FakeHost { addr, received }
    }

    pub fn count(&self) -> usize {
        self.received.load(Ordering::SeqCst)
    }
}

/// A fake JSON service answering every POST with `status` and `body`.
pub async fn fake_service(status: u16, body: &'static str) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (_keep, shutdown) = tokio::sync::watch::channel(false);
    let handler: ficus::sim::http::Handler =
        Arc::new(move |_, _| (status, "application/json", body.as_bytes().to_vec()));
    tokio::spawn(async move {
        let _keep = _keep;
        ficus::sim::http::serve(listener, handler, shutdown).await
    });
    addr
}

/// A host in front of the simulated host that holds each message `delay` before passing it on.
pub async fn slow_host(to: SocketAddr, delay: std::time::Duration) -> SocketAddr {
    slow_host_for(to, delay, |_| true).await
}

/// [`slow_host`] for the messages `held` picks; the others go through at once.
pub async fn slow_host_for(to: SocketAddr, delay: std::time::Duration, held: fn(&[u8]) -> bool) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let framing = ficus::frame::Framing::prefix(4);
                let mut host = tokio::net::TcpStream::connect(to).await.unwrap();
                while let Ok(Some(m)) = framing.read(&mut conn, 1 << 20).await {
                    if held(&m) {
                        tokio::time::sleep(delay).await;
                    }
                    framing.write(&mut host, &m).await.unwrap();
                    let reply = framing.read(&mut host, 1 << 20).await.unwrap().unwrap();
                    if framing.write(&mut conn, &reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// Sockets bound and never listening, held for the rest of the test binary: see [`dead_address`].
static DEAD: std::sync::Mutex<Vec<tokio::net::TcpSocket>> = std::sync::Mutex::new(Vec::new());

/// An address nothing listens on, and nothing will: its port stays bound by a socket that never
/// listens, so a connection to it is refused, and the system never offers the port again — not
/// as a listener's `:0` port, not as [`free_address`] — for as long as the test binary runs. (A
/// port merely freed can be handed out again: a gateway listening there makes the "dead"
/// upstream its own listener, and ficus rightly refuses that configuration.)
pub async fn dead_address() -> SocketAddr {
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket.bind("127.0.0.1:0".parse().expect("an address")).expect("a free loopback port");
    let a = socket.local_addr().expect("its address");
    DEAD.lock().unwrap_or_else(|e| e.into_inner()).push(socket);
    a
}

/// A loopback address free now, for something this test starts listening on later (a gateway
/// given its ports in its config file); never one this binary handed out before.
pub async fn free_address() -> SocketAddr {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    loop {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("a free loopback port");
        let a = l.local_addr().expect("its address");
        drop(l);
        let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
        if !given.contains(&a.port()) {
            given.push(a.port());
            return a;
        }
    }
}

/// Runs the `ficus` binary with `args`, without the test's own FICUS_CONFIG: (exit code,
/// stdout, stderr).
pub async fn ficus_cli(args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_ficus"))
        .args(args)
        .env_remove("FICUS_CONFIG")
        .output()
        .await
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}
