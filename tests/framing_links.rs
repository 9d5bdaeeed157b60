//! Real sockets end to end: a channel framed with 8 ASCII digits before each message and a host
//! link whose length is the header's HDR-MSG-LEN counting only the body, each message followed
//! by ETX (0x03). The fake host frames by hand (not with ficus's code), so both sides of the
//! gateway are checked against an independent encoder: requests reach the host framed its way,
//! replies reach the channel framed the channel's way, the gateway's own error replies keep
//! HDR-MSG-LEN counting the body, and bad frames on either side never reach the other.

mod common;

use common::*;
use serde_json::json;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const HEADER: usize = 85;
const RESP_CODE: std::ops::Range<usize> = 41..45;
const ETX: u8 = 0x03;

fn ebcdic_digits(value: usize, width: usize) -> Vec<u8> {
    format!("{value:0width$}").bytes().map(|b| b - b'0' + 0xF0).collect()
}

fn ebcdic_value(bytes: &[u8]) -> usize {
    bytes.iter().fold(0, |acc, &b| acc * 10 + usize::from(b - 0xF0))
}

/// A host speaking `HDR-MSG-LEN` = body length in EBCDIC digits, then ETX. It answers with the
/// request's header (response code 0000) and a 26-byte body; a request whose account starts
/// with `BADTRAILER` is answered with EOT (0x04) where ETX belongs. Returns what it received.
async fn host() -> (std::net::SocketAddr, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let received = Arc::new(Mutex::new(Vec::new()));
    let seen = received.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else { return };
            let seen = seen.clone();
            tokio::spawn(async move {
                loop {
                    let mut head = vec![0u8; HEADER];
                    if conn.read_exact(&mut head).await.is_err() {
                        return;
                    }
                    let body_len = ebcdic_value(&head[..6]);
                    let mut rest = vec![0u8; body_len + 1];
                    conn.read_exact(&mut rest).await.unwrap();
                    let mut wire = head.clone();
                    wire.extend_from_slice(&rest);
                    seen.lock().unwrap().push(wire);
                    assert_eq!(rest[body_len], ETX, "request not followed by ETX");
                    let body = &rest[..body_len];
                    let mut reply = head.clone();
                    reply[RESP_CODE].copy_from_slice(&[0xF0; 4]);
                    reply.extend_from_slice(&body[..16.min(body.len())]);
                    reply.extend_from_slice(&[0x40; 10]);
                    let reply_body = reply.len() - HEADER;
                    reply[..6].copy_from_slice(&ebcdic_digits(reply_body, 6));
                    let bad = body.starts_with(&"BADTRAILER".bytes().map(ascii_to_cp037).collect::<Vec<_>>());
                    reply.push(if bad { 0x04 } else { ETX });
                    if conn.write_all(&reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, received)
}

fn ascii_to_cp037(b: u8) -> u8 {
    let mut out = [0u8; 1];
    ficus::codec::charset::CodePage::Cp037
        .encode_into(std::str::from_utf8(&[b]).unwrap(), &mut out, ficus::codec::charset::Overflow::Error)
        .unwrap();
    out[0]
}

/// Sends `message` framed with 8 ASCII digits and reads one reply framed the same way
/// (`None`: the gateway closed the connection).
async fn exchange(conn: &mut TcpStream, message: &[u8]) -> Option<Vec<u8>> {
    let mut frame = format!("{:08}", message.len()).into_bytes();
    frame.extend_from_slice(message);
    conn.write_all(&frame).await.unwrap();
    read_reply(conn).await
}

async fn read_reply(conn: &mut TcpStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 8];
    conn.read_exact(&mut len).await.ok()?;
    let len: usize = std::str::from_utf8(&len).unwrap().parse().expect("8 ASCII digits");
    let mut reply = vec![0u8; len];
    conn.read_exact(&mut reply).await.unwrap();
    Some(reply)
}

#[tokio::test]
async fn ascii_prefix_channel_to_a_body_counting_etx_host() {
    let (host_addr, received) = host().await;
    let up = Upstreams { legacy: host_addr.to_string(), accounts: "http://127.0.0.1:9/ops".into() };
    let toml = routes_toml(&up, "legacy", "legacy", "").replace(
        "tcp_framing = { length_prefix = 4 }",
        r#"tcp_framing = { length_prefix = 8, digits = "ascii", counts = "after" }"#,
    );
    let toml = toml.replacen(
        "max_connections = 8\n",
        "max_connections = 8\nframing = { length_field = \"HDR-MSG-LEN\", counts = \"body\", trailer = \"0x03\" }\n",
        1,
    );
    let gw = Gateway::start(&toml).await;
    let mut conn = TcpStream::connect(gw.tcp()).await.unwrap();

    // The request: HDR-MSG-LEN counts the 16-byte body (the header follows the link's rule).
    let request = gw.request("ACCTINQ", json!({ "ACCT-NO": "1002003004005006" }));
    assert_eq!(request.len(), HEADER + 16);
    assert_eq!(request[..6], ebcdic_digits(16, 6)[..], "the request states its body length");
    let reply = exchange(&mut conn, &request).await.expect("a reply");
    {
        let seen = received.lock().unwrap();
        assert_eq!(seen.len(), 1);
        let mut want = request.clone();
        want.push(ETX);
        assert_eq!(seen[0], want, "the host got the request untouched, followed by ETX");
    }
    assert_eq!(reply.len(), HEADER + 26, "the channel's 8 digits state the reply without the ETX");
    assert_eq!(reply[..6], ebcdic_digits(26, 6)[..]);
    assert_eq!(reply[RESP_CODE], [0xF0; 4]);
    assert_eq!(reply[MESSAGE_ID], request[MESSAGE_ID]);

    // A request whose HDR-MSG-LEN counts the whole message (not this link's way) is refused by
    // the gateway with FC01; its own reply keeps HDR-MSG-LEN counting the (empty) body.
    let mut wrong = request.clone();
    let whole = ebcdic_digits(wrong.len(), 6);
    wrong[..6].copy_from_slice(&whole);
    let reply = exchange(&mut conn, &wrong).await.expect("an error reply");
    assert_eq!(response_code(&gw, &reply).0, "FC01", "{:?}", response_code(&gw, &reply));
    assert_eq!(reply.len(), HEADER);
    assert_eq!(reply[..6], ebcdic_digits(0, 6)[..], "the gateway's reply states a body of 0");
    assert_eq!(received.lock().unwrap().len(), 1, "the refused request never reached the host");

    // The host answers with EOT where ETX belongs: FC12 to the channel, connection still usable.
    let bad = gw.request("ACCTINQ", json!({ "ACCT-NO": "BADTRAILER000001" }));
    let reply = exchange(&mut conn, &bad).await.expect("an error reply");
    let (code, text) = response_code(&gw, &reply);
    assert_eq!(code, "FC12", "{text}");
    assert!(text.contains("BAD REPLY"), "{text}");

    // A channel frame whose length is not 8 digits: FC01, then the connection closes (where the
    // next message starts is unknown); nothing reaches the host.
    let before = received.lock().unwrap().len();
    let mut frame = b"0000010X".to_vec();
    frame.extend_from_slice(&request);
    conn.write_all(&frame).await.unwrap();
    let reply = read_reply(&mut conn).await.expect("an error reply before the close");
    let (code, text) = response_code(&gw, &reply);
    assert_eq!(code, "FC01", "{text}");
    assert!(text.starts_with("MALFORMED: bad length: byte 0x58"), "{text}");
    assert!(read_reply(&mut conn).await.is_none(), "the connection stays open after a bad length");
    assert_eq!(received.lock().unwrap().len(), before);
}

/// A message longer than the upstream's length can state (99 bytes in 2 ASCII digits) is refused
/// unsent with FC03 before a connection is used: it says nothing about the host.
#[tokio::test]
async fn a_message_the_upstream_length_cannot_state_is_refused_unsent() {
    let (host_addr, received) = host().await;
    let up = Upstreams { legacy: host_addr.to_string(), accounts: "http://127.0.0.1:9/ops".into() };
    let toml = routes_toml(&up, "legacy", "legacy", "").replacen(
        "max_connections = 8\n",
        "max_connections = 8\nframing = { length_prefix = 2, digits = \"ascii\" }\n",
        1,
    );
    let gw = Gateway::start(&toml).await;
    let request = gw.request("ACCTINQ", json!({ "ACCT-NO": "1002003004005006" }));
    assert_eq!(request.len(), 101);
    let replies = tcp_exchange(gw.tcp(), &[request]).await;
    let (code, text) = response_code(&gw, &replies[0]);
    assert_eq!(code, "FC03", "{text}");
    assert!(text.starts_with("BAD REQUEST"), "{text}");
    assert!(received.lock().unwrap().is_empty());
}
