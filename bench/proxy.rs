//! Proxy load benchmark: ficus beside nginx, in front of the same simulated host, in one run.
//!
//! **Decision it informs:** whether ficus can take nginx's place in the channel path in front
//! of the host without costing capacity or tail latency — ficus on a legacy (pass-through)
//! route must reach at least 1.0× nginx's saturation throughput and at most 1.2× its p99 at a
//! fixed rate — and what translating a taken-over operation to JSON (the http-json route)
//! costs on top, so that operations can be moved with known headroom.
//!
//! Targets: (a) the host simulator's HTTP port, direct; (b) nginx `proxy_pass` to it;
//! (c) ficus, ACCTINQ → host over framed TCP; (d) ficus, ACCTINQ → the JSON `accounts` service;
//! (e) ficus, ACCTINQ → the host's HTTP port — nginx's own upstream, so (e) against (b) is
//! proxy against proxy, while (c) against (b) also counts the host's cheaper framed-TCP side;
//! (f) (c)'s route through a cp949 `[[channels]]` HTTP listener, the client sending cp949: so
//! (f) against (c) is what code conversion both ways costs (issue #15: at most 20%).
//! Each is loaded open loop at a fixed rate (coordinated-omission corrected) and closed loop
//! (saturation) by the generator in `load/`, which shares the machine's cores with the
//! targets and the simulators — the same for every target.
//!
//! `cargo bench --bench proxy -- --help` lists the options. Run without `--bench` (as
//! `cargo test --all-targets` does) it is a few-second smoke check of (c), (d) and (f) instead.

#[path = "load/client.rs"]
mod client;
#[path = "load/cpu.rs"]
mod cpu;
#[path = "load/entry.rs"]
mod entry;
#[path = "load/interleave.rs"]
mod interleave;
#[path = "load/median.rs"]
mod median;
#[path = "load/report.rs"]
mod report;
#[path = "load/run.rs"]
mod run;
#[path = "load/targets.rs"]
mod targets;

use client::{http_request, Conn, Numbering};
use report::{Mode, Row};
use run::Plan;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;
use targets::{Env, Target};

const HELP: &str = "\
proxy benchmark: ficus vs nginx in front of the simulated host (HTTP/1.1 keep-alive)

