//! The journal benchmark's variants: which operation, which journal store (none, SQLite on disk
//! or tmpfs, PostgreSQL on loopback) and which pool size, and how each is started as a `ficus
//! serve` process, with the journal's rows counted from outside (so a run can show that every
//! posted transfer was journaled, once).
//!
//! It starts and counts; it measures nothing. PostgreSQL is the tests' server
//! (`tests/support/postgres.rs`), one database per variant.

use super::postgres::Postgres;
use super::targets::{self, Env, Running};
use sqlx::{AnyPool, Row};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The operation a variant loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// XFER: a write (not read_only), journaled when a journal is configured.
    Xfer,
    /// ACCTINQ: a read (read_only), never journaled.
    Acctinq,
}

impl Op {
    /// The operation's name.
    pub fn name(self) -> &'static str {
        match self {
            Op::Xfer => "XFER",
            Op::Acctinq => "ACCTINQ",
        }
    }
}

/// Where a variant's journal lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Store {
    /// No `[journal]` section.
    None,
    /// `sqlite:FILE` next to routes.toml (the scratch directory, on disk: fsync per commit).
    SqliteDisk,
    /// `sqlite:/dev/shm/…`: tmpfs, where fsync costs nothing (what `synchronous = OFF` would give).
    SqliteTmpfs,
    /// `postgres://…` on loopback (the tests' server).
    Postgres,
}

/// One row of the report.
#[derive(Clone, Copy, Debug)]
pub struct Variant {
    /// Its letter on the command line.
    pub letter: char,
    /// What is loaded.
    pub op: Op,
    /// Where the journal is.
    pub store: Store,
    /// `[journal] max_connections`, if not the default (16).
    pub pool: Option<u32>,
    /// What it is, for the table.
    pub label: &'static str,
}

impl Variant {
    /// The variant this one's ratios are taken against: the same operation without a journal.
    pub fn baseline(self) -> char {
        match self.op {
            Op::Xfer => 'a',
            Op::Acctinq => 'd',
        }
    }
}

/// Every variant, in report order: the issue's figures (a–e), then candidate fixes (f–i).
pub const VARIANTS: [Variant; 9] = [
    Variant { letter: 'a', op: Op::Xfer, store: Store::None, pool: None, label: "XFER, no journal" },
    Variant { letter: 'b', op: Op::Xfer, store: Store::SqliteDisk, pool: None, label: "XFER, SQLite journal" },
    Variant { letter: 'c', op: Op::Xfer, store: Store::Postgres, pool: None, label: "XFER, PostgreSQL journal" },
    Variant { letter: 'd', op: Op::Acctinq, store: Store::None, pool: None, label: "ACCTINQ, no journal" },
    Variant { letter: 'e', op: Op::Acctinq, store: Store::SqliteDisk, pool: None, label: "ACCTINQ, SQLite journal" },
    Variant {
        letter: 'f',
        op: Op::Xfer,
        store: Store::SqliteDisk,
        pool: Some(1),
        label: "XFER, SQLite, max_connections = 1",
    },
    Variant {
        letter: 'g',
        op: Op::Xfer,
        store: Store::SqliteTmpfs,
        pool: None,
        label: "XFER, SQLite on tmpfs (no fsync)",
    },
    Variant {
        letter: 'h',
        op: Op::Xfer,
        store: Store::Postgres,
        pool: Some(64),
        label: "XFER, PostgreSQL, max_connections = 64",
    },
    Variant {
        letter: 'i',
        op: Op::Xfer,
        store: Store::SqliteTmpfs,
        pool: Some(1),
        label: "XFER, SQLite on tmpfs, max_connections = 1",
    },
];

/// The variant with `letter`.
pub fn by_letter(letter: char) -> Option<Variant> {
    VARIANTS.into_iter().find(|v| v.letter == letter)
}

/// The XFER route (a write: no `read_only`), appended to [`targets::ficus_config`].
const XFER_ROUTE: &str = r#"
[routes.XFER]
request  = "XFER.cpy#XFER-REQ"
response = "XFER.cpy#XFER-RESP"
target   = "legacy"
"#;

/// routes.toml for `ficus serve` on `listen`: ACCTINQ and XFER to the host over framed TCP,
/// and `journal` (a `store = …` value), if any, with `pool` connections.
pub fn config(env: &Env, listen: &str, journal: Option<&str>, pool: Option<u32>) -> String {
    let mut text = targets::ficus_config(env, listen, "legacy") + XFER_ROUTE;
    if let Some(store) = journal {
        text += &format!("\n[journal]\nstore = \"{store}\"\n");
        if let Some(n) = pool {
            text += &format!("max_connections = {n}\n");
        }
    }
    text
}

