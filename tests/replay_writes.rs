//! `ficus replay` keeps the live rule for writes: a captured write is never sent to the host a
//! second time (issue "never a wrong answer": a write is never posted twice).

mod common;

use common::misbehave::{seq_of, BadHost};
use common::{routes_toml, Gateway, Upstreams};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn a_captured_write_is_never_replayed_against_the_host() {
    let host = BadHost::start().await;
    let up = Upstreams { legacy: host.addr.to_string(), accounts: "http://127.0.0.1:9/ops".into() };
    let extra = "read_only = false\ncapture = { percent = 100 }";
    let toml = routes_toml(&up, "legacy", "legacy", extra).replace(
        "read_only = true\n\n[routes.TXNHIST]",
        "read_only = true\ncapture = { percent = 100 }\n\n[routes.TXNHIST]",
    );
    let gw = Gateway::start(&toml).await;
    let write = ficus::cli::build_request(
        &gw.table(),
        "XFER",
        &json!({ "FROM-ACCT": "1", "TO-ACCT": "2", "AMOUNT": 100, "MEMO": "RENT" }),
        &json!({ "HDR-SEQ-NO": 41 }),
    )
    .unwrap();
    let read =
        ficus::cli::build_request(&gw.table(), "ACCTINQ", &json!({ "ACCT-NO": "7" }), &json!({ "HDR-SEQ-NO": 42 }))
            .unwrap();
    assert_eq!(gw.post(&write).await.0, 200);
    assert_eq!(gw.post(&read).await.0, 200);
    let path = gw.dir.path().join("shadow/capture.jsonl");
    let mut captures = Vec::new();
    for _ in 0..200 {
        captures = ficus::shadow::capture::read(&path).unwrap_or_default();
        if captures.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(captures.len(), 2, "both captured");
    let summary = ficus::replay::replay(&gw.table(), &captures, "legacy", None, None, b"k", |_, _| {}).await.unwrap();
    assert_eq!(summary.writes_not_replayed, 1);
    assert_eq!(host.script.times(41), 1, "the transfer reached the host once, live, never again");
    assert_eq!(host.script.times(42), 2, "the read was replayed");
    assert!(host.script.received().iter().all(|(seq, m)| seq_of(m) == *seq));
}
