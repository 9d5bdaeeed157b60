//! `GET /shadow`: this replica's live counters, or — with `[shadow] records = "postgres"` — every
//! replica's records read from the store, saying which (`source`: `"this replica"` or
//! `"store"`). A store that cannot be read in time gives this replica's counters, with why
//! (`store_error`): the admin API never hangs on the store.

use crate::shadow::mirror::ShadowState;
use crate::shadow::store;
use serde_json::{json, Value};
use std::time::Duration;

/// Longest `GET /shadow` waits for the store before answering with this replica's counters.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// The body of `GET /shadow` (without `generation`).
pub async fn shadow_json(shadow: &ShadowState) -> Value {
    let local = || {
        let mut v = shadow.stats.to_json();
        v["source"] = json!("this replica");
        v
    };
    let Some(writer) = shadow.store() else { return local() };
    let read = tokio::time::timeout(READ_TIMEOUT, store::read_records(writer.url(), store::READ_LIMIT)).await;
    let error = match read {
        Ok(Ok(loaded)) => return store::fleet_json(&loaded, writer),
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
