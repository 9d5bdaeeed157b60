//! The sample `accounts` service serves XFER by the host's rules: through the gateway its
//! replies are the host's bytes (all but HDR-TIMESTAMP, each side's clock), refusals included;
//! and a write marked `Ficus-Shadow: dry-run` is answered as it would be and changes nothing —
//! so `ficus replay` of captured writes against it can be tried with the demo.

mod common;

use common::*;
use ficus::sim::ledger::Ledger;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn xfer(from: &str, to: &str, amount: f64, memo: &str) -> Value {
    json!({ "FROM-ACCT": from, "TO-ACCT": to, "AMOUNT": amount, "MEMO": memo })
}

fn masked(mut reply: Vec<u8>) -> Vec<u8> {
    reply[TIMESTAMP].fill(0);
    reply
}

#[tokio::test]
async fn xfer_via_accounts_gives_the_hosts_bytes() {
    // Two demo worlds with fresh ledgers: one gateway sends XFER to the host, the other to accounts.
    let (host_side, service_side) = (sims().await, sims().await);
    let via_host = Gateway::start(&routes_toml(&sim_upstreams(&host_side), "legacy", "legacy", "")).await;
    let to_accounts = routes_toml(&sim_upstreams(&service_side), "legacy", "legacy", "").replace(
        "[routes.XFER]\nrequest  = \"XFER.cpy#XFER-REQ\"\nresponse = \"XFER.cpy#XFER-RESP\"\ntarget   = \"legacy\"",
        "[routes.XFER]\nrequest  = \"XFER.cpy#XFER-REQ\"\nresponse = \"XFER.cpy#XFER-RESP\"\ntarget   = \"accounts\"",
    );
    let via_accounts = Gateway::start(&to_accounts).await;
    assert_eq!(via_accounts.table().routes["XFER"].target.name, "accounts");

    let cases = [
        xfer("1000000000000001", "1000000000000002", 150.25, "RENT"),
        xfer("1000000000000002", "1000000000000003", 99_999_999.0, "TOO MUCH"),
        xfer("1000000000000009", "1000000000000001", 10.0, "DORMANT"),
        xfer("1000000000000001", "2000000000000000", 10.0, "NO SUCH"),
        xfer("1000000000000004", "1000000000000004", 10.0, "SAME"),
        xfer("1000000000000004", "1000000000000005", 0.0, "ZERO"),
        xfer("1000000000000003", "1000000000000001", 1.01, "SECOND REF"),
    ];
    let mut codes = Vec::new();
    for (n, body) in cases.iter().enumerate() {
        let request =
            ficus::cli::build_request(&via_host.table(), "XFER", body, &json!({ "HDR-SEQ-NO": 900 + n })).unwrap();
        let (s1, from_host) = via_host.post(&request).await;
        let (s2, from_accounts) = via_accounts.post(&request).await;
        assert_eq!((s1, s2), (200, 200), "{body}");
        let decoded = via_host.decode("XFER", &from_accounts);
        assert_eq!(
            masked(from_accounts),
            masked(from_host.clone()),
            "{body}: accounts answered {decoded}, the host {}",
            via_host.decode("XFER", &from_host)
        );
        codes.push(decoded["header"]["HDR-RESP-CODE"].as_str().unwrap_or_default().to_string());
    }
    assert_eq!(codes, ["0000", "E201", "E102", "E101", "E301", "E301", "0000"], "every rule was exercised");
    for acct in ["1000000000000001", "1000000000000002", "1000000000000003"] {
        assert_eq!(host_side.ledger.account(acct).unwrap(), service_side.ledger.account(acct).unwrap());
    }
    host_side.stop();
    service_side.stop();
}

/// POSTs a JSON request to the service, with `Ficus-Shadow: dry-run` if `dry_run`.
async fn call_service(sims: &ficus::demo::Sims, body: &Value, dry_run: bool) -> Value {
    let body = json!({ "operation": "XFER", "header": {}, "request": body }).to_string();
    let mark = if dry_run { "Ficus-Shadow: dry-run\r\n" } else { "" };
    let head = format!(
        "POST /ops HTTP/1.1\r\nHost: t\r\n{mark}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut conn = tokio::net::TcpStream::connect(sims.accounts).await.unwrap();
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(body.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).await.unwrap();
    let (status, reply) = parse_response(&raw);
    assert_eq!(status, 200);
    serde_json::from_slice(&reply).unwrap()
}

#[tokio::test]
async fn a_dry_run_answers_as_it_would_and_changes_nothing() {
    let sims = sims().await;
    let before: Vec<_> = (1..=3).map(|n| sims.ledger.account(&format!("100000000000000{n}")).unwrap()).collect();
    let body = xfer("1000000000000001", "1000000000000002", 150.25, "RENT");

    let dry = call_service(&sims, &body, true).await;
    assert_eq!(dry["header"]["HDR-RESP-CODE"], "0000", "{dry}");
    let again = call_service(&sims, &body, true).await;
    assert_eq!(again["response"], dry["response"], "a dry run takes no reference either");
    let after: Vec<_> = (1..=3).map(|n| sims.ledger.account(&format!("100000000000000{n}")).unwrap()).collect();
    assert_eq!(after, before, "no balance and no history changed");

    // Applied, the same request answers what the dry run said it would.
    let applied = call_service(&sims, &body, false).await;
    assert_eq!(applied["response"], dry["response"]);
    let reference = Ledger::seeded();
    let want = reference.account("1000000000000001").unwrap().balance - 15_025;
    assert_eq!(sims.ledger.account("1000000000000001").unwrap().balance, want);

    // A refused dry run is refused as the real one would be.
    let refused = call_service(&sims, &xfer("1000000000000009", "1000000000000001", 1.0, "X"), true).await;
    assert_eq!(refused["header"]["HDR-RESP-CODE"], "E102");
    sims.stop();
}
