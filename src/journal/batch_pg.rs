//! The PostgreSQL journal's writer: a task owning one connection (sqlx's typed PostgreSQL
//! driver), fed by the batch queue. A batch is one statement, so one round trip and one
//! implicit transaction: every claim as an `INSERT … SELECT FROM unnest($1::text[], …) ON
//! CONFLICT (txn_key) DO NOTHING` and every finish as an `UPDATE … FROM unnest(…)`, both in
//! data-modifying `WITH` clauses (PostgreSQL manual, "WITH Queries", and "Array Functions":
//! `unnest` with several arrays expands them in parallel). It is prepared once; the server
//! plans and runs one statement per batch, whatever its size.
//!
//! Only the common case reads nothing back: when every claim inserted and every finish
//! updated.

use super::batch::{answer, gather, Batch, Claimed, Job, Outcome};
use super::store::COLUMNS;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Row};
use std::collections::HashSet;
use std::time::Duration;
use tokio::sync::mpsc;

/// Runs of one batch when PostgreSQL ends it for a deadlock or a serialization failure.
const ATTEMPTS: usize = 3;

/// A deadlock (40P01) or serialization failure (40001): the statement was rolled back whole
/// (PostgreSQL manual, "Appendix A. Error Codes").
fn retryable(e: &sqlx::Error) -> bool {
    e.as_database_error().and_then(|d| d.code()).is_some_and(|c| c == "40P01" || c == "40001")
}

/// How long connecting may take before the batch fails (and its callers are told).
const CONNECT: Duration = Duration::from_secs(3);

/// How long one batch's statement may take before it fails (its callers are told: a claim is
/// refused or passed per `on_store_error`) and its connection is dropped: a server that accepts
/// connections and never answers (hung, stopped) must not hold every journaled write forever.
/// A batch given up this way may still have committed: a claim it inserted then stands until
/// its lease passes and reads as `unknown` — a resend is refused, never sent twice.
pub const STATEMENT: Duration = Duration::from_secs(10);

/// Writes batches from `queue` to the server at `url` until every sender is gone.
pub(super) async fn run(url: String, mut queue: mpsc::Receiver<Job>) {
    let mut conn: Option<PgConnection> = None;
    while let Some(first) = queue.recv().await {
        let batch = gather(first, &mut queue);
        let mut result = Err(sqlx::Error::PoolClosed);
        for attempt in 1..=ATTEMPTS {
            result = async {
                if conn.is_none() {
                    // Each batch planned for its own sizes and the table as it is now: a plan
                    // cached while the table was new scans it whole (PostgreSQL manual,
                    // `plan_cache_mode`).
                    let options = url.parse::<PgConnectOptions>()?.options([("plan_cache_mode", "force_custom_plan")]);
                    let connected = tokio::time::timeout(CONNECT, PgConnection::connect_with(&options)).await;
                    conn = Some(connected.map_err(|_| sqlx::Error::PoolTimedOut)??);
                }
                let statement = write(conn.as_mut().expect("connected above"), &batch);
                tokio::time::timeout(STATEMENT, statement).await.map_err(|_| {
                    sqlx::Error::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("no answer within {} s (is the server hung or stopped?)", STATEMENT.as_secs()),
                    ))
                })?
            }
            .await;
            match &result {
                // Two replicas' batches waiting on each other's rows: PostgreSQL aborts one
                // statement whole (nothing of it stays), so it is simply run again.
                Err(e) if attempt < ATTEMPTS && retryable(e) => {
                    metrics::counter!("ficus_journal_batch_retries_total").increment(1);
                    continue;
                }
                _ => break,
            }
        }
        if result.is_err() {
            // A broken connection is not reused; the next batch connects again.
            conn = None;
        }
        answer(result.map_err(|e| e.to_string()), batch);
    }
}

