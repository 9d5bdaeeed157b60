//! Multi-part messages (장전문) over real sockets: a request in three parts reaches a JSON
//! service as one JSON message and its long reply comes back in parts; every wrong part (out of
//! order, missing, duplicate, another message's, too big, too late, over HTTP) gets its named
//! error reply and nothing reaches the service; a legacy route's parts pass to the host one by
//! one; single messages are served byte for byte as without `multipart`. The header, layouts
//! and routes.toml are the test's own (ASCII, in a temp dir).

mod common;

use ficus::frame::Framing;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

const HEADER: &str = "       01  MP-HDR.
           05  HDR-MSG-LEN     PIC 9(5).
           05  HDR-TRAN-CODE   PIC X(8).
           05  HDR-SEQ-NO      PIC 9(10).
           05  HDR-CONT-FLAG   PIC X(1).
           05  HDR-PART-NO     PIC 9(3).
           05  HDR-RESP-CODE   PIC X(4).
           05  HDR-RESP-MSG    PIC X(40).
";
const SIZE: usize = 71;
const BIGREQ: &str = "       01  BIGREQ-REQ.
           05  ITEM-COUNT      PIC 9(3).
           05  ITEM OCCURS 20 TIMES.
               10  ITEM-NAME   PIC X(20).
               10  ITEM-AMT    PIC 9(7).
       01  BIGREQ-RESP.
           05  TOTAL           PIC 9(9).
           05  LINE-TEXT       PIC X(30) OCCURS 30 TIMES.
";
const REQ_BODY: usize = 543;
const RESP_BODY: usize = 909;
const RESP_CODE: std::ops::Range<usize> = 27..31;
const RESP_MSG: std::ops::Range<usize> = 31..71;
/// Only a broken gateway waits this long.
const PATIENCE: Duration = Duration::from_secs(20);

/// A JSON service that records every request and answers with the total and 30 lines.
async fn service() -> (SocketAddr, Arc<Mutex<Vec<Value>>>) {
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
async fn host() -> (SocketAddr, Arc<Mutex<Vec<Vec<u8>>>>) {
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

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).trim().to_string()
}

fn set_len(m: &mut [u8]) {
    let len = format!("{:05}", m.len());
    m[..5].copy_from_slice(len.as_bytes());
}

/// A message: header for `op`, id, `flag`, part `n`, then `body`, its length field right.
fn message(op: &str, id: u64, flag: char, n: u32, body: &[u8]) -> Vec<u8> {
    let mut m = format!("00000{op:<8}{id:010}{flag}{n:03}{:<44}", "").into_bytes();
    m.extend_from_slice(body);
    set_len(&mut m);
    m
}

/// The request body: 20 items, item i named `ITEM i` worth i * 100.
fn request_body() -> Vec<u8> {
    let mut b = b"020".to_vec();
    for i in 1..=20u64 {
        b.extend_from_slice(format!("{:<20}{:07}", format!("ITEM {i}"), i * 100).as_bytes());
    }
    assert_eq!(b.len(), REQ_BODY);
    b
}

