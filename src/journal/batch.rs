//! Group commit for the journal's two writes per message. Claims and finishes from every
//! message in flight queue to one writer, which writes whatever has queued — up to
//! [`MAX_BATCH`] — in one transaction: one commit (one fsync for SQLite) per batch, not per
//! message. No delay is added: while a batch commits, the next one queues, so batches grow with
//! load and a lone message is written at once. The writer is a thread of its own with prepared
//! statements for SQLite ([`super::batch_sqlite`]), a task with two array-bound statements for
//! PostgreSQL ([`super::batch_pg`]); this module is their common front and hand-back.
//!
//! Each caller gets its own answer only after the commit, so a claim is visible to every replica
//! before its write is sent (the owner-move protocol relies on that order).

use super::store::NewEntry;
use super::{Entry, StoreError};
use std::path::PathBuf;
use tokio::sync::{mpsc, oneshot};
use tracing::warn;

/// Most claims and finishes written in one transaction.
pub const MAX_BATCH: usize = 128;

/// What a claim came to.
pub enum Claimed {
    /// This claim holds the key.
    Mine,
    /// The key was held already: its row.
    Existing(Box<Entry>),
    /// The key was held, then let go before its row could be read: claim again.
    Vanished,
}

/// A claim as queued (owned copies of [`NewEntry`]).
pub(super) struct ClaimJob {
    pub(super) key: String,
    pub(super) op: String,
    pub(super) request_hash: String,
    pub(super) route_key: Option<String>,
    pub(super) upstream: String,
    pub(super) request: Vec<u8>,
    pub(super) claim: String,
    pub(super) generation: i64,
    pub(super) now: i64,
    pub(super) lease_ms: i64,
    pub(super) answer: oneshot::Sender<Result<Claimed, String>>,
}

/// A finish as queued.
pub(super) struct FinishJob {
    pub(super) key: String,
    pub(super) claim: String,
    pub(super) code: Option<String>,
    pub(super) reply: Vec<u8>,
    pub(super) now: i64,
    /// None: nobody waits (the batch logs a failure itself).
    pub(super) answer: Option<oneshot::Sender<Result<bool, String>>>,
}

pub(super) enum Job {
    Claim(ClaimJob),
    Finish(FinishJob),
    Exec(ExecJob),
}

/// A value bound to an [`ExecJob`]'s statement.
pub enum Value {
    /// TEXT.
    Text(String),
    /// BIGINT.
    Int(i64),
}

/// One more statement for the writer's next transaction (SQLite only: its one write lock
/// belongs to the writer thread, so every other write goes through it rather than waiting for
/// the lock from another connection). Parameters are `$1`, `$2`, … as in every journal query.
pub(super) struct ExecJob {
    pub(super) sql: &'static str,
    pub(super) args: Vec<Value>,
    pub(super) answer: oneshot::Sender<Result<u64, String>>,
}

/// Jobs of one batch, by kind.
#[derive(Default)]
pub(super) struct Batch {
    pub(super) claims: Vec<ClaimJob>,
    pub(super) finishes: Vec<FinishJob>,
    pub(super) execs: Vec<ExecJob>,
}

/// Where a batcher writes.
pub enum Writer {
    /// This SQLite file.
    Sqlite(PathBuf),
    /// The PostgreSQL server at this URL.
    Postgres(String),
}

/// The queue to the batching task.
pub struct Batcher {
    jobs: mpsc::Sender<Job>,
    display: String,
}

impl Batcher {
    /// Starts the writer; it ends when the batcher is dropped. SQLite is written by a thread of
    /// its own, PostgreSQL by a task; each on one connection of its own.
    pub fn start(writer: Writer, display: String) -> Result<Batcher, String> {
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        match writer {
            Writer::Sqlite(file) => super::batch_sqlite::start(file, queue)?,
            Writer::Postgres(url) => {
                tokio::spawn(super::batch_pg::run(url, queue));
            }
        }
        Ok(Batcher { jobs, display })
    }

    fn failed(&self, message: String) -> StoreError {
        StoreError::Failed { store: self.display.clone(), message }
    }

    /// Queues `job` for the writer.
    async fn queue(&self, job: Job) -> Result<(), StoreError> {
        self.jobs.send(job).await.map_err(|_| self.failed("journal writer stopped".into()))
    }

    /// Queues `job` and waits for what its batch came to, after the commit.
    async fn ask<T>(&self, job: Job, answered: oneshot::Receiver<Result<T, String>>) -> Result<T, StoreError> {
        self.queue(job).await?;
        answered.await.map_err(|_| self.failed("journal writer stopped".into()))?.map_err(|m| self.failed(m))
    }

