//! `[[channels]]` with real sockets: an EUC-KR (cp949) channel and the EBCDIC default channel
//! (cp933, the host's code page) in front of the simulated host on cp933 send the same
//! messages, with Hangul text, and get the same answers each in its own code page; what cannot
//! be converted gets the FC31/FC32 reply naming the field and never reaches the host; each
//! channel has its own framing and heartbeat; the `channel` label is in /metrics.

mod common;

use common::{copybooks, Gateway};
use ficus::cli::{build_request, decode_reply};
use ficus::codec::charset::CodePage;
use ficus::demo::start_sims;
use ficus::frame::Framing;
use ficus::route::RouteTable;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::io::BufReader;
use tokio::net::TcpStream;

const IB: &str = "internet-banking";

/// A Hangul memo of 9 syllables: 18 bytes in cp949, 20 (with SO/SI) in cp933: fits MEMO X(20).
const MEMO: &str = "홍길동이체테스트용";
/// 10 syllables: 20 bytes in cp949, 22 in cp933: no longer fits after SO/SI.
const MEMO_TOO_LONG: &str = "홍길동이체테스트용돈";

fn toml(host: SocketAddr, accounts: SocketAddr, codepage: &str, channels: &str) -> String {
    format!(
        r#"
[gateway]
listen_tcp  = "127.0.0.1:0"
admin       = "127.0.0.1:0"
admin_token_file = "tokens"
copybooks   = "{copybooks}"
codepage    = "{codepage}"
tcp_framing = {{ length_prefix = 4 }}
heartbeat   = {{ op = "HEARTBT" }}

[header]
copybook  = "COMMHDR.cpy"
operation = ["HDR-TRAN-CODE"]
response_code    = "HDR-RESP-CODE"
response_message = "HDR-RESP-MSG"
length_field     = "HDR-MSG-LEN"
message_id       = "HDR-SEQ-NO"

[upstreams.legacy]
kind = "tcp"
address = "{host}"
timeout_ms = 2000

[upstreams.accounts]
kind = "http-json"
url = "http://{accounts}/ops"
timeout_ms = 2000

[default]
target = "legacy"

[routes.ACCTINQ]
request  = "ACCTINQ.cpy#ACCTINQ-REQ"
response = "ACCTINQ.cpy#ACCTINQ-RESP"
target   = "legacy"
read_only = true
shadow = "accounts"
ignore = ["HDR-TIMESTAMP"]
capture = {{ percent = 100 }}

[routes.TXNHIST]
request  = "TXNHIST.cpy#TXNHIST-REQ"
response = "TXNHIST.cpy#TXNHIST-RESP"
target   = "legacy"
read_only = true

[routes.XFER]
request  = "XFER.cpy#XFER-REQ"
response = "XFER.cpy#XFER-RESP"
target   = "legacy"
{channels}
"#,
        copybooks = copybooks().display(),
    )
}

const IB_CHANNEL: &str = r#"
[[channels]]
name = "internet-banking"
listen_tcp = "127.0.0.1:0"
codepage = "cp949"
framing = { length_prefix = 8, digits = "ascii", counts = "after" }
heartbeat = { op = "LINKTEST", reply_code = "0000" }
"#;

/// A table in `codepage` with the same layouts: how a client on that page builds and reads messages.
fn client_table(host: SocketAddr, accounts: SocketAddr, codepage: &str) -> RouteTable {
    let text = toml(host, accounts, codepage, IB_CHANNEL);
    ficus::config::build::build(&text, Path::new("routes.toml"), None, 1).unwrap()
}

/// One framed exchange on a fresh connection.
async fn exchange(addr: SocketAddr, framing: Framing, message: &[u8]) -> Vec<u8> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (read, mut write) = stream.into_split();
    framing.write(&mut write, message).await.unwrap();
    let mut read = BufReader::new(read);
    framing.read(&mut read, 1 << 20).await.unwrap().expect("a reply")
}

struct Setup {
    gw: Gateway,
    sims: ficus::demo::Sims,
    /// Client tables: the host's page (cp933) and the channel's (cp949).
    ebcdic: RouteTable,
    euckr: RouteTable,
}

async fn setup() -> Setup {
    let sims = start_sims(&copybooks(), CodePage::Cp933, "127.0.0.1:0", None, "127.0.0.1:0").await.unwrap();
    let gw = Gateway::start_unwatched(&toml(sims.host_tcp, sims.accounts, "cp933", IB_CHANNEL)).await;
    let ebcdic = client_table(sims.host_tcp, sims.accounts, "cp933");
    let euckr = client_table(sims.host_tcp, sims.accounts, "cp949");
    Setup { gw, sims, ebcdic, euckr }
}

