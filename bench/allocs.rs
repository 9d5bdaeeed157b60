//! Allocations per message on the gateway's own thread: the legacy route against the http-json
//! route (issue #17: report both; legacy ≤ 4).
//!
//! **Decision it informs:** whether the path a message takes through ficus allocates per message
//! beyond what the protocol needs — each allocation is CPU on a 2-core host and a lock in the
//! allocator under load — and which route costs what.
//!
//! How: ficus runs in this process on a current-thread runtime of its own thread, so every task
//! it has (listener, connections, gateway, upstream clients) runs there; a counting global
//! allocator counts only on that thread. The simulators and the load client run on another
//! runtime and are not counted. Each route is measured on both channels a bank's systems use:
//! HTTP (a POST per message) and the framed TCP listener (a 4-byte length, then the message: how
//! tellers, ATMs and interbank links send). One keep-alive connection sends `--messages` ACCTINQ requests
//! one after another (after `--warmup` unmeasured ones, so pools, buffers and metric handles
//! exist), each with its own message id; the report gives allocations and bytes per message.
//!
//! `cargo bench --bench allocs -- --help`; without `--bench` (as `cargo test --all-targets`
//! runs it) it is a quick check with few messages.

#[path = "load/client.rs"]
#[allow(dead_code)]
mod client;
#[path = "load/targets.rs"]
#[allow(dead_code)]
mod targets;

use client::{http_request, Conn, Numbering};
use serde_json::{json, Value};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use targets::{Env, Target};

/// Counts allocations (and their bytes) made on threads that asked to be counted.
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

/// With `--where`: one allocation in this many has its stack taken (0: none).
static SAMPLE_EVERY: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COUNTED: Cell<bool> = const { Cell::new(false) };
    /// Inside the sampler (its own allocations are neither counted nor sampled).
    static SAMPLING: Cell<bool> = const { Cell::new(false) };
}

/// Sampled stacks: the ficus frames of each, joined, with how often each was seen.
static STACKS: std::sync::Mutex<Vec<(String, u64)>> = std::sync::Mutex::new(Vec::new());

fn note(size: usize) {
    if !COUNTED.try_with(Cell::get).unwrap_or(false) || SAMPLING.try_with(Cell::get).unwrap_or(true) {
        return;
    }
    let n = ALLOCS.fetch_add(1, Ordering::Relaxed);
    BYTES.fetch_add(size as u64, Ordering::Relaxed);
    let every = SAMPLE_EVERY.load(Ordering::Relaxed);
    if every > 0 && n.is_multiple_of(every) {
        SAMPLING.with(|s| s.set(true));
        sample();
        SAMPLING.with(|s| s.set(false));
    }
}

/// Takes the current stack and keeps its frames inside ficus (and the crate that allocated).
fn sample() {
    let trace = std::backtrace::Backtrace::force_capture().to_string();
    let mut frames = Vec::new();
    let mut outer = None;
    for line in trace.lines().map(str::trim) {
        let Some((_, name)) = line.split_once(": ") else { continue };
        if name.starts_with("ficus::") {
            frames.push(short(name));
        } else if frames.is_empty()
            && !name.starts_with("allocs::")
            && !name.contains("alloc::")
            && !name.starts_with("std::")
            && !name.starts_with("core::")
        {
            outer = Some(short(name));
        }
        if frames.len() == 4 {
            break;
        }
    }
    let key = format!("{} ← {}", outer.unwrap_or_default(), frames.join(" ← "));
    let mut stacks = STACKS.lock().unwrap_or_else(|e| e.into_inner());
    match stacks.iter_mut().find(|(k, _)| *k == key) {
        Some((_, n)) => *n += 1,
        None => stacks.push((key, 1)),
    }
}

/// A symbol without its hash and generic arguments.
fn short(name: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in name.chars() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.trim_end_matches(|c: char| c.is_ascii_hexdigit() || c == 'h' || c == ':').to_string()
}

// SAFETY: every call is passed to the system allocator unchanged; counting touches only
// atomics and a const-initialised thread-local (no allocation inside the allocator).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const HELP: &str = "\
allocation benchmark: allocations per message on ficus's thread, legacy vs http-json route,
on the HTTP channel and on the framed TCP channel

usage: cargo bench --bench allocs -- [options]

  --messages N   measured messages per route, one connection, one at a time (default 20000)
  --warmup N     unmeasured messages first                                  (default 2000)
  --where N      also take the stack of one allocation in N during the measured
                 messages and list where they come from (slow; figures still hold)
  --help         this text

Counts every allocation (and realloc) made on the thread running ficus (listener, connection,
gateway and upstream-client tasks); the simulators and the client run on other threads.";

