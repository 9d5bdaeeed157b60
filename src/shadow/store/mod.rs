//! Comparison records and captures kept in PostgreSQL (`[shadow] records = "postgres"`), so that
//! every replica of a fleet writes to one place: `ficus shadow report --store`, `GET /shadow`
//! and `ficus replay` then see every replica's traffic.
//!
//! The message path only hands a row over ([`StoreWriter::write`]: a `try_send` on a bounded
//! queue, never a wait); a thread of its own (with a one-thread tokio runtime and one
//! connection, apart from the journal's pool, so a slow records store never takes a
//! connection a journaled write needs) writes everything queued as one multi-row `INSERT …
//! SELECT FROM unnest(…)` per batch. A full queue, a store that is down or a batch that fails
//! drops those rows: counted per kind (`ficus_records_dropped_total{file="postgres:…"}` and
//! [`Counters`], shown by `GET /shadow`) and logged, never retried, never waited for.
//!
//! Not here: the JSON Lines files (`record`), the summaries (`report`, `stats`).

mod pg;
mod stream;
mod summary;

use super::capture::CaptureRecord;
use super::record::{Recorder, ShadowRecord};
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

pub use pg::{read_captures, read_records, Loaded, READ_LIMIT};
pub use stream::{report, StoreReport};
pub use summary::{fleet_json, fleet_json_of, stats_of, writer_json as summary_writer_json};

/// The `[shadow] records` value that sends records and captures to the journal's PostgreSQL store.
pub const RECORDS_POSTGRES: &str = "postgres";

/// Rows queued for the writer at most; beyond it rows are dropped (counted), never waited for.
pub const QUEUE: usize = 8192;

/// Rows written in one statement at most.
pub const MAX_BATCH: usize = 2000;

/// What a row is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A comparison record ([`ShadowRecord`]).
    Comparison,
    /// A captured exchange ([`CaptureRecord`]).
    Capture,
}

impl Kind {
    /// The word stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Comparison => "comparison",
            Kind::Capture => "capture",
        }
    }

    fn index(self) -> usize {
        match self {
            Kind::Comparison => 0,
            Kind::Capture => 1,
        }
    }
}

/// A record the store can keep: its time and operation go into columns of their own.
pub trait StoreRow: Serialize {
    /// Unix seconds.
    fn time(&self) -> f64;
    /// The operation.
    fn op(&self) -> &str;
}

impl StoreRow for ShadowRecord {
    fn time(&self) -> f64 {
        self.time
    }
    fn op(&self) -> &str {
        &self.op
    }
}

impl StoreRow for CaptureRecord {
    fn time(&self) -> f64 {
        self.time
    }
    fn op(&self) -> &str {
        &self.op
    }
}

/// One row on its way.
struct Row {
    kind: Kind,
    time: f64,
    op: String,
    body: String,
}

/// Rows written and dropped since start, per kind, and the last failure.
#[derive(Default)]
pub struct Counters {
    written: [AtomicU64; 2],
    dropped: [AtomicU64; 2],
    last_error: Mutex<Option<String>>,
    /// Rows handed to the writer, and of those, written or dropped by it (for [`StoreWriter::flush`]).
    queued: AtomicU64,
    settled: AtomicU64,
    /// Set at the first row dropped at a full queue (logged once), cleared by a batch written.
    queue_full: std::sync::atomic::AtomicBool,
    batch_done: tokio::sync::Notify,
}

impl Counters {
    /// Rows of `kind` written to the store.
    pub fn written(&self, kind: Kind) -> u64 {
        self.written[kind.index()].load(Ordering::Relaxed)
    }

    /// Rows of `kind` dropped (queue full, store down or refusing).
    pub fn dropped(&self, kind: Kind) -> u64 {
        self.dropped[kind.index()].load(Ordering::Relaxed)
    }

    /// Why the last batch failed, if the last batch failed.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|e| e.clone())
    }

    fn set_error(&self, error: Option<String>) {
        if let Ok(mut last) = self.last_error.lock() {
            *last = error;
        }
    }

    fn drop_rows(&self, kind: Kind, n: u64) {
        self.dropped[kind.index()].fetch_add(n, Ordering::Relaxed);
        metrics::counter!("ficus_records_dropped_total", "file" => format!("postgres:{}", kind.as_str())).increment(n);
    }
}

