//! Group commit for the journal's two writes per message. Claims and finishes from every
//! message in flight queue to one task, which writes whatever has queued — up to [`MAX_BATCH`] —
//! as one multi-row `INSERT … ON CONFLICT DO NOTHING RETURNING` and one `UPDATE … FROM (VALUES
//! …)`, in one transaction: one commit (one fsync for SQLite) per batch, not per message. No
//! delay is added: while a batch commits, the next one queues, so batches grow with load and a
//! lone message is written at once.
//!
//! Each caller gets its own answer only after the commit, so a claim is visible to every replica
//! before its write is sent (the owner-move protocol relies on that order).

use super::store::{entry_row, Backend, NewEntry, COLUMNS};
use super::{Entry, StoreError};
use sqlx::any::AnyArguments;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Arguments, Connection, Row};
use std::collections::HashSet;
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
    /// None: nobody waits (the batch logs a failure itself).
    answer: Option<oneshot::Sender<Result<bool, String>>>,
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
    pub fn start(pool: AnyPool, backend: Backend, display: String) -> Batcher {
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(pool, backend, queue));
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
            answer: Some(answer),
        };
        self.jobs.send(Job::Finish(job)).await.map_err(|_| self.failed("journal writer stopped".into()))?;
        answered.await.map_err(|_| self.failed("journal writer stopped".into()))?.map_err(|m| self.failed(m))
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
        let job = FinishJob {
            key: key.to_string(),
            claim: claim.to_string(),
            code: code.map(String::from),
            reply: reply.to_vec(),
            now: super::now_ms(),
            answer: None,
        };
        self.jobs.send(Job::Finish(job)).await.map_err(|_| self.failed("journal writer stopped".into()))
    }
}

