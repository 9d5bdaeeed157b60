//! The HTTP channel's reply carries the gateway's headers and nothing of the request's: the
//! request's header map is emptied and reused for the reply's (no allocation for it per
//! message), so whatever a channel sends — none, a few or many headers, of any name, some
//! repeated — the reply has exactly `Content-Type`, `Ficus-Upstream`, `Ficus-Generation` (and
//! `Ficus-Error` on an error), each once, plus what hyper writes itself (`Content-Length`, `Date`).

mod common;

use common::*;
use serde_json::json;
use std::collections::BTreeSet;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// POSTs `message` with `extra` header lines on a kept-alive connection; returns the reply's
/// status and lower-cased header names (each name once), and checks its `Content-Type`.
async fn exchange(conn: &mut tokio::net::TcpStream, message: &[u8], extra: &[String]) -> (u16, BTreeSet<String>) {
    let mut head = format!("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n", message.len());
    for line in extra {
        head += line;
        head += "\r\n";
    }
    head += "\r\n";
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(message).await.unwrap();
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        assert_eq!(conn.read(&mut byte).await.unwrap(), 1, "connection closed mid-head: {raw:?}");
        raw.push(byte[0]);
    }
    let text = String::from_utf8(raw).unwrap();
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut names = BTreeSet::new();
    let mut length = 0;
    for line in text.lines().skip(1).take_while(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').unwrap();
        let name = name.trim().to_ascii_lowercase();
        if name == "content-length" {
            length = value.trim().parse().unwrap();
        }
        if name == "content-type" {
            assert_eq!(value.trim(), "application/octet-stream");
        }
        assert!(names.insert(name), "a header twice in the reply: {text}");
    }
    let mut body = vec![0u8; length];
    conn.read_exact(&mut body).await.unwrap();
    (status, names)
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_string()).collect()
}

#[tokio::test]
async fn a_reply_has_the_gateways_headers_only_however_many_the_request_had() {
    let sims = sims().await;
    let gw = Gateway::start(&routes_toml(&sim_upstreams(&sims), "legacy", "accounts", "")).await;
    let acctinq = gw.request("ACCTINQ", json!({ "ACCT-NO": "1000000000000002" }));
    let answered = set(&["content-length", "content-type", "date", "ficus-generation", "ficus-upstream"]);
    let mut conn = tokio::net::TcpStream::connect(gw.http()).await.unwrap();
    // A spread of header counts (the request map's room grows in steps: 0, 1–3, 4–6, 7–12 …),
    // each name one the reply must not carry, on one connection so maps are made per request.
    let mut seed = 0x9e37_79b9_u32;
    for count in 0..24 {
        let extra: Vec<String> = (0..count)
            .map(|i| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                // Every third a name already sent (a second value of one header).
                let name = if i % 3 == 2 { format!("X-Channel-{}", i - 1) } else { format!("X-Channel-{i}") };
                format!("{name}: {seed}")
            })
            .collect();
        let (status, names) = exchange(&mut conn, &acctinq, &extra).await;
        assert_eq!(status, 200);
        assert_eq!(names, answered, "{count} extra request headers");
    }
    // With the request's own standard headers too, and on an error reply (a message that is
    // too short: FC01), which adds Ficus-Error and names no upstream.
    let standard = ["Content-Type: application/octet-stream", "Accept: */*", "User-Agent: teller/1.0", "Cookie: a=b"];
    let standard: Vec<String> = standard.iter().map(|s| s.to_string()).collect();
    let (status, names) = exchange(&mut conn, &acctinq, &standard).await;
    assert_eq!((status, names), (200, answered.clone()));
    let (status, names) = exchange(&mut conn, b"short", &standard).await;
    assert_ne!(status, 200);
    assert_eq!(names, set(&["content-length", "content-type", "date", "ficus-error", "ficus-generation"]));
}
