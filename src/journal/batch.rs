//! Group commit for the journal's two writes per message. Claims and finishes from every
//! message in flight queue to one task, which writes whatever has queued — up to [`MAX_BATCH`] —
//! as one multi-row `INSERT … ON CONFLICT DO NOTHING RETURNING` and one `UPDATE … FROM (VALUES
//! …)`, in one transaction: one commit (one fsync for SQLite) per batch, not per message. No
//! delay is added: while a batch commits, the next one queues, so batches grow with load and a
//! lone message is written at once.
//!
//! Each caller gets its own answer only after the commit, so a claim is visible to every replica
//! before its write is sent (the owner-move protocol relies on that order).

use super::store::{entry_row, NewEntry, COLUMNS};
use super::{Entry, StoreError};
use sqlx::any::AnyArguments;
use sqlx::{AnyPool, Arguments, Row};
use std::collections::HashSet;
use tokio::sync::{mpsc, oneshot};

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
struct ClaimJob {
    key: String,
    op: String,
    request_hash: String,
    route_key: Option<String>,
    upstream: String,
    request: Vec<u8>,
    claim: String,
    generation: i64,
    now: i64,
    lease_ms: i64,
    answer: oneshot::Sender<Result<Claimed, String>>,
}

/// A finish as queued.
struct FinishJob {
    key: String,
    claim: String,
    code: Option<String>,
    reply: Vec<u8>,
    now: i64,
    answer: oneshot::Sender<Result<bool, String>>,
}

enum Job {
    Claim(ClaimJob),
    Finish(FinishJob),
}

/// The queue to the batching task.
pub struct Batcher {
    jobs: mpsc::Sender<Job>,
    display: String,
}

impl Batcher {
    /// Starts the task writing to `pool`; it ends when the batcher is dropped.
    pub fn start(pool: AnyPool, display: String) -> Batcher {
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(pool, queue));
        Batcher { jobs, display }
    }

    fn failed(&self, message: String) -> StoreError {
        StoreError::Failed { store: self.display.clone(), message }
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
        self.jobs.send(Job::Claim(job)).await.map_err(|_| self.failed("journal writer stopped".into()))?;
        answered.await.map_err(|_| self.failed("journal writer stopped".into()))?.map_err(|m| self.failed(m))
    }

    /// Records a claim's answer (see [`super::Store::finish`]).
    pub async fn finish(&self, key: &str, claim: &str, code: Option<&str>, reply: &[u8]) -> Result<bool, StoreError> {
        let (answer, answered) = oneshot::channel();
        let job = FinishJob {
            key: key.to_string(),
            claim: claim.to_string(),
            code: code.map(String::from),
            reply: reply.to_vec(),
            now: super::now_ms(),
            answer,
        };
        self.jobs.send(Job::Finish(job)).await.map_err(|_| self.failed("journal writer stopped".into()))?;
        answered.await.map_err(|_| self.failed("journal writer stopped".into()))?.map_err(|m| self.failed(m))
    }
}

async fn run(pool: AnyPool, mut queue: mpsc::Receiver<Job>) {
    while let Some(first) = queue.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let (mut claims, mut finishes) = (Vec::new(), Vec::new());
        for job in jobs {
            match job {
                Job::Claim(c) => claims.push(c),
                Job::Finish(f) => finishes.push(f),
            }
        }
        metrics::histogram!("ficus_journal_batch_size").record((claims.len() + finishes.len()) as f64);
        match write(&pool, &claims, &finishes).await {
            Ok((claimed, finished)) => {
                for (job, outcome) in claims.into_iter().zip(claimed) {
                    let _ = job.answer.send(Ok(outcome));
                }
                for (job, done) in finishes.into_iter().zip(finished) {
                    let _ = job.answer.send(Ok(done));
                }
            }
            Err(e) => {
                let message = e.to_string();
                for job in claims {
                    let _ = job.answer.send(Err(message.clone()));
                }
                for job in finishes {
                    let _ = job.answer.send(Err(message.clone()));
                }
            }
        }
    }
}

