//! XFERCAN: a transfer is cancelled only by the system that posted it. The host (fixed-width
//! bytes) and the service (JSON) share one ledger but keep their own postings, so a
//! cancellation sent to the other side is refused (E401) and changes nothing; a second one
//! is E402, one naming another amount or account E301, and a dry run changes nothing.

use super::accounts::answer_on;
use super::host::HostSim;
use super::ledger::{Effect, Ledger, FIRST_ACCOUNT};
use super::postings::Postings;
use crate::codec::charset::CodePage;
use crate::codec::{Codec, CodecOptions};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;

const A: &str = "1000000000000001";
const B: &str = "1000000000000002";

/// Which system a message goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Host,
    Service,
}

/// The demo's two systems over one ledger, each with its own postings.
struct World {
    ledger: Arc<Ledger>,
    host: HostSim,
    service: Postings,
    codec: (Codec, Codec),
}

impl World {
    fn new() -> World {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("copybooks");
        let options = CodecOptions::for_codepage(CodePage::Cp037);
        let ledger = Arc::new(Ledger::seeded());
        let host = HostSim::new(&dir, options, ledger.clone()).unwrap();
        let record = |file: &str, name: &str| {
            let book = crate::copybook::load(&dir.join(file)).unwrap();
            Codec::new(book.record(Some(name)).unwrap(), options).unwrap()
        };
        let codec = (record("COMMHDR.cpy", "COMM-HDR"), record("XFERCAN.cpy", "XFERCAN-RESP"));
        World { ledger, host, service: Postings::default(), codec }
    }

    fn postings(&self, side: Side) -> &Postings {
        match side {
            Side::Host => self.host.postings(),
            Side::Service => &self.service,
        }
    }

    /// Sends `op` with HDR-SEQ-NO `seq` to `side`: (response code, response body or null).
    fn call(&self, side: Side, op: &str, seq: u64, body: Value, effect: Effect) -> (String, Value) {
        match side {
            Side::Service => {
                let request = json!({ "operation": op, "header": { "HDR-SEQ-NO": seq }, "request": body });
                let (status, reply) = answer_on(&self.ledger, &self.service, request.to_string().as_bytes(), effect);
                assert_eq!(status, 200, "{reply}");
                (reply["header"]["HDR-RESP-CODE"].as_str().unwrap().to_string(), reply["response"].clone())
            }
            Side::Host => {
                assert_eq!(effect, Effect::Apply, "the host is never sent a dry run");
                let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("copybooks");
                let book = crate::copybook::load(&dir.join(format!("{op}.cpy"))).unwrap();
                let options = CodecOptions::for_codepage(CodePage::Cp037);
                let req = Codec::new(book.record(Some(&format!("{op}-REQ"))).unwrap(), options).unwrap();
                let header = json!({ "HDR-MSG-LEN": 0, "HDR-TRAN-CODE": op, "HDR-CHANNEL": "IBK", "HDR-SEQ-NO": seq,
                    "HDR-TIMESTAMP": 0, "HDR-RESP-CODE": "", "HDR-RESP-MSG": "" });
                let mut message = self.codec.0.encode_json(&header).unwrap();
                message.extend(req.encode_json(&body).unwrap());
                let reply = self.host.reply(&message);
                let (head, used) = self.codec.0.decode_json(&reply).unwrap();
                let code = head["HDR-RESP-CODE"].as_str().unwrap().to_string();
                let body = if op == "XFERCAN" && code == "0000" {
                    self.codec.1.decode_json(&reply[used..]).unwrap().0
                } else {
                    Value::Null
                };
                (code, body)
            }
        }
    }

    fn xfer(&self, side: Side, seq: u64, from: &str, to: &str, amount: f64) -> String {
        let body = json!({ "FROM-ACCT": from, "TO-ACCT": to, "AMOUNT": amount, "MEMO": "TEST" });
        self.call(side, "XFER", seq, body, Effect::Apply).0
    }

    fn cancel(&self, side: Side, seq: u64, original: u64, from: &str, amount: f64, effect: Effect) -> (String, Value) {
        let body = json!({ "ORG-SEQ-NO": original, "FROM-ACCT": from, "AMOUNT": amount });
        self.call(side, "XFERCAN", seq, body, effect)
    }
}

fn other(side: Side) -> Side {
    if side == Side::Host {
        Side::Service
    } else {
        Side::Host
    }
}

