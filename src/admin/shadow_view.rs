//! `GET /shadow`: this replica's live counters, or — with `[shadow] records = "postgres"` — every
//! replica's records read from the store, saying which (`source`: `"this replica"` or
//! `"store"`). A store that cannot be read in time gives this replica's counters, with why
//! (`store_error`): the admin API never hangs on the store. The store's summary is read at most
//! every few seconds (`read_seconds_ago` on a repeat), however many dashboards poll.

use crate::shadow::mirror::ShadowState;
use crate::shadow::store;
use serde_json::{json, Value};
use std::time::Duration;

/// Longest `GET /shadow` waits for the store before answering with this replica's counters.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// A summary of the store younger than this is answered again rather than read again.
const FRESH: Duration = Duration::from_secs(3);

/// The body of `GET /shadow` (without `generation`).
pub async fn shadow_json(shadow: &ShadowState) -> Value {
    let local = || {
        let mut v = shadow.stats.to_json();
        v["source"] = json!("this replica");
        v
    };
    let Some(writer) = shadow.store() else { return local() };
    let mut cached = writer.summary().lock().await;
    if let Some((at, v)) = cached.as_ref().filter(|(at, _)| at.elapsed() < FRESH) {
        let mut v = v.clone();
        v["this_replica"] = store::summary_writer_json(writer);
        v["read_seconds_ago"] = json!(at.elapsed().as_secs());
        return v;
    }
    let read = tokio::time::timeout(READ_TIMEOUT, store::read_records(writer.url(), store::READ_LIMIT)).await;
    let error = match read {
        Ok(Ok(loaded)) => {
            let v = store::fleet_json(&loaded, writer);
            *cached = Some((std::time::Instant::now(), v.clone()));
            return v;
        }
        Ok(Err(e)) => e,
        Err(_) => format!("{}: no answer within {READ_TIMEOUT:?}", writer.display()),
    };
    tracing::warn!(store = %writer.display(), error = %error, "GET /shadow: store not readable, this replica's counters given");
    let mut v = local();
    v["store"] = json!(writer.display());
    v["store_error"] = json!(error);
    v["this_replica"] = store::summary_writer_json(writer);
    v
}
