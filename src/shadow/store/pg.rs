//! The PostgreSQL side of shadow records: the table (created on start, as the journal's is), the
//! batched writer (one statement per batch: `INSERT … SELECT FROM unnest($1::text[], …)`, the
//! arrays expanded in parallel, as the journal's batches are written) and the readers behind
//! `ficus shadow report --store`, `GET /shadow` and `ficus replay`.

use super::{Counters, Kind, Row};
use crate::shadow::capture::CaptureRecord;
use crate::shadow::record::ShadowRecord;
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row as _};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long connecting may take before a batch is dropped.
pub(super) const CONNECT: Duration = Duration::from_secs(3);

/// How long the writer's connect (with the table's creation), a batch's insert or a sweep may
/// take. A store that accepts connections and never answers (a hung or stopped server) would
/// otherwise hold the writer forever while the queue fills: past this the statement is
/// abandoned, its connection dropped (the next batch connects again), the batch dropped and
/// counted, and the failure logged and shown as `last_error`.
pub const STATEMENT: Duration = Duration::from_secs(5);

/// `work`, or a timeout error naming `what` and the limit.
async fn bounded<T>(
    what: &str,
    work: impl std::future::Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, sqlx::Error> {
    match tokio::time::timeout(STATEMENT, work).await {
        Ok(done) => done,
        Err(_) => Err(sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("{what}: no answer within {} s (is the server hung or stopped?)", STATEMENT.as_secs()),
        ))),
    }
}

/// Most comparison records `GET /shadow` reads (the newest): enough for the classification,
/// whose memory is bounded anyway, and a read of a few megabytes.
pub const READ_LIMIT: i64 = 20_000;

/// The same lock the journal's schema takes: replicas starting together create tables one at a
/// time.
const SCHEMA_LOCK: i64 = 7268305751;

/// The table and its index. One table for both kinds: a capture and the comparison of the same
/// message are written by the same replica at about the same time.
const SCHEMA: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS ficus_shadow_records (
        kind TEXT NOT NULL,
        time DOUBLE PRECISION NOT NULL,
        replica TEXT NOT NULL,
        op TEXT NOT NULL,
        body TEXT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS ficus_shadow_records_kind_time ON ficus_shadow_records (kind, time)",
];

/// One batch, one statement, one round trip.
const INSERT: &str = "INSERT INTO ficus_shadow_records (kind, time, replica, op, body) \
     SELECT k, t, $1, o, b FROM unnest($2::text[], $3::float8[], $4::text[], $5::text[]) AS x (k, t, o, b)";

/// What the writer thread needs.
pub(super) struct Job {
    pub url: String,
    pub display: String,
    pub replica: String,
    /// Rows older than this are deleted (every [`SWEEP_EVERY`], by whichever replica).
    pub retention: Duration,
}

/// How often a writer deletes rows past their retention.
const SWEEP_EVERY: Duration = Duration::from_secs(600);

/// Deletes rows older than `retention`; rows deleted.
async fn sweep(conn: &mut PgConnection, retention: Duration) -> Result<u64, sqlx::Error> {
    let cutoff = crate::shadow::mirror::now_secs() - retention.as_secs_f64();
    let done = sqlx::query("DELETE FROM ficus_shadow_records WHERE kind IN ('comparison', 'capture') AND time < $1")
        .bind(cutoff)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Connects and makes sure the table is there (all of it within [`STATEMENT`]).
async fn connect(url: &str) -> Result<PgConnection, sqlx::Error> {
    bounded("connect and create the table", async {
        let mut conn = tokio::time::timeout(CONNECT, PgConnection::connect(url)).await.map_err(|_| {
            sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("connect: no answer within {} s (is the server hung or stopped?)", CONNECT.as_secs()),
            ))
        })??;
        let mut tx = conn.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(SCHEMA_LOCK).execute(&mut *tx).await?;
        for statement in SCHEMA {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(conn)
    })
    .await
}

async fn insert(conn: &mut PgConnection, replica: &str, batch: &[Row]) -> Result<(), sqlx::Error> {
    sqlx::query(INSERT)
        .bind(replica)
        .bind(batch.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>())
        .bind(batch.iter().map(|r| r.time).collect::<Vec<_>>())
        .bind(batch.iter().map(|r| r.op.as_str()).collect::<Vec<_>>())
        .bind(batch.iter().map(|r| r.body.as_str()).collect::<Vec<_>>())
        .execute(conn)
        .await?;
    Ok(())
}