#[test]
fn the_side_that_posted_cancels_and_the_money_comes_back() {
    for side in [Side::Host, Side::Service] {
        let w = World::new();
        let (before, total) = (w.ledger.balances(), w.ledger.total());
        assert_eq!(w.xfer(side, 501, A, B, 150.25), "0000");
        assert_eq!(w.ledger.balances()[A], before[A] - 15_025);
        let (code, reply) = w.cancel(side, 502, 501, A, 150.25, Effect::Apply);
        assert_eq!(code, "0000", "{side:?}");
        assert_eq!(reply["FROM-ACCT"], A);
        assert_eq!(reply["FROM-BAL-AFTER"].to_string(), super::ledger::money(before[A]).to_string());
        assert!(reply["CAN-REF"].as_str().unwrap().starts_with("CN"), "{reply}");
        assert_eq!(w.ledger.balances(), before, "{side:?}: every balance as before the transfer");
        assert_eq!(w.ledger.total(), total);
        let kinds = |n: &str| w.ledger.account(n).unwrap().history.last().map(|t| t.kind);
        assert_eq!((kinds(A), kinds(B)), (Some("CI"), Some("CO")));
        let (mine, theirs) = (w.postings(side), w.postings(other(side)));
        assert_eq!((mine.transfers(), mine.cancellations()), (1, 1), "{side:?}");
        assert_eq!((theirs.transfers(), theirs.cancellations()), (0, 0), "{side:?}");
        assert!(mine.posted(501).unwrap().cancelled.is_some());
    }
}

#[test]
fn the_other_side_never_saw_it() {
    for side in [Side::Host, Side::Service] {
        let w = World::new();
        assert_eq!(w.xfer(side, 601, A, B, 10.0), "0000");
        let after = w.ledger.balances();
        assert_eq!(w.cancel(other(side), 602, 601, A, 10.0, Effect::Apply).0, "E401", "{side:?}");
        assert_eq!(w.ledger.balances(), after, "a refused cancellation moves nothing");
        assert_eq!(w.postings(other(side)).cancellations(), 0);
        // Unknown everywhere: E401 too.
        assert_eq!(w.cancel(side, 603, 999, A, 10.0, Effect::Apply).0, "E401");
    }
}

#[test]
fn twice_is_already_cancelled_and_details_must_match() {
    for side in [Side::Host, Side::Service] {
        let w = World::new();
        assert_eq!(w.xfer(side, 701, A, B, 20.0), "0000");
        let posted = w.ledger.balances();
        assert_eq!(w.cancel(side, 702, 701, A, 20.01, Effect::Apply).0, "E301", "another amount");
        assert_eq!(w.cancel(side, 703, 701, B, 20.0, Effect::Apply).0, "E301", "another account");
        assert_eq!(w.ledger.balances(), posted);
        assert_eq!(w.cancel(side, 704, 701, A, 20.0, Effect::Apply).0, "0000");
        let cancelled = w.ledger.balances();
        assert_eq!(w.cancel(side, 705, 701, A, 20.0, Effect::Apply).0, "E402", "{side:?}");
        assert_eq!(w.ledger.balances(), cancelled);
        assert_eq!(w.postings(side).cancellations(), 1);
    }
}

#[test]
fn a_receiver_who_spent_the_money_cannot_be_reversed() {
    let w = World::new();
    assert_eq!(w.xfer(Side::Service, 801, A, B, 10.0), "0000");
    let available = |n: &str| {
        let a = w.ledger.account(n).unwrap();
        a.balance - a.hold
    };
    let all = available(B) as f64 / 100.0;
    assert_eq!(w.xfer(Side::Service, 802, B, A, all), "0000");
    let spent = w.ledger.balances();
    assert_eq!(w.cancel(Side::Service, 803, 801, A, 10.0, Effect::Apply).0, "E201");
    assert_eq!(w.ledger.balances(), spent);
    assert!(w.service.posted(801).unwrap().cancelled.is_none(), "still cancellable once the money is back");
}

#[test]
fn a_dry_run_answers_and_changes_nothing() {
    let w = World::new();
    // A dry-run transfer is not posted, so there is nothing to cancel.
    let body = json!({ "FROM-ACCT": A, "TO-ACCT": B, "AMOUNT": 5.0, "MEMO": "DRY" });
    assert_eq!(w.call(Side::Service, "XFER", 901, body, Effect::DryRun).0, "0000");
    assert_eq!((w.service.transfers(), w.service.posted(901)), (0, None));
    assert_eq!(w.cancel(Side::Service, 902, 901, A, 5.0, Effect::DryRun).0, "E401");

    assert_eq!(w.xfer(Side::Service, 903, A, B, 5.0), "0000");
    let posted = w.ledger.balances();
    let history = w.ledger.account(A).unwrap().history.len();
    let (code, dry) = w.cancel(Side::Service, 904, 903, A, 5.0, Effect::DryRun);
    assert_eq!(code, "0000");
    assert_eq!(w.ledger.balances(), posted, "money stays where it is");
    assert_eq!(w.ledger.account(A).unwrap().history.len(), history);
    assert_eq!((w.service.cancellations(), w.service.posted(903).unwrap().cancelled), (0, None));
    // The real one answers what the dry run said (the reference counter did not move either).
    let (code, real) = w.cancel(Side::Service, 905, 903, A, 5.0, Effect::Apply);
    assert_eq!((code.as_str(), &real), ("0000", &dry));
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(64);
    ProptestConfig { cases, rng_seed: RngSeed::Fixed(14), ..ProptestConfig::default() }
}

