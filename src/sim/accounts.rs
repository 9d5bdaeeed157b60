//! `accounts`: the sample new Rust service. It speaks JSON — `{"operation", "header",
//! "request"}` in, `{"header": {...}, "response": {...}}` out — and serves ACCTINQ and TXNHIST
//! from the same ledger as the host. The gateway does all the fixed-width work.

use super::ledger::Ledger;
use super::ops;
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::net::TcpListener;

/// Operations this service has taken over.
pub const SERVED: [&str; 2] = ["ACCTINQ", "TXNHIST"];

/// Answers one JSON request body: (HTTP status, JSON reply). A shadow copy of a write
/// (`Ficus-Shadow: dry-run`) must change nothing; every operation served here is read-only, so
/// nothing changes whichever way a request is marked.
pub fn answer(ledger: &Ledger, body: &[u8]) -> (u16, Value) {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return (400, json!({ "error": "body is not JSON" }));
    };
    let op = request.get("operation").and_then(Value::as_str).unwrap_or("");
    if !SERVED.contains(&op) {
        return (404, json!({ "error": format!("operation {op:?} is not served here") }));
    }
    let payload = request.get("request").cloned().unwrap_or(Value::Null);
    match ops::serve(ledger, op, &payload, ops::now()) {
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

/// Serves the service on `listener` until `shutdown` fires.
pub async fn serve(listener: TcpListener, ledger: Arc<Ledger>, shutdown: tokio::sync::watch::Receiver<bool>) {
    let handler: super::http::Handler = Arc::new(move |body, _headers| {
        let (status, value) = answer(&ledger, &body);
        (status, "application/json", serde_json::to_vec(&value).unwrap_or_default())
    });
    super::http::serve(listener, handler, shutdown).await;
}