/// The writer of one replica's rows to the store.
pub struct StoreWriter {
    tx: mpsc::Sender<Row>,
    counters: Arc<Counters>,
    url: String,
    display: String,
    replica: String,
}

impl StoreWriter {
    /// Starts the writer thread for the store at `url` (`display`: the same without a
    /// password). Connects at once (creating the table), and again after a failed batch. Rows
    /// older than `retention` (the journal's `retention_hours`) are deleted now and then.
    pub fn start(url: &str, display: &str, retention: std::time::Duration) -> std::io::Result<Arc<StoreWriter>> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let counters = Arc::new(Counters::default());
        let replica = replica_name();
        let job = pg::Job { url: url.to_string(), display: display.to_string(), replica: replica.clone(), retention };
        let c = counters.clone();
        std::thread::Builder::new().name("ficus-records-pg".into()).spawn(move || {
            match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt.block_on(pg::run(job, rx, c)),
                Err(e) => tracing::error!(error = %e, "records writer: no runtime; records are dropped"),
            }
        })?;
        Ok(Arc::new(StoreWriter { tx, counters, url: url.to_string(), display: display.to_string(), replica }))
    }

    /// Queues one row; false if it was dropped (the queue is [`QUEUE`] rows behind).
    pub fn write<T: StoreRow>(&self, kind: Kind, record: &T) -> bool {
        let Ok(body) = serde_json::to_string(record) else { return false };
        let row = Row { kind, time: record.time(), op: record.op().to_string(), body };
        if self.tx.try_send(row).is_err() {
            self.counters.drop_rows(kind, 1);
            if !self.counters.queue_full.swap(true, Ordering::Relaxed) {
                // Once until a batch is written again: a full queue is a store not keeping up.
                tracing::warn!(store = %self.display, queue = QUEUE, "records queue full: the store is not keeping up (slow, hung or down); records are dropped and counted until a batch is written");
                if self.counters.last_error().is_none() {
                    self.counters.set_error(Some(format!(
                        "queue of {QUEUE} rows full: the store is not keeping up; records dropped"
                    )));
                }
            }
            return false;
        }
        self.counters.queued.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Waits until every row handed over so far is written or dropped, at most `wait`: a
    /// replica that stops (a rolling update) leaves its last records in the store, not in its
    /// queue. False if rows were still queued when the time was up (they are lost with the
    /// process).
    pub async fn flush(&self, wait: std::time::Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Made before the check: a batch finishing in between still wakes it.
            let done = self.counters.batch_done.notified();
            let (queued, settled) =
                (self.counters.queued.load(Ordering::Relaxed), self.counters.settled.load(Ordering::Relaxed));
            if settled >= queued {
                return true;
            }
            if tokio::time::timeout_at(deadline, done).await.is_err() {
                tracing::warn!(store = %self.display, rows = queued - settled, "records still queued at stop: not written");
                return false;
            }
        }
    }

    /// Rows written and dropped.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The store's URL as configured (with any password: not for messages).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The store, without a password.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// This replica's name as its rows carry it.
    pub fn replica(&self) -> &str {
        &self.replica
    }
}

/// Where one kind of row goes: a JSON Lines file, or the store.
pub enum Sink {
    /// `shadow.jsonl` / `capture.jsonl` in the records directory.
    File(Recorder),
    /// The shared PostgreSQL store.
    Store(Arc<StoreWriter>, Kind),
}

impl Sink {
    /// Hands one record over; false if it was dropped (counted either way).
    pub fn write<T: StoreRow>(&self, record: &T) -> bool {
        match self {
            Sink::File(r) => r.write(record),
            Sink::Store(w, kind) => w.write(*kind, record),
        }
    }

    /// The store's writer, when rows go to the store.
    pub fn store(&self) -> Option<&Arc<StoreWriter>> {
        match self {
            Sink::Store(w, _) => Some(w),
            Sink::File(_) => None,
        }
    }
}