usage: cargo bench --bench proxy -- [options]

  --rate N          fixed-rate mode: requests per second in total      (default 5000)
  --seconds N       measured seconds per target and mode                (default 10)
  --warmup N        warm-up seconds before each measurement             (default 2)
  --connections N   connections, both modes                             (default 64)
  --targets LIST    any of a,b,c,d,e,f: a host direct, b nginx, c ficus legacy route
                    (TCP), d ficus http-json route, e ficus legacy route over HTTP
                    (nginx's upstream), f c's route through a cp949 channel (the
                    client sends cp949, ficus converts to the host's cp037 and
                    back; compared with c)                        (default a,b,c,d,e,f)
  --workers LIST    nginx worker_processes = ficus TOKIO_WORKER_THREADS; several
                    values run the whole set once per value, e.g. 1,2   (default 1)
  --in-process      run ficus inside the benchmark process (default: `ficus serve`)
  --retries N       repeat a measurement while other work on the machine uses more
                    than 0.1 cores, keeping the quietest attempt          (default 2)
  --rounds N        run the whole set N times (fresh processes each round) and report
                    every ratio as its median and spread over the rounds  (default 1)
  --pin             pin the proxy under test (nginx or ficus) to the last core and this
                    process (load generator, simulators) to the others, with taskset;
                    needs 2+ cores and ficus as a separate process
  --interleave      start every target at once and measure them in turn, in
                    one-second slices (the first turn rotating, every other slice
                    reversed), each target's slices merged: a slow spell of the
                    machine then falls on every target alike instead of on
                    whichever ran then; slices with steal (the hypervisor took
                    > 10 ms of CPU) left out; --seconds slices per target and
                    mode, --retries unused
  --help            this text

Without --bench (cargo test --all-targets) it runs a smoke check of c, d and f instead.";

/// Command-line options of a benchmark run.
struct Options {
    rate: u64,
    seconds: u64,
    warmup: u64,
    connections: usize,
    targets: Vec<Target>,
    workers: Vec<usize>,
    in_process: bool,
    retries: u32,
    rounds: usize,
    pin: bool,
    interleave: bool,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        rate: 5000,
        seconds: 10,
        warmup: 2,
        connections: 64,
        targets: Target::ALL.to_vec(),
        workers: vec![1],
        in_process: false,
        retries: 2,
        rounds: 1,
        pin: false,
        interleave: false,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: &String| {
            v.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| format!("{flag} {v}: not a positive number"))
        };
        match flag.as_str() {
            "--bench" => {}
            "--in-process" => o.in_process = true,
            "--pin" => o.pin = true,
            "--interleave" => o.interleave = true,
            "--rounds" => o.rounds = number(value()?)? as usize,
            "--retries" => o.retries = value()?.parse().map_err(|_| "--retries: not a number".to_string())?,
            "--rate" => o.rate = number(value()?)?,
            "--seconds" => o.seconds = number(value()?)?,
            "--warmup" => o.warmup = value()?.parse().map_err(|_| "--warmup: not a number".to_string())?,
            "--connections" => o.connections = number(value()?)? as usize,
            "--targets" => {
                let list = value()?;
                o.targets = list
                    .split(',')
                    .map(|t| Target::from_letter(t.trim()).ok_or(format!("unknown target {t:?}")))
                    .collect::<Result<_, _>>()?;
            }
            "--workers" => {
                let list = value()?;
                o.workers = list
                    .split(',')
                    .map(|w| number(&w.trim().to_string()).map(|n| n as usize))
                    .collect::<Result<_, _>>()?;
            }
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    Ok(o)
}

fn main() {
    entry::main("proxy", HELP, parse_options, bench, smoke);
}

fn copybooks() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("copybooks")
}

/// Starts the simulators and describes where everything goes.
async fn setup(dir: &Path, in_process: bool) -> Result<(ficus::demo::Sims, Env), String> {
    let cp = ficus::codec::charset::CodePage::Cp037;
    let sims = ficus::demo::start_sims(&copybooks(), cp, "127.0.0.1:0", Some("127.0.0.1:0"), "127.0.0.1:0").await?;
    let env = Env {
        dir: dir.to_path_buf(),
        copybooks: copybooks(),
        host_tcp: sims.host_tcp,
        host_http: sims.host_http.ok_or("the host simulator has no HTTP port")?,
        accounts: sims.accounts,
        ficus_bin: (!in_process).then(|| PathBuf::from(env!("CARGO_BIN_EXE_ficus"))),
    };
    Ok((sims, env))
}

/// The ACCTINQ request as an HTTP request built in `target`'s code page (the host's, or (f)'s
/// channel's), and the reply length the copybooks give.
fn acctinq_request(env: &Env, target: Target) -> Result<(Vec<u8>, usize, Option<Numbering>), String> {
    let codepage = target.codepage();
    let path = env.dir.join(format!("routes-request-{codepage}.toml"));
    std::fs::write(&path, targets::ficus_config_in(env, "127.0.0.1:0", "legacy", codepage))
        .map_err(|e| e.to_string())?;
    let table = ficus::config::load(&path, None, 1).map_err(|e| e.to_string())?;
    let message = ficus::cli::build_request(&table, "ACCTINQ", &json!({"ACCT-NO": "1000000000000001"}), &Value::Null)?;
    let route = table.routes.get("ACCTINQ").ok_or("no ACCTINQ route")?;
    let body = route.response.as_ref().ok_or("ACCTINQ has no response layout")?.max_size();
    let request = http_request(&message);
    let ebcdic = table.options.codepage.is_ebcdic();
    let numbering = Numbering::of(&request, message.len(), table.header.message_id_span(), ebcdic);
    Ok((request, table.header.size + body, numbering))
}

