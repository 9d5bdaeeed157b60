//! Hostile channels on real sockets: slow senders (HTTP headers and bodies, TCP frames), lying
//! lengths, oversized bodies, request smuggling, garbage in header fields, invalid zoned data.
//! Each is answered or closed in bounded time, never panics, and never reaches the host.

mod common;

use common::faults::*;
use common::*;
use ficus::frame::Framing;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn gateway(host: &Host) -> Gateway {
    let up = Upstreams { legacy: host.addr.to_string(), accounts: "http://127.0.0.1:9/ops".into() };
    Gateway::start(&routes_toml(&up, "legacy", "legacy", "\n[limits]\nread_timeout_ms = 300\n")).await
}

/// Reads until the peer closes (bounded: 3 s); returns what arrived and how long it took.
async fn until_closed(conn: &mut TcpStream) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(3), conn.read_to_end(&mut got)).await;
    assert!(read.is_ok(), "the gateway must close a hostile connection, not hold it");
    (got, started.elapsed())
}

#[tokio::test]
async fn a_started_tcp_frame_must_finish_within_the_read_timeout_but_idle_is_fine() {
    let host = Host::start(Act::Echo).await;
    let gw = gateway(&host).await;
    let message = gw.request("ACCTINQ", json!({ "ACCT-NO": "1000000000000001" }));
    let framing = Framing::prefix(4);

    // Idle longer than read_timeout between messages: allowed (idle_timeout_ms governs).
    let mut idle = TcpStream::connect(gw.tcp()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    framing.write(&mut idle, &message).await.unwrap();
    assert_eq!(framing.read(&mut idle, 1 << 20).await.unwrap().unwrap(), message);

    // A frame that starts and stalls: the length says 101, ten bytes come.
    let mut stalled = TcpStream::connect(gw.tcp()).await.unwrap();
    stalled.write_all(&[0, 0, 0, 101]).await.unwrap();
    stalled.write_all(&message[..10]).await.unwrap();
    let (got, took) = until_closed(&mut stalled).await;
    let reply = framing.read(&mut &got[..], 1 << 20).await.unwrap().unwrap();
    let (code, text) = response_code(&gw, &reply);
    assert_eq!(code, "FC01", "{text}");
    assert!(took < Duration::from_millis(900), "{took:?}");

    // A dribbler: one byte every 40 ms never completes a frame in time.
    let mut dribbler = TcpStream::connect(gw.tcp()).await.unwrap();
    let mut framed = vec![0, 0, 0, message.len() as u8];
    framed.extend_from_slice(&message);
    let started = Instant::now();
    let mut closed = false;
    for b in framed {
        if dribbler.write_all(&[b]).await.is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 256];
        if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(40), dribbler.read(&mut buf)).await {
            closed = true;
            break;
        }
    }
    assert!(closed && started.elapsed() < Duration::from_millis(900), "dribbler cut off after {:?}", started.elapsed());
    assert_eq!(host.count(), 1, "only the complete message reached the host");
    println!("HOSTILE tcp: stalled frame -> FC01 + close after {took:?}; dribbler cut after {:?}", started.elapsed());
}

