//! Journal benchmark: what the transaction journal costs the write route, side by side in one
//! run — XFER through `ficus serve` without a journal, with the embedded SQLite journal and with
//! a PostgreSQL journal on loopback — and that reads (ACCTINQ) are unaffected by it.
//!
//! **Decision it informs:** whether a bank can turn the journal on for every write (issue 14's
//! targets at 64 connections: the SQLite journal costs at most 15% of the write route's
//! saturation throughput, PostgreSQL at most 30%), and, where it costs more, which setting
//! buys it back: the candidate rows measure the journal's pool size (`[journal]
//! max_connections`) and the disk's fsync per commit (SQLite on tmpfs).
//!
//! Every XFER carries its own HDR-SEQ-NO (the generator numbers messages uniquely across the
//! whole run), moves 0.01 from the largest demo account to the first (it never runs dry), and a
//! reply whose response code is not 0000 counts as failed. After every measurement the host's
//! postings and the journal's rows are counted: every transfer answered was posted once and
//! journaled once. The generator and the simulated host share one 2-thread process; PostgreSQL
//! is the tests' server (`fsync=off`, a throw-away cluster: its rows are the commit cost
//! without the disk).
//!
//! `cargo bench --bench journal -- --help` lists the options. Run without `--bench` (as `cargo
//! test --all-targets` does) it is a few-second smoke check: 200 journaled transfers on SQLite,
//! 0 failures, 200 rows, and a resent transfer answered from the journal, byte for byte, not
//! posted again.

#[allow(dead_code)]
#[path = "load/client.rs"]
mod client;
#[path = "load/cpu.rs"]
mod cpu;
#[path = "load/entry.rs"]
mod entry;
#[path = "load/journal_report.rs"]
mod journal_report;
#[path = "load/journal_variants.rs"]
mod journal_variants;
#[path = "../tests/support/postgres.rs"]
mod postgres;
#[allow(dead_code)]
#[path = "load/run.rs"]
mod run;
#[allow(dead_code)]
#[path = "load/targets.rs"]
mod targets;

use client::{http_request, Conn, Numbering};
use journal_report::{Measured, Mode};
use journal_variants::{Live, Op, Places, Variant};
use run::{BodyCheck, Plan};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use targets::Env;

const HELP: &str = "\
journal benchmark: the write route (XFER) without a journal, with SQLite and with PostgreSQL on
loopback, and reads (ACCTINQ) with and without the journal; `ficus serve` in front of the
simulated host

usage: cargo bench --bench journal -- [options]

  --rate N          fixed-rate mode: requests per second in total      (default 300)
  --seconds N       measured seconds per variant, mode and round       (default 4)
  --warmup N        warm-up seconds before each measurement            (default 1)
  --connections N   connections, both modes                            (default 64)
  --rounds N        rounds: every variant once per round, interleaved; the table
                    shows each figure's median over the rounds           (default 3)
  --variants LIST   letters (default a,b,c,d,e,f,g,h,i):
                      a XFER no journal        b XFER SQLite      c XFER PostgreSQL
                      d ACCTINQ no journal     e ACCTINQ with the SQLite journal
                      candidate fixes: f XFER SQLite max_connections = 1,
                      g XFER SQLite on tmpfs (no fsync), h XFER PostgreSQL max_connections = 64,
                      i XFER SQLite on tmpfs max_connections = 1
  --workers N       ficus TOKIO_WORKER_THREADS                         (default 1)
  --help            this text

Without --bench (cargo test --all-targets) it runs a few-second smoke check instead.";

