//! Accounts named by an operator (`ficus owners move --keys`, `POST /owners/move`,
//! `GET /owners/ACCT`) are the accounts the gateway reads from messages: an `owner_key` that is a
//! number is read without its leading zeros, so `0000000042` typed from a file is account `42`.
//! Else the move would report the account moved while its writes kept going to the old owner.
//! Routes whose `owner_key`s read accounts differently (text and number) are refused.

mod common;

use common::*;
use serde_json::json;

/// DEPOSIT: a write whose account is a `PIC 9(10)` (the XFERCAN layout's ORG-SEQ-NO).
const DEPOSIT: &str = "
[routes.DEPOSIT]
request  = \"XFERCAN.cpy#XFERCAN-REQ\"
response = \"XFERCAN.cpy#XFERCAN-RESP\"
target   = \"legacy\"
owner_key = \"ORG-SEQ-NO\"
";

#[tokio::test]
async fn an_account_typed_with_leading_zeros_moves_the_writes_of_the_number() {
    let host = FakeHost::start(HostScript::Silent).await;
    let dead = dead_address().await;
    let up = Upstreams { legacy: host.addr.to_string(), accounts: format!("http://{dead}/ops") };
    let toml =
        format!("{}{DEPOSIT}\n[journal]\nstore = \"sqlite:journal.db\"\n", routes_toml(&up, "legacy", "legacy", ""));
    let gw = Gateway::start(&toml).await;
    let (status, moved) = gw
        .admin_call(
            "POST",
            "/owners/move",
            Some(ADMIN_TOKEN),
            Some(json!({ "to": "accounts", "keys": ["0000000042"] })),
        )
        .await;
    assert_eq!((status, moved["moved"].as_u64()), (200, Some(1)), "{moved}");
    let (_, shown) = gw.admin_call("GET", "/owners/42", None, None).await;
    assert_eq!(shown["owner"], "accounts", "{shown}");
    let (_, shown) = gw.admin_call("GET", "/owners/0000000042", None, None).await;
    assert_eq!(shown["owner"], "accounts", "the same account however it is typed: {shown}");
    let body = json!({ "ORG-SEQ-NO": 42, "FROM-ACCT": "1000000000000001", "AMOUNT": 5 });
    let message = ficus::cli::build_request(&gw.table(), "DEPOSIT", &body, &json!({ "HDR-SEQ-NO": 7 })).unwrap();
    let (_, reply) = gw.post(&message).await;
    assert_eq!(response_code(&gw, &reply).0, "FC10", "sent to its owner, accounts (down here)");
    assert_eq!(host.count(), 0, "account 42 was moved: the old owner never gets its writes");
    // Not a number: refused, naming the field.
    let (status, refused) = gw
        .admin_call("POST", "/owners/move", Some(ADMIN_TOKEN), Some(json!({ "to": "accounts", "keys": ["12AB"] })))
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("ORG-SEQ-NO"), "{refused}");
}

#[test]
fn owner_keys_that_read_an_account_differently_are_refused() {
    let up = Upstreams { legacy: "127.0.0.1:7001".into(), accounts: "http://127.0.0.1:7002/ops".into() };
    let toml = format!(
        "{}{DEPOSIT}\n[journal]\nstore = \"sqlite:journal.db\"\n",
        routes_toml(&up, "legacy", "legacy", "owner_key = \"FROM-ACCT\"")
    );
    let dir = tempfile::tempdir().unwrap();
    let err = match ficus::config::build::build(&toml, &dir.path().join("routes.toml"), None, 1) {
        Ok(_) => panic!("a text owner_key and a number owner_key were accepted"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("owner_key") && err.contains("ORG-SEQ-NO") && err.contains("FROM-ACCT"), "{err}");
}
