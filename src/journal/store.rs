//! The journal store: SQLite (embedded) or PostgreSQL (shared by replicas) through sqlx's `Any`
//! driver, one SQL dialect. The pool connects lazily, so a table is built without I/O; the schema
//! is created on first use ([`Store::ready`], also called once at start).
//!
//! A claim is one `INSERT … ON CONFLICT DO NOTHING` on the primary key: of any number of replicas
//! racing for one key, exactly one inserts. Every later change names the claim token, so a
//! replica only ever finishes its own claim.

use super::batch::Value;
use super::schema;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use std::path::Path;
use std::time::Duration;
use tokio::sync::OnceCell;

/// The store could not be reached or refused a statement.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `[journal] store` is not a `sqlite:` path or a `postgres://` URL.
    #[error("journal store {0:?}: expected \"sqlite:FILE\" or \"postgres://USER@HOST:PORT/DB\"")]
    Url(String),
    /// A statement failed (connection refused, timeout, disk full, …).
    #[error("journal store {store}: {source}")]
    Sql {
        /// The store, without credentials.
        store: String,
        /// What sqlx said.
        source: sqlx::Error,
    },
    /// A batched write failed (every message in the batch is told).
    #[error("journal store {store}: {message}")]
    Failed {
        /// The store.
        store: String,
        /// What failed.
        message: String,
    },
    /// The store holds a schema newer than this build knows.
    #[error("journal store {store} has schema version {found}; this ficus knows up to {known}: upgrade ficus")]
    Schema {
        /// The store.
        store: String,
        /// Version found.
        found: i64,
        /// Version known.
        known: i64,
    },
}

/// Which database a store is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// A journal row's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryState {
    /// Claimed; the write is on its way (or its replica died: see [`Entry::state_at`]).
    InFlight,
    /// Answered; the reply is kept.
    Done,
    /// Sent, and no answer came: applied or not, nobody knows.
    Unknown,
}

impl EntryState {
    /// The state a stored word names (`in_flight` for anything else: the safe reading).
    pub fn parse(word: &str) -> EntryState {
        match word {
            "done" => EntryState::Done,
            "unknown" => EntryState::Unknown,
            _ => EntryState::InFlight,
        }
    }

    /// The word stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryState::InFlight => "in_flight",
            EntryState::Done => "done",
            EntryState::Unknown => "unknown",
        }
    }
}

/// One journaled message.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The transaction key (`[journal] key` values joined by `|`).
    pub key: String,
    /// The operation.
    pub op: String,
    /// SHA-256 (hex) of the operation and body: a resend must carry the same request.
    pub request_hash: String,
    /// The routing key (owner_key value: the account), if the route names one.
    pub route_key: Option<String>,
    /// The upstream it was sent to.
    pub upstream: String,
    /// As stored (see [`Entry::state_at`] for lease expiry).
    pub state: EntryState,
    /// The reply's response code, when done.
    pub response_code: Option<String>,
    /// The whole request message.
    pub request: Vec<u8>,
    /// The whole reply, when done.
    pub reply: Option<Vec<u8>>,
    /// The claim token (replica and a random part).
    pub claim: String,
    /// Route table generation that served it.
    pub generation: i64,
    /// Claimed at (ms since the epoch).
    pub created_ms: i64,
    /// Last changed at.
    pub updated_ms: i64,
    /// An `in_flight` row past this time counts as `unknown` (its replica died mid-write).
    pub lease_ms: i64,
}

impl Entry {
    /// The state at time `now`: an `in_flight` row whose lease passed is `unknown`.
    pub fn state_at(&self, now: i64) -> EntryState {
        match self.state {
            EntryState::InFlight if self.lease_ms < now => EntryState::Unknown,
            s => s,
        }
    }
}

/// What a claim writes.
pub struct NewEntry<'a> {
    /// The key.
    pub key: &'a str,
    /// The operation.
    pub op: &'a str,
    /// See [`Entry::request_hash`].
    pub request_hash: &'a str,
    /// The routing key.
    pub route_key: Option<&'a str>,
    /// The upstream it goes to.
    pub upstream: &'a str,
    /// The whole request.
    pub request: &'a [u8],
    /// This claim's token.
    pub claim: &'a str,
    /// Table generation.
    pub generation: u64,
    /// How long the claimer may hold it in flight, from now.
    pub lease: Duration,
}