/// Sends `count` requests on one connection; every reply must be 200 with `expected` bytes.
async fn exchanges(
    addr: std::net::SocketAddr,
    mut request: Vec<u8>,
    numbering: Option<Numbering>,
    expected: usize,
    count: usize,
) -> Result<(), String> {
    let mut conn = Conn::connect(addr).await.map_err(|e| format!("connect {addr}: {e}"))?;
    for i in 0..count {
        if let Some(n) = &numbering {
            n.stamp(&mut request);
        }
        let reply = conn.exchange(&request).await.map_err(|e| format!("{addr} request {i}: {e}"))?;
        if reply.status != 200 || reply.body_len != expected {
            let text = String::from_utf8_lossy(conn.body()).into_owned();
            return Err(format!(
                "{addr} request {i}: HTTP {} with {} bytes (want 200, {expected}): {text:?}",
                reply.status, reply.body_len
            ));
        }
        if reply.close {
            conn = Conn::connect(addr).await.map_err(|e| format!("reconnect {addr}: {e}"))?;
        }
    }
    Ok(())
}

/// The quick check: (c) and (f) as `ficus serve`, (d) in this process, 200 requests each over
/// 4 connections, every reply 200 with the right length; (f)'s reply also in cp949.
async fn smoke() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (sims, env) = setup(dir.path(), false).await?;
    let in_process = Env { ficus_bin: None, ..env.clone() };
    for (target, env) in [(Target::FicusLegacy, &env), (Target::FicusJson, &in_process), (Target::FicusChannel, &env)] {
        let (request, expected, numbering) = acctinq_request(env, target)?;
        let running = targets::start(target, env, 1).await?;
        check_converted(&running, target, &request).await?;
        let runs: Vec<_> = (0..4)
            .map(|_| {
                tokio::spawn({
                    let request = request.clone();
                    let addr = running.addr;
                    let numbering = numbering.clone();
                    async move { exchanges(addr, request, numbering, expected, 50).await }
                })
            })
            .collect();
        for r in runs {
            r.await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("{}: {e}; {}", target.label(), running.log_tail()))?;
        }
        running.stop().await;
        println!("proxy smoke: {} answered 200 requests, all HTTP 200 with {expected} bytes", target.label());
    }
    sims.stop();
    Ok(())
}

/// One exchange with a started `target`: for (f) the reply must carry ACCT-NO in cp949 (ASCII
/// digits where the host sends EBCDIC ones), so (f) measures conversion, not pass-through or
/// an error reply of the same length.
async fn check_converted(running: &targets::Running, target: Target, request: &[u8]) -> Result<(), String> {
    if target != Target::FicusChannel {
        return Ok(());
    }
    let mut conn = Conn::connect(running.addr).await.map_err(|e| e.to_string())?;
    conn.exchange(request).await.map_err(|e| format!("{}: {e}", target.label()))?;
    if !conn.body().windows(16).any(|w| w == b"1000000000000001") {
        let body = String::from_utf8_lossy(conn.body()).into_owned();
        return Err(format!(
            "{}: the reply does not carry ACCT-NO 1000000000000001 in cp949: {body:?}",
            target.label()
        ));
    }
    Ok(())
}

/// Other load (cores) above which a measurement is repeated.
const QUIET_CORES: f64 = 0.1;

