//! `GET /shadow`: this replica's live counters, or — with `[shadow] records = "postgres"` — every
//! replica's records read from the store, saying which (`source`: `"this replica"` or
//! `"store"`). A store that cannot be read in time gives this replica's counters, with why
//! (`store_error`, and `store_error_seconds_ago`): the admin API never hangs on the store. The
//! store is read by one call at a time however many ask at once ([`super::flight::Flight`]);
//! its summary is answered again for a few seconds (`read_seconds_ago` on a repeat), and a
//! failed read is not tried again for a few seconds either.

use super::flight::Flight;
use crate::shadow::mirror::ShadowState;
use crate::shadow::store;
use serde_json::{json, Value};
use std::time::Duration;

/// Longest `GET /shadow` waits for the store before answering with this replica's counters.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// A summary of the store younger than this is answered again rather than read again.
const FRESH: Duration = Duration::from_secs(3);
/// A failed read of the store younger than this is answered again rather than tried again.
pub const FAILED_FOR: Duration = Duration::from_secs(5);

/// The body of `GET /shadow` (without `generation`); `flight` shares the store's read.
pub async fn shadow_json(shadow: &ShadowState, flight: &Flight<(String, Result<Value, String>)>) -> Value {
    let local = || {
        let mut v = shadow.stats.to_json();
        v["source"] = json!("this replica");
        v
    };
    let Some(writer) = shadow.store() else { return local() };
    let (url, shown) = (writer.url().to_string(), writer.display().to_string());
    let fresh = |(from, read): &(String, Result<Value, String>)| match read {
        _ if *from != url => Duration::ZERO,
        Ok(_) => FRESH,
        Err(_) => FAILED_FOR,
    };
    let read = flight
        .get(fresh, || {
            let (url, shown) = (url.clone(), shown.clone());
            async move {
                let read = match tokio::time::timeout(READ_TIMEOUT, store::read_records(&url, store::READ_LIMIT)).await {
                    Ok(Ok(loaded)) => Ok(store::fleet_json_of(&loaded, &shown)),
                    Ok(Err(e)) => Err(e),
                    Err(_) => Err(format!("{shown}: no answer within {READ_TIMEOUT:?}")),
                };
                if let Err(error) = &read {
                    let again = FAILED_FOR.as_secs();
                    tracing::warn!(store = %shown, error = %error, again_after_s = again, "GET /shadow: store not readable, this replica's counters given");
                }
                (url, read)
            }
        })
        .await;
    let (error, age) = match read {
        Some(((_, Ok(mut v)), age)) => {
            v["this_replica"] = store::summary_writer_json(writer);
            v["read_seconds_ago"] = json!(age.as_secs());
            return v;
        }
        Some(((_, Err(e)), age)) => (e, age),
        None => (format!("{shown}: the read failed"), Duration::ZERO),
    };
    let mut v = local();
    v["store"] = json!(shown);
    v["store_error"] = json!(error);
    v["store_error_seconds_ago"] = json!(age.as_secs());
    v["this_replica"] = store::summary_writer_json(writer);
    v
}