/// A journal store.
pub struct Store {
    /// Made on first use: a pool spawns tasks, and a table is also built outside any runtime
    /// (`ficus check`).
    pool: OnceCell<AnyPool>,
    conn: String,
    /// The SQLite file (its writer thread opens it itself).
    file: Option<std::path::PathBuf>,
    max_connections: u32,
    backend: Backend,
    display: String,
    ready: OnceCell<()>,
    /// Claims and finishes, written in batches (group commit).
    batcher: OnceCell<super::batch::Batcher>,
}

pub(super) const COLUMNS: &str =
    "txn_key, op, request_hash, route_key, upstream, state, response_code, request, reply, claim, \
                       generation, created_ms, updated_ms, lease_ms";

impl Store {
    /// A store for `url` (`sqlite:FILE`, relative to `base`, or `postgres://…`); connects lazily.
    pub fn open(url: &str, base: &Path, max_connections: u32) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (backend, conn, display, sqlite_file) = if let Some(file) = url.strip_prefix("sqlite:") {
            let file = file.trim_start_matches("//");
            if file.is_empty() {
                return Err(StoreError::Url(without_password(url)));
            }
            let path = std::path::absolute(base.join(file)).unwrap_or_else(|_| base.join(file));
            let conn = format!("sqlite://{}?mode=rwc", path.display());
            (Backend::Sqlite, conn, format!("sqlite:{}", path.display()), Some(path))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let display = without_password(url);
            super::pg_url::check(url).map_err(|why| StoreError::Failed { store: display.clone(), message: why })?;
            (Backend::Postgres, url.to_string(), display, None)
        } else {
            return Err(StoreError::Url(without_password(url)));
        };
        conn.parse::<sqlx::any::AnyConnectOptions>()
            .map_err(|source| StoreError::Sql { store: display.clone(), source })?;
        Ok(Store {
            pool: OnceCell::new(),
            conn,
            file: sqlite_file,
            max_connections,
            backend,
            display,
            ready: OnceCell::new(),
            batcher: OnceCell::new(),
        })
    }

    /// The pool, made on first use (connections open as statements need them).
    pub(super) async fn pool(&self) -> Result<&AnyPool, StoreError> {
        self.pool
            .get_or_try_init(|| async {
                AnyPoolOptions::new()
                    .max_connections(self.max_connections.max(1))
                    .acquire_timeout(Duration::from_secs(3))
                    .connect_lazy(&self.conn)
            })
            .await
            .map_err(|e| self.sql_error(e))
    }

    /// The store as shown in logs (no password).
    pub fn display(&self) -> &str {
        &self.display
    }

    /// Which database it is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub(super) fn sql_error(&self, source: sqlx::Error) -> StoreError {
        StoreError::Sql { store: self.display.clone(), source }
    }

    /// Creates or migrates the schema, once per store (retried after a failure).
    pub async fn ready(&self) -> Result<(), StoreError> {
        self.ready.get_or_try_init(|| self.migrate()).await.map(|_| ())
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut tx = self.pool().await?.begin().await.map_err(|e| self.sql_error(e))?;
        let blob = match self.backend {
            Backend::Sqlite => "BLOB",
            Backend::Postgres => {
                // Replicas starting together: one creates, the others wait for it.
                sqlx::query("SELECT pg_advisory_xact_lock(7268305751)")
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| self.sql_error(e))?;
                "BYTEA"
            }
        };
        for statement in schema::create(blob) {
            sqlx::query(&statement).execute(&mut *tx).await.map_err(|e| self.sql_error(e))?;
        }
        let found: Option<i64> = sqlx::query("SELECT MAX(version) AS v FROM ficus_schema")
            .fetch_one(&mut *tx)
            .await
            .and_then(|r| r.try_get::<Option<i64>, _>("v"))
            .map_err(|e| self.sql_error(e))?;
        match found {
            None => {
                sqlx::query("INSERT INTO ficus_schema (version) VALUES ($1)")
                    .bind(schema::VERSION)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| self.sql_error(e))?;
            }
            Some(v) if v > schema::VERSION => {
                return Err(StoreError::Schema { store: self.display.clone(), found: v, known: schema::VERSION })
            }
            Some(_) => {}
        }
        tx.commit().await.map_err(|e| self.sql_error(e))?;
        if self.backend == Backend::Sqlite {
            // Readers (the CLI, other replicas' nothing) never block the writer.
            sqlx::query("PRAGMA journal_mode=WAL").execute(self.pool().await?).await.map_err(|e| self.sql_error(e))?;
        }
        Ok(())
    }

    /// The batching writer, started on first use.
    async fn batcher(&self) -> Result<&super::batch::Batcher, StoreError> {
        self.ready().await?;
        self.batcher
            .get_or_try_init(|| async {
                let writer = match &self.file {
                    Some(file) => super::batch::Writer::Sqlite(file.clone()),
                    None => super::batch::Writer::Postgres(self.conn.clone()),
                };
                super::batch::Batcher::start(writer, self.display.clone())
                    .map_err(|message| StoreError::Failed { store: self.display.clone(), message })
            })
            .await
    }

    /// Claims `new.key`: `None` when this call claimed it, else the row already there. Written
    /// with every other claim and finish in flight, in one transaction (group commit); answered
    /// after the commit.
    pub async fn claim(&self, new: &NewEntry<'_>) -> Result<Option<Entry>, StoreError> {
        let batcher = self.batcher().await?;
        // A row let go between the insert and the read (a released claim): claim again.
        for _ in 0..3 {
            match batcher.claim(new).await? {
                super::batch::Claimed::Mine => return Ok(None),
                super::batch::Claimed::Existing(e) => return Ok(Some(*e)),
                super::batch::Claimed::Vanished => continue,
            }
        }
        Err(StoreError::Failed {
            store: self.display.clone(),
            message: format!("key {} held and let go three times over", new.key),
        })
    }

    /// The row for `key`, if any.
    pub async fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        self.ready().await?;
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM ficus_journal WHERE txn_key = $1"))
            .bind(key)
            .fetch_optional(self.pool().await?)
            .await
            .map_err(|e| self.sql_error(e))?;
        row.map(|r| entry_row(&r)).transpose().map_err(|e| self.sql_error(e))
    }

    /// Records the answer of this claim (`done`, with the reply); also over an expired lease,
    /// since the outcome is now known. False when the claim is not there any more. Batched like
    /// claims.
    pub async fn finish(&self, key: &str, claim: &str, code: Option<&str>, reply: &[u8]) -> Result<bool, StoreError> {
        self.batcher().await?.finish(key, claim, code, reply).await
    }

    /// [`Store::finish`] without waiting for the commit (the gateway's path: the reply goes to the
    /// channel while the batch commits); failures are logged and counted by the batch.
    pub async fn finish_later(
        &self,
        key: &str,
        claim: &str,
        code: Option<&str>,
        reply: &[u8],
    ) -> Result<(), StoreError> {
        self.batcher().await?.finish_later(key, claim, code, reply).await
    }

    /// Marks this claim `unknown`: sent, no answer that could be given.
    pub async fn mark_unknown(&self, key: &str, claim: &str) -> Result<bool, StoreError> {
        let sql = "UPDATE ficus_journal SET state = 'unknown', updated_ms = $1 WHERE txn_key = $2 AND claim = $3 \
                   AND state = 'in_flight'";
        let args = vec![Value::Int(super::now_ms()), Value::Text(key.into()), Value::Text(claim.into())];
        Ok(self.write(sql, args).await? == 1)
    }

    /// Gives up this claim: the write was certainly not sent, so a resend may go.
    pub async fn release(&self, key: &str, claim: &str) -> Result<bool, StoreError> {
        let sql = "DELETE FROM ficus_journal WHERE txn_key = $1 AND claim = $2 AND state = 'in_flight'";
        Ok(self.write(sql, vec![Value::Text(key.into()), Value::Text(claim.into())]).await? == 1)
    }

    /// Takes back a claim whose statement failed, so a resend is sent rather than refused: the
    /// write was not sent, yet the claim may have landed anyway (a statement given up at its
    /// timeout commits when a hung server resumes) and, its lease passed, read as `unknown`.
    /// Only this claim's row (its token is this attempt's alone, and only a send finishes it):
    /// true if one was removed.
    pub async fn give_back(&self, key: &str, claim: &str) -> Result<bool, StoreError> {
        let sql = "DELETE FROM ficus_journal WHERE txn_key = $1 AND claim = $2 AND state IN ('in_flight', 'unknown')";
        Ok(self.write(sql, vec![Value::Text(key.into()), Value::Text(claim.into())]).await? == 1)
    }

    /// Runs one writing statement (`$1`, `$2`, … bound to `args`); rows changed. On SQLite it
    /// goes through the writer thread, whose transactions hold the database's one write lock
    /// most of the time under load: from another connection it would wait for the lock in
    /// SQLite's busy loop (sleeps of up to 100 ms, failing after 5 s). On PostgreSQL, the pool.
    pub(super) async fn write(&self, sql: &'static str, args: Vec<Value>) -> Result<u64, StoreError> {
        self.ready().await?;
        if self.backend == Backend::Sqlite {
            return self.batcher().await?.exec(sql, args).await;
        }
        let mut query = sqlx::query(sql);
        for value in args {
            query = match value {
                Value::Text(t) => query.bind(t),
                Value::Int(n) => query.bind(n),
            };
        }
        let done = query.execute(self.pool().await?).await.map_err(|e| self.sql_error(e))?;
        Ok(done.rows_affected())
    }
}

