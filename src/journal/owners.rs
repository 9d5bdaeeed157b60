//! The owner table: which upstream owns an account's writes during a per-account cut-over
//! (one writer per account), and the move protocol that changes it without a write landing on
//! two systems.
//!
//! A move marks the accounts `moving` (new writes for them wait), waits until no claimed write
//! for them is in flight on any replica (the journal rows, shared by every replica, say so),
//! then sets the new owner. A writer claims its journal row *before* it re-reads the owner row
//! (the gateway does: claim, then [`Store::owner`] again); a mover marks *before*
//! it counts claims. Of the two, at least one sees the other (each writes, then reads what the
//! other writes): either the writer sees `moving` and backs off, or the mover sees the claim and
//! waits for it.

use super::store::{Store, StoreError};
use sqlx::Row;
use std::time::{Duration, Instant};

/// An account's row in the owner table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    /// The account (the `owner_key` field's value).
    pub key: String,
    /// The upstream owning its writes; empty: the route decides (as before any move).
    pub upstream: String,
    /// The owner before the last move (for `--rollback`); empty or none: the route decided.
    pub previous: Option<String>,
    /// Set while a move is under way: the owner it goes to (empty: back to the route).
    pub moving_to: Option<String>,
    /// Last change (ms since the epoch).
    pub updated_ms: i64,
    /// Who changed it (the admin token's name).
    pub changed_by: String,
}

/// Where a move sends accounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MoveTo {
    /// To this upstream.
    Upstream(String),
    /// Back to the owner before the last move (`--rollback`).
    Previous,
}

/// Why a move did not happen (nothing changed then).
#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writes for the accounts were still in flight when the wait ran out.
    #[error("{in_flight} write(s) for these accounts still in flight after {waited_ms} ms; nothing moved")]
    InFlight {
        /// Writes still in flight.
        in_flight: u64,
        /// How long the move waited.
        waited_ms: u128,
    },
    /// Some of the accounts are being moved by another move right now: nothing changed.
    #[error("{} account(s) already being moved by another move (e.g. {}); nothing moved: send them again once it ends", keys.len(), keys.first().map_or("", String::as_str))]
    Busy {
        /// The accounts being moved.
        keys: Vec<String>,
    },
}

/// What a move did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MoveReport {
    /// Accounts whose owner changed.
    pub moved: usize,
    /// How long new writes for them waited (the switch), in ms.
    pub waited_ms: u128,
}

impl Store {
    /// The owner row of `key`, if any.
    pub async fn owner(&self, key: &str) -> Result<Option<Owner>, StoreError> {
        self.ready().await?;
        let row = sqlx::query(
            "SELECT owner_key, upstream, previous, moving_to, updated_ms, changed_by FROM ficus_owners \
             WHERE owner_key = $1",
        )
        .bind(key)
        .fetch_optional(self.pool().await?)
        .await
        .map_err(|e| self.sql_error(e))?;
        row.map(|r| owner(&r)).transpose().map_err(|e| self.sql_error(e))
    }