struct Options {
    messages: u64,
    warmup: u64,
    sample_every: u64,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options { messages: 20_000, warmup: 2_000, sample_every: 0 };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next().and_then(|v| v.parse::<u64>().ok()).filter(|n| *n > 0).ok_or(format!("{flag} needs a number > 0"))
        };
        match flag.as_str() {
            "--bench" => {}
            "--messages" => o.messages = value()?,
            "--warmup" => o.warmup = value()?,
            "--where" => o.sample_every = value()?,
            other => return Err(format!("unknown option {other:?}\n\n{HELP}")),
        }
    }
    Ok(o)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{HELP}");
        return;
    }
    let bench = args.iter().any(|a| a == "--bench");
    let o = match parse(&args) {
        Ok(o) if bench => o,
        Ok(_) => Options { messages: 300, warmup: 100, sample_every: 0 },
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    match runtime.block_on(run(&o, bench)) {
        Ok(()) => {}
        Err(e) => {
            eprintln!("allocs: {e}");
            std::process::exit(1);
        }
    }
}

/// The channel a route is measured on: HTTP (one message a POST) or the framed TCP listener
/// (`tcp_framing`'s default, a 4-byte length before each message), as channel systems use it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Channel {
    Http,
    Tcp,
}

impl Channel {
    fn label(self) -> &'static str {
        match self {
            Channel::Http => "HTTP",
            Channel::Tcp => "framed TCP",
        }
    }
}

/// One route measured: allocations and bytes per message.
struct Figure {
    target: Target,
    channel: Channel,
    allocs: f64,
    bytes: f64,
}

async fn run(o: &Options, bench: bool) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let copybooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("copybooks");
    let cp = ficus::codec::charset::CodePage::Cp037;
    let sims = ficus::demo::start_sims(&copybooks, cp, "127.0.0.1:0", Some("127.0.0.1:0"), "127.0.0.1:0").await?;
    let env = Env {
        dir: dir.path().to_path_buf(),
        copybooks,
        host_tcp: sims.host_tcp,
        host_http: sims.host_http.ok_or("no host HTTP port")?,
        accounts: sims.accounts,
        ficus_bin: None,
    };
    let mut figures = Vec::new();
    for channel in [Channel::Http, Channel::Tcp] {
        for target in [Target::FicusLegacy, Target::FicusJson] {
            figures.push(measure(&env, target, channel, o).await?);
        }
    }
    sims.stop();
    println!("# allocations per message on ficus's thread\n");
    println!(
        "ACCTINQ over one keep-alive connection per row (HTTP, or the framed TCP listener with a 4-byte length), \
         {} messages after {} unmeasured; ficus on a current-thread runtime of its own thread, counted there only.\n",
        o.messages, o.warmup
    );
    println!("| route | channel | allocations / message | bytes allocated / message |\n|---|---|--:|--:|");
    for f in &figures {
        println!("| {} | {} | {:.2} | {:.0} |", f.target.label(), f.channel.label(), f.allocs, f.bytes);
    }
    for pair in figures.chunks(2) {
        let (legacy, json) = (&pair[0], &pair[1]);
        println!(
            "\n{}: http-json ÷ legacy {:.2}× allocations, {:.2}× bytes",
            legacy.channel.label(),
            json.allocs / legacy.allocs,
            json.bytes / legacy.bytes
        );
    }
    let (legacy, json) = (&figures[0], &figures[1]);
    if !bench && (legacy.allocs <= 0.0 || json.allocs <= legacy.allocs) {
        return Err(format!(
            "the count is not working: legacy {:.2}, http-json {:.2} allocations per message (the JSON route \
             allocates at least its request body)",
            legacy.allocs, json.allocs
        ));
    }
    Ok(())
}

/// Starts ficus for `target` on a thread of its own, sends the messages, counts.
async fn measure(env: &Env, target: Target, channel: Channel, o: &Options) -> Result<Figure, String> {
    let acctinq = if target == Target::FicusJson { "accounts" } else { "legacy" };
    let config = env.dir.join(format!("routes-{}.toml", target.letter()));
    std::fs::write(&config, targets::ficus_config(env, "127.0.0.1:0", acctinq)).map_err(|e| e.to_string())?;
    let (request, expected, numbering) = acctinq_request(&config, channel)?;
    let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("ficus-counted".into())
        .spawn(move || gateway_thread(config, channel, addr_tx, stop_rx))
        .map_err(|e| e.to_string())?;
    let addr = addr_rx.await.map_err(|_| "ficus thread ended".to_string())??;
    let mut conn = Link::connect(addr, channel).await?;
    let mut request = request;
    send(&mut conn, &mut request, numbering.as_ref(), expected, o.warmup).await?;
    let (a0, b0) = (ALLOCS.load(Ordering::Relaxed), BYTES.load(Ordering::Relaxed));
    SAMPLE_EVERY.store(o.sample_every, Ordering::Relaxed);
    send(&mut conn, &mut request, numbering.as_ref(), expected, o.messages).await?;
    SAMPLE_EVERY.store(0, Ordering::Relaxed);
    let (a1, b1) = (ALLOCS.load(Ordering::Relaxed), BYTES.load(Ordering::Relaxed));
    let _ = stop_tx.send(());
    let _ = thread.join();
    let n = o.messages as f64;
    let mut stacks = std::mem::take(&mut *STACKS.lock().unwrap_or_else(|e| e.into_inner()));
    stacks.sort_by_key(|s| std::cmp::Reverse(s.1));
    let total: u64 = stacks.iter().map(|(_, c)| c).sum();
    for (stack, count) in stacks.iter().take(40) {
        eprintln!("[allocs]   {:5.1} /msg  {stack}", *count as f64 * (a1 - a0) as f64 / total.max(1) as f64 / n);
    }
    eprintln!(
        "[allocs] {} over {}: {:.2} allocations, {:.0} bytes per message",
        target.label(),
        channel.label(),
        (a1 - a0) as f64 / n,
        (b1 - b0) as f64 / n
    );
    Ok(Figure { target, channel, allocs: (a1 - a0) as f64 / n, bytes: (b1 - b0) as f64 / n })
}