impl Setup {
    fn ib(&self) -> SocketAddr {
        self.gw.running.channel(IB).unwrap().tcp.unwrap()
    }

    /// Sends `op` with `body` on the EBCDIC channel and on the EUC-KR one: both decoded replies.
    async fn both(&self, op: &str, body: Value, seq: u64) -> (Value, Value) {
        let header = json!({ "HDR-SEQ-NO": seq, "HDR-CHANNEL": "IBK" });
        let m = build_request(&self.ebcdic, op, &body, &header).unwrap();
        let e = exchange(self.gw.tcp(), self.ebcdic.tcp_framing, &m).await;
        let header = json!({ "HDR-SEQ-NO": seq + 1, "HDR-CHANNEL": "IBK" });
        let m = build_request(&self.euckr, op, &body, &header).unwrap();
        let k = exchange(self.ib(), self.euckr.channel(IB).unwrap().framing, &m).await;
        (decode_reply(&self.ebcdic, op, &e), decode_reply(&self.euckr, op, &k))
    }
}

/// The values a reply carries, without what differs per message (id, time, the host's reference).
fn values(mut v: Value) -> Value {
    for key in ["HDR-SEQ-NO", "HDR-TIMESTAMP"] {
        v["header"].as_object_mut().unwrap().remove(key);
    }
    if let Some(r) = v["response"].as_object_mut() {
        r.remove("XFER-REF");
        r.remove("FROM-BAL-AFTER");
    }
    v
}