/// One transaction: every claim, then every finish; the outcome of each, in order.
async fn write(
    pool: &AnyPool,
    claims: &[ClaimJob],
    finishes: &[FinishJob],
) -> Result<(Vec<Claimed>, Vec<bool>), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut claimed = Vec::with_capacity(claims.len());
    if !claims.is_empty() {
        let mut args = AnyArguments::default();
        let mut rows = Vec::with_capacity(claims.len());
        for (i, c) in claims.iter().enumerate() {
            let p = i * 11;
            rows.push(format!(
                "(${}, ${}, ${}, ${}, ${}, 'in_flight', NULL, ${}, NULL, ${}, ${}, ${}, ${}, ${})",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6,
                p + 7,
                p + 8,
                p + 9,
                p + 10,
                p + 11
            ));
            bind(&mut args, c.key.clone())?;
            bind(&mut args, c.op.clone())?;
            bind(&mut args, c.request_hash.clone())?;
            bind(&mut args, c.route_key.clone())?;
            bind(&mut args, c.upstream.clone())?;
            bind(&mut args, c.request.clone())?;
            bind(&mut args, c.claim.clone())?;
            bind(&mut args, c.generation)?;
            bind(&mut args, c.now)?;
            bind(&mut args, c.now)?;
            bind(&mut args, c.lease_ms)?;
        }
        let sql = format!(
            "INSERT INTO ficus_journal ({COLUMNS}) VALUES {} ON CONFLICT (txn_key) DO NOTHING RETURNING txn_key, claim",
            rows.join(", ")
        );
        let won: HashSet<(String, String)> = sqlx::query_with(&sql, args)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("txn_key")?, r.try_get("claim")?)))
            .collect::<Result<_, sqlx::Error>>()?;
        let lost: Vec<&str> = claims
            .iter()
            .filter(|c| !won.contains(&(c.key.clone(), c.claim.clone())))
            .map(|c| c.key.as_str())
            .collect();
        let mut held = Vec::new();
        if !lost.is_empty() {
            let marks: Vec<String> = (1..=lost.len()).map(|i| format!("${i}")).collect();
            let sql = format!("SELECT {COLUMNS} FROM ficus_journal WHERE txn_key IN ({})", marks.join(", "));
            let mut q = sqlx::query(&sql);
            for k in &lost {
                q = q.bind(*k);
            }
            held = q.fetch_all(&mut *tx).await?.iter().map(entry_row).collect::<Result<Vec<_>, _>>()?;
        }
        for c in claims {
            if won.contains(&(c.key.clone(), c.claim.clone())) {
                claimed.push(Claimed::Mine);
            } else {
                match held.iter().find(|e| e.key == c.key) {
                    Some(e) => claimed.push(Claimed::Existing(Box::new(e.clone()))),
                    None => claimed.push(Claimed::Vanished),
                }
            }
        }
    }
    let mut finished = Vec::with_capacity(finishes.len());
    if !finishes.is_empty() {
        let mut args = AnyArguments::default();
        let mut rows = Vec::with_capacity(finishes.len());
        for (i, f) in finishes.iter().enumerate() {
            let p = i * 5;
            rows.push(format!("(${}, ${}, ${}, ${}, ${})", p + 1, p + 2, p + 3, p + 4, p + 5));
            bind(&mut args, f.key.clone())?;
            bind(&mut args, f.claim.clone())?;
            bind(&mut args, f.code.clone())?;
            bind(&mut args, f.reply.clone())?;
            bind(&mut args, f.now)?;
        }
        let sql = format!(
            "WITH v (txn_key, claim, code, reply, at) AS (VALUES {}) UPDATE ficus_journal SET state = 'done', \
             response_code = v.code, reply = v.reply, updated_ms = v.at FROM v WHERE ficus_journal.txn_key = \
             v.txn_key AND ficus_journal.claim = v.claim AND ficus_journal.state IN ('in_flight', 'unknown') \
             RETURNING ficus_journal.txn_key",
            rows.join(", ")
        );
        let done: HashSet<String> = sqlx::query_with(&sql, args)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get("txn_key"))
            .collect::<Result<_, _>>()?;
        finished.extend(finishes.iter().map(|f| done.contains(&f.key)));
    }
    tx.commit().await?;
    Ok((claimed, finished))
}

fn bind<'q, T>(args: &mut AnyArguments<'q>, value: T) -> Result<(), sqlx::Error>
where
    T: 'q + sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    args.add(value).map_err(sqlx::Error::Encode)
}