/// Shared places for the stores: the scratch directory, a tmpfs directory, PostgreSQL.
pub struct Places {
    /// Scratch directory on disk (the configurations, the on-disk SQLite files).
    pub dir: PathBuf,
    /// A directory on tmpfs, if the machine has /dev/shm.
    pub tmpfs: Option<tempfile::TempDir>,
    /// The PostgreSQL server, once a variant needs it.
    pub postgres: Option<Postgres>,
}

impl Places {
    /// The PostgreSQL server, started on first use (initdb and start take a few seconds).
    async fn postgres(&mut self) -> Result<&Postgres, String> {
        if self.postgres.is_none() {
            let pg = tokio::task::spawn_blocking(Postgres::start).await.map_err(|e| format!("PostgreSQL: {e}"))?;
            self.postgres = Some(pg);
        }
        Ok(self.postgres.as_ref().expect("just started"))
    }

    /// The postmaster's pid (its backends are its children), for CPU accounting.
    pub fn postgres_pid(&self) -> Option<u32> {
        let pg = self.postgres.as_ref()?;
        let text = std::fs::read_to_string(pg.dir().join("data").join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }
}

/// A started variant: the gateway, and a connection to its journal for counting rows.
pub struct Live {
    /// Which variant.
    pub variant: Variant,
    /// The `ficus serve` process.
    pub running: Running,
    /// The journal's store as the gateway was given it (`[journal] store`), if any.
    pub store: Option<String>,
    counter: Option<AnyPool>,
}

/// Starts `ficus serve` for `variant` with `workers` worker threads; its journal (if any) in a
/// fresh file or database. The gateway creates the schema as it starts.
pub async fn start(variant: Variant, env: &Env, places: &mut Places, workers: usize) -> Result<Live, String> {
    let name = format!("journal_{}", variant.letter);
    let (store, count_url) = match variant.store {
        Store::None => (None, None),
        Store::SqliteDisk => {
            let file = places.dir.join(format!("{name}.db"));
            (Some(format!("sqlite:{name}.db")), Some(format!("sqlite://{}?mode=rwc", file.display())))
        }
        Store::SqliteTmpfs => {
            let dir = places.tmpfs.as_ref().ok_or("no /dev/shm (tmpfs) on this machine for the tmpfs variant")?;
            let file = dir.path().join(format!("{name}.db"));
            (Some(format!("sqlite:{}", file.display())), Some(format!("sqlite://{}?mode=rwc", file.display())))
        }
        Store::Postgres => {
            let pg = places.postgres().await?;
            let url = pg.create_database(&name);
            (Some(url.clone()), Some(url))
        }
    };
    let bin = env.ficus_bin.as_deref().ok_or("the journal bench runs ficus as `ficus serve`")?;
    let listen = SocketAddr::from(([127, 0, 0, 1], targets::free_port()?));
    let path = places.dir.join(format!("routes-{}.toml", variant.letter));
    std::fs::write(&path, config(env, &listen.to_string(), store.as_deref(), variant.pool))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let log = places.dir.join(format!("ficus-{}.log", variant.letter));
    let running = targets::start_ficus_with(bin, &path, listen, workers, &log).await?;
    let counter = match count_url {
        Some(url) => Some({
            sqlx::any::install_default_drivers();

            sqlx::any::AnyPoolOptions::new()
                .max_connections(1)
                .connect(&url)
                .await
                .map_err(|e| format!("journal of {}: {url}: {e}", variant.label))?
        }),
        None => None,
    };
    Ok(Live { variant, running, store, counter })
}

impl Live {
    /// Rows in the journal (every claimed write; `done` or not), `None` without a journal.
    /// The gateway creates the table on start, so a missing table is an error.
    pub async fn journaled(&self) -> Result<Option<u64>, String> {
        let Some(pool) = &self.counter else { return Ok(None) };
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM ficus_journal")
            .fetch_one(pool)
            .await
            .and_then(|r| r.try_get::<i64, _>("n"))
            .map_err(|e| format!("counting the journal of {}: {e}; {}", self.variant.label, self.running.log_tail()))?;
        Ok(Some(n as u64))
    }
}

/// A directory on tmpfs for the no-fsync variant, if there is one.
pub fn tmpfs_dir() -> Option<tempfile::TempDir> {
    let shm = Path::new("/dev/shm");
    shm.is_dir().then(|| tempfile::Builder::new().prefix("ficus-journal-bench").tempdir_in(shm).ok()).flatten()
}