/// `body` of message `id` in parts cut at `cuts`.
fn parts(op: &str, id: u64, body: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
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

fn routes(dir: &std::path::Path, svc: SocketAddr, host: SocketAddr, multipart: &str) -> String {
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

struct Rig {
    gw: ficus::server::Running,
    _dir: tempfile::TempDir,
    svc: Arc<Mutex<Vec<Value>>>,
    host: Arc<Mutex<Vec<Vec<u8>>>>,
}

/// A gateway with `multipart` (its extra keys after the fields; `None`: no multipart).
async fn rig(multipart: Option<&str>) -> Rig {
    let (svc_addr, svc) = service().await;
    let (host_addr, host) = host().await;
    let dir = tempfile::tempdir().unwrap();
    let mp = multipart.map(|extra| if extra.is_empty() { " " } else { extra }).unwrap_or("");
    let toml = routes(dir.path(), svc_addr, host_addr, mp);
    let config = dir.path().join("routes.toml");
    std::fs::write(&config, toml).unwrap();
    let options = ficus::server::Options { watch: false, sighup: false, takeover: false };
    let gw = ficus::server::start(&config, options).await.unwrap_or_else(|e| panic!("{e}"));
    Rig { gw, _dir: dir, svc, host }
}

const KNOBS: &str = ", reply_part_bytes = 300, timeout_ms = 400, max_bytes = 700";

async fn send(conn: &mut TcpStream, m: &[u8]) {
    Framing::prefix(4).write(conn, m).await.unwrap();
}

async fn recv(conn: &mut TcpStream) -> Option<Vec<u8>> {
    tokio::time::timeout(PATIENCE, Framing::prefix(4).read(conn, 1 << 20)).await.expect("no reply").unwrap()
}

fn code(reply: &[u8]) -> (String, String) {
    (text(&reply[RESP_CODE]), text(&reply[RESP_MSG]))
}

#[tokio::test]
async fn three_parts_reach_the_service_as_one_json_message_and_the_long_reply_comes_back_in_parts() {
    let rig = rig(Some(KNOBS)).await;
    let mut conn = TcpStream::connect(rig.gw.tcp.unwrap()).await.unwrap();
    let body = request_body();
    let ps = parts("BIGREQ", 4242, &body, &[200, 400]);
    send(&mut conn, &ps[0]).await;
    // A link test between two parts is answered, and the message stays open.
    send(&mut conn, &message("HEARTBT", 1, ' ', 0, b"")).await;
    let beat = recv(&mut conn).await.unwrap();
    assert_eq!((text(&beat[5..13]).as_str(), code(&beat).0.as_str(), beat.len()), ("HEARTBT", "0000", SIZE));
    send(&mut conn, &ps[1]).await;
    send(&mut conn, &ps[2]).await;
    // 909 body bytes at 300 a part: 300, 300, 300, 9.
    let mut replies = Vec::new();
    for _ in 0..4 {
        replies.push(recv(&mut conn).await.unwrap());
    }
    let seen = rig.svc.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "one JSON message: {seen:?}");
    let items = seen[0]["request"]["ITEM"].as_array().unwrap();
    assert_eq!(items.len(), 20);
    assert_eq!(items[19], json!({"ITEM-NAME": "ITEM 20", "ITEM-AMT": 2000}));
    assert_eq!(seen[0]["header"]["HDR-CONT-FLAG"], "1", "the service sees a single message");
    assert_eq!(seen[0]["header"]["HDR-MSG-LEN"], SIZE + REQ_BODY);
    let mut whole = Vec::new();
    for (i, r) in replies.iter().enumerate() {
        let want_flag = ["2", "3", "3", "4"][i];
        assert_eq!(text(&r[23..24]), want_flag, "part {i} flag");
        assert_eq!(text(&r[24..27]), format!("{:03}", i + 1), "part {i} number");
        assert_eq!(text(&r[0..5]).parse::<usize>().unwrap(), r.len(), "part {i} length field");
        assert_eq!(&r[5..23], &ps[0][5..23], "operation and message id of the request");
        assert_eq!(code(r).0, "0000");
        assert_eq!(r.len() - SIZE, [300, 300, 300, 9][i]);
        whole.extend_from_slice(&r[SIZE..]);
    }
    assert_eq!(whole.len(), RESP_BODY);
    assert_eq!(&whole[..9], format!("{:09}", 21_000).as_bytes(), "TOTAL of the 20 items");
    assert_eq!(text(&whole[9 + 29 * 30..]), "LINE 29 OF THE REPLY");
    assert!(rig.host.lock().unwrap().is_empty());
    rig.gw.stop().await;
}

#[tokio::test]
async fn every_wrong_part_gets_its_named_error_and_nothing_is_routed() {
    let rig = rig(Some(KNOBS)).await;
    let mut conn = TcpStream::connect(rig.gw.tcp.unwrap()).await.unwrap();
    let body = request_body();
    let ps = parts("BIGREQ", 7, &body, &[200, 400]);
    let other = parts("BIGREQ", 8, &body, &[200, 400]);
    // (what is sent, the code and words of the reply to its last message).
    let cases: Vec<(&str, Vec<Vec<u8>>, &str, &str)> = vec![
        ("out of order", vec![ps[0].clone(), ps[2].clone()], "FC40", "PART ORDER: expected part 2, got 3"),
        ("duplicate", vec![ps[0].clone(), ps[1].clone(), ps[1].clone()], "FC40", "expected part 3, got 2"),
        ("middle with none open", vec![ps[1].clone()], "FC41", "PART MISSING: middle part 2 with no"),
        ("last with none open", vec![ps[2].clone()], "FC41", "PART MISSING: last part 3"),
        ("first while open", vec![ps[0].clone(), other[0].clone()], "FC41", "PART MISSING: first part of a new"),
        ("single while open", vec![ps[0].clone(), message("BIGREQ", 9, '1', 1, &body)], "FC41", "PART MISSING: single"),
        (
            "another message id",
            vec![ps[0].clone(), other[1].clone()],
            "FC44",
            "PART REFUSED: part 2 carries HDR-SEQ-NO",
        ),
        (
            "another operation",
            vec![ps[0].clone(), message("OTHEROP", 7, '3', 2, &body[200..400])],
            "FC44",
            "PART REFUSED: part 2 carries operation",
        ),
        ("first part not 1", vec![message("BIGREQ", 7, '2', 2, b"x")], "FC40", "expected part 1, got 2"),
        ("unknown flag", vec![message("BIGREQ", 7, '9', 1, b"x")], "FC44", "HDR-CONT-FLAG is \"9\""),
    ];
    for (what, sent, want, words) in cases {
        let mut last = None;
        for (i, m) in sent.iter().enumerate() {
            send(&mut conn, m).await;
            // Held parts are not answered (ack = "none"); a refused one is.
            if i + 1 == sent.len() {
                last = recv(&mut conn).await;
            }
        }
        let (got, msg) = code(&last.unwrap());
        assert_eq!(got, want, "{what}: {msg}");
        assert!(msg.contains(words), "{what}: {msg:?}");
    }
    // Too big: 71 + 300 + 300 + 300 > max_bytes 700, at part 3.
    let big = parts("BIGREQ", 10, &[b'A'; 900], &[300, 600]);
    for m in &big {
        send(&mut conn, m).await;
    }
    let (got, msg) = code(&recv(&mut conn).await.unwrap());
    assert_eq!((got.as_str(), msg.as_str()), ("FC42", "PARTS TOO LARGE: 971 bytes at part 3, ov"));
    // The connection stays usable: a whole message after all that is served.
    for m in &ps {
        send(&mut conn, m).await;
    }
    assert_eq!(code(&recv(&mut conn).await.unwrap()).0, "0000");
    assert_eq!(rig.svc.lock().unwrap().len(), 1, "only the whole message reached the service");
    rig.gw.stop().await;
}

#[tokio::test]
async fn a_channel_that_stops_mid_message_is_told_and_closed() {
    let rig = rig(Some(KNOBS)).await;
    let mut conn = TcpStream::connect(rig.gw.tcp.unwrap()).await.unwrap();
    let ps = parts("BIGREQ", 31, &request_body(), &[200, 400]);
    send(&mut conn, &ps[0]).await;
    send(&mut conn, &ps[1]).await;
    let reply = recv(&mut conn).await.expect("the timeout is answered");
    let (got, msg) = code(&reply);
    assert_eq!((got.as_str(), msg.as_str()), ("FC43", "PARTS TIMEOUT: part 3 of message 31 did"));
    assert_eq!(text(&reply[24..27]), "001", "answered on the first part's header");
    assert_eq!(recv(&mut conn).await, None, "then closed");
    assert!(rig.svc.lock().unwrap().is_empty());
    rig.gw.stop().await;
}

#[tokio::test]
async fn parts_over_http_are_refused_and_whole_messages_served() {
    let rig = rig(Some(KNOBS)).await;
    let ps = parts("BIGREQ", 5, &request_body(), &[200, 400]);
    let (status, reply) = common::post(rig.gw.http.unwrap(), &ps[0]).await;
    assert_eq!(status, 400);
    assert_eq!(code(&reply).0, "FC44");
    assert!(code(&reply).1.starts_with("PART REFUSED: first part on HTTP"), "{:?}", code(&reply).1);
    assert!(rig.svc.lock().unwrap().is_empty());
    // A whole message over HTTP: one reply, never split.
    let (status, reply) = common::post(rig.gw.http.unwrap(), &message("BIGREQ", 6, '1', 1, &request_body())).await;
    assert_eq!((status, reply.len()), (200, SIZE + RESP_BODY));
    rig.gw.stop().await;
}

#[tokio::test]
async fn legacy_parts_pass_to_the_host_one_by_one_and_its_answers_are_relayed() {
    let rig = rig(Some(KNOBS)).await;
    let mut conn = TcpStream::connect(rig.gw.tcp.unwrap()).await.unwrap();
    let ps = parts("LEGREQ", 77, &[b'L'; 1200], &[500, 1000]);
    for (i, p) in ps.iter().enumerate() {
        send(&mut conn, p).await;
        let reply = recv(&mut conn).await.unwrap();
        assert_eq!(text(&reply[SIZE..]), format!("HOST GOT PART {:03}", i + 1));
    }
    assert_eq!(*rig.host.lock().unwrap(), ps, "the host got each part as it was sent");
    // Out of order on a legacy route: refused before the host sees it.
    send(&mut conn, &ps[0]).await;
    recv(&mut conn).await.unwrap();
    send(&mut conn, &ps[2]).await;
    assert_eq!(code(&recv(&mut conn).await.unwrap()).0, "FC40");
    assert_eq!(rig.host.lock().unwrap().len(), 4, "part 3 out of order never reached the host");
    rig.gw.stop().await;
}

#[tokio::test]
async fn single_messages_are_served_byte_for_byte_as_without_multipart() {
    let single = message("BIGREQ", 12, '1', 1, &request_body());
    let legacy = message("LEGREQ", 13, '1', 1, b"SOME BODY");
    let mut answers = Vec::new();
    for multipart in [None, Some("")] {
        let rig = rig(multipart).await;
        let mut conn = TcpStream::connect(rig.gw.tcp.unwrap()).await.unwrap();
        send(&mut conn, &single).await;
        let a = recv(&mut conn).await.unwrap();
        send(&mut conn, &legacy).await;
        let b = recv(&mut conn).await.unwrap();
        let host = rig.host.lock().unwrap().clone();
        let svc = rig.svc.lock().unwrap().clone();
        answers.push((a, b, host, svc));
        rig.gw.stop().await;
    }
    let (a, b, host, _) = &answers[0];
    assert_eq!(a.len(), SIZE + RESP_BODY, "one reply, not split (default part size)");
    assert_eq!(*host, vec![legacy.clone()]);
    assert_eq!(text(&b[SIZE..]), "HOST GOT PART 001");
    let strip = |v: &Value| {
        let mut v = v.clone();
        v["header"]["HDR-TIMESTAMP"] = Value::Null;
        v
    };
    assert_eq!(answers[0].0, answers[1].0, "the JSON service's reply");
    assert_eq!(answers[0].1, answers[1].1, "the host's reply");
    assert_eq!(answers[0].2, answers[1].2, "what the host got");
    assert_eq!(strip(&answers[0].3[0]), strip(&answers[1].3[0]), "what the service got");
}

#[tokio::test]
async fn ack_each_answers_every_held_part_at_once() {
    let rig = rig(Some(", ack = \"each\", ack_code = \"0001\"")).await;
    let mut conn = TcpStream::connect(rig.gw.tcp.unwrap()).await.unwrap();
    let ps = parts("BIGREQ", 55, &request_body(), &[200, 400]);
    for (i, p) in ps[..2].iter().enumerate() {
        send(&mut conn, p).await;
        let ack = recv(&mut conn).await.unwrap();
        assert_eq!(ack.len(), SIZE, "header only");
        assert_eq!(code(&ack).0, "0001");
        assert_eq!(&ack[5..27], &p[5..27], "the part's operation, id, flag and number");
        assert_eq!(i + 1, text(&ack[24..27]).parse::<usize>().unwrap());
    }
    assert!(rig.svc.lock().unwrap().is_empty(), "nothing routed before the last part");
    send(&mut conn, &ps[2]).await;
    let reply = recv(&mut conn).await.unwrap();
    assert_eq!((code(&reply).0.as_str(), reply.len()), ("0000", SIZE + RESP_BODY));
    rig.gw.stop().await;
}

#[tokio::test]
async fn settings_that_cannot_work_are_refused_at_load_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
    let cases = [
        (", ack = \"sometimes\"", "ack = \"sometimes\""),
        (", max_bytes = 1000000", "max_bytes = 1000000 must be more than the 71-byte header and at most"),
        (", timeout_ms = 0", "timeout_ms must be at least 1"),
        (", max_parts = 1000", "max_parts = 1000 must be 2 to 999 (what HDR-PART-NO holds)"),
        (", ack_code = \"00000\"", "ack_code: reply_code = \"00000\" does not fit HDR-RESP-CODE"),
    ];
    for (extra, want) in cases {
        let toml = routes(dir.path(), addr, addr, extra);
        let path = dir.path().join("routes.toml");
        let e = ficus::config::build::build(&toml, &path, None, 1).err().expect(extra).to_string();
        assert!(e.contains(want), "{extra}: {e}");
        let line = toml.lines().position(|l| l.starts_with("multipart")).unwrap() + 1;
        assert!(e.contains(&format!("routes.toml:{line}:")), "{extra}: names the line: {e}");
    }
    for (fields, want) in [
        (("HDR-FLAGX", "1"), "HDR-FLAGX is not a field of the header"),
        (("HDR-CONT-FLAG", "12"), "single = \"12\": does not fit HDR-CONT-FLAG (1 bytes)"),
        (("HDR-CONT-FLAG", "2"), "single and first are the same value in HDR-CONT-FLAG"),
    ] {
        let toml = routes(dir.path(), addr, addr, " ")
            .replace("flag = \"HDR-CONT-FLAG\"", &format!("flag = \"{}\"", fields.0))
            .replace("single = \"1\"", &format!("single = \"{}\"", fields.1));
        let e = ficus::config::build::build(&toml, &dir.path().join("routes.toml"), None, 1).err().unwrap().to_string();
        assert!(e.contains(want), "{fields:?}: {e}");
    }
    // A channel converting its code page cannot take parts (yet): refused, naming it.
    let toml = routes(dir.path(), addr, addr, " ")
        + "\n[[channels]]\nname = \"branches\"\nlisten_tcp = \"127.0.0.1:0\"\ncodepage = \"cp949\"\n";
    let e = ficus::config::build::build(&toml, &dir.path().join("routes.toml"), None, 1).err().unwrap().to_string();
    assert!(e.contains("multipart: [[channels]] \"branches\" converts cp949 to the host's ascii"), "{e}");
}

