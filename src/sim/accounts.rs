//! `accounts`: the sample new Rust service. It speaks JSON — `{"operation", "header",
//! "request"}` in, `{"header": {...}, "response": {...}}` out — and serves ACCTINQ, TXNHIST,
//! XFER and XFERCAN from its ledger by the host's rules ([`super::ops`]), so the gateway turns
//! its answers into the bytes the host would send (all but `HDR-TIMESTAMP`, each side's clock).
//! The gateway does all the fixed-width work.
//!
//! It keeps its own [`Postings`], keyed by the request header's `HDR-SEQ-NO`: it cancels only
//! the transfers it posted itself (E401 for one the host posted).
//!
//! A write marked `Ficus-Shadow: dry-run` (a shadowed or replayed write) is validated and
//! answered as it would be — the same code, balance after and reference — and changes nothing.

use super::ledger::{Effect, Ledger};
use super::ops;
use super::postings::Postings;
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::net::TcpListener;

/// Operations this service has taken over.
pub const SERVED: [&str; 4] = ["ACCTINQ", "TXNHIST", "XFER", "XFERCAN"];

/// Answers one JSON request body, applying writes: (HTTP status, JSON reply). Without postings
/// of its own, nothing it applies can be cancelled (see [`answer_on`]).
pub fn answer(ledger: &Ledger, body: &[u8]) -> (u16, Value) {
    answer_as(ledger, body, Effect::Apply)
}

/// Whether a request's headers mark it a dry run (`Ficus-Shadow: dry-run`).
pub fn effect(headers: &hyper::HeaderMap) -> Effect {
    let marked = headers.get_all(&crate::upstream::modern::SHADOW_HEADER).iter().any(|v| v.as_bytes() == b"dry-run");
    if marked {
        Effect::DryRun
    } else {
        Effect::Apply
    }
}

/// Answers one JSON request body, with writes applied or only answered (`effect`).
pub fn answer_as(ledger: &Ledger, body: &[u8], effect: Effect) -> (u16, Value) {
    answer_on(ledger, &Postings::default(), body, effect)
}

/// Answers one JSON request body as the service does: transfers recorded in (and cancellations
/// looked up in) `postings` under the request header's `HDR-SEQ-NO`; writes applied or only
/// answered (`effect`).
pub fn answer_on(ledger: &Ledger, postings: &Postings, body: &[u8], effect: Effect) -> (u16, Value) {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return (400, json!({ "error": "body is not JSON" }));
    };
    let op = request.get("operation").and_then(Value::as_str).unwrap_or("");
    if !SERVED.contains(&op) {
        return (404, json!({ "error": format!("operation {op:?} is not served here") }));
    }
    let payload = request.get("request").cloned().unwrap_or(Value::Null);
    let seq = request.get("header").and_then(ops::sequence);
    match ops::serve_on(ledger, postings, seq, op, &payload, ops::now(), effect, ops::Paging::Service) {
        None => (404, json!({ "error": "unknown operation" })),
        Some(result) => (
            200,
            json!({
                "header": {
                    "HDR-RESP-CODE": result.code,
                    "HDR-RESP-MSG": result.message,
                    "HDR-TIMESTAMP": ops::timestamp(),
                },
                "response": result.response,
            }),
        ),
    }
}

/// Serves the service on `listener` until `shutdown` fires, with postings of its own.
pub async fn serve(listener: TcpListener, ledger: Arc<Ledger>, shutdown: tokio::sync::watch::Receiver<bool>) {
    serve_with(listener, ledger, Arc::new(Postings::default()), shutdown).await;
}

/// Serves the service on `listener` until `shutdown` fires, recording its transfers in
/// `postings`.
pub async fn serve_with(
    listener: TcpListener,
    ledger: Arc<Ledger>,
    postings: Arc<Postings>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let handler: super::http::Handler = Arc::new(move |body, headers| {
        let (status, value) = answer_on(&ledger, &postings, &body, effect(headers));
        (status, "application/json", serde_json::to_vec(&value).unwrap_or_default())
    });
    super::http::serve(listener, handler, shutdown).await;
}