    /// Claims `new.key` (see [`super::Store::claim`]).
    pub async fn claim(&self, new: &NewEntry<'_>) -> Result<Claimed, StoreError> {
        let (answer, answered) = oneshot::channel();
        let now = super::now_ms();
        let job = ClaimJob {
            key: new.key.to_string(),
            op: new.op.to_string(),
            request_hash: new.request_hash.to_string(),
            route_key: new.route_key.map(String::from),
            upstream: new.upstream.to_string(),
            request: new.request.to_vec(),
            claim: new.claim.to_string(),
            generation: new.generation as i64,
            now,
            lease_ms: now + new.lease.as_millis() as i64,
            answer,
        };
        self.ask(Job::Claim(job), answered).await
    }

    /// Records a claim's answer (see [`super::Store::finish`]).
    pub async fn finish(&self, key: &str, claim: &str, code: Option<&str>, reply: &[u8]) -> Result<bool, StoreError> {
        let (answer, answered) = oneshot::channel();
        self.ask(Job::Finish(FinishJob::new(key, claim, code, reply, Some(answer))), answered).await
    }

    /// Queues a claim's answer without waiting for its commit. Safe because nothing is lost by
    /// a crash before it: the row stays in flight until its lease passes, then counts as
    /// unknown, so a resend is refused (FC21), never sent again; and a resend arriving before
    /// the commit waits for the answer as for any write in flight.
    pub async fn finish_later(
        &self,
        key: &str,
        claim: &str,
        code: Option<&str>,
        reply: &[u8],
    ) -> Result<(), StoreError> {
        self.queue(Job::Finish(FinishJob::new(key, claim, code, reply, None))).await
    }

    /// Runs `sql` with `args` in the writer's next transaction; rows changed, after the commit.
    pub async fn exec(&self, sql: &'static str, args: Vec<Value>) -> Result<u64, StoreError> {
        let (answer, answered) = oneshot::channel();
        self.ask(Job::Exec(ExecJob { sql, args, answer }), answered).await
    }
}

impl FinishJob {
    fn new(
        key: &str,
        claim: &str,
        code: Option<&str>,
        reply: &[u8],
        answer: Option<oneshot::Sender<Result<bool, String>>>,
    ) -> FinishJob {
        FinishJob {
            key: key.to_string(),
            claim: claim.to_string(),
            code: code.map(String::from),
            reply: reply.to_vec(),
            now: super::now_ms(),
            answer,
        }
    }
}

/// `first` and whatever else has queued, up to [`MAX_BATCH`], by kind.
pub(super) fn gather(first: Job, queue: &mut mpsc::Receiver<Job>) -> Batch {
    let mut batch = Batch::default();
    let mut next = Some(first);
    let mut n = 0;
    while let Some(job) = next {
        match job {
            Job::Claim(c) => batch.claims.push(c),
            Job::Finish(f) => batch.finishes.push(f),
            Job::Exec(e) => batch.execs.push(e),
        }
        n += 1;
        next = match n < MAX_BATCH {
            true => queue.try_recv().ok(),
            false => None,
        };
    }
    metrics::histogram!("ficus_journal_batch_size").record(n as f64);
    batch
}

/// What a batch came to, per job in order: claims, finishes, statements.
pub(super) type Outcome = (Vec<Claimed>, Vec<bool>, Vec<u64>);

/// Tells every caller of a batch its outcome (in order), or the batch's failure.
pub(super) fn answer(result: Result<Outcome, String>, batch: Batch) {
    let Batch { claims, finishes, execs } = batch;
    match result {
        Ok((claimed, finished, changed)) => {
            for (job, n) in execs.into_iter().zip(changed) {
                let _ = job.answer.send(Ok(n));
            }
            for (job, outcome) in claims.into_iter().zip(claimed) {
                let _ = job.answer.send(Ok(outcome));
            }
            for (job, done) in finishes.into_iter().zip(finished) {
                match job.answer {
                    Some(answer) => {
                        let _ = answer.send(Ok(done));
                    }
                    None if !done => {
                        warn!(key = %job.key, "journal row changed under its claim: the reply was delivered, not recorded")
                    }
                    None => {}
                }
            }
        }
        Err(message) => {
            for job in execs {
                let _ = job.answer.send(Err(message.clone()));
            }
            for job in claims {
                let _ = job.answer.send(Err(message.clone()));
            }
            let unwaited = finishes.iter().filter(|f| f.answer.is_none()).count();
            if unwaited > 0 {
                // The replies went to their channels; the rows stay in flight until their
                // leases pass, then count as unknown: a resend is refused, never posted twice.
                warn!(error = %message, replies = unwaited, "journal store failed recording replies");
                metrics::counter!("ficus_journal_store_errors_total", "at" => "finish").increment(unwaited as u64);
            }
            for job in finishes {
                if let Some(answer) = job.answer {
                    let _ = answer.send(Err(message.clone()));
                }
            }
        }
    }
}