async fn run(pool: AnyPool, backend: Backend, mut queue: mpsc::Receiver<Job>) {
    // One connection writes: its page cache stays warm (SQLite), its statements stay prepared.
    let mut writer: Option<PoolConnection<Any>> = None;
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
        let result = async {
            if writer.is_none() {
                writer = Some(pool.acquire().await?);
            }
            let conn = writer.as_mut().expect("acquired above");
            write(conn, backend, &claims, &finishes).await
        }
        .await;
        if result.is_err() {
            // A broken connection is not reused; the next batch takes another.
            writer = None;
        }
        match result {
            Ok((claimed, finished)) => {
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
            Err(e) => {
                let message = e.to_string();
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
}

/// Placeholder `n` (1-based) of a statement: `?` for SQLite (bound in order, no name to look
/// up per value), `$n` for PostgreSQL.
fn mark(backend: Backend, n: usize) -> String {
    match backend {
        Backend::Sqlite => "?".into(),
        Backend::Postgres => format!("${n}"),
    }
}

/// `items` in power-of-two chunks, largest first (37 → 32, 4, 1): a statement for each comes
/// from a handful of texts, so each is prepared once and reused.
fn chunks<T>(items: &[T]) -> impl Iterator<Item = &[T]> {
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let size = 1 << (usize::BITS - 1 - rest.len().leading_zeros());
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        Some(chunk)
    })
}

/// One transaction: every claim, then every finish; the outcome of each, in order.
async fn write(
    conn: &mut AnyConnection,
    backend: Backend,
    claims: &[ClaimJob],
    finishes: &[FinishJob],
) -> Result<(Vec<Claimed>, Vec<bool>), sqlx::Error> {
    let mut tx = conn.begin().await?;
    let mut won: HashSet<(String, String)> = HashSet::new();
    for chunk in chunks(claims) {
        let size = chunk.len();
        let mut args = AnyArguments::default();
        let mut rows = Vec::with_capacity(size);
        for (i, c) in chunk.iter().enumerate() {
            let m = |k: usize| mark(backend, i * 11 + k);
            rows.push(format!(
                "({}, {}, {}, {}, {}, 'in_flight', NULL, {}, NULL, {}, {}, {}, {}, {})",
                m(1),
                m(2),
                m(3),
                m(4),
                m(5),
                m(6),
                m(7),
                m(8),
                m(9),
                m(10),
                m(11)
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
            "INSERT INTO ficus_journal ({COLUMNS}) VALUES {} ON CONFLICT (txn_key) DO NOTHING",
            rows.join(", ")
        );
        let inserted = sqlx::query_with(&sql, args).execute(&mut *tx).await?.rows_affected();
        if inserted as usize == size {
            // The common case: every key was new (no duplicate, no race), nothing to read back.
            won.extend(chunk.iter().map(|c| (c.key.clone(), c.claim.clone())));
        } else {
            // Some keys were held: which claims won is in the rows (same transaction).
            let marks: Vec<String> = (1..=size).map(|i| mark(backend, i)).collect();
            let sql = format!("SELECT txn_key, claim FROM ficus_journal WHERE txn_key IN ({})", marks.join(", "));
            let mut q = sqlx::query(&sql);
            for c in chunk {
                q = q.bind(c.key.as_str());
            }
            for r in q.fetch_all(&mut *tx).await? {
                won.insert((r.try_get("txn_key")?, r.try_get("claim")?));
            }
        }
    }
    let lost: Vec<&str> =
        claims.iter().filter(|c| !won.contains(&(c.key.clone(), c.claim.clone()))).map(|c| c.key.as_str()).collect();
    let mut held = Vec::new();
    if !lost.is_empty() {
        let marks: Vec<String> = (1..=lost.len()).map(|i| mark(backend, i)).collect();
        let sql = format!("SELECT {COLUMNS} FROM ficus_journal WHERE txn_key IN ({})", marks.join(", "));
        let mut q = sqlx::query(&sql);
        for k in &lost {
            q = q.bind(*k);
        }
        held = q.fetch_all(&mut *tx).await?.iter().map(entry_row).collect::<Result<Vec<_>, _>>()?;
    }
    let claimed = claims
        .iter()
        .map(|c| {
            if won.contains(&(c.key.clone(), c.claim.clone())) {
                Claimed::Mine
            } else {
                match held.iter().find(|e| e.key == c.key) {
                    Some(e) => Claimed::Existing(Box::new(e.clone())),
                    None => Claimed::Vanished,
                }
            }
        })
        .collect();
    let mut done: HashSet<String> = HashSet::new();
    for chunk in chunks(finishes) {
        let size = chunk.len();
        let mut args = AnyArguments::default();
        let mut rows = Vec::with_capacity(size);
        for (i, f) in chunk.iter().enumerate() {
            let m = |k: usize| mark(backend, i * 5 + k);
            rows.push(format!("({}, {}, {}, {}, {})", m(1), m(2), m(3), m(4), m(5)));
            bind(&mut args, f.key.clone())?;
            bind(&mut args, f.claim.clone())?;
            bind(&mut args, f.code.clone())?;
            bind(&mut args, f.reply.clone())?;
            bind(&mut args, f.now)?;
        }
        let sql = format!(
            "WITH v (txn_key, claim, code, reply, at) AS (VALUES {}) UPDATE ficus_journal SET state = 'done', \
             response_code = v.code, reply = v.reply, updated_ms = v.at FROM v WHERE ficus_journal.txn_key = \
             v.txn_key AND ficus_journal.claim = v.claim AND ficus_journal.state IN ('in_flight', 'unknown')",
            rows.join(", ")
        );
        let updated = sqlx::query_with(&sql, args).execute(&mut *tx).await?.rows_affected();
        if updated as usize == size {
            done.extend(chunk.iter().map(|f| f.key.clone()));
        } else {
            // Some claim changed under it (rare): which rows are done now, by their claims.
            for f in chunk {
                let row = sqlx::query(&format!(
                    "SELECT txn_key FROM ficus_journal WHERE txn_key = {} AND claim = {} AND state = 'done'",
                    mark(backend, 1),
                    mark(backend, 2)
                ))
                .bind(f.key.as_str())
                .bind(f.claim.as_str())
                .fetch_optional(&mut *tx)
                .await?;
                if row.is_some() {
                    done.insert(f.key.clone());
                }
            }
        }
    }
    let finished = finishes.iter().map(|f| done.contains(&f.key)).collect();
    tx.commit().await?;
    Ok((claimed, finished))
}

fn bind<'q, T>(args: &mut AnyArguments<'q>, value: T) -> Result<(), sqlx::Error>
where
    T: 'q + sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    args.add(value).map_err(sqlx::Error::Encode)
}

#[cfg(test)]
mod tests {
    #[test]
    fn chunks_are_powers_of_two_largest_first_and_cover_everything() {
        for n in 0..300usize {
            let items: Vec<usize> = (0..n).collect();
            let parts: Vec<&[usize]> = super::chunks(&items).collect();
            assert!(parts.iter().all(|p| p.len().is_power_of_two()), "{n}");
            assert!(parts.windows(2).all(|w| w[0].len() > w[1].len()), "{n}");
            assert_eq!(parts.concat(), items, "{n}");
        }
    }
}
