//! The SQLite journal's writer: one OS thread owning one connection (rusqlite), fed by the
//! batch queue. Each batch is one `BEGIN IMMEDIATE` … `COMMIT` of prepared single-row
//! statements — an `INSERT … ON CONFLICT (txn_key) DO NOTHING` per claim, an `UPDATE` per
//! finish — so no statement text is built and no value is copied per message, and the gateway's
//! workers only hand a job over (SQLite's B-tree work and the commit's fsync run here, not on a
//! tokio worker). `synchronous = FULL`: a claim is on disk before its write is sent (SQLite,
//! "PRAGMA synchronous"; in WAL mode FULL syncs the WAL at every commit). Checkpoints are the
//! sweeper's ([`super::sweep`]), so a commit that channels wait for does not copy the WAL.
//!
//! Reads, owner moves, releases and the sweeper keep using the sqlx pool on the same file; they
//! take turns with this writer through SQLite's own lock (busy timeout 5 s on both).

use super::batch::{answer, gather, Batch, Claimed, Job, Outcome, Value};
use super::store::{Entry, COLUMNS};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;

/// Starts the writer thread for `file`; it ends when every sender of `queue` is gone.
pub(super) fn start(file: PathBuf, queue: mpsc::Receiver<Job>) -> Result<(), String> {
    std::thread::Builder::new()
        .name("ficus-journal".into())
        .spawn(move || run(&file, queue))
        .map(|_| ())
        .map_err(|e| format!("cannot start the journal writer thread: {e}"))
}

fn run(file: &Path, mut queue: mpsc::Receiver<Job>) {
    let mut conn: Option<Connection> = None;
    while let Some(first) = queue.blocking_recv() {
        let batch = gather(first, &mut queue);
        let result = match conn.as_mut() {
            Some(c) => write(c, &batch),
            None => open(file).and_then(|c| write(conn.insert(c), &batch)),
        };
        if result.is_err() {
            // Opened again for the next batch (a replaced file, a full disk that was freed).
            conn = None;
        }
        answer(result.map_err(|e| e.to_string()), batch);
    }
}

fn open(file: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(file, flags)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // The sweeper checkpoints every second from another connection, off this thread; this one
    // only if the WAL still grew past ~40 MB (sustained load never leaves it a quiet moment to
    // restart the WAL). SQLite's default, 1,000 pages, stalled a commit every few seconds.
    conn.pragma_update(None, "wal_autocheckpoint", 10_000)?;
    conn.set_prepared_statement_cache_capacity(8);
    Ok(conn)
}

const INSERT: &str = "INSERT INTO ficus_journal (txn_key, op, request_hash, route_key, upstream, state, \
     request, claim, generation, created_ms, updated_ms, lease_ms) \
     VALUES (?1, ?2, ?3, ?4, ?5, 'in_flight', ?6, ?7, ?8, ?9, ?9, ?10) ON CONFLICT (txn_key) DO NOTHING";

const FINISH: &str = "UPDATE ficus_journal SET state = 'done', response_code = ?1, reply = ?2, updated_ms = ?3 \
     WHERE txn_key = ?4 AND claim = ?5 AND state IN ('in_flight', 'unknown')";

/// One transaction: every claim, every finish, then every other statement; the outcome of
/// each, in order.
fn write(conn: &mut Connection, batch: &Batch) -> rusqlite::Result<Outcome> {
    let Batch { claims, finishes, execs } = batch;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut claimed = Vec::with_capacity(claims.len());
    if !claims.is_empty() {
        let mut insert = tx.prepare_cached(INSERT)?;
        for c in claims {
            let inserted = insert.execute(params![
                c.key,
                c.op,
                c.request_hash,
                c.route_key,
                c.upstream,
                c.request,
                c.claim,
                c.generation,
                c.now,
                c.lease_ms
            ])?;
            // Not inserted: the key is held (by an earlier batch, or earlier in this one).
            claimed.push(match inserted {
                1 => Claimed::Mine,
                _ => match held(&tx, &c.key)? {
                    Some(e) => Claimed::Existing(Box::new(e)),
                    None => Claimed::Vanished,
                },
            });
        }
    }
    let mut finished = Vec::with_capacity(finishes.len());
    if !finishes.is_empty() {
        let mut update = tx.prepare_cached(FINISH)?;
        for f in finishes {
            finished.push(update.execute(params![f.code, f.reply, f.now, f.key, f.claim])? == 1);
        }
    }
    let mut changed = Vec::with_capacity(execs.len());
    for e in execs {
        let mut statement = tx.prepare_cached(e.sql)?;
        // Bound by name: `$2` may come before `$1` in the text.
        for (i, value) in e.args.iter().enumerate() {
            let Some(at) = statement.parameter_index(&format!("${}", i + 1))? else { continue };
            match value {
                Value::Text(t) => statement.raw_bind_parameter(at, t)?,
                Value::Int(n) => statement.raw_bind_parameter(at, n)?,
            }
        }
        changed.push(statement.raw_execute()? as u64);
    }
    tx.commit()?;
    Ok((claimed, finished, changed))
}

/// The row holding `key`, as the transaction sees it.
fn held(conn: &Connection, key: &str) -> rusqlite::Result<Option<Entry>> {
    let mut read = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM ficus_journal WHERE txn_key = ?1"))?;
    read.query_row([key], |r| Ok(super::store::entry_of!(r, get))).optional()
}