/// Runs one mode against a started target; repeats it (up to `--retries` times) while other
/// work on the machine is busier than [`QUIET_CORES`], and keeps the quietest attempt.
async fn measure(plan: &Plan, running: &targets::Running, mode: Mode, o: &Options) -> (run::Stats, cpu::Usage) {
    let mut best: Option<(run::Stats, cpu::Usage)> = None;
    for attempt in 0..=o.retries {
        let before = cpu::Sample::take(running.pid());
        let stats = match mode {
            Mode::Fixed => run::fixed_rate(plan, o.rate).await,
            Mode::Saturation => run::saturate(plan).await,
        };
        let usage = before.until(&cpu::Sample::take(running.pid()));
        let background = usage.background_cores.unwrap_or(0.0);
        if let Some(e) = &stats.first_error {
            eprintln!("[proxy]   {mode:?}: {} errors, first: {e}", stats.errors);
        }
        eprintln!(
            "[proxy]   {mode:?} #{attempt}: {:.0} req/s, p99 {:.0} µs, other load {background:.2} cores",
            stats.rate(),
            stats.micros(0.99),
        );
        if best.as_ref().is_none_or(|(_, u)| background < u.background_cores.unwrap_or(0.0)) {
            best = Some((stats, usage));
        }
        if background <= QUIET_CORES {
            break;
        }
    }
    best.expect("at least one attempt")
}

/// The benchmark proper: every target, both modes, once per worker count, `--rounds` times.
async fn bench(o: Options) -> Result<(), String> {
    let pinned = pin(&o)?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (sims, env) = setup(dir.path(), o.in_process).await?;
    let (request, expected, numbering) = acctinq_request(&env, Target::FicusLegacy)?;
    let plan = Plan {
        addr: env.host_http,
        request: std::sync::Arc::new(request),
        numbering,
        expected_len: expected,
        connections: o.connections,
        warmup: Duration::from_secs(o.warmup),
        measure: Duration::from_secs(o.seconds),
    };
    println!("# ficus proxy benchmark\n");
    println!(
        "Decision: can ficus replace nginx in front of the host (legacy route ≥ 1.0× nginx throughput, ≤ 1.2× its \
         p99 at a fixed rate; (e) is that route over HTTP, nginx's own upstream protocol), and what does the \
         http-json route (d) cost, and code conversion on a cp949 channel (f against c: ≥ 0.8×)?\n"
    );
    println!(
        "ACCTINQ: {} request bytes, {expected}-byte replies; {} connections; fixed rate {}/s open loop (latency from the intended send time), then saturation closed loop; {} s warm-up + {} s measured each. \
         Machine: {} cores, shared by the load generator, the simulators (both in this process, 2 runtime threads) and the proxy under test — the same for every target. \
         ficus runs {}. {pinned} {} round(s). {}\n",
        plan.request.len(),
        o.connections,
        o.rate,
        o.warmup,
        o.seconds,
        targets::machine_cores(),
        if o.in_process { "inside this process (sharing its runtime)" } else { "as `ficus serve` (release build), a separate process like nginx" },
        o.rounds,
        if o.interleave {
            "Interleaved: every target of a round runs at once and is measured in one-second slices in turn \
             (250 ms unmeasured warm-up each, the first turn rotating, every other slice in reverse order), each \
             target's slices merged into its row, leaving out slices in which the hypervisor took more than 10 ms \
             of CPU (steal; their count is on stderr)."
        } else {
            "One target after another."
        },
    );
    // rounds[w][r]: the rows of worker count w in round r.
    let mut rounds: Vec<Vec<Vec<Row>>> = o.workers.iter().map(|_| Vec::new()).collect();
    for round in 0..o.rounds {
        for (w, &workers) in o.workers.iter().enumerate() {
            let rows = match o.interleave {
                true => one_round_interleaved(&o, &env, &plan, workers).await?,
                false => one_round(&o, &env, &plan, workers).await?,
            };
            println!("## round {} of {}, {workers} worker(s): nginx worker_processes {workers}, ficus TOKIO_WORKER_THREADS={workers}\n", round + 1, o.rounds);
            println!("{}", report::table(&rows, o.rate));
            println!("{}", report::ratios(&rows));
            rounds[w].push(rows);
        }
    }
    if o.rounds > 1 {
        for (w, &workers) in o.workers.iter().enumerate() {
            println!("## {workers} worker(s): ratios over {} rounds (median, and the spread min–max)\n", o.rounds);
            println!("{}", report::spread(&rounds[w]));
        }
    }
    sims.stop();
    Ok(())
}