/// Command-line options of a benchmark run.
struct Options {
    rate: u64,
    seconds: u64,
    warmup: u64,
    connections: usize,
    rounds: usize,
    variants: Vec<Variant>,
    workers: usize,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        rate: 300,
        seconds: 4,
        warmup: 1,
        connections: 64,
        rounds: 3,
        variants: journal_variants::VARIANTS.to_vec(),
        workers: 1,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: &String| {
            v.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| format!("{flag} {v}: not a positive number"))
        };
        match flag.as_str() {
            "--bench" => {}
            "--rate" => o.rate = number(value()?)?,
            "--seconds" => o.seconds = number(value()?)?,
            "--warmup" => o.warmup = value()?.parse().map_err(|_| "--warmup: not a number".to_string())?,
            "--connections" => o.connections = number(value()?)? as usize,
            "--rounds" => o.rounds = number(value()?)? as usize,
            "--workers" => o.workers = number(value()?)? as usize,
            "--variants" => {
                o.variants = value()?
                    .split(',')
                    .map(|t| {
                        let t = t.trim();
                        let mut chars = t.chars();
                        match (chars.next(), chars.next()) {
                            (Some(c), None) => journal_variants::by_letter(c),
                            _ => None,
                        }
                        .ok_or(format!("unknown variant {t:?} (a to i)"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    Ok(o)
}

fn main() {
    entry::main("journal", HELP, parse_options, bench, smoke);
}

fn copybooks() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("copybooks")
}

/// The largest demo account pays the first 0.01 per transfer: ~10 million transfers of room.
const FROM: &str = "1000000000000010";
const TO: &str = "1000000000000001";
/// ACCTINQ asks for an account the transfers never touch: the simulated host copies an
/// account's whole history to answer, and the transfers grow theirs by the hundred thousand.
const READ: &str = "1000000000000003";

/// The simulators, and where everything goes.
async fn setup(dir: &Path) -> Result<(ficus::demo::Sims, Env), String> {
    let cp = ficus::codec::charset::CodePage::Cp037;
    let sims = ficus::demo::start_sims(&copybooks(), cp, "127.0.0.1:0", Some("127.0.0.1:0"), "127.0.0.1:0").await?;
    let env = Env {
        dir: dir.to_path_buf(),
        copybooks: copybooks(),
        host_tcp: sims.host_tcp,
        host_http: sims.host_http.ok_or("the host simulator has no HTTP port")?,
        accounts: sims.accounts,
        ficus_bin: Some(PathBuf::from(env!("CARGO_BIN_EXE_ficus"))),
    };
    Ok((sims, env))
}

/// One operation's request, ready for the generator.
#[derive(Clone)]
struct Request {
    /// The whole HTTP request.
    http: Vec<u8>,
    /// Where its HDR-SEQ-NO is (shared counter: unique across every operation and variant).
    numbering: Numbering,
    /// Reply body length.
    expected: usize,
    /// Response code 0000, else failed.
    check: BodyCheck,
}

/// XFER and ACCTINQ requests, numbered from one shared counter starting at `first`.
fn requests(env: &Env, first: u64) -> Result<BTreeMap<&'static str, Request>, String> {
    let path = env.dir.join("routes-request.toml");
    std::fs::write(&path, journal_variants::config(env, "127.0.0.1:0", None, None)).map_err(|e| e.to_string())?;
    let table = Arc::new(ficus::config::load(&path, None, 1).map_err(|e| e.to_string())?);
    let next = Arc::new(std::sync::atomic::AtomicU64::new(first));
    let bodies = [
        (Op::Xfer, json!({"FROM-ACCT": FROM, "TO-ACCT": TO, "AMOUNT": 0.01, "MEMO": "JOURNAL BENCH"})),
        (Op::Acctinq, json!({"ACCT-NO": READ})),
    ];
    let mut out = BTreeMap::new();
    for (op, body) in bodies {
        let message = ficus::cli::build_request(&table, op.name(), &body, &Value::Null)?;
        let route = table.routes.get(op.name()).ok_or(format!("no {} route", op.name()))?;
        let reply = route.response.as_ref().ok_or(format!("{} has no response layout", op.name()))?.max_size();
        let http = http_request(&message);
        let ebcdic = table.options.codepage.is_ebcdic();
        let numbering = Numbering::of(&http, message.len(), table.header.message_id_span(), ebcdic)
            .ok_or("the header names no message id")?;
        let numbering = Numbering { next: next.clone(), ..numbering };
        let t = table.clone();
        let check: BodyCheck = Arc::new(move |body: &[u8]| match t.header.response_code(body).as_deref() {
            Some("0000") => Ok(()),
            other => Err(format!("response code {other:?} (want 0000)")),
        });
        out.insert(op.name(), Request { http, numbering, expected: table.header.size + reply, check });
    }
    Ok(out)
}

/// Sends `count` numbered requests on one connection; every reply must pass.
async fn exchanges(addr: std::net::SocketAddr, r: &Request, count: usize) -> Result<(), String> {
    let mut conn = Conn::connect(addr).await.map_err(|e| format!("connect {addr}: {e}"))?;
    let mut http = r.http.clone();
    for i in 0..count {
        r.numbering.stamp(&mut http);
        let reply = conn.exchange(&http).await.map_err(|e| format!("{addr} request {i}: {e}"))?;
        if reply.status != 200 || reply.body_len != r.expected {
            return Err(format!(
                "{addr} request {i}: HTTP {} with {} bytes (want 200, {})",
                reply.status, reply.body_len, r.expected
            ));
        }
        (r.check)(conn.body()).map_err(|e| format!("{addr} request {i}: {e}"))?;
    }
    Ok(())
}

/// The quick check: the SQLite variant as `ficus serve`; 200 transfers over 4 connections, all
/// 0000, posted once each and journaled once each; then one transfer sent twice: the same
/// bytes back, posted once.
async fn smoke() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (sims, env) = setup(dir.path()).await?;
    let xfer = requests(&env, 1)?.remove("XFER").ok_or("no XFER request")?;
    let mut places = Places { dir: env.dir.clone(), tmpfs: None, postgres: None };
    let variant = journal_variants::by_letter('b').ok_or("no variant b")?;
    let live = journal_variants::start(variant, &env, &mut places, 1).await?;
    let addr = live.running.addr;
    let posted = || sims.host_postings.transfers();
    let before = posted();
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let xfer = xfer.clone();
            tokio::spawn(async move { exchanges(addr, &xfer, 50).await })
        })
        .collect();
    for r in runs {
        r.await.map_err(|e| e.to_string())?.map_err(|e| format!("{e}; {}", live.running.log_tail()))?;
    }
    let rows = live.journaled().await?;
    if posted() - before != 200 || rows != Some(200) {
        return Err(format!("200 transfers answered 0000, but {} posted and {rows:?} journal rows", posted() - before));
    }
    let mut conn = Conn::connect(addr).await.map_err(|e| e.to_string())?;
    let mut http = xfer.http.clone();
    xfer.numbering.stamp(&mut http);
    let mut replies = Vec::new();
    for _ in 0..2 {
        let reply = conn.exchange(&http).await.map_err(|e| e.to_string())?;
        (xfer.check)(conn.body()).map_err(|e| format!("resent transfer (HTTP {}): {e}", reply.status))?;
        replies.push(conn.body().to_vec());
    }
    if replies[0] != replies[1] || posted() - before != 201 || live.journaled().await? != Some(201) {
        return Err(format!(
            "a resent transfer: replies {} (want identical), {} posted in all (want 201), {:?} rows (want 201)",
            if replies[0] == replies[1] { "identical" } else { "differ" },
            posted() - before,
            live.journaled().await?
        ));
    }
    println!(
        "journal smoke: 200 transfers journaled on {} (0 failures, 200 posted, 200 rows); a resent one answered \
         from the journal byte for byte, not posted again",
        live.store.as_deref().unwrap_or("?")
    );
    live.running.stop().await;
    sims.stop();
    Ok(())
}

