//! Journal keys read from several fields: two different transactions never make one key, even
//! when a text field holds the `|` that joins the fields (else the second would be answered with
//! the first one's reply and never posted: a wrong answer).

mod common;

use common::*;
use serde_json::json;

fn balance(sims: &ficus::demo::Sims, account: &str) -> i128 {
    sims.ledger.account(account).unwrap().balance
}

#[tokio::test]
async fn a_bar_inside_a_key_field_does_not_make_two_transactions_one() {
    let sims = sims().await;
    let up = sim_upstreams(&sims);
    // Two text header fields make the key (the channel and, here, the message field).
    let journal = "\n[journal]\nstore = \"sqlite:journal.db\"\nkey = [\"HDR-CHANNEL\", \"HDR-RESP-MSG\"]\n";
    let gw = Gateway::start(&format!("{}{journal}", routes_toml(&up, "legacy", "legacy", ""))).await;
    let body = json!({ "FROM-ACCT": "1000000000000001", "TO-ACCT": "1000000000000002", "AMOUNT": 10, "MEMO": "BAR" });
    let build = |seq: u64, channel: &str, text: &str| {
        let header = json!({ "HDR-SEQ-NO": seq, "HDR-CHANNEL": channel, "HDR-RESP-MSG": text });
        ficus::cli::build_request(&gw.table(), "XFER", &body, &header).unwrap()
    };
    let before = balance(&sims, "1000000000000001");
    let (_, first) = gw.post(&build(1, "A|", "B")).await;
    let (_, second) = gw.post(&build(2, "A", "|B")).await;
    assert_eq!(response_code(&gw, &first).0, "0000");
    assert_eq!(response_code(&gw, &second).0, "0000", "{:?}", response_code(&gw, &second).1);
    let reference = |reply: &[u8]| gw.decode("XFER", reply)["response"]["XFER-REF"].clone();
    assert!(reference(&first).is_string());
    assert_ne!(reference(&first), reference(&second), "the second transfer got the first one's reply");
    assert_eq!(balance(&sims, "1000000000000001"), before - 2000, "two transfers, each posted once");
}