/// Starts `target` and checks it answers (and converts, for f): the running target, its plan.
async fn start_checked(
    env: &Env,
    plan: &Plan,
    target: Target,
    workers: usize,
) -> Result<(targets::Running, Plan), String> {
    // (f)'s client speaks cp949: the same message in its code page, the same reply length.
    let (request, expected, numbering) = acctinq_request(env, target)?;
    let running = targets::start(target, env, workers).await?;
    check_converted(&running, target, &request).await?;
    exchanges(running.addr, request.clone(), numbering.clone(), expected, 10)
        .await
        .map_err(|e| format!("{e}; {}", running.log_tail()))?;
    let plan = Plan { addr: running.addr, request: std::sync::Arc::new(request), numbering, ..plan.clone() };
    Ok((running, plan))
}

/// Every target in `o.targets` started at once and measured interleaved ([`interleave`]), both
/// modes, with `workers` worker threads/processes; rows in the same order as [`one_round`]'s.
async fn one_round_interleaved(o: &Options, env: &Env, plan: &Plan, workers: usize) -> Result<Vec<Row>, String> {
    // A target that fails to start ends the round; those started already stop when dropped.
    let mut started = Vec::new();
    for &target in &o.targets {
        eprintln!("[proxy] {} with {workers} worker(s), interleaved", target.label());
        started.push(start_checked(env, plan, target, workers).await?);
    }
    let slots: Vec<interleave::Slot> =
        started.iter().map(|(running, plan)| interleave::Slot { plan: plan.clone(), pid: running.pid() }).collect();
    let mut rows: Vec<Row> = Vec::new();
    for mode in [Mode::Fixed, Mode::Saturation] {
        let rate = (mode == Mode::Fixed).then_some(o.rate);
        let merged = interleave::measure(&slots, rate, o.seconds, Duration::from_secs(o.warmup), Duration::ZERO).await;
        let connections = if mode == Mode::Fixed { o.connections.min(o.rate as usize) } else { o.connections };
        for (&target, m) in o.targets.iter().zip(merged) {
            eprintln!(
                "[proxy]   {} {mode:?}: {:.0} req/s, p99 {:.0} µs, other load {:.2} cores, steal {:.0} ms, {}",
                target.label(),
                m.stats.rate(),
                m.stats.micros(0.99),
                m.background,
                m.steal * 1000.0,
                m.kept_note()
            );
            let background = Some(m.background);
            rows.push(Row { target, mode, connections, stats: m.stats, proxy_cpu: m.cpu, background });
        }
    }
    for (running, _) in started {
        running.stop().await;
    }
    // The same order as one_round's: each target's fixed row, then its saturation row.
    rows.sort_by_key(|r| (o.targets.iter().position(|t| *t == r.target), r.mode == Mode::Saturation));
    Ok(rows)
}

/// Every target in `o.targets`, both modes, with `workers` worker threads/processes.
async fn one_round(o: &Options, env: &Env, plan: &Plan, workers: usize) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for &target in &o.targets {
        eprintln!("[proxy] {} with {workers} worker(s)", target.label());
        let (running, plan) = start_checked(env, plan, target, workers).await?;
        for mode in [Mode::Fixed, Mode::Saturation] {
            let (stats, usage) = measure(&plan, &running, mode, o).await;
            let connections = if mode == Mode::Fixed { o.connections.min(o.rate as usize) } else { o.connections };
            rows.push(Row {
                target,
                mode,
                connections,
                stats,
                proxy_cpu: usage.proxy,
                background: usage.background_cores,
            });
        }
        running.stop().await;
    }
    Ok(rows)
}

/// With `--pin`: the proxy on the last core, this process on the others; the report's words.
fn pin(o: &Options) -> Result<String, String> {
    match (o.pin, o.in_process) {
        (false, _) => Ok("Nothing pinned.".into()),
        (true, true) => Err("--pin needs ficus as a separate process (not --in-process)".into()),
        (true, false) => targets::pin_apart(),
    }
}