/// Writes everything queued, a batch at a time, until every sender is gone.
pub(super) async fn run(job: Job, mut rx: mpsc::Receiver<Row>, counters: Arc<Counters>) {
    // The table is made on start; a store down now is tried again with the first batch.
    let mut conn = match connect(&job.url).await {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!(store = %job.display, error = %e, "records store not reachable at start; records are dropped (counted) until it is");
            counters.set_error(Some(e.to_string()));
            None
        }
    };
    let mut failing = false;
    let mut swept: Option<std::time::Instant> = None;
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < super::MAX_BATCH {
            match rx.try_recv() {
                Ok(row) => batch.push(row),
                Err(_) => break,
            }
        }
        let result = async {
            if conn.is_none() {
                conn = Some(connect(&job.url).await?);
            }
            let c = conn.as_mut().expect("connected above");
            // Before the insert: once a replica's rows are there, what it swept is gone.
            if swept.is_none_or(|at| at.elapsed() >= SWEEP_EVERY) {
                swept = Some(std::time::Instant::now());
                match bounded("delete rows past retention", sweep(c, job.retention)).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(store = %job.display, rows = n, "shadow records past retention deleted"),
                    // A sweep that got no answer leaves its connection mid-statement: not reused.
                    Err(e) if timed_out(&e) => return Err(e),
                    Err(e) => {
                        tracing::warn!(store = %job.display, error = %e, "shadow records past retention not deleted")
                    }
                }
            }
            bounded("insert a batch", insert(c, &job.replica, &batch)).await
        }
        .await;
        let count = |kind: Kind| batch.iter().filter(|r| r.kind == kind).count() as u64;
        match result {
            Ok(()) => {
                for kind in [Kind::Comparison, Kind::Capture] {
                    counters.written[kind.index()].fetch_add(count(kind), std::sync::atomic::Ordering::Relaxed);
                }
                if failing || counters.last_error().is_some() {
                    tracing::info!(store = %job.display, "records reach the store again");
                    failing = false;
                    counters.set_error(None);
                }
                counters.queue_full.store(false, std::sync::atomic::Ordering::Relaxed);
            }
            Err(e) => {
                // A broken connection is not reused; the next batch connects again.
                conn = None;
                for kind in [Kind::Comparison, Kind::Capture] {
                    counters.drop_rows(kind, count(kind));
                }
                if !failing {
                    tracing::warn!(store = %job.display, error = %e, rows = batch.len(), "records not written to the store: dropped and counted until it answers again");
                }
                failing = true;
                counters.set_error(Some(e.to_string()));
            }
        }
        counters.settled.fetch_add(batch.len() as u64, std::sync::atomic::Ordering::Relaxed);
        counters.batch_done.notify_waiters();
    }
}

/// Whether `e` is [`bounded`]'s timeout.
fn timed_out(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

/// Comparison records read from the store, and whose they are.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The records, oldest first.
    pub records: Vec<ShadowRecord>,
    /// Rows that were not records (skipped).
    pub bad: usize,
    /// Records per replica (`host:pid`).
    pub replicas: BTreeMap<String, u64>,
}

pub(super) fn no_table(e: &sqlx::Error) -> bool {
    e.as_database_error().and_then(|d| d.code()).is_some_and(|c| c == "42P01")
}

/// The rows of `kind`, newest `limit` of them, oldest first: (replica, body).
/// Longest a read of rows may take (replay's captures, `GET /shadow`'s newest records).
const READ_ALL: Duration = Duration::from_secs(120);

async fn rows(url: &str, kind: Kind, limit: i64) -> Result<Vec<(String, String)>, String> {
    let display = super::without_password(url);
    let mut conn = tokio::time::timeout(CONNECT, PgConnection::connect(url))
        .await
        .map_err(|_| format!("{display}: no connection within {CONNECT:?}"))?
        .map_err(|e| format!("{display}: {e}"))?;
    let sql = "SELECT replica, body FROM (SELECT replica, body, time FROM ficus_shadow_records WHERE kind = $1 \
               ORDER BY time DESC LIMIT $2) AS newest ORDER BY time";
    // A server that stops answering is an error, not a command (`ficus replay`) that never ends.
    let read = tokio::time::timeout(READ_ALL, sqlx::query(sql).bind(kind.as_str()).bind(limit).fetch_all(&mut conn))
        .await
        .map_err(|_| format!("{display}: no answer within {READ_ALL:?} (is the server hung?)"))?;
    let rows = match read {
        Ok(rows) => rows,
        // No replica has written yet: nothing, rather than an error about a table.
        Err(e) if no_table(&e) => Vec::new(),
        Err(e) => return Err(format!("{display}: {e}")),
    };
    let _ = conn.close().await;
    rows.iter()
        .map(|r| Ok((r.try_get("replica")?, r.try_get("body")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(|e| format!("{display}: {e}"))
}

/// Every replica's comparison records in the store at `url` (the newest `limit`).
pub async fn read_records(url: &str, limit: i64) -> Result<Loaded, String> {
    let mut loaded = Loaded::default();
    for (replica, body) in rows(url, Kind::Comparison, limit).await? {
        match serde_json::from_str::<ShadowRecord>(&body) {
            Ok(r) => {
                *loaded.replicas.entry(replica).or_default() += 1;
                loaded.records.push(r);
            }
            Err(_) => loaded.bad += 1,
        }
    }
    // Replicas' clocks interleave: the report reads them as one timeline.
    loaded.records.sort_by(|a, b| a.time.total_cmp(&b.time));
    Ok(loaded)
}

/// Every replica's captures in the store at `url`, oldest first, and the rows that are not
/// captures (each named by its place and replica).
pub async fn read_captures(url: &str) -> Result<(Vec<CaptureRecord>, Vec<String>), String> {
    let display = super::without_password(url);
    let (mut captures, mut bad) = (Vec::new(), Vec::new());
    for (i, (replica, body)) in rows(url, Kind::Capture, i64::MAX).await?.into_iter().enumerate() {
        match serde_json::from_str::<CaptureRecord>(&body) {
            Ok(c) => captures.push(c),
            Err(e) => bad.push(format!("{display} capture #{} (replica {replica}): {e}", i + 1)),
        }
    }
    Ok((captures, bad))
}