#[tokio::test]
async fn an_euc_kr_channel_and_an_ebcdic_channel_get_the_same_answers() {
    let s = setup().await;
    let acct = json!({ "ACCT-NO": "1000000000000003" });
    let (e, k) = s.both("ACCTINQ", acct.clone(), 10).await;
    assert_eq!(e["header"]["HDR-RESP-CODE"], "0000", "{e}");
    assert_eq!(values(e.clone()), values(k.clone()), "the same answer in each code page");

    let xfer = json!({ "FROM-ACCT": "1000000000000003", "TO-ACCT": "1000000000000004", "AMOUNT": 1, "MEMO": MEMO });
    let (e, k) = s.both("XFER", xfer, 20).await;
    assert_eq!(e["header"]["HDR-RESP-CODE"], "0000", "{e}");
    assert_eq!(values(e), values(k.clone()), "{k}");
    assert_eq!(s.sims.host_postings.transfers(), 2);

    // The Hangul memo the host stored comes back in each channel's own code page.
    let hist = json!({ "ACCT-NO": "1000000000000003", "FROM-DATE": 0, "TO-DATE": 99999999, "MAX-ROWS": 50 });
    let (e, k) = s.both("TXNHIST", hist, 30).await;
    let memos = |v: &Value| -> Vec<String> {
        v["response"]["TXN-ROW"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["TXN-MEMO"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(memos(&e).iter().filter(|m| m.as_str() == MEMO).count(), 2, "{e}");
    assert_eq!(memos(&e), memos(&k));
    assert_eq!(values(e), values(k));

    // The shadow compares host bytes: the messages of both channels are compared alike.
    let mut stats = Value::Null;
    for _ in 0..200 {
        let (_, v) = s.gw.admin_call("GET", "/shadow", None, None).await;
        stats = v["operations"]["ACCTINQ"].clone();
        if stats["compared"].as_u64().unwrap_or(0) + stats["shadow_errors"].as_u64().unwrap_or(0) >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(stats["compared"], 2, "{stats}");
    assert_eq!(stats["matched"], 2, "{stats}");
    // Each shadow record names the channel its message came in on.
    let path = s.gw.dir.path().join("shadow/shadow.jsonl");
    let mut channels = Vec::new();
    for _ in 0..200 {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let records: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        channels = records.iter().filter(|r| r["op"] == "ACCTINQ").map(|r| r["channel"].clone()).collect();
        if channels.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    channels.sort_by_key(|c| c.to_string());
    assert_eq!(channels, [json!("default"), json!(IB)], "{}", path.display());
    // So does each captured exchange (replayed records keep it).
    let captures = ficus::shadow::capture::read(&s.gw.dir.path().join("shadow/capture.jsonl")).unwrap();
    let mut channels: Vec<_> =
        captures.iter().filter(|c| c.op == "ACCTINQ").map(|c| c.channel.clone().unwrap_or_default()).collect();
    channels.sort();
    assert_eq!(channels, ["default", IB]);
}

#[tokio::test]
async fn what_cannot_be_converted_gets_fc31_naming_the_field_and_never_reaches_the_host() {
    let s = setup().await;
    // Bytes for a memo of 10 syllables: fine in cp949, two bytes too long with SO/SI in cp933.
    let xfer =
        json!({ "FROM-ACCT": "1000000000000003", "TO-ACCT": "1000000000000004", "AMOUNT": 1, "MEMO": MEMO_TOO_LONG });
    let m = build_request(&s.euckr, "XFER", &xfer, &json!({ "HDR-SEQ-NO": 7 })).unwrap();
    let framing = s.euckr.channel(IB).unwrap().framing;
    let reply = exchange(s.ib(), framing, &m).await;
    let v = decode_reply(&s.euckr, "XFER", &reply);
    assert_eq!(v["header"]["HDR-RESP-CODE"], "FC31", "{v}");
    let text = v["header"]["HDR-RESP-MSG"].as_str().unwrap();
    assert!(text.starts_with("CODE CONVERSION: MEMO"), "{text}");
    assert_eq!(v["header"]["HDR-SEQ-NO"], 7, "the request's header, in the channel's page: {v}");

    // A cp949 (UHC) syllable that cp933 (KS X 1001) has no character for.
    let encodes =
        |page: CodePage| page.encode_into("똠", &mut [0u8; 8], ficus::codec::charset::Overflow::Error).is_ok();
    assert!(!encodes(CodePage::Cp933) && encodes(CodePage::Cp949));
    let xfer = json!({ "FROM-ACCT": "1000000000000003", "TO-ACCT": "1000000000000004", "AMOUNT": 1, "MEMO": "똠" });
    let m = build_request(&s.euckr, "XFER", &xfer, &json!({ "HDR-SEQ-NO": 8 })).unwrap();
    let v = decode_reply(&s.euckr, "XFER", &exchange(s.ib(), framing, &m).await);
    assert_eq!(v["header"]["HDR-RESP-CODE"], "FC31", "{v}");
    assert!(v["header"]["HDR-RESP-MSG"].as_str().unwrap().contains("MEMO"), "{v}");

    // An operation without layouts (no route): its body cannot be converted, FC32.
    let mut m = build_request(&s.euckr, "XFER", &xfer, &json!({ "HDR-SEQ-NO": 9 })).unwrap();
    m[6..14].copy_from_slice(b"NOROUTE ");
    let v = decode_reply(&s.euckr, "XFER", &exchange(s.ib(), framing, &m).await);
    assert_eq!(v["header"]["HDR-RESP-CODE"], "FC32", "{v}");
    assert_eq!(v["header"]["HDR-TRAN-CODE"], "NOROUTE", "{v}");

    assert_eq!(s.sims.host_postings.transfers(), 0, "nothing reached the host");
}

#[tokio::test]
async fn each_channel_has_its_own_framing_heartbeat_and_channel_label() {
    let s = setup().await;
    // The default channel's 4-byte binary prefix is not the internet-banking channel's framing.
    let link = s.euckr.header.link_message("LINKTEST", 5).unwrap();
    let framing = s.euckr.channel(IB).unwrap().framing;
    let reply = exchange(s.ib(), framing, &link).await;
    let (h, _) = s.euckr.header.codec.decode_json(&reply).unwrap();
    assert_eq!(h["HDR-TRAN-CODE"], "LINKTEST");
    assert_eq!(h["HDR-RESP-CODE"], "0000");
    assert_eq!(h["HDR-SEQ-NO"], 5);
    assert_eq!(
        reply,
        {
            let mut want = link.clone();
            want[41..45].copy_from_slice(b"0000");
            want
        },
        "answered in cp949, header only"
    );
    // Its heartbeat op is not the default channel's: on the default channel it is routed.
    let default_hb = s.ebcdic.header.link_message("HEARTBT", 6).unwrap();
    let reply = exchange(s.gw.tcp(), s.ebcdic.tcp_framing, &default_hb).await;
    let (h, _) = s.ebcdic.header.codec.decode_json(&reply).unwrap();
    assert_eq!(h["HDR-RESP-CODE"], "0000", "{h}");

    let m = build_request(&s.euckr, "ACCTINQ", &json!({ "ACCT-NO": "1000000000000001" }), &Value::Null).unwrap();
    exchange(s.ib(), framing, &m).await;
    let metrics = http_get(s.gw.admin(), "/metrics").await;
    assert!(metrics.contains(r#"ficus_channel_messages_total{channel="internet-banking",outcome="ok"}"#), "{metrics}");
    assert!(metrics.contains(r#"channel="internet-banking""#) && metrics.contains(r#"listener="tcp""#), "{metrics}");
}

async fn http_get(addr: SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = TcpStream::connect(addr).await.unwrap();
    let head = format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    conn.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).await.unwrap();
    String::from_utf8_lossy(&raw).into_owned()
}

#[test]
fn channel_config_errors_name_the_entry() {
    let host: SocketAddr = "127.0.0.1:7001".parse().unwrap();
    let acc: SocketAddr = "127.0.0.1:7002".parse().unwrap();
    let check = |channels: &str| -> String {
        let text = toml(host, acc, "cp933", channels);
        match ficus::config::build::build(&text, Path::new("routes.toml"), None, 1) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    };
    let twice = format!("{IB_CHANNEL}{IB_CHANNEL}");
    assert!(
        check(&twice).contains(r#"name = "internet-banking" is used by another [[channels]] entry"#),
        "{}",
        check(&twice)
    );
    let e = check("[[channels]]\nname = \"default\"\nlisten_tcp = \"127.0.0.1:0\"\n");
    assert!(e.contains("[gateway]'s own listeners"), "{e}");
    let e = check("[[channels]]\nname = \"a b\"\nlisten_tcp = \"127.0.0.1:0\"\n");
    assert!(e.contains("a channel name is a label"), "{e}");
    let e = check("[[channels]]\nname = \"x\"\nlisten_tcp = \"127.0.0.1:0\"\ncodepage = \"cp999\"\n");
    assert!(e.contains(r#"[[channels]] "x": codepage"#), "{e}");
    let e = check("[[channels]]\nname = \"x\"\ncodepage = \"cp949\"\n");
    assert!(e.contains("names no listener"), "{e}");
    let e = check("[[channels]]\nname = \"x\"\nlisten_tcp = \"127.0.0.1:9100\"\n[[channels]]\nname = \"y\"\nlisten_http = \"127.0.0.1:9100\"\n");
    assert!(e.contains(r#"[[channels]] "y": listen_http = "127.0.0.1:9100" and [[channels]] "x" listen_tcp"#), "{e}");
    let e = check("[[channels]]\nname = \"x\"\nlisten_tcp = \"127.0.0.1:0\"\nframing = { length_prefix = 8, digits = \"roman\" }\n");
    assert!(e.contains(r#"[[channels]] "x": framing: digits = "roman""#), "{e}");
    let e = check("[[channels]]\nname = \"x\"\nlisten_tcp = \"127.0.0.1:0\"\nheartbeat = { op = \"XFER\" }\n");
    assert!(e.contains(r#"[[channels]] "x": heartbeat op "XFER" is also routed"#), "{e}");
    let e = check("[[channels]]\nname = \"x\"\nlisten_tcp = \"127.0.0.1:7001\"\n");
    assert!(e.contains("is this gateway's own [[channels]]"), "{e}");
    assert_eq!(check(IB_CHANNEL), "");

    // A reload keeps the channels and their addresses.
    let running = client_table(host, acc, "cp933");
    let moved = IB_CHANNEL.replace("127.0.0.1:0", "127.0.0.1:9200");
    let text = toml(host, acc, "cp933", &moved);
    let e = ficus::config::build::build(&text, Path::new("routes.toml"), Some(&running), 2).err().unwrap().to_string();
    assert!(
        e.contains(r#"[[channels]] "internet-banking": listen_tcp changes only on a restart (running: 127.0.0.1:0)"#),
        "{e}"
    );
    let text = toml(host, acc, "cp933", "");
    let e = ficus::config::build::build(&text, Path::new("routes.toml"), Some(&running), 2).err().unwrap().to_string();
    assert!(e.contains("the channels change only on a restart"), "{e}");
    // Its code page and framing may change.
    let text = toml(host, acc, "cp933", &IB_CHANNEL.replace("cp949", "ascii"));
    assert!(ficus::config::build::build(&text, Path::new("routes.toml"), Some(&running), 2).is_ok());
}
