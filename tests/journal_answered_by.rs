//! A message the journal answers itself never reached an upstream: a duplicate says the journal
//! answered it (`Ficus-Upstream: journal`), a refusal (reused key, missing original) names no
//! upstream — never "answered by legacy" / "legacy failed", as `ficus send` would print.

mod common;

use common::*;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// POSTs `message`: (status, the `Ficus-Upstream` header if any).
async fn upstream_header(addr: std::net::SocketAddr, message: &[u8]) -> (u16, Option<String>) {
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", message.len());
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(message).await.unwrap();
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let upstream = text
        .lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("ficus-upstream:").map(|v| v.trim().to_string()));
    (status, upstream)
}

#[tokio::test]
async fn a_journal_answer_names_the_journal_or_no_upstream() {
    let sims = sims().await;
    let up = sim_upstreams(&sims);
    let gw = Gateway::start(&format!(
        "{}\n[journal]\nstore = \"sqlite:journal.db\"\n",
        routes_toml(&up, "legacy", "legacy", "")
    ))
    .await;
    let body = |amount: u32| json!({ "FROM-ACCT": "1000000000000001", "TO-ACCT": "1000000000000002", "AMOUNT": amount, "MEMO": "VIA" });
    let build = |amount: u32| {
        ficus::cli::build_request(&gw.table(), "XFER", &body(amount), &json!({ "HDR-SEQ-NO": 61 })).unwrap()
    };
    assert_eq!(upstream_header(gw.http(), &build(1)).await, (200, Some("legacy".into())), "the first one is sent");
    assert_eq!(
        upstream_header(gw.http(), &build(1)).await,
        (200, Some("journal".into())),
        "a duplicate is answered by the journal"
    );
    assert_eq!(upstream_header(gw.http(), &build(2)).await, (409, None), "a reused key is refused by the journal");
}
