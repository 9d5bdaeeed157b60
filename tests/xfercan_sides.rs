//! XFERCAN through the gateway: each demo system sees the message's HDR-SEQ-NO (the host in
//! its header bytes, the service in the JSON header) and cancels only the transfers it posted.
//! A cancellation routed to the system that never saw the original is refused with E401 and
//! moves no money — the mistake the journal's reversal routing (issue 14) exists to prevent.

mod common;

use common::*;
use serde_json::json;

const A: &str = "1000000000000001";
const B: &str = "1000000000000002";

const XFERCAN_ROUTE: &str = r#"
[routes.XFERCAN]
request  = "XFERCAN.cpy#XFERCAN-REQ"
response = "XFERCAN.cpy#XFERCAN-RESP"
target   = "accounts"
"#;

#[tokio::test]
async fn a_cancellation_works_only_where_the_original_was_posted() {
    let sims = sims().await;
    let gw = Gateway::start(&routes_toml(&sim_upstreams(&sims), "legacy", "legacy", XFERCAN_ROUTE)).await;
    let (before, total) = (sims.ledger.balances(), sims.ledger.total());
    let send = |op: &'static str, seq: u64, body: serde_json::Value| {
        let message = ficus::cli::build_request(&gw.table(), op, &body, &json!({ "HDR-SEQ-NO": seq })).unwrap();
        let gw = &gw;
        async move {
            let (status, reply) = gw.post(&message).await;
            assert_eq!(status, 200);
            gw.decode(op, &reply)
        }
    };

    // The transfer goes to the host (XFER's route).
    let posted = send("XFER", 4101, json!({ "FROM-ACCT": A, "TO-ACCT": B, "AMOUNT": 70.5, "MEMO": "GW" })).await;
    assert_eq!(posted["header"]["HDR-RESP-CODE"], "0000", "{posted}");
    assert_eq!(sims.ledger.balances()[A], before[A] - 7_050);
    let cancel = json!({ "ORG-SEQ-NO": 4101, "FROM-ACCT": A, "AMOUNT": 70.5 });

    // Routed to the service, which never saw it: refused, nothing moves.
    let wrong = send("XFERCAN", 4102, cancel.clone()).await;
    assert_eq!(wrong["header"]["HDR-RESP-CODE"], "E401", "{wrong}");
    assert_eq!(wrong["header"]["HDR-RESP-MSG"], "ORIGINAL NOT FOUND");
    assert_eq!(sims.ledger.balances()[A], before[A] - 7_050);

    // Routed to the host, which posted it: the money comes back, once.
    gw.put_route("XFERCAN", json!({ "target": "legacy" })).await;
    let right = send("XFERCAN", 4103, cancel.clone()).await;
    assert_eq!(right["header"]["HDR-RESP-CODE"], "0000", "{right}");
    assert_eq!(right["response"]["FROM-ACCT"], A);
    assert!(right["response"]["CAN-REF"].as_str().unwrap().starts_with("CN"), "{right}");
    assert_eq!(sims.ledger.balances(), before);
    assert_eq!(sims.ledger.total(), total);
    let again = send("XFERCAN", 4104, cancel).await;
    assert_eq!(again["header"]["HDR-RESP-CODE"], "E402", "{again}");

    // Which side posted, by the sides' own counts.
    let (host, service) = (&sims.host_postings, &sims.accounts_postings);
    assert_eq!((host.transfers(), host.cancellations()), (1, 1));
    assert_eq!((service.transfers(), service.cancellations()), (0, 0));

    // And the other way round: a transfer the service posted is cancelled only by it.
    gw.put_route("XFER", json!({ "target": "accounts" })).await;
    let posted = send("XFER", 4201, json!({ "FROM-ACCT": B, "TO-ACCT": A, "AMOUNT": 1.0, "MEMO": "GW" })).await;
    assert_eq!(posted["header"]["HDR-RESP-CODE"], "0000", "{posted}");
    let cancel = json!({ "ORG-SEQ-NO": 4201, "FROM-ACCT": B, "AMOUNT": 1.0 });
    assert_eq!(send("XFERCAN", 4202, cancel.clone()).await["header"]["HDR-RESP-CODE"], "E401");
    gw.put_route("XFERCAN", json!({ "target": "accounts" })).await;
    assert_eq!(send("XFERCAN", 4203, cancel).await["header"]["HDR-RESP-CODE"], "0000");
    assert_eq!(sims.ledger.balances(), before);
    assert_eq!((service.transfers(), service.cancellations()), (1, 1));
    sims.stop();
}
