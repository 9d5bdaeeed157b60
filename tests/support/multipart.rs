//! The rig of the multi-part tests (tests/multipart.rs, tests/multipart_cli.rs): a header with a part
//! indicator and part number, a request and response layout, a JSON service and a host that record
//! what they get, routes.toml in a temp dir, and helpers to build, send and read parts.
#![allow(dead_code)]

use ficus::frame::Framing;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

pub const HEADER: &str = "       01  MP-HDR.
           05  HDR-MSG-LEN     PIC 9(5).
           05  HDR-TRAN-CODE   PIC X(8).
           05  HDR-SEQ-NO      PIC 9(10).
           05  HDR-CONT-FLAG   PIC X(1).
           05  HDR-PART-NO     PIC 9(3).
           05  HDR-RESP-CODE   PIC X(4).
           05  HDR-RESP-MSG    PIC X(40).
";
pub const SIZE: usize = 71;
pub const BIGREQ: &str = "       01  BIGREQ-REQ.
           05  ITEM-COUNT      PIC 9(3).
           05  ITEM OCCURS 20 TIMES.
               10  ITEM-NAME   PIC X(20).
               10  ITEM-AMT    PIC 9(7).
       01  BIGREQ-RESP.
           05  TOTAL           PIC 9(9).
           05  LINE-TEXT       PIC X(30) OCCURS 30 TIMES.
";
pub const REQ_BODY: usize = 543;
pub const RESP_BODY: usize = 909;
pub const RESP_CODE: std::ops::Range<usize> = 27..31;
pub const RESP_MSG: std::ops::Range<usize> = 31..71;
/// Only a broken gateway waits this long.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A JSON service that records every request and answers with the total and 30 lines.
pub async fn service() -> (SocketAddr, Arc<Mutex<Vec<Value>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (keep, shutdown) = tokio::sync::watch::channel(false);
    let handler: ficus::sim::http::Handler = Arc::new(move |body, _| {
        let request: Value = serde_json::from_slice(&body).unwrap();
        let items = request["request"]["ITEM"].as_array().cloned().unwrap_or_default();
        let total: u64 = items.iter().map(|i| i["ITEM-AMT"].as_u64().unwrap_or(0)).sum();
        log.lock().unwrap().push(request);
        let lines: Vec<String> = (0..30).map(|i| format!("LINE {i:02} OF THE REPLY")).collect();
        let reply = json!({"header": {"HDR-RESP-CODE": "0000"}, "response": {"TOTAL": total, "LINE-TEXT": lines}});
        (200, "application/json", reply.to_string().into_bytes())
    });
    tokio::spawn(async move {
        let _keep = keep;
        ficus::sim::http::serve(listener, handler, shutdown).await
    });
    (addr, seen)
}

/// A host (4-byte prefix) that records every message and answers each with its header, code
/// 0000 and a body naming the part it got.
pub async fn host() -> (SocketAddr, Arc<Mutex<Vec<Vec<u8>>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let framing = Framing::prefix(4);
                while let Ok(Some(m)) = framing.read(&mut conn, 1 << 20).await {
                    log.lock().unwrap().push(m.clone());
                    let mut reply = m[..SIZE].to_vec();
                    reply[RESP_CODE].copy_from_slice(b"0000");
                    reply.extend_from_slice(format!("HOST GOT PART {}", text(&m[24..27])).as_bytes());
                    set_len(&mut reply);
                    if framing.write(&mut conn, &reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, seen)
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).trim().to_string()
}

pub fn set_len(m: &mut [u8]) {
    let len = format!("{:05}", m.len());
    m[..5].copy_from_slice(len.as_bytes());
}

/// A message: header for `op`, id, `flag`, part `n`, then `body`, its length field right.
pub fn message(op: &str, id: u64, flag: char, n: u32, body: &[u8]) -> Vec<u8> {
    let mut m = format!("00000{op:<8}{id:010}{flag}{n:03}{:<44}", "").into_bytes();
    m.extend_from_slice(body);
    set_len(&mut m);
    m
}

/// The request body: 20 items, item i named `ITEM i` worth i * 100.
pub fn request_body() -> Vec<u8> {
    let mut b = b"020".to_vec();
    for i in 1..=20u64 {
        b.extend_from_slice(format!("{:<20}{:07}", format!("ITEM {i}"), i * 100).as_bytes());
    }
    assert_eq!(b.len(), REQ_BODY);
    b
}