/// This replica's name: `HOSTNAME` (a pod's name in Kubernetes; else /etc/hostname) and the
/// process id, as `host:pid` — replicas on one machine share a host name.
pub fn replica_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "-".into());
    format!("{host}:{}", std::process::id())
}

/// Whether `arg` names a PostgreSQL store rather than a file.
pub fn is_store_url(arg: &str) -> bool {
    arg.starts_with("postgres://") || arg.starts_with("postgresql://")
}

pub use crate::journal::store::without_password;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_url_is_told_from_a_file_and_shown_without_its_password() {
        assert!(is_store_url("postgres://u@h/db") && is_store_url("postgresql://u@h/db"));
        assert!(!is_store_url("shadow/capture.jsonl") && !is_store_url("postgres"));
        assert_eq!(without_password("postgres://u:pw@h:5432/db"), "postgres://u@h:5432/db");
        assert_eq!(without_password("postgres://h/db"), "postgres://h/db");
        assert_eq!(
            without_password("postgres://u@h/db?sslmode=disable&password=s3cret&PGPASSWORD=x"),
            "postgres://u@h/db?sslmode=disable&password=***&PGPASSWORD=***"
        );
        assert_eq!(without_password("postgres://u:pw@h?password=s3cret"), "postgres://u@h?password=***");
    }

    #[test]
    fn no_password_is_ever_shown() {
        // Randomized, with a fixed seed: users, passwords and hosts from a mixed alphabet.
        let alphabet: Vec<char> = "aZ9_-.%!가é".chars().collect();
        let mut seed = 19u64;
        let mut word = |len: usize| -> String {
            (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    alphabet[(seed >> 33) as usize % alphabet.len()]
                })
                .collect()
        };
        for n in 0..2000 {
            let (user, secret, host) =
                (word(1 + n % 5), format!("S{}@{}", word(1 + n % 7), word(n % 3)), word(1 + n % 4));
            let url = format!("postgres://{user}:{secret}@{host}:5432/db");
            let shown = without_password(&url);
            assert_eq!(shown, format!("postgres://{user}@{host}:5432/db"), "{url}");
            let query = format!("postgres://{user}@{host}:5432/db?application_name=x&password={secret}");
            assert!(!without_password(&query).contains(&secret), "{query}");
            assert!(shown.ends_with(&format!("@{host}:5432/db")) && is_store_url(&shown), "{shown}");
        }
    }

    #[tokio::test]
    async fn flush_says_whether_everything_handed_over_was_settled() {
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("postgres://ficus@{}/none", silent.local_addr().unwrap());
        let w = StoreWriter::start(&url, &url, std::time::Duration::from_secs(3600)).unwrap();
        assert!(w.flush(std::time::Duration::ZERO).await, "nothing handed over: nothing to wait for");
        let r = CaptureRecord::new("ACCTINQ", Some("1"), "legacy", 1, b"AB", b"CD");
        assert!(w.write(Kind::Capture, &r));
        // The writer is still connecting to a store that never answers: the row is not settled.
        assert!(!w.flush(std::time::Duration::from_millis(20)).await);
    }

    #[test]
    fn a_full_queue_drops_and_counts_and_never_waits() {
        // A store that takes connections and never answers: the writer waits on it (up to its
        // connect timeout), the queue fills meanwhile, and the rest are dropped and counted.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("postgres://ficus@{}/none", silent.local_addr().unwrap());
        let w = StoreWriter::start(&url, &url, std::time::Duration::from_secs(3600)).unwrap();
        let r = CaptureRecord::new("ACCTINQ", Some("1"), "legacy", 1, b"AB", b"CD");
        let kept = (0..QUEUE * 2).filter(|_| w.write(Kind::Capture, &r)).count();
        assert!(kept < QUEUE * 2, "a full queue drops: {kept} of {} kept", QUEUE * 2);
        assert!(w.counters().dropped(Kind::Capture) >= (QUEUE * 2 - kept) as u64, "every drop counted");
        assert_eq!(w.counters().dropped(Kind::Comparison), 0);
        assert_eq!(w.counters().written(Kind::Capture), 0);
        assert!(replica_name().ends_with(&format!(":{}", std::process::id())));
    }
}
