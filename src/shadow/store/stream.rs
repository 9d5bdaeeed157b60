//! `ficus shadow report --store`: every replica's comparison records read as a stream, oldest
//! first, into the report builder — memory stays per operation however many rows the store
//! holds (a fleet's records over the journal's retention can be millions; reading them into a
//! vector took about 6.5 times their size).

use super::pg::{no_table, CONNECT};
use crate::shadow::record::ShadowRecord;
use crate::shadow::report::{Builder, OpReport};
use futures_util::TryStreamExt;
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row as _};
use std::collections::BTreeMap;
use std::time::Duration;

/// Longest wait for the records' time span and count (a scan of the index).
const SPAN_WAIT: Duration = Duration::from_secs(60);
/// Longest wait for the next row: a server that stops answering mid-stream is an error, not
/// a command that never ends.
const ROW_WAIT: Duration = Duration::from_secs(30);

/// The report of every comparison record in a store.
#[derive(Debug, Default)]
pub struct StoreReport {
    /// Per operation.
    pub ops: BTreeMap<String, OpReport>,
    /// Records read, per replica (`host:pid`).
    pub replicas: BTreeMap<String, u64>,
    /// Rows that were not comparison records (skipped).
    pub bad: u64,
}

/// Reads every comparison record in the store at `url`, oldest first, into a report;
/// `progress(done, total)` is called every 10,000 rows. Errors name the store (without its
/// password).
pub async fn report(url: &str, progress: &dyn Fn(u64, u64)) -> Result<StoreReport, String> {
    let display = super::without_password(url);
    let fail = |e: sqlx::Error| format!("{display}: {e}");
    let mut conn = tokio::time::timeout(CONNECT, PgConnection::connect(url))
        .await
        .map_err(|_| format!("{display}: no connection within {CONNECT:?}"))?
        .map_err(fail)?;
    let span = "SELECT min(time), max(time), count(*) FROM ficus_shadow_records WHERE kind = 'comparison'";
    let hung =
        |what: &str, after: Duration| format!("{display}: {what}: no answer within {after:?} (is the server hung?)");
    let first = tokio::time::timeout(SPAN_WAIT, sqlx::query_as(span).fetch_one(&mut conn))
        .await
        .map_err(|_| hung("counting the records", SPAN_WAIT))?;
    let (t0, t1, total): (Option<f64>, Option<f64>, i64) = match first {
        Ok(row) => row,
        // No replica has written yet: an empty report, rather than an error about a table.
        Err(e) if no_table(&e) => return Ok(StoreReport::default()),
        Err(e) => return Err(fail(e)),
    };
    let mut out = StoreReport::default();
    let mut builder = Builder::new(t0.unwrap_or(0.0), t1.unwrap_or(0.0));
    let sql = "SELECT replica, body FROM ficus_shadow_records WHERE kind = 'comparison' ORDER BY time";
    let mut rows = sqlx::query(sql).fetch(&mut conn);
    let mut done = 0u64;
    while let Some(row) = tokio::time::timeout(ROW_WAIT, rows.try_next())
        .await
        .map_err(|_| hung("reading the records", ROW_WAIT))?
        .map_err(fail)?
    {
        let (replica, body): (String, String) =
            (row.try_get("replica").map_err(fail)?, row.try_get("body").map_err(fail)?);
        match serde_json::from_str::<ShadowRecord>(&body) {
            Ok(r) => {
                builder.push(&r);
                *out.replicas.entry(replica).or_default() += 1;
            }
            Err(_) => out.bad += 1,
        }
        done += 1;
        if done.is_multiple_of(10_000) {
            progress(done, total as u64);
        }
    }
    drop(rows);
    let _ = conn.close().await;
    out.ops = builder.finish();
    Ok(out)
}