/// One measurement of `live` in `mode`, with CPU and integrity counts around it.
async fn measure(
    live: &Live,
    plan: &Plan,
    r: &Request,
    mode: Mode,
    o: &Options,
    sims: &ficus::demo::Sims,
    places: &Places,
) -> Result<Measured, String> {
    let pg = places.postgres_pid().filter(|_| live.variant.store == journal_variants::Store::Postgres);
    let (posted, rows) = (sims.host_postings.transfers(), live.journaled().await?);
    let (before, pg_before, started) =
        (cpu::Sample::take(live.running.pid()), pg.and_then(cpu::tree_seconds), std::time::Instant::now());
    let stats = match mode {
        Mode::Fixed => run::fixed_rate_checked(plan, o.rate, Some(r.check.clone())).await,
        Mode::Saturation => run::saturate_checked(plan, Some(r.check.clone())).await,
    };
    let usage = before.until(&cpu::Sample::take(live.running.pid()));
    let store_cpu = pg_before.zip(pg.and_then(cpu::tree_seconds)).map(|(a, b)| b - a);
    let wall = started.elapsed().as_secs_f64();
    let background = usage.background_cores.map(|b| (b - store_cpu.unwrap_or(0.0) / wall).max(0.0));
    let journaled = live.journaled().await?.zip(rows).map(|(after, before)| after - before);
    if let Some(e) = &stats.first_error {
        eprintln!("[journal]   {mode:?}: {} failed, first: {e}", stats.errors);
    }
    eprintln!(
        "[journal]   {}: {mode:?}: {:.0} msg/s, p99 {:.0} µs, other load {:.2}",
        live.variant.letter,
        stats.rate(),
        stats.micros(0.99),
        background.unwrap_or(0.0)
    );
    let posted = sims.host_postings.transfers() - posted;
    Ok(Measured { stats, ficus_cpu: usage.proxy, store_cpu, background, posted, journaled })
}