    /// How many accounts each upstream owns (rows whose owner is empty — moved back to the
    /// route — are not counted), by upstream name.
    pub async fn count_owners(&self) -> Result<Vec<(String, u64)>, StoreError> {
        self.ready().await?;
        let rows = sqlx::query(
            "SELECT upstream, COUNT(*) AS n FROM ficus_owners WHERE upstream <> '' GROUP BY upstream ORDER BY upstream",
        )
        .fetch_all(self.pool().await?)
        .await
        .map_err(|e| self.sql_error(e))?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>("upstream")?, r.try_get::<i64, _>("n")? as u64)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| self.sql_error(e))
    }

    /// Moves `keys` to `to`: marks them moving, waits (up to `wait`) until none has a write in
    /// flight, then sets the owner. On a timeout the mark is taken back and nothing changes.
    pub async fn move_owners(
        &self,
        keys: &[String],
        to: &MoveTo,
        by: &str,
        wait: Duration,
    ) -> Result<MoveReport, MoveError> {
        self.ready().await?;
        let started = Instant::now();
        self.mark_moving(keys, to, by).await?;
        let mut pause = Duration::from_millis(5);
        loop {
            let in_flight = match self.in_flight_for(keys, super::now_ms()).await {
                Ok(n) => n,
                Err(e) => {
                    let _ = self.unmark(keys).await;
                    return Err(e.into());
                }
            };
            if in_flight == 0 {
                break;
            }
            if started.elapsed() >= wait {
                self.unmark(keys).await?;
                return Err(MoveError::InFlight { in_flight, waited_ms: started.elapsed().as_millis() });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(100));
        }
        let moved = self.settle_move(keys, by, *to == MoveTo::Previous).await?;
        Ok(MoveReport { moved, waited_ms: started.elapsed().as_millis() })
    }

    /// Marks `keys` moving to `to`, all or none: an account another move has marked refuses the
    /// whole move ([`MoveError::Busy`]), so two moves never take each other's marks.
    async fn mark_moving(&self, keys: &[String], to: &MoveTo, by: &str) -> Result<(), MoveError> {
        let now = super::now_ms();
        let mut tx = self.pool().await?.begin().await.map_err(|e| self.sql_error(e))?;
        let mut busy = Vec::new();
        for key in keys {
            let marked = match to {
                // The row's lock (PostgreSQL) or the write lock (SQLite) makes the check and the
                // mark one step: of two moves racing for a row, the second finds it marked.
                MoveTo::Upstream(name) => sqlx::query(
                    "INSERT INTO ficus_owners (owner_key, upstream, previous, moving_to, updated_ms, changed_by) \
                     VALUES ($1, '', NULL, $2, $3, $4) ON CONFLICT (owner_key) DO UPDATE SET moving_to = $2, \
                     updated_ms = $3, changed_by = $4 WHERE ficus_owners.moving_to IS NULL",
                )
                .bind(key.as_str())
                .bind(name.as_str())
                .bind(now)
                .bind(by)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.sql_error(e))?
                .rows_affected(),
                // Only accounts with a move to undo; an undone move has none (rollback twice is once).
                MoveTo::Previous => {
                    // Write first: a transaction that reads, then writes, is refused by SQLite in
                    // WAL mode when another writer committed in between (SQLITE_BUSY_SNAPSHOT).
                    let undone = sqlx::query(
                        "UPDATE ficus_owners SET moving_to = previous, updated_ms = $1, changed_by = $2 \
                         WHERE owner_key = $3 AND previous IS NOT NULL AND moving_to IS NULL",
                    )
                    .bind(now)
                    .bind(by)
                    .bind(key.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| self.sql_error(e))?
                    .rows_affected();
                    let moving = sqlx::query(
                        "SELECT owner_key FROM ficus_owners WHERE owner_key = $1 AND moving_to IS NOT NULL",
                    )
                    .bind(key.as_str())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(|e| self.sql_error(e))?;
                    // Not undone, yet marked: another move has it. (Nothing to undo is no error.)
                    u64::from(undone == 1 || moving.is_none())
                }
            };
            if marked == 0 {
                busy.push(key.clone());
            }
        }
        if !busy.is_empty() {
            tx.rollback().await.map_err(|e| self.sql_error(e))?;
            return Err(MoveError::Busy { keys: busy });
        }
        tx.commit().await.map_err(|e| self.sql_error(e))?;
        Ok(())
    }

    async fn unmark(&self, keys: &[String]) -> Result<(), StoreError> {
        let mut tx = self.pool().await?.begin().await.map_err(|e| self.sql_error(e))?;
        for key in keys {
            sqlx::query("UPDATE ficus_owners SET moving_to = NULL WHERE owner_key = $1")
                .bind(key.as_str())
                .execute(&mut *tx)
                .await
                .map_err(|e| self.sql_error(e))?;
        }
        tx.commit().await.map_err(|e| self.sql_error(e))
    }

    /// Sets the owners marked moving. A move keeps where each account was (unless it was already
    /// there), for `--rollback`; a rollback forgets it, so a second rollback changes nothing.
    async fn settle_move(&self, keys: &[String], by: &str, rollback: bool) -> Result<usize, StoreError> {
        let now = super::now_ms();
        let mut moved = 0;
        let mut tx = self.pool().await?.begin().await.map_err(|e| self.sql_error(e))?;
        let sql = if rollback {
            "UPDATE ficus_owners SET previous = NULL, upstream = moving_to, moving_to = NULL, updated_ms = $1, \
             changed_by = $2 WHERE owner_key = $3 AND moving_to IS NOT NULL"
        } else {
            "UPDATE ficus_owners SET previous = CASE WHEN upstream = moving_to THEN previous ELSE upstream END, \
             upstream = moving_to, moving_to = NULL, updated_ms = $1, changed_by = $2 WHERE owner_key = $3 AND \
             moving_to IS NOT NULL"
        };
        for key in keys {
            let done = sqlx::query(sql)
                .bind(now)
                .bind(by)
                .bind(key.as_str())
                .execute(&mut *tx)
                .await
                .map_err(|e| self.sql_error(e))?;
            moved += done.rows_affected() as usize;
        }
        tx.commit().await.map_err(|e| self.sql_error(e))?;
        Ok(moved)
    }
}

fn owner(r: &sqlx::any::AnyRow) -> Result<Owner, sqlx::Error> {
    Ok(Owner {
        key: r.try_get("owner_key")?,
        upstream: r.try_get("upstream")?,
        previous: r.try_get("previous")?,
        moving_to: r.try_get("moving_to")?,
        updated_ms: r.try_get("updated_ms")?,
        changed_by: r.try_get("changed_by")?,
    })
}
