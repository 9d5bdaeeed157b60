//! A reversal marked by a header flag (정정취소구분) on the original's own operation, with the
//! original's number in the header (원거래 번호) — the other Korean convention beside a separate
//! cancel operation: it goes where the original went, whatever the route says now.

mod common;

use common::*;
use ficus::frame::Framing;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const HEADER: &str = "       01  FLAG-HDR.
           05  HDR-MSG-LEN             PIC 9(6).
           05  HDR-TRAN-CODE           PIC X(8).
           05  HDR-SEQ-NO              PIC 9(10).
           05  HDR-CAN-FLAG            PIC X(1).
           05  HDR-ORG-SEQ-NO          PIC 9(10).
           05  HDR-RESP-CODE           PIC X(4).
           05  HDR-RESP-MSG            PIC X(40).
";

/// A host that answers each message with its own bytes (same operation and number) and counts.
async fn echo_host() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let framing = Framing::prefix(4);
                while let Ok(Some(m)) = framing.read(&mut conn, 1 << 20).await {
                    seen.fetch_add(1, Ordering::SeqCst);
                    if framing.write(&mut conn, &m).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, count)
}

fn config(dir: &std::path::Path, a: SocketAddr, b: SocketAddr) -> String {
    format!(
        r#"
[gateway]
listen_http = "127.0.0.1:0"
admin = "127.0.0.1:0"
admin_token_file = "tokens"
copybooks = "{dir}"
codepage = "cp037"

[header]
copybook = "FLAGHDR.cpy"
operation = ["HDR-TRAN-CODE"]
response_code = "HDR-RESP-CODE"
response_message = "HDR-RESP-MSG"
length_field = "HDR-MSG-LEN"
message_id = "HDR-SEQ-NO"

[journal]
store = "sqlite:journal.db"
reversal_flag = {{ field = "HDR-CAN-FLAG", values = ["2", "3"], original_key = ["HDR-ORG-SEQ-NO"] }}

[upstreams.old]
kind = "tcp"
address = "{a}"
timeout_ms = 1000

[upstreams.new]
kind = "tcp"
address = "{b}"
timeout_ms = 1000

[default]
target = "old"

[routes.XFER]
request = "XFER.cpy#XFER-REQ"
target = "old"
"#,
        dir = dir.display()
    )
}

#[tokio::test]
async fn a_flagged_reversal_goes_where_its_original_went() {
    let copybooks = tempfile::tempdir().unwrap();
    std::fs::write(copybooks.path().join("FLAGHDR.cpy"), HEADER).unwrap();
    std::fs::copy(common::copybooks().join("XFER.cpy"), copybooks.path().join("XFER.cpy")).unwrap();
    let ((a, on_a), (b, on_b)) = (echo_host().await, echo_host().await);
    let gw = Gateway::start(&config(copybooks.path(), a, b)).await;
    let body = json!({ "FROM-ACCT": "1", "TO-ACCT": "2", "AMOUNT": 1.5, "MEMO": "M" });
    let send = |seq: u64, flag: &str, org: u64| {
        let header = json!({ "HDR-SEQ-NO": seq, "HDR-CAN-FLAG": flag, "HDR-ORG-SEQ-NO": org });
        ficus::cli::build_request(&gw.table(), "XFER", &body, &header).unwrap()
    };
    let code = |reply: &[u8]| ficus::cli::decode_reply(&gw.table(), "XFER", reply)["header"]["HDR-RESP-CODE"].clone();
    let (status, _) = gw.post(&send(10, " ", 0)).await;
    assert_eq!((status, on_a.load(Ordering::SeqCst)), (200, 1));
    gw.put_route("XFER", json!({ "target": "new" })).await;
    // The cancellation of 10 goes to `old`, which posted it; a plain transfer goes to `new`.
    let (status, _) = gw.post(&send(11, "2", 10)).await;
    assert_eq!((status, on_a.load(Ordering::SeqCst), on_b.load(Ordering::SeqCst)), (200, 2, 0));
    let (status, _) = gw.post(&send(12, " ", 0)).await;
    assert_eq!((status, on_b.load(Ordering::SeqCst)), (200, 1));
    // A correction (3) of 12 goes to `new`; one of a transaction never journaled goes nowhere.
    assert_eq!(gw.post(&send(13, "3", 12)).await.0, 200);
    assert_eq!(on_b.load(Ordering::SeqCst), 2);
    let (status, reply) = gw.post(&send(14, "2", 999)).await;
    assert_eq!((status, code(&reply)), (422, json!("FC23")));
    assert_eq!(on_a.load(Ordering::SeqCst) + on_b.load(Ordering::SeqCst), 4, "never sent");
    // A reversal is journaled too: resent, it is answered from the journal.
    assert_eq!(gw.post(&send(11, "2", 10)).await.0, 200);
    assert_eq!(on_a.load(Ordering::SeqCst), 2);
}

#[test]
fn a_reversal_flag_is_checked_like_a_key() {
    let copybooks = tempfile::tempdir().unwrap();
    std::fs::write(copybooks.path().join("FLAGHDR.cpy"), HEADER).unwrap();
    std::fs::copy(common::copybooks().join("XFER.cpy"), copybooks.path().join("XFER.cpy")).unwrap();
    let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let good = config(copybooks.path(), addr, addr);
    let path = copybooks.path().join("routes.toml");
    let build = |text: String| {
        ficus::config::build::build(&text, &path, None, 1).err().map(|e| e.to_string()).unwrap_or_default()
    };
    assert_eq!(build(good.clone()), "");
    let cases = [
        (
            "original_key = [\"HDR-ORG-SEQ-NO\"]",
            "original_key = [\"HDR-CAN-FLAG\"]",
            "read differently (one text, one a number)",
        ),
        ("original_key = [\"HDR-ORG-SEQ-NO\"]", "original_key = []", "original_key names 0 field(s); key has 1"),
        ("values = [\"2\", \"3\"]", "values = []", "name the flag's values that mean a reversal"),
        ("field = \"HDR-CAN-FLAG\"", "field = \"HDR-CANCEL\"", "no field HDR-CANCEL"),
    ];
    for (from, to, expected) in cases {
        let found = build(good.replace(from, to));
        assert!(found.contains(expected), "{to}: {found}");
    }
}