/// The benchmark proper: every variant started, then `rounds` rounds of every variant in both
/// modes (interleaved, so a noisy minute touches every variant alike).
async fn bench(o: Options) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (sims, env) = setup(dir.path()).await?;
    let requests = requests(&env, 1)?;
    let needs_tmpfs = o.variants.iter().any(|v| v.store == journal_variants::Store::SqliteTmpfs);
    let mut places =
        Places { dir: env.dir.clone(), tmpfs: needs_tmpfs.then(journal_variants::tmpfs_dir).flatten(), postgres: None };
    let mut lives = Vec::new();
    for &v in &o.variants {
        eprintln!("[journal] starting {}: {}", v.letter, v.label);
        let live = journal_variants::start(v, &env, &mut places, o.workers).await?;
        exchanges(live.running.addr, &requests[v.op.name()], 10)
            .await
            .map_err(|e| format!("{}: {e}; {}", v.label, live.running.log_tail()))?;
        lives.push(live);
    }
    let mut results = journal_report::Results::new();
    for round in 0..o.rounds {
        for live in &lives {
            eprintln!("[journal] round {}/{}: {}", round + 1, o.rounds, live.variant.label);
            let r = &requests[live.variant.op.name()];
            let plan = Plan {
                addr: live.running.addr,
                request: Arc::new(r.http.clone()),
                numbering: Some(r.numbering.clone()),
                expected_len: r.expected,
                connections: o.connections,
                warmup: Duration::from_secs(o.warmup),
                measure: Duration::from_secs(o.seconds),
            };
            for mode in [Mode::Fixed, Mode::Saturation] {
                let m = measure(live, &plan, r, mode, &o, &sims, &places).await?;
                results.entry((live.variant.letter, mode)).or_default().push(m);
            }
        }
    }
    println!("# ficus journal benchmark\n");
    println!(
        "XFER (write, journaled by HDR-SEQ-NO, 0.01 from {FROM} to {TO}) and ACCTINQ (read) through `ficus serve` \
         ({} worker thread(s)) to the simulated host over framed TCP; {} connections; fixed rate {}/s, then \
         saturation; {} s warm-up + {} s measured per mode, {} round(s), medians. Machine: {} cores shared by the \
         load generator and the simulated host (one 2-thread process), ficus and PostgreSQL. SQLite: the default \
         pool (16) on disk ({}), synchronous = FULL (SQLite's default) in WAL mode. PostgreSQL {}: the tests' \
         server on loopback, fsync=off.\n",
        o.workers,
        o.connections,
        o.rate,
        o.warmup,
        o.seconds,
        o.rounds,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        env.dir.display(),
        postgres::bin_dir().display(),
    );
    println!("{}", journal_report::table(&o.variants, &results, o.rate));
    println!("{}", journal_report::verdicts(&o.variants, &results));
    for live in lives {
        live.running.stop().await;
    }
    sims.stop();
    Ok(())
}