/// One step: a transfer or a cancellation of an earlier step's sequence number, on a side.
fn step() -> impl Strategy<Value = (bool, bool, u64, u64, u64, u32)> {
    (any::<bool>(), any::<bool>(), 0u64..4, 0u64..4, 0u64..12, 1u32..200_000)
}

proptest! {
    #![proptest_config(config())]

    /// Whatever mix of transfers and cancellations reaches whichever side, money is neither
    /// made nor lost, and a cancellation succeeds exactly when that side posted the transfer,
    /// has not cancelled it and the receiver still has the money.
    #[test]
    fn cancellations_follow_the_poster(steps in proptest::collection::vec(step(), 1..24)) {
        let w = World::new();
        let total = w.ledger.total();
        // The model: seq → (side, from, cents, cancelled).
        let mut model: std::collections::HashMap<u64, (Side, String, i128, bool)> = Default::default();
        for (n, (is_cancel, on_host, from, to, original, cents)) in steps.into_iter().enumerate() {
            let side = if on_host { Side::Host } else { Side::Service };
            let seq = 1_000 + n as u64;
            let (from, to) = ((FIRST_ACCOUNT + from).to_string(), (FIRST_ACCOUNT + to).to_string());
            let amount = f64::from(cents) / 100.0;
            if !is_cancel {
                let code = w.xfer(side, seq, &from, &to, amount);
                if code == "0000" {
                    model.insert(seq, (side, from, i128::from(cents), false));
                }
                continue;
            }
            let target = 1_000 + original;
            let Some((poster, from, cents, cancelled)) = model.get(&target).cloned() else {
                prop_assert_eq!(w.cancel(side, seq, target, &from, amount, Effect::Apply).0, "E401");
                continue;
            };
            let before = w.ledger.balances();
            let (code, _) = w.cancel(side, seq, target, &from, cents as f64 / 100.0, Effect::Apply);
            let want = if poster != side { "E401" } else if cancelled { "E402" } else { code.as_str() };
            prop_assert_eq!(code.as_str(), want, "seq {} posted on {:?}, cancelled {}", target, poster, cancelled);
            prop_assert!(code == "0000" || code == "E401" || code == "E402" || code == "E201", "{}", code);
            if code == "0000" {
                model.insert(target, (poster, from, cents, true));
            } else {
                prop_assert_eq!(w.ledger.balances(), before);
            }
        }
        prop_assert_eq!(w.ledger.total(), total);
        for side in [Side::Host, Side::Service] {
            let cancelled = model.values().filter(|(s, _, _, c)| *s == side && *c).count() as u64;
            prop_assert_eq!(w.postings(side).cancellations(), cancelled);
        }
    }
}

#[test]
fn a_demo_directory_from_before_xfercan_still_starts() {
    // `ficus demo --resume` on a state directory written before XFERCAN.cpy existed.
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in super::COPYBOOKS.iter().filter(|(name, _)| *name != "XFERCAN.cpy") {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let options = CodecOptions::for_codepage(CodePage::Cp037);
    let host = HostSim::new(dir.path(), options, Arc::new(Ledger::seeded())).unwrap();
    let w = World::new();
    let header = json!({ "HDR-MSG-LEN": 0, "HDR-TRAN-CODE": "XFERCAN", "HDR-CHANNEL": "IBK", "HDR-SEQ-NO": 1,
        "HDR-TIMESTAMP": 0, "HDR-RESP-CODE": "", "HDR-RESP-MSG": "" });
    let reply = host.reply(&w.codec.0.encode_json(&header).unwrap());
    assert_eq!(w.codec.0.decode_json(&reply).unwrap().0["HDR-RESP-CODE"], "E998");
    // Any other copybook missing is still an error naming it.
    std::fs::remove_file(dir.path().join("XFER.cpy")).unwrap();
    let err = HostSim::new(dir.path(), options, Arc::new(Ledger::seeded())).err().unwrap();
    assert!(err.contains("XFER.cpy"), "{err}");
}
