//! The journal's reads and housekeeping, beside the write path in [`super::store`]: leases
//! that passed, unknown outcomes for reconciliation, a day's rows for the summary, retention,
//! an operator's `forget`, and the writes in flight for accounts an owner move waits on.

use super::batch::Value;
use super::store::{entry_row, Entry, Store, StoreError, COLUMNS};
use sqlx::Row;

impl Store {
    /// SQLite: copies the WAL's committed pages into the database file, from a pooled
    /// connection, so the writer thread's commits do not stall for it (mode PASSIVE: it neither
    /// waits for nor blocks the writer; SQLite, "PRAGMA wal_checkpoint"). Nothing on PostgreSQL.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        if self.backend() != super::store::Backend::Sqlite {
            return Ok(());
        }
        self.ready().await?;
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(self.pool().await?)
            .await
            .map_err(|e| self.sql_error(e))?;
        Ok(())
    }

    /// Turns every `in_flight` row whose lease passed into `unknown`; returns how many.
    pub async fn expire(&self, now: i64) -> Result<u64, StoreError> {
        self.ready().await?;
        let sql = "UPDATE ficus_journal SET state = 'unknown', updated_ms = $1 WHERE state <> 'done' AND state = \
                   'in_flight' AND lease_ms < $2";
        self.write(sql, vec![Value::Int(now), Value::Int(now)]).await
    }

    /// Rows whose outcome is unknown at `now` (expired leases included), oldest first.
    pub async fn unknown(&self, now: i64, limit: i64) -> Result<Vec<Entry>, StoreError> {
        self.ready().await?;
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM ficus_journal WHERE state <> 'done' AND (state = 'unknown' OR (state = 'in_flight' \
             AND lease_ms < $1)) \
             ORDER BY created_ms LIMIT $2"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool().await?)
        .await
        .map_err(|e| self.sql_error(e))?;
        rows.iter().map(entry_row).collect::<Result<_, _>>().map_err(|e| self.sql_error(e))
    }

    /// How many rows have an unknown outcome at `now`.
    pub async fn count_unknown(&self, now: i64) -> Result<u64, StoreError> {
        self.ready().await?;
        let n: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM ficus_journal WHERE state <> 'done' AND (state = 'unknown' OR (state = \
             'in_flight' AND lease_ms < $1))",
        )
        .bind(now)
        .fetch_one(self.pool().await?)
        .await
        .and_then(|r| r.try_get::<i64, _>("n"))
        .map_err(|e| self.sql_error(e))?;
        Ok(n as u64)
    }

    /// Rows claimed in `[from_ms, to_ms)`, for reconciliation, oldest first.
    pub async fn between(&self, from_ms: i64, to_ms: i64) -> Result<Vec<Entry>, StoreError> {
        self.ready().await?;
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM ficus_journal WHERE created_ms >= $1 AND created_ms < $2 ORDER BY created_ms"
        ))
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(self.pool().await?)
        .await
        .map_err(|e| self.sql_error(e))?;
        rows.iter().map(entry_row).collect::<Result<_, _>>().map_err(|e| self.sql_error(e))
    }

    /// Deletes rows claimed before `before_ms`, except those whose outcome is unknown (they
    /// stay until reconciled); returns how many went.
    pub async fn purge(&self, before_ms: i64) -> Result<u64, StoreError> {
        let sql = "DELETE FROM ficus_journal WHERE created_ms < $1 AND state = 'done'";
        self.write(sql, vec![Value::Int(before_ms)]).await
    }

    /// Deletes the row of `key` once an operator has reconciled it (`ficus journal forget`):
    /// the channel may then send the transaction again. Only `unknown` rows (or expired leases).
    pub async fn forget(&self, key: &str, now: i64) -> Result<bool, StoreError> {
        self.ready().await?;
        let sql = "DELETE FROM ficus_journal WHERE txn_key = $1 AND (state = 'unknown' OR (state = 'in_flight' \
                   AND lease_ms < $2))";
        Ok(self.write(sql, vec![Value::Text(key.into()), Value::Int(now)]).await? == 1)
    }

    /// Writes in flight (lease not passed) for any of `route_keys` (accounts).
    pub async fn in_flight_for(&self, route_keys: &[String], now: i64) -> Result<u64, StoreError> {
        let mut total = 0;
        for chunk in route_keys.chunks(500) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT COUNT(*) AS n FROM ficus_journal WHERE route_key IS NOT NULL AND state = 'in_flight' AND lease_ms \
                 >= $1 AND route_key IN \
                 ({})",
                marks.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(now);
            for k in chunk {
                q = q.bind(k.as_str());
            }
            let n: i64 = q
                .fetch_one(self.pool().await?)
                .await
                .and_then(|r| r.try_get::<i64, _>("n"))
                .map_err(|e| self.sql_error(e))?;
            total += n as u64;
        }
        Ok(total)
    }
}
