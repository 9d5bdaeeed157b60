//! Soak: does the gateway stay flat under steady load? Runs the demo's simulated host and
//! `accounts` service, puts the gateway (this repository's routes.toml, ports moved to free
//! ones) in front, measures capacity for a moment, then drives ~70% of it over persistent TCP
//! channel connections, sampling RSS (`/proc/self/status` VmRSS) and open fds every few
//! seconds. It decides whether memory or descriptors leak under hours of traffic, in minutes.
//!
//! `cargo bench --bench soak` runs 10 minutes; `cargo bench --bench soak -- --seconds 60`
//! shortens it (`--percent 70` sets the share of capacity). Without `--bench` (as `cargo test
//! --all-targets` runs it) it is a 3-second smoke test. It stops by itself and exits 1 on any
//! error reply or lost message.

use ficus::frame::Framing;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

const CONNECTIONS: usize = 16;

struct Counts {
    ok: AtomicU64,
    errors: AtomicU64,
}

fn arg(args: &[String], name: &str) -> Option<u64> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok())
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// One channel connection sending `messages` round-robin, paced at `per_second` (0: flat out).
async fn worker(
    addr: SocketAddr,
    messages: Arc<Vec<Vec<u8>>>,
    per_second: f64,
    stop: Arc<AtomicBool>,
    counts: Arc<Counts>,
) {
    let framing = Framing::prefix(4);
    let Ok(mut conn) = TcpStream::connect(addr).await else {
        counts.errors.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let mut pace = (per_second > 0.0).then(|| {
        let mut i = tokio::time::interval(Duration::from_secs_f64(1.0 / per_second));
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        i
    });
    let mut n = 0usize;
    while !stop.load(Ordering::Relaxed) {
        if let Some(p) = pace.as_mut() {
            p.tick().await;
        }
        let m = &messages[n % messages.len()];
        n += 1;
        let sent = framing.write(&mut conn, m).await.is_ok();
        let reply = tokio::time::timeout(Duration::from_secs(5), framing.read(&mut conn, 1 << 20)).await;
        match reply {
            // A full reply (more than the 85-byte header an error reply is) counts as served.
            Ok(Ok(Some(r))) if sent && r.len() > 85 => counts.ok.fetch_add(1, Ordering::Relaxed),
            _ => {
                counts.errors.fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
    }
}

async fn drive(
    addr: SocketAddr,
    messages: &Arc<Vec<Vec<u8>>>,
    per_conn: f64,
    stop: &Arc<AtomicBool>,
    counts: &Arc<Counts>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..CONNECTIONS)
        .map(|_| tokio::spawn(worker(addr, messages.clone(), per_conn, stop.clone(), counts.clone())))
        .collect()
}

async fn run(seconds: u64, percent: u64, sample_every: Duration) -> Result<u64, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let config = ficus::sim::write_defaults(dir.path()).map_err(|e| e.to_string())?;
    let sims = ficus::demo::start_sims(
        &dir.path().join("copybooks"),
        ficus::codec::charset::CodePage::Cp037,
        "127.0.0.1:0",
        None,
        "127.0.0.1:0",
    )
    .await?;
    let text = std::fs::read_to_string(&config)
        .map_err(|e| e.to_string())?
        .replace("127.0.0.1:8080", "127.0.0.1:0")
        .replace("127.0.0.1:9000", "127.0.0.1:0")
        .replace("127.0.0.1:9901", "127.0.0.1:0")
        .replace("127.0.0.1:7001", &sims.host_tcp.to_string())
        .replace("127.0.0.1:7002", &sims.accounts.to_string());
    std::fs::write(&config, text).map_err(|e| e.to_string())?;
    let running = ficus::server::start(
        &config,
        ficus::server::Options { watch: false, sighup: false, takeover: false, ..Default::default() },
    )
    .await?;
    let addr = running.tcp.ok_or("no TCP listener")?;
    let table = running.gateway.table();
    let messages: Vec<Vec<u8>> = (1..=10)
        .flat_map(|i| {
            let acct = format!("10000000000000{i:02}");
            [
                ficus::cli::build_request(&table, "ACCTINQ", &json!({ "ACCT-NO": acct }), &Value::Null),
                ficus::cli::build_request(
                    &table,
                    "TXNHIST",
                    &json!({ "ACCT-NO": acct, "FROM-DATE": 20260101, "TO-DATE": 20261231, "MAX-ROWS": 5 }),
                    &Value::Null,
                ),
            ]
        })
        .collect::<Result<_, _>>()?;
    let messages = Arc::new(messages);

    // Capacity: flat out for a moment.
    let counts = Arc::new(Counts { ok: AtomicU64::new(0), errors: AtomicU64::new(0) });
    let stop = Arc::new(AtomicBool::new(false));
    let calibrate = Duration::from_secs(if seconds < 10 { 1 } else { 3 });
    let workers = drive(addr, &messages, 0.0, &stop, &counts).await;
    tokio::time::sleep(calibrate).await;
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        let _ = w.await;
    }
    let capacity = counts.ok.load(Ordering::SeqCst) as f64 / calibrate.as_secs_f64();
    let target = capacity * percent as f64 / 100.0;
    println!("soak: capacity ≈ {capacity:.0} msg/s; driving {target:.0} msg/s ({percent}%) for {seconds} s over {CONNECTIONS} connections");
    println!("{:>6} {:>10} {:>8} {:>6} {:>10} {:>7}", "t(s)", "rss(KiB)", "fds", "tasks", "served", "errors");

    let counts =
        Arc::new(Counts { ok: AtomicU64::new(0), errors: AtomicU64::new(counts.errors.load(Ordering::SeqCst)) });
    let stop = Arc::new(AtomicBool::new(false));
    let workers = drive(addr, &messages, target / CONNECTIONS as f64, &stop, &counts).await;
    let started = Instant::now();
    let end = started + Duration::from_secs(seconds);
    let (mut rss, mut fd) = (Vec::new(), Vec::new());
    while Instant::now() < end {
        tokio::time::sleep(sample_every.min(end - Instant::now())).await;
        let tasks = tokio::runtime::Handle::current().metrics().num_alive_tasks();
        let (r, f) = (rss_kib(), fds());
        rss.push(r);
        fd.push(f);
        println!(
            "{:>6.0} {r:>10} {f:>8} {tasks:>6} {:>10} {:>7}",
            started.elapsed().as_secs_f64(),
            counts.ok.load(Ordering::Relaxed),
            counts.errors.load(Ordering::Relaxed)
        );
    }
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        let _ = w.await;
    }
    running.stop().await;
    sims.stop();
    let served = counts.ok.load(Ordering::SeqCst);
    let errors = counts.errors.load(Ordering::SeqCst);
    // Flat after warm-up: compare the second sample (warm) with the last.
    let warm = rss.get(1).or(rss.first()).copied().unwrap_or(0);
    println!(
        "soak: served {served} ({:.0} msg/s), errors {errors}; RSS warm {warm} KiB → last {} KiB (max {}); fds {}–{}",
        served as f64 / seconds.max(1) as f64,
        rss.last().copied().unwrap_or(0),
        rss.iter().max().copied().unwrap_or(0),
        fd.iter().min().copied().unwrap_or(0),
        fd.iter().max().copied().unwrap_or(0),
    );
    Ok(errors)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bench = args.iter().any(|a| a == "--bench");
    let seconds = arg(&args, "--seconds").unwrap_or(if bench { 600 } else { 3 });
    let percent = arg(&args, "--percent").unwrap_or(70).clamp(1, 100);
    let sample_every = Duration::from_secs(if seconds <= 10 { 1 } else { 5 });
    let result = tokio::runtime::Runtime::new()
        .map_err(|e| e.to_string())
        .and_then(|rt| rt.block_on(run(seconds, percent, sample_every)));
    match result {
        Ok(0) => {}
        Ok(errors) => {
            eprintln!("soak: {errors} errors");
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("soak: {e}");
            std::process::exit(1);
        }
    }
}