#[tokio::test]
async fn ficus_send_reads_a_reply_in_parts_to_its_last_part() {
    let rig = rig(Some(KNOBS)).await;
    let config = rig._dir.path().join("routes.toml");
    let items: Vec<Value> =
        (1..=20u64).map(|i| json!({"ITEM-NAME": format!("ITEM {i}"), "ITEM-AMT": i * 100})).collect();
    let body = json!({"ITEM-COUNT": 20, "ITEM": items}).to_string();
    let to = rig.gw.tcp.unwrap().to_string();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_ficus"))
        .args(["send", "--config", config.to_str().unwrap(), "--tcp", "--to", &to, "BIGREQ", &body])
        .env_remove("FICUS_CONFIG")
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("{} bytes in 4 parts (장전문), reassembled", SIZE + RESP_BODY)), "{stderr}");
    let reply: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(reply["response"]["TOTAL"], 21_000, "{stdout}");
    assert_eq!(reply["header"]["HDR-CONT-FLAG"], "1");
    // `ficus check` says how parts are taken.
    let (code, stdout, stderr) = common::ficus_cli(&["check", "--config", config.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("multi-part messages: HDR-CONT-FLAG 1/2/3/4 (single/first/middle/last), part number in HDR-PART-NO; next part within 400 ms, at most 999 parts and 700 bytes reassembled; intermediate parts answered: none (until the last); replies split at 300 body bytes a part"),
        "{stdout}"
    );
    rig.gw.stop().await;
}
