//! The journal's writer over sqlx (PostgreSQL): each batch as multi-row statements in
//! power-of-two chunks (a handful of statement texts, each prepared once), one transaction.

use super::batch::{answer, chunks, gather, ClaimJob, Claimed, FinishJob, Job};
use super::store::{entry_row, Backend, COLUMNS};
use sqlx::any::AnyArguments;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Arguments, Connection, Row};
use std::collections::HashSet;
use tokio::sync::mpsc;

/// Writes batches from `queue` until every sender is gone.
pub(super) async fn run(pool: AnyPool, backend: Backend, mut queue: mpsc::Receiver<Job>) {
    // One connection writes: its statements stay prepared.
    let mut writer: Option<PoolConnection<Any>> = None;
    while let Some(first) = queue.recv().await {
        let (claims, finishes) = gather(first, &mut queue);
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
        answer(result.map_err(|e| e.to_string()), claims, finishes);
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