/// An [`Entry`] from a row of every column ([`COLUMNS`]), read with `$get` (`try_get` for sqlx
/// rows, `get` for rusqlite's): one mapping for every driver the journal uses.
macro_rules! entry_of {
    ($r:expr, $get:ident) => {{
        let r = $r;
        let state: String = r.$get("state")?;
        $crate::journal::Entry {
            key: r.$get("txn_key")?,
            op: r.$get("op")?,
            request_hash: r.$get("request_hash")?,
            route_key: r.$get("route_key")?,
            upstream: r.$get("upstream")?,
            state: $crate::journal::EntryState::parse(&state),
            response_code: r.$get("response_code")?,
            request: r.$get("request")?,
            reply: r.$get("reply")?,
            claim: r.$get("claim")?,
            generation: r.$get("generation")?,
            created_ms: r.$get("created_ms")?,
            updated_ms: r.$get("updated_ms")?,
            lease_ms: r.$get("lease_ms")?,
        }
    }};
}
pub(super) use entry_of;

pub(super) fn entry_row(r: &AnyRow) -> Result<Entry, sqlx::Error> {
    Ok(entry_of!(r, try_get))
}

pub(super) fn entry_pg(r: &sqlx::postgres::PgRow) -> Result<Entry, sqlx::Error> {
    Ok(entry_of!(r, try_get))
}

/// `postgres://user:secret@host/db` → `postgres://user@host/db`, for logs, messages and pages.
/// The user part ends at the authority's *last* `@`: a password written with a raw `@` in it
/// (`p@ss`) is left out whole, not cut at its first `@` and shown in part.
pub fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.into() };
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => format!("{}@{host}", user.split(':').next().unwrap_or("")),
        None => authority.to_string(),
    };
    // A password may also be a query parameter (`?password=…`, `sslpassword=…`): its value goes.
    let tail = match tail.split_once('?') {
        None => tail.to_string(),
        Some((path, query)) => {
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.to_ascii_lowercase().contains("password") => format!("{key}=***"),
                    _ => pair.to_string(),
                })
                .collect();
            format!("{path}?{}", pairs.join("&"))
        }
    };
    format!("{scheme}://{authority}{tail}")
}