/// Every claim and every finish of a batch, as one statement (one round trip, one implicit
/// transaction): the counts inserted and updated.
const WRITE: &str = "WITH ins AS (INSERT INTO ficus_journal (txn_key, op, request_hash, route_key, upstream, \
     state, request, claim, generation, created_ms, updated_ms, lease_ms) \
     SELECT k, o, h, r, u, 'in_flight', q, c, g, n, n, l FROM unnest($1::text[], $2::text[], $3::text[], \
     $4::text[], $5::text[], $6::bytea[], $7::text[], $8::int8[], $9::int8[], $10::int8[]) \
     AS t (k, o, h, r, u, q, c, g, n, l) ORDER BY k ON CONFLICT (txn_key) DO NOTHING RETURNING 1), \
     upd AS (UPDATE ficus_journal AS j SET state = 'done', response_code = v.code, reply = v.reply, \
     updated_ms = v.at FROM unnest($11::text[], $12::text[], $13::text[], $14::bytea[], $15::int8[]) \
     AS v (k, c, code, reply, at) WHERE j.txn_key = v.k AND j.claim = v.c AND j.state IN ('in_flight', 'unknown') \
     RETURNING 1) \
     SELECT (SELECT COUNT(*) FROM ins) AS inserted, (SELECT COUNT(*) FROM upd) AS updated";

/// One statement: every claim, then every finish; the outcome of each, in order. When some
/// claim did not insert or some finish did not land, which is read back after the commit: a
/// lost claim is told the row as it is now (or that it vanished: claim again), a finish landed
/// only if the row is done under its claim token (nobody else writes that token).
async fn write(conn: &mut PgConnection, batch: &Batch) -> Result<Outcome, sqlx::Error> {
    let (claims, finishes) = (&batch.claims, &batch.finishes);
    // Other statements go to PostgreSQL's pool directly (row locks, no one write lock).
    let changed = batch.execs.iter().map(|_| 0).collect();
    let keys: Vec<&str> = claims.iter().map(|c| c.key.as_str()).collect();
    let finish_keys: Vec<&str> = finishes.iter().map(|f| f.key.as_str()).collect();
    let counts = sqlx::query(WRITE)
        .bind(&keys)
        .bind(claims.iter().map(|c| c.op.as_str()).collect::<Vec<_>>())
        .bind(claims.iter().map(|c| c.request_hash.as_str()).collect::<Vec<_>>())
        .bind(claims.iter().map(|c| c.route_key.as_deref()).collect::<Vec<_>>())
        .bind(claims.iter().map(|c| c.upstream.as_str()).collect::<Vec<_>>())
        .bind(claims.iter().map(|c| c.request.as_slice()).collect::<Vec<_>>())
        .bind(claims.iter().map(|c| c.claim.as_str()).collect::<Vec<_>>())
        .bind(claims.iter().map(|c| c.generation).collect::<Vec<_>>())
        .bind(claims.iter().map(|c| c.now).collect::<Vec<_>>())
        .bind(claims.iter().map(|c| c.lease_ms).collect::<Vec<_>>())
        .bind(&finish_keys)
        .bind(finishes.iter().map(|f| f.claim.as_str()).collect::<Vec<_>>())
        .bind(finishes.iter().map(|f| f.code.as_deref()).collect::<Vec<_>>())
        .bind(finishes.iter().map(|f| f.reply.as_slice()).collect::<Vec<_>>())
        .bind(finishes.iter().map(|f| f.now).collect::<Vec<_>>())
        .fetch_one(&mut *conn)
        .await?;
    let (inserted, updated): (i64, i64) = (counts.try_get("inserted")?, counts.try_get("updated")?);
    let claimed = if inserted as usize == claims.len() {
        // The common case: every key was new, nothing to read back.
        claims.iter().map(|_| Claimed::Mine).collect()
    } else {
        // Some keys were held (by other batches, other replicas, or twice in this one).
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM ficus_journal WHERE txn_key = ANY($1)"))
            .bind(&keys)
            .fetch_all(&mut *conn)
            .await?;
        let held = rows.iter().map(super::store::entry_pg).collect::<Result<Vec<_>, _>>()?;
        claims
            .iter()
            .map(|c| match held.iter().find(|e| e.key == c.key) {
                Some(e) if e.claim == c.claim => Claimed::Mine,
                Some(e) => Claimed::Existing(Box::new(e.clone())),
                None => Claimed::Vanished,
            })
            .collect()
    };
    let finished = if updated as usize == finishes.len() {
        finishes.iter().map(|_| true).collect()
    } else {
        let done: HashSet<(String, String)> =
            sqlx::query("SELECT txn_key, claim FROM ficus_journal WHERE txn_key = ANY($1) AND state = 'done'")
                .bind(&finish_keys)
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("txn_key")?, r.try_get("claim")?)))
                .collect::<Result<_, sqlx::Error>>()?;
        finishes.iter().map(|f| done.contains(&(f.key.clone(), f.claim.clone()))).collect()
    };
    Ok((claimed, finished, changed))
}