#[tokio::test]
async fn slow_http_headers_and_bodies_are_cut_off() {
    let host = Host::start(Act::Echo).await;
    let gw = gateway(&host).await;
    let mut headers = TcpStream::connect(gw.http()).await.unwrap();
    headers.write_all(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Le").await.unwrap();
    let (_, header_took) = until_closed(&mut headers).await;

    let mut body = TcpStream::connect(gw.http()).await.unwrap();
    body.write_all(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 101\r\n\r\n0123456789").await.unwrap();
    let (got, body_took) = until_closed(&mut body).await;
    assert_eq!(parse_response(&got).0, 408);
    assert!(body_took < Duration::from_millis(900), "{body_took:?}");
    assert!(header_took < Duration::from_millis(1500), "{header_took:?}");
    assert_eq!(host.count(), 0);
    println!("HOSTILE http: slow headers closed after {header_took:?}; slow body -> 408 after {body_took:?}");
}

#[tokio::test]
async fn smuggling_and_lying_lengths_never_reach_the_host() {
    let host = Host::start(Act::Echo).await;
    let gw = gateway(&host).await;
    let m = gw.request("ACCTINQ", json!({ "ACCT-NO": "1000000000000001" }));
    let n = m.len();
    // The real message bytes: were any of these requests accepted, the host would see it.
    let raw = |head: String, chunked: bool| {
        let mut r = head.into_bytes();
        if chunked {
            r.extend_from_slice(format!("{n:x}\r\n").as_bytes());
        }
        r.extend_from_slice(&m);
        if chunked {
            r.extend_from_slice(b"\r\n0\r\n\r\n");
        }
        r
    };
    let h = "POST / HTTP/1.1\r\nHost: t\r\n";
    let attempts: Vec<(&str, Vec<u8>)> = vec![
        ("CL + TE", raw(format!("{h}Content-Length: {n}\r\nTransfer-Encoding: chunked\r\n\r\n"), true)),
        ("TE + CL", raw(format!("{h}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"), true)),
        ("two CLs", raw(format!("{h}Content-Length: {n}\r\nContent-Length: 4\r\n\r\n"), false)),
        ("CL list", raw(format!("{h}Content-Length: {n}, 4\r\n\r\n"), false)),
        ("TE identity", raw(format!("{h}Transfer-Encoding: identity, chunked\r\n\r\n"), true)),
        ("TE xchunked", raw(format!("{h}Transfer-Encoding: xchunked\r\n\r\n"), true)),
        ("TE twice", raw(format!("{h}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"), true)),
        ("CL not a number", raw(format!("{h}Content-Length: +{n}\r\n\r\n"), false)),
        ("CL negative", raw(format!("{h}Content-Length: -1\r\n\r\n"), false)),
        ("space before colon", raw(format!("{h}Content-Length : {n}\r\n\r\n"), false)),
        ("obs-fold TE", raw(format!("{h}Content-Length: {n}\r\nTransfer-Encoding:\r\n chunked\r\n\r\n"), true)),
        (
            "bare LF",
            raw(format!("POST / HTTP/1.1\nHost: t\nContent-Length: {n}\nTransfer-Encoding: chunked\n\n"), true),
        ),
        ("CL short, rest smuggled", raw(format!("{h}Content-Length: 40\r\n\r\n"), false)),
    ];
    let mut outcomes = Vec::new();
    for (what, raw) in attempts {
        let mut conn = TcpStream::connect(gw.http()).await.unwrap();
        conn.write_all(&raw).await.unwrap();
        let (got, _) = until_closed(&mut conn).await;
        let statuses: Vec<u16> = String::from_utf8_lossy(&got)
            .match_indices("HTTP/1.1 ")
            .filter_map(|(i, _)| String::from_utf8_lossy(&got)[i + 9..i + 12].parse().ok())
            .collect();
        assert!(!statuses.contains(&200), "{what}: served {statuses:?}");
        outcomes.push(format!("{what}: {statuses:?}"));
        assert_eq!(host.count(), 0, "{what}: reached the host");
    }
    // Oversized: chunked past the limit, and a Content-Length past it (refused unread).
    let big = vec![b'A'; 70_000];
    let mut raw = b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    raw.extend_from_slice(format!("{:x}\r\n", big.len()).as_bytes());
    raw.extend_from_slice(&big);
    raw.extend_from_slice(b"\r\n0\r\n\r\n");
    let mut conn = TcpStream::connect(gw.http()).await.unwrap();
    let _ = conn.write_all(&raw).await;
    let (got, _) = until_closed(&mut conn).await;
    assert_eq!(parse_response(&got).0, 411, "chunked bodies are refused outright");
    let mut conn = TcpStream::connect(gw.http()).await.unwrap();
    conn.write_all(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 999999999999\r\n\r\n").await.unwrap();
    let (got, _) = until_closed(&mut conn).await;
    assert_eq!(parse_response(&got).0, 413);
    assert_eq!(host.count(), 0);
    println!("HOSTILE smuggling: {}", outcomes.join("; "));
}

#[tokio::test]
async fn garbage_in_every_header_field_and_invalid_zoned_data() {
    let host = Host::start(Act::Echo).await;
    let gw = gateway(&host).await;
    let good =
        gw.request("TXNHIST", json!({ "ACCT-NO": "1", "FROM-DATE": 20260101, "TO-DATE": 20261231, "MAX-ROWS": 5 }));
    let fields = [
        ("HDR-MSG-LEN", 0..6),
        ("HDR-TRAN-CODE", 6..14),
        ("HDR-CHANNEL", 14..17),
        ("HDR-SEQ-NO", 17..27),
        ("HDR-TIMESTAMP", 27..41),
        ("HDR-RESP-CODE", 41..45),
        ("HDR-RESP-MSG", 45..85),
    ];
    let mut table = Vec::new();
    for (name, range) in fields {
        for fill in [0x00u8, 0xFF, 0x5B] {
            let mut m = good.clone();
            m[range.clone()].fill(fill);
            let before = host.count();
            let (status, reply) = gw.post(&m).await;
            let reached = host.count() > before;
            let code = if status == 200 { "passed".to_string() } else { response_code(&gw, &reply).0 };
            // Numeric header fields must hold digits, and an operation code printable text:
            // anything else is malformed (FC01) and never reaches an upstream.
            let malformed = matches!(name, "HDR-MSG-LEN" | "HDR-SEQ-NO" | "HDR-TIMESTAMP")
                || (name == "HDR-TRAN-CODE" && fill != 0x5B);
            if malformed {
                assert!(!reached && status == 400 && code == "FC01", "{name} = {fill:#04X}: {status} {code}");
            }
            if reached {
                assert_eq!((status, &reply), (200, &m), "{name}: passed through untouched, or not at all");
            }
            table.push(format!("{name}={fill:02X}: {status} {code}{}", if reached { " (host)" } else { "" }));
        }
    }
    // Invalid zoned digits in a body field: refused with the field named.
    let mut zoned = good.clone();
    zoned[85 + 16] = 0x00;
    let before = host.count();
    let (status, reply) = gw.post(&zoned).await;
    let (code, text) = response_code(&gw, &reply);
    assert_eq!((status, code.as_str()), (400, "FC03"), "{text}");
    assert!(text.contains("FROM-DATE"), "{text}");
    assert_eq!(host.count(), before);
    println!("HOSTILE header garbage: {}", table.join("; "));
}