/// `body` of message `id` in parts cut at `cuts`.
pub fn parts(op: &str, id: u64, body: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut bounds = vec![0];
    bounds.extend_from_slice(cuts);
    bounds.push(body.len());
    let n = bounds.len() - 1;
    (0..n)
        .map(|i| {
            let flag = if i == 0 {
                '2'
            } else if i + 1 == n {
                '4'
            } else {
                '3'
            };
            message(op, id, flag, i as u32 + 1, &body[bounds[i]..bounds[i + 1]])
        })
        .collect()
}

pub fn routes(dir: &std::path::Path, svc: SocketAddr, host: SocketAddr, multipart: &str) -> String {
    std::fs::write(dir.join("MPHDR.cpy"), HEADER).unwrap();
    std::fs::write(dir.join("BIGREQ.cpy"), BIGREQ).unwrap();
    let multipart = match multipart {
        "" => String::new(),
        extra => format!(
            "multipart = {{ flag = \"HDR-CONT-FLAG\", single = \"1\", first = \"2\", middle = \"3\", last = \"4\", part_no = \"HDR-PART-NO\"{extra} }}"
        ),
    };
    format!(
        r#"
[gateway]
listen_http = "127.0.0.1:0"
listen_tcp  = "127.0.0.1:0"
copybooks   = "{dir}"
codepage    = "ascii"
tcp_framing = {{ length_prefix = 4 }}
heartbeat   = {{ op = "HEARTBT", reply_code = "0000" }}

[header]
copybook  = "MPHDR.cpy"
operation = ["HDR-TRAN-CODE"]
response_code    = "HDR-RESP-CODE"
response_message = "HDR-RESP-MSG"
length_field     = "HDR-MSG-LEN"
message_id       = "HDR-SEQ-NO"
{multipart}

[upstreams.legacy]
kind = "tcp"
address = "{host}"
timeout_ms = 5000

[upstreams.svc]
kind = "http-json"
url = "http://{svc}/ops"
timeout_ms = 5000

[default]
target = "legacy"

[routes.BIGREQ]
request  = "BIGREQ.cpy#BIGREQ-REQ"
response = "BIGREQ.cpy#BIGREQ-RESP"
target   = "svc"
read_only = true

[routes.LEGREQ]
target = "legacy"
read_only = true
"#,
        dir = dir.display()
    )
}

pub struct Rig {
    pub gw: ficus::server::Running,
    pub dir: tempfile::TempDir,
    pub svc: Arc<Mutex<Vec<Value>>>,
    pub host: Arc<Mutex<Vec<Vec<u8>>>>,
}

/// A gateway with `multipart` (its extra keys after the fields; `None`: no multipart).
pub async fn rig(multipart: Option<&str>) -> Rig {
    let (svc_addr, svc) = service().await;
    let (host_addr, host) = host().await;
    let dir = tempfile::tempdir().unwrap();
    let mp = multipart.map(|extra| if extra.is_empty() { " " } else { extra }).unwrap_or("");
    let toml = routes(dir.path(), svc_addr, host_addr, mp);
    let config = dir.path().join("routes.toml");
    std::fs::write(&config, toml).unwrap();
    let options = ficus::server::Options { watch: false, sighup: false, takeover: false, ..Default::default() };
    let gw = ficus::server::start(&config, options).await.unwrap_or_else(|e| panic!("{e}"));
    Rig { gw, dir, svc, host }
}

pub const KNOBS: &str = ", reply_part_bytes = 300, timeout_ms = 400, max_bytes = 700";

pub async fn send(conn: &mut TcpStream, m: &[u8]) {
    Framing::prefix(4).write(conn, m).await.unwrap();
}

pub async fn recv(conn: &mut TcpStream) -> Option<Vec<u8>> {
    tokio::time::timeout(PATIENCE, Framing::prefix(4).read(conn, 1 << 20)).await.expect("no reply").unwrap()
}

pub fn code(reply: &[u8]) -> (String, String) {
    (text(&reply[RESP_CODE]), text(&reply[RESP_MSG]))
}