/// The client's connection to ficus on one channel.
enum Link {
    Http(Conn),
    /// A framed TCP connection and its reply buffer.
    Tcp(tokio::net::TcpStream, Vec<u8>),
}

impl Link {
    async fn connect(addr: std::net::SocketAddr, channel: Channel) -> Result<Link, String> {
        Ok(match channel {
            Channel::Http => Link::Http(Conn::connect(addr).await.map_err(|e| e.to_string())?),
            Channel::Tcp => {
                let stream = tokio::net::TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
                stream.set_nodelay(true).map_err(|e| e.to_string())?;
                Link::Tcp(stream, Vec::new())
            }
        })
    }

    /// One exchange: `Ok(None)` when the reply is whole and `expected` bytes long, else what
    /// was wrong.
    async fn exchange(&mut self, request: &[u8], expected: usize) -> std::io::Result<Option<String>> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        match self {
            Link::Http(conn) => {
                let reply = conn.exchange(request).await?;
                Ok((reply.status != 200 || reply.body_len != expected).then(|| {
                    let text = String::from_utf8_lossy(conn.body());
                    format!("HTTP {} with {} bytes, want 200 and {expected}: {text:?}", reply.status, reply.body_len)
                }))
            }
            Link::Tcp(stream, reply) => {
                stream.write_all(request).await?;
                let mut prefix = [0u8; 4];
                stream.read_exact(&mut prefix).await?;
                reply.resize(u32::from_be_bytes(prefix) as usize, 0);
                stream.read_exact(reply).await?;
                Ok((reply.len() != expected).then(|| {
                    let text = String::from_utf8_lossy(reply);
                    format!("a {}-byte reply, want {expected}: {text:?}", reply.len())
                }))
            }
        }
    }
}

/// Sends `n` messages one after another, each numbered; every reply must be whole (HTTP: 200)
/// and `expected` bytes long.
async fn send(
    conn: &mut Link,
    request: &mut [u8],
    numbering: Option<&Numbering>,
    expected: usize,
    n: u64,
) -> Result<(), String> {
    for i in 0..n {
        if let Some(num) = numbering {
            num.stamp(request);
        }
        match conn.exchange(request, expected).await {
            Ok(None) => {}
            Ok(Some(wrong)) => return Err(format!("request {i}: {wrong}")),
            Err(e) => return Err(format!("request {i}: {e}")),
        }
    }
    Ok(())
}

/// The thread ficus runs on: counted from its first instruction, until told to stop.
fn gateway_thread(
    config: PathBuf,
    channel: Channel,
    addr: tokio::sync::oneshot::Sender<Result<std::net::SocketAddr, String>>,
    stop: tokio::sync::oneshot::Receiver<()>,
) {
    COUNTED.with(|c| c.set(true));
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            let _ = addr.send(Err(e.to_string()));
            return;
        }
    };
    runtime.block_on(async move {
        let mut options = ficus::server::Options { watch: false, sighup: false, takeover: false, ..Default::default() };
        if channel == Channel::Tcp {
            options.listen.tcp = "127.0.0.1:0".parse().ok();
        }
        match ficus::server::start(&config, options).await {
            Ok(running) => {
                let bound = if channel == Channel::Tcp { running.tcp } else { running.http };
                let _ = addr.send(bound.ok_or(format!("no {} listener", channel.label())));
                let _ = stop.await;
                running.stop().await;
            }
            Err(e) => {
                let _ = addr.send(Err(e));
            }
        }
    });
}

/// The ACCTINQ request (an HTTP POST, or a framed message) for the table in `config`, the
/// reply length, the id numbering.
fn acctinq_request(config: &Path, channel: Channel) -> Result<(Vec<u8>, usize, Option<Numbering>), String> {
    let table = ficus::config::load(config, None, 1).map_err(|e| e.to_string())?;
    let message = ficus::cli::build_request(&table, "ACCTINQ", &json!({"ACCT-NO": "1000000000000001"}), &Value::Null)?;
    let route = table.routes.get("ACCTINQ").ok_or("no ACCTINQ route")?;
    let body = route.response.as_ref().ok_or("ACCTINQ has no response layout")?.max_size();
    let request = match channel {
        Channel::Http => http_request(&message),
        Channel::Tcp => [&(message.len() as u32).to_be_bytes()[..], &message].concat(),
    };
    let numbering = Numbering::of(&request, message.len(), table.header.message_id_span(), true);
    Ok((request, table.header.size + body, numbering))
}
