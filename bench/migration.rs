//! Migration benchmark: what live route changes and shadow traffic cost the channel, measured
//! through a ficus HTTP listener in front of the simulated host, in one run.
//!
//! **Decisions it informs:** (1) whether the migration team may flip, canary and roll back
//! operations *during business hours* while channels keep sending — a flip storm (a change
//! every ~50 ms through the admin API, plus file rewrites picked up by SIGHUP) must lose no
//! message and keep p99 within 1.2× of steady state (issue 4); and (2) whether shadowing may be
//! left on in production for as long as a comparison needs — with a healthy, a +500 ms and a
//! dead shadow, the primary's p99 and throughput must stay within 5% of no shadow (issue 5).
//!
//! Scenario `storm`: one `ficus serve` process, ACCTINQ measured steady on `legacy` (framed TCP
//! to the host), steady on `accounts` (the http-json service), with a *reload-only* storm (a
//! change every tick that moves no traffic: canary at 0% on and off), and with the flip storm
//! (target legacy ⇄ accounts, canary percent changed, file rewrite + SIGHUP). The storm's
//! traffic alternates between the two sides, so its p99 is judged against the slower steady
//! side; the reload-only storm shows the cost of reloading alone, and an fsync-only row (this
//! process syncing two files per tick, no reload) the share of that which is the disk.
//!
//! Scenario `shadow`: ACCTINQ primary on `legacy`, five `ficus serve` processes: no shadow;
//! a second gateway without a shadow (the control: how far this machine moves a ratio that
//! should be 1.00×); `shadow = "accounts"`; `shadow = "slow"`, a JSON service in this process
//! that answers after 500 ms (a tokio sleep) with `shadow_timeout_ms = 1000`, so shadows pile up to the shadow
//! budget (`shadow_connections`, half the upstream's connections, below `[shadow] max_in_flight
//! = 256`) and the rest are dropped (counted, from `GET /shadow`); and `shadow =
//! "dead"`, an address nothing listens on.
//!
//! Every variant runs open loop at a fixed rate (coordinated-omission corrected) and closed loop
//! (saturation) with the generator in `load/`. The shadow scenario's five gateways run side by
//! side and are measured interleaved, in one-second slices taken in turn, so that a slow spell of
//! a shared machine falls on every variant alike; `--pin` keeps ficus on a core of its own. Any
//! reply that is not HTTP 200 with the copybook's length counts as failed. Everything —
//! generator, simulators, the slow service and ficus — shares the machine's cores, the same for
//! every variant.
//!
//! `cargo bench --bench migration -- --help` lists the options. Run without `--bench` (as
//! `cargo test --all-targets` does) it is a ~3 s smoke check instead: a few hundred messages
//! with a handful of flips (API and file + SIGHUP) and a healthy shadow, zero failures.

#[allow(dead_code)]
#[path = "load/client.rs"]
mod client;
#[allow(dead_code)]
#[path = "load/cpu.rs"]
mod cpu;
#[path = "load/entry.rs"]
mod entry;
#[path = "load/interleave.rs"]
mod interleave;
#[path = "load/median.rs"]
mod median;
#[allow(dead_code)]
#[path = "load/run.rs"]
mod run;
#[allow(dead_code)]
#[path = "load/targets.rs"]
mod targets;

use bytes::Bytes;
use client::{http_request, Conn, Numbering};
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use run::{Plan, Stats};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use targets::{Env, Running};
use tokio::time::{timeout, Instant};

const HELP: &str = "\
migration benchmark: flip storm vs steady (issue 4) and shadow overhead (issue 5), ACCTINQ
through a ficus HTTP listener (`ficus serve`) in front of the simulated host

usage: cargo bench --bench migration -- --bench [options]

  --scenario S      storm, shadow or all                                (default all)
  --rate N          fixed-rate mode: requests per second in total      (default 3000)
  --seconds N       measured seconds per variant and mode; in the shadow scenario,
                    N one-second slices per variant, taken in turn with the other
                    variants, each after 250 ms unmeasured              (default 10)
  --warmup N        warm-up seconds before each measurement; in the shadow scenario
                    one pass per gateway and mode before its slices      (default 2)
  --connections N   connections, both modes                            (default 64)
  --flip-ms N       time between route changes in the storms           (default 50)
  --workers N       ficus TOKIO_WORKER_THREADS                         (default 1)
  --retries N       storm scenario: repeat a measurement while other work on the
                    machine uses more than 0.1 cores, keeping the quietest attempt
                    (the shadow scenario interleaves its variants instead) (default 1)
  --rounds N        shadow scenario: run every variant N times (a fresh ficus each) and
                    report each ratio as its median and spread              (default 1)
  --pin             pin every ficus to the last core and this process (load generator,
                    simulators, the slow service) to the others, with taskset (needs
                    it, and 2+ cores), so no shadow service takes ficus's core
  --help            this text

Without --bench (cargo test --all-targets) it runs a ~3 s smoke check instead.";

/// p99 during the flip storm may be at most this multiple of steady state (issue 4).
const MAX_STORM_P99_RATIO: f64 = 1.2;
/// With any shadow, primary p99 and throughput must stay within this share of no shadow (issue 5).
const SHADOW_TOLERANCE: f64 = 0.05;
/// How late the +500 ms shadow service answers.
const SLOW_DELAY: Duration = Duration::from_millis(500);
/// The slow shadow's own time budget: long enough that slow shadows pile up to the cap.
const SLOW_SHADOW_TIMEOUT_MS: u64 = 1000;
/// `[shadow] max_in_flight` (ficus's default, written out so the report can name it).
const SHADOW_CAP: usize = 256;
/// The admin token's name and secret (the token file holds `bench:secret`).
const TOKEN: &str = "secret";
/// Other load (cores) above which a measurement is repeated.
const QUIET_CORES: f64 = 0.1;

/// Which scenarios to run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Storm,
    Shadow,
    All,
}

/// Command-line options of a benchmark run.
struct Options {
    scenario: Scenario,
    rate: u64,
    seconds: u64,
    warmup: u64,
    connections: usize,
    flip_every: Duration,
    workers: usize,
    retries: u32,
    rounds: usize,
    pin: bool,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        scenario: Scenario::All,
        rate: 3000,
        seconds: 10,
        warmup: 2,
        connections: 64,
        flip_every: Duration::from_millis(50),
        workers: 1,
        retries: 1,
        rounds: 1,
        pin: false,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: &String| {
            v.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| format!("{flag} {v}: not a positive number"))
        };
        match flag.as_str() {
            "--bench" => {}
            "--pin" => o.pin = true,
            "--scenario" => {
                o.scenario = match value()?.as_str() {
                    "storm" => Scenario::Storm,
                    "shadow" => Scenario::Shadow,
                    "all" => Scenario::All,
                    other => return Err(format!("--scenario {other:?}: storm, shadow or all")),
                }
            }
            "--rate" => o.rate = number(value()?)?,
            "--seconds" => o.seconds = number(value()?)?,
            "--warmup" => o.warmup = value()?.parse().map_err(|_| "--warmup: not a number".to_string())?,
            "--connections" => o.connections = number(value()?)? as usize,
            "--flip-ms" => o.flip_every = Duration::from_millis(number(value()?)?),
            "--workers" => o.workers = number(value()?)? as usize,
            "--rounds" => o.rounds = number(value()?)? as usize,
            "--retries" => o.retries = value()?.parse().map_err(|_| "--retries: not a number".to_string())?,
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    Ok(o)
}

fn main() {
    entry::main("migration", HELP, parse_options, bench, smoke);
}

// ---------------------------------------------------------------------------------------------
// The world: simulators, the slow service, a dead address, the request.

/// Everything the variants share.
struct World {
    sims: ficus::demo::Sims,
    env: Env,
    /// The JSON service answering after [`SLOW_DELAY`].
    slow: SocketAddr,
    /// An address nothing listens on, held so that no gateway is given its port.
    dead: SocketAddr,
    _dead_hold: tokio::net::TcpSocket,
    /// The ACCTINQ request as a whole HTTP request.
    request: Arc<Vec<u8>>,
    /// Where the request's message id is (each request gets its own number).
    numbering: Option<Numbering>,
    /// The reply body length the copybooks give.
    expected: usize,
    stop: tokio::sync::watch::Sender<bool>,
}

impl World {
    async fn start(dir: &Path) -> Result<World, String> {
        let copybooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("copybooks");
        let cp = ficus::codec::charset::CodePage::Cp037;
        let sims = ficus::demo::start_sims(&copybooks, cp, "127.0.0.1:0", Some("127.0.0.1:0"), "127.0.0.1:0").await?;
        let env = Env {
            dir: dir.to_path_buf(),
            copybooks,
            host_tcp: sims.host_tcp,
            host_http: sims.host_http.ok_or("the host simulator has no HTTP port")?,
            accounts: sims.accounts,
            ficus_bin: Some(PathBuf::from(env!("CARGO_BIN_EXE_ficus"))),
        };
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
        let slow = listener.local_addr().map_err(|e| e.to_string())?;
        tokio::spawn(serve_slow(listener, sims.ledger.clone(), SLOW_DELAY, shutdown));
        let (dead, _dead_hold) = targets::dead_address()?;
        let mut world = World {
            sims,
            env,
            slow,
            dead,
            _dead_hold,
            request: Arc::new(Vec::new()),
            numbering: None,
            expected: 0,
            stop,
        };
        let (request, expected, numbering) = world.request()?;
        world.request = Arc::new(request);
        world.numbering = numbering;
        world.expected = expected;
        Ok(world)
    }

    /// The ACCTINQ request (HTTP) and the reply length the copybooks give.
    fn request(&self) -> Result<(Vec<u8>, usize, Option<Numbering>), String> {
        let dir = self.env.dir.join("request");
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let path = dir.join("routes.toml");
        let spec = RouteSpec { target: "legacy", ..RouteSpec::default() };
        std::fs::write(&path, self.routes_toml("127.0.0.1:0".parse().expect("address"), None, &spec))
            .map_err(|e| e.to_string())?;
        let table = ficus::config::load(&path, None, 1).map_err(|e| e.to_string())?;
        let body = json!({"ACCT-NO": "1000000000000001"});
        let message = ficus::cli::build_request(&table, "ACCTINQ", &body, &Value::Null)?;
        let route = table.routes.get("ACCTINQ").ok_or("no ACCTINQ route")?;
        let body = route.response.as_ref().ok_or("ACCTINQ has no response layout")?.max_size();
        let request = http_request(&message);
        let ebcdic = table.options.codepage.is_ebcdic();
        let numbering = Numbering::of(&request, message.len(), table.header.message_id_span(), ebcdic);
        Ok((request, table.header.size + body, numbering))
    }

    /// A routes.toml: the HTTP listener on `listen`, the admin API on `admin` (token file
    /// `tokens`), upstreams legacy, accounts, slow and dead, and ACCTINQ as `spec` says.
    fn routes_toml(&self, listen: SocketAddr, admin: Option<SocketAddr>, spec: &RouteSpec) -> String {
        let admin = admin.map_or(String::new(), |a| format!("admin       = \"{a}\"\nadmin_token_file = \"tokens\"\n"));
        let mut route = format!("target   = \"{}\"\n", spec.target);
        if let Some((to, percent)) = spec.canary {
            route += &format!("canary   = {{ to = \"{to}\", percent = {percent}, sticky = \"ACCT-NO\" }}\n");
        }
        if let Some((to, ms)) = spec.shadow {
            route += &format!("shadow   = \"{to}\"\nshadow_timeout_ms = {ms}\nignore   = [\"HDR-TIMESTAMP\"]\n");
        }
        format!(
            r#"# written by bench/migration.rs
[gateway]
listen_http = "{listen}"
{admin}copybooks   = "{copybooks}"
codepage    = "cp037"

[header]
copybook  = "COMMHDR.cpy"
operation = ["HDR-TRAN-CODE"]
response_code    = "HDR-RESP-CODE"
response_message = "HDR-RESP-MSG"
length_field     = "HDR-MSG-LEN"
message_id       = "HDR-SEQ-NO"

[upstreams.legacy]
kind = "tcp"
address = "{legacy}"
framing = {{ length_prefix = 4 }}
timeout_ms = 3000
max_connections = 64

[upstreams.accounts]
kind = "http-json"
url = "http://{accounts}/ops"
timeout_ms = 3000
max_connections = 64

[upstreams.slow]                     # answers after 500 ms; room for every shadow under the cap
kind = "http-json"
url = "http://{slow}/ops"
timeout_ms = 3000
max_connections = {slow_conns}

[upstreams.dead]                     # nothing listens here
kind = "http-json"
url = "http://{dead}/ops"
timeout_ms = 1000
max_connections = 64

[default]
target = "legacy"

[shadow]
max_in_flight = {SHADOW_CAP}

[routes.ACCTINQ]
request  = "ACCTINQ.cpy#ACCTINQ-REQ"
response = "ACCTINQ.cpy#ACCTINQ-RESP"
read_only = true
{route}"#,
            copybooks = self.env.copybooks.display(),
            legacy = self.env.host_tcp,
            accounts = self.env.accounts,
            slow = self.slow,
            dead = self.dead,
            slow_conns = SHADOW_CAP + 16,
        )
    }

    fn stop(&self) {
        let _ = self.stop.send(true);
        self.sims.stop();
    }
}

/// The route keys a variant sets on ACCTINQ.
#[derive(Clone, Copy, Default)]
struct RouteSpec {
    target: &'static str,
    /// (to, percent)
    canary: Option<(&'static str, u32)>,
    /// (upstream, shadow_timeout_ms)
    shadow: Option<(&'static str, u64)>,
}

/// The shadow service that is alive but slow: every request is answered by the sample
/// `accounts` logic after `delay`, waited for with a tokio sleep (no runtime thread blocks).
async fn serve_slow(
    listener: tokio::net::TcpListener,
    ledger: Arc<ficus::sim::ledger::Ledger>,
    delay: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((s, _)) => s,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let _ = stream.set_nodelay(true);
        let ledger = ledger.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let ledger = ledger.clone();
                async move {
                    let body = Limited::new(req.into_body(), 1 << 20).collect().await.map(|b| b.to_bytes());
                    tokio::time::sleep(delay).await;
                    let (status, value) = match body {
                        Ok(body) => ficus::sim::accounts::answer(&ledger, &body),
                        Err(_) => (413, json!({ "error": "body too large" })),
                    };
                    let mut r = Response::new(Full::new(Bytes::from(serde_json::to_vec(&value).unwrap_or_default())));
                    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                    r.headers_mut().insert(
                        hyper::header::CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static("application/json"),
                    );
                    Ok::<_, std::convert::Infallible>(r)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

// ---------------------------------------------------------------------------------------------
// A ficus process with its admin API.

/// A started `ficus serve` with an admin API and a token.
struct Gateway {
    running: Running,
    admin: SocketAddr,
    config: PathBuf,
}

impl Gateway {
    /// Writes `<dir>/<name>/routes.toml` and `tokens`, starts `ficus serve`, waits for `/readyz`.
    async fn start(world: &World, name: &str, spec: &RouteSpec, workers: usize) -> Result<Gateway, String> {
        let dir = world.env.dir.join(name);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("tokens"), format!("bench:{TOKEN}\n")).map_err(|e| e.to_string())?;
        let listen = SocketAddr::from(([127, 0, 0, 1], targets::free_port()?));
        let admin = SocketAddr::from(([127, 0, 0, 1], targets::free_port()?));
        let config = dir.join("routes.toml");
        std::fs::write(&config, world.routes_toml(listen, Some(admin), spec)).map_err(|e| e.to_string())?;
        let bin = world.env.ficus_bin.as_ref().ok_or("no ficus binary")?;
        let running = targets::start_ficus_with(bin, &config, listen, workers, &dir.join("ficus.log")).await?;
        let gateway = Gateway { running, admin, config };
        for _ in 0..250 {
            if matches!(gateway.admin("GET", "/readyz", None).await, Ok((200, _))) {
                return Ok(gateway);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(format!("admin API on {admin} never became ready; {}", gateway.running.log_tail()))
    }

    /// One admin request (keep-alive off: a fresh connection each), with the bench token.
    async fn admin(&self, method: &str, path: &str, body: Option<&Value>) -> Result<(u16, Value), String> {
        let body = body.map(|b| serde_json::to_vec(b).unwrap_or_default()).unwrap_or_default();
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(&body);
        let exchange = async {
            let mut conn = Conn::connect(self.admin).await?;
            let reply = conn.exchange(&request).await?;
            Ok::<_, std::io::Error>((reply.status, serde_json::from_slice(conn.body()).unwrap_or(Value::Null)))
        };
        match timeout(Duration::from_secs(5), exchange).await {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => Err(format!("{method} {path}: {e}")),
            Err(_) => Err(format!("{method} {path}: no reply within 5 s")),
        }
    }

    /// The live table's generation and reload counters (`GET /routes`).
    async fn generation(&self) -> Result<(u64, Value), String> {
        let (status, v) = self.admin("GET", "/routes", None).await?;
        let generation = v["generation"].as_u64().filter(|_| status == 200).ok_or(format!("GET /routes: {v}"))?;
        Ok((generation, v["reload"].clone()))
    }

    /// ACCTINQ's shadow counters (`GET /shadow`): compared, dropped, shadow errors, mismatched.
    async fn shadow_counts(&self) -> Result<ShadowCounts, String> {
        let (_, v) = self.admin("GET", "/shadow", None).await?;
        let op = &v["operations"]["ACCTINQ"];
        let n = |k: &str| op[k].as_u64().unwrap_or(0);
        Ok(ShadowCounts {
            compared: n("compared"),
            mismatched: n("mismatched"),
            dropped: n("dropped"),
            errors: n("shadow_errors"),
        })
    }

    /// `PUT /routes/ACCTINQ` with `patch`; the new generation.
    async fn put(&self, patch: &Value) -> Result<u64, String> {
        match self.admin("PUT", "/routes/ACCTINQ", Some(patch)).await? {
            (200, v) => v["generation"].as_u64().ok_or(format!("PUT reply without generation: {v}")),
            (status, v) => Err(format!("PUT {patch}: HTTP {status}: {v}")),
        }
    }

    /// Rewrites routes.toml as an editor would (temp file, rename over it) and sends SIGHUP,
    /// so the change is applied now rather than when the watcher's settle time has passed.
    async fn rewrite_and_hup(&self, text: &str) -> Result<(), String> {
        let tmp = self.config.with_file_name(".routes.toml.bench-edit");
        tokio::fs::write(&tmp, text).await.map_err(|e| format!("{}: {e}", tmp.display()))?;
        tokio::fs::rename(&tmp, &self.config).await.map_err(|e| format!("{}: {e}", self.config.display()))?;
        let pid = self.running.pid().ok_or("ficus runs in this process: no SIGHUP")?;
        let status = tokio::process::Command::new("kill")
            .arg("-HUP")
            .arg(pid.to_string())
            .status()
            .await
            .map_err(|e| format!("kill -HUP {pid}: {e}"))?;
        status.success().then_some(()).ok_or(format!("kill -HUP {pid}: {status}"))
    }
}

/// Shadow counters of ACCTINQ.
#[derive(Clone, Copy, Default)]
struct ShadowCounts {
    compared: u64,
    mismatched: u64,
    dropped: u64,
    errors: u64,
}

impl ShadowCounts {
    fn since(self, before: ShadowCounts) -> ShadowCounts {
        ShadowCounts {
            compared: self.compared - before.compared.min(self.compared),
            mismatched: self.mismatched - before.mismatched.min(self.mismatched),
            dropped: self.dropped - before.dropped.min(self.dropped),
            errors: self.errors - before.errors.min(self.errors),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The storms.

/// What a storm changes on each tick.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Storm {
    /// Target legacy ⇄ accounts, canary percent changed, file rewrites + SIGHUP.
    Flip,
    /// Reloads that move no traffic: a 0% canary on and off, file rewrites of the same route.
    ReloadOnly,
    /// No reload at all: this process writes and fsyncs two files beside routes.toml each tick,
    /// as a PUT does (the atomic write and the audit line), to tell disk syncs from reloads.
    FsyncOnly,
}

/// One step of a storm.
enum Change {
    /// `PUT /routes/ACCTINQ` with this patch.
    Put(Value),
    /// Rewrite routes.toml with ACCTINQ like this, then SIGHUP.
    Rewrite(RouteSpec),
    /// Write and fsync two scratch files beside routes.toml; no reload.
    Fsync,
}

/// What a storm did.
#[derive(Default)]
struct StormReport {
    /// Admin API changes that answered 200.
    puts: u64,
    /// File rewrites followed by SIGHUP.
    rewrites: u64,
    /// Ticks of the fsync-only storm.
    syncs: u64,
    /// Changes that failed (admin error, cannot write, cannot signal).
    failed: u64,
    /// Generations applied over the storm (`GET /routes` before and after).
    generations: u64,
    /// Admin `PUT` round trips (validate, write, fsync, rename, build, swap), milliseconds.
    put_ms: Vec<f64>,
    first_error: Option<String>,
    /// `reload` counters from `GET /routes` after the storm.
    reload: Value,
}

impl StormReport {
    fn note(&self) -> String {
        if self.syncs > 0 {
            return format!("{} ticks × 2 fsyncs, {} generations applied", self.syncs, self.generations);
        }
        let mut ms = self.put_ms.clone();
        ms.sort_by(f64::total_cmp);
        let at = |q: f64| ms.get(((ms.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(0.0);
        format!(
            "{} generations applied ({} PUT + {} file+SIGHUP, {} failed); PUT p50 {:.1} ms, max {:.1} ms",
            self.generations,
            self.puts,
            self.rewrites,
            self.failed,
            at(0.5),
            at(1.0)
        )
    }
}

/// Changes ACCTINQ every `every` from `start` until `end` (bounded by the window).
async fn storm(world: &World, gw: &Gateway, kind: Storm, start: Instant, end: Instant, every: Duration) -> StormReport {
    let mut report = StormReport::default();
    let before = gw.generation().await.map(|g| g.0);
    let mut tick = tokio::time::interval_at(start, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let listen = gw.running.addr;
    for i in 0u64.. {
        tick.tick().await;
        if Instant::now() >= end {
            break;
        }
        let percent = [10u32, 50, 90, 100][(i / 4 % 4) as usize];
        // Every step changes the file's text, so every step is a new generation.
        let change = match (kind, i % 4) {
            (Storm::Flip, 0) => Change::Put(json!({ "target": "accounts", "canary": null })),
            (Storm::Flip, 1) => Change::Put(json!({ "target": "legacy" })),
            (Storm::Flip, 2) => {
                Change::Put(json!({ "canary": { "to": "accounts", "percent": percent, "sticky": "ACCT-NO" } }))
            }
            (Storm::Flip, _) => Change::Rewrite(RouteSpec { target: "legacy", ..RouteSpec::default() }),
            (Storm::ReloadOnly, 0 | 2) => Change::Put(json!({ "canary": null })),
            (Storm::ReloadOnly, 1) => {
                Change::Put(json!({ "canary": { "to": "accounts", "percent": 0, "sticky": "ACCT-NO" } }))
            }
            (Storm::ReloadOnly, _) => {
                Change::Rewrite(RouteSpec { target: "legacy", canary: Some(("accounts", 0)), ..RouteSpec::default() })
            }
            (Storm::FsyncOnly, _) => Change::Fsync,
        };
        let outcome = match change {
            Change::Put(patch) => {
                let t = std::time::Instant::now();
                let r = gw.put(&patch).await;
                if r.is_ok() {
                    report.puts += 1;
                    report.put_ms.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                r.map(|_| ())
            }
            Change::Rewrite(spec) => {
                let r = gw.rewrite_and_hup(&world.routes_toml(listen, Some(gw.admin), &spec)).await;
                if r.is_ok() {
                    report.rewrites += 1;
                }
                r
            }
            Change::Fsync => {
                let dir = gw.config.with_file_name("");
                let r = tokio::task::spawn_blocking(move || fsync_two(&dir, i)).await;
                let r = r.map_err(|e| e.to_string()).and_then(|r| r.map_err(|e| format!("fsync: {e}")));
                if r.is_ok() {
                    report.syncs += 1;
                }
                r
            }
        };
        if let Err(e) = outcome {
            report.failed += 1;
            report.first_error.get_or_insert(e);
        }
    }
    // SIGHUP reloads run after the signal: give the last one a moment before counting.
    tokio::time::sleep(Duration::from_millis(100)).await;
    match (before, gw.generation().await) {
        (Ok(before), Ok((after, reload))) => {
            report.generations = after - before.min(after);
            report.reload = reload;
        }
        (Err(e), _) | (_, Err(e)) => {
            report.failed += 1;
            report.first_error.get_or_insert(e);
        }
    }
    report
}

/// What a PUT does to the disk besides reloading: a file written and `sync_all`ed, and a line
/// appended and `sync_data`ed.
fn fsync_two(dir: &Path, i: u64) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create(dir.join("fsync-scratch.toml"))?;
    f.write_all(format!("# tick {i}\n").repeat(40).as_bytes())?;
    f.sync_all()?;
    let mut log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("fsync-scratch.jsonl"))?;
    log.write_all(format!("{{\"tick\":{i}}}\n").as_bytes())?;
    log.sync_data()
}

// ---------------------------------------------------------------------------------------------
// Measuring and reporting.

/// Load mode of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Fixed,
    Saturation,
}

/// One measured row.
struct Row {
    label: String,
    mode: Mode,
    connections: usize,
    stats: Stats,
    /// ficus CPU µs per reply (warm-up included).
    cpu_us: Option<f64>,
    background: Option<f64>,
    note: String,
}

/// What runs beside the load in a measurement.
#[derive(Clone, Copy)]
enum Beside {
    Nothing,
    Storm(Storm),
}

/// Runs one mode against `gw`, with `beside` during the measured window; repeats it (up to
/// `--retries` times) while other work on the machine is busier than [`QUIET_CORES`], and keeps
/// the quietest attempt.
async fn measure(world: &World, gw: &Gateway, label: &str, mode: Mode, beside: Beside, o: &Options) -> Row {
    let plan = Plan {
        addr: gw.running.addr,
        request: world.request.clone(),
        numbering: world.numbering.clone(),
        expected_len: world.expected,
        connections: o.connections,
        warmup: Duration::from_secs(o.warmup),
        measure: Duration::from_secs(o.seconds),
    };
    let mut best: Option<Row> = None;
    for attempt in 0..=o.retries {
        let before = cpu::Sample::take(gw.running.pid());
        // run.rs starts its window 20 ms from now, after the warm-up.
        let start = Instant::now() + Duration::from_millis(20) + plan.warmup;
        let end = start + plan.measure;
        let load = async {
            match mode {
                Mode::Fixed => run::fixed_rate(&plan, o.rate).await,
                Mode::Saturation => run::saturate(&plan).await,
            }
        };
        let (stats, note) = match beside {
            Beside::Storm(kind) => {
                let (stats, report) = tokio::join!(load, storm(world, gw, kind, start, end, o.flip_every));
                if let Some(e) = &report.first_error {
                    eprintln!("[migration]   storm: {} failed changes, first: {e}", report.failed);
                }
                eprintln!("[migration]   storm reload counters: {}", report.reload);
                (stats, report.note())
            }
            Beside::Nothing => (load.await, String::new()),
        };
        let usage = before.until(&cpu::Sample::take(gw.running.pid()));
        let background = usage.background_cores.unwrap_or(0.0);
        log_row(&format!("{label} {mode:?} #{attempt}"), &stats, background, &note);
        let connections = if mode == Mode::Fixed { o.connections.min(o.rate as usize) } else { o.connections };
        let cpu_us = usage.proxy.filter(|_| stats.replies > 0).map(|c| c * 1e6 / stats.replies as f64);
        let row = Row {
            label: label.to_string(),
            mode,
            connections,
            stats,
            cpu_us,
            background: usage.background_cores,
            note,
        };
        if best.as_ref().is_none_or(|b| background < b.background.unwrap_or(0.0)) {
            best = Some(row);
        }
        if background <= QUIET_CORES {
            break;
        }
    }
    best.expect("at least one attempt")
}

/// One measurement's line on stderr (and its first failure, if any).
fn log_row(what: &str, stats: &Stats, background: f64, note: &str) {
    if let Some(e) = &stats.first_error {
        eprintln!("[migration]   {what}: {} failed, first: {e}", stats.errors);
    }
    eprintln!(
        "[migration]   {what}: {:.0} req/s, p99 {:.0} µs, {} failed, other load {background:.2} cores {note}",
        stats.rate(),
        stats.micros(0.99),
        stats.errors + stats.unsent,
    );
}

fn us(v: f64) -> String {
    if v < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// The Markdown table.
fn table(rows: &[Row], rate: u64) -> String {
    let mut out = String::from(
        "| variant | mode | conns | req/s | p50 µs | p99 µs | p99.9 µs | max µs | failed | ficus CPU µs/req | other load (cores) | notes |\n\
         |---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n",
    );
    for r in rows {
        let s = &r.stats;
        let mode = match r.mode {
            Mode::Fixed => format!("fixed {rate}/s"),
            Mode::Saturation => "saturation".into(),
        };
        let failed = if s.unsent > 0 { format!("{} (+{} unsent)", s.errors, s.unsent) } else { s.errors.to_string() };
        out += &format!(
            "| {} | {} | {} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.label,
            mode,
            r.connections,
            s.rate(),
            us(s.micros(0.5)),
            us(s.micros(0.99)),
            us(s.micros(0.999)),
            us(s.hist.max() as f64 / 1000.0),
            failed,
            r.cpu_us.map_or("–".into(), |c| format!("{c:.1}")),
            r.background.map_or("–".into(), |b| format!("{b:.2}")),
            r.note,
        );
    }
    out += "\nfailed: replies that were not HTTP 200 with the copybook's length, I/O errors and timeouts in the \
             measured window (+ requests never sent because the target fell behind). ficus CPU: CPU time of the \
             `ficus serve` process over the mode, warm-up included, per reply. other load: average cores busy \
             outside this benchmark and ficus meanwhile (other builds); a row well above 0.1 has noisy tails.\n";
    out
}

fn find<'a>(rows: &'a [Row], label: &str, mode: Mode) -> Option<&'a Stats> {
    rows.iter().find(|r| r.label == label && r.mode == mode).map(|r| &r.stats)
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "meets"
    } else {
        "MISSES"
    }
}

const STEADY_LEGACY: &str = "steady, target legacy";
const STEADY_ACCOUNTS: &str = "steady, target accounts";
const RELOAD_STORM: &str = "reload-only storm (legacy)";
const FLIP_STORM: &str = "flip storm";
const FSYNC_ONLY: &str = "fsync-only, no reload (legacy)";

/// The storm's ratio lines.
fn storm_ratios(rows: &[Row]) -> String {
    let mut out = String::new();
    let failed: u64 = rows.iter().map(|r| r.stats.errors + r.stats.unsent).sum();
    out += &format!("- failed messages, every row: **{failed}** ({} target 0)\n", verdict(failed == 0));
    let p99 = |label| find(rows, label, Mode::Fixed).map(|s| s.micros(0.99));
    if let (Some(storm), Some(legacy), Some(accounts)) = (p99(FLIP_STORM), p99(STEADY_LEGACY), p99(STEADY_ACCOUNTS)) {
        let base = legacy.max(accounts);
        let r = storm / base.max(f64::MIN_POSITIVE);
        out += &format!(
            "- flip storm p99 / steady p99 (the slower side, {}): **{r:.2}×** ({} target ≤ {MAX_STORM_P99_RATIO:.1}×; \
             the storm's traffic alternates between both sides)\n",
            if accounts >= legacy { "accounts" } else { "legacy" },
            verdict(r <= MAX_STORM_P99_RATIO)
        );
        out += &format!(
            "- flip storm p99 / steady legacy p99: {:.2}× (informational: includes the JSON side's own cost)\n",
            storm / legacy.max(f64::MIN_POSITIVE)
        );
    }
    if let (Some(storm), Some(legacy)) = (p99(RELOAD_STORM), p99(STEADY_LEGACY)) {
        let r = storm / legacy.max(f64::MIN_POSITIVE);
        out += &format!(
            "- reload-only storm p99 / steady legacy p99: **{r:.2}×** ({} ≤ {MAX_STORM_P99_RATIO:.1}×; reloading alone, no traffic moved)\n",
            verdict(r <= MAX_STORM_P99_RATIO)
        );
    }
    if let (Some(fsync), Some(legacy)) = (p99(FSYNC_ONLY), p99(STEADY_LEGACY)) {
        out += &format!(
            "- fsync-only p99 / steady legacy p99: {:.2}× (informational: the disk syncs a PUT does, without reloading)\n",
            fsync / legacy.max(f64::MIN_POSITIVE)
        );
    }
    let sat = |label| find(rows, label, Mode::Saturation).map(|s| s.rate());
    if let (Some(storm), Some(legacy), Some(accounts)) = (sat(FLIP_STORM), sat(STEADY_LEGACY), sat(STEADY_ACCOUNTS)) {
        out += &format!(
            "- flip storm saturation throughput / mean of the two steady sides: {:.2}× (informational)\n",
            storm / ((legacy + accounts) / 2.0).max(f64::MIN_POSITIVE)
        );
    }
    out
}

const NO_SHADOW: &str = "no shadow";
/// The variants measured against [`NO_SHADOW`]: (row label, short name). The last is the
/// control: a second gateway exactly like the first, so its ratios show how far this machine
/// moves a ratio that should be 1.00× (the instrument's own spread, to read the others by).
const SHADOW_VARIANTS: [(&str, &str); 4] = [
    ("shadow → accounts (healthy)", "healthy shadow"),
    ("shadow → +500 ms service", "+500 ms shadow"),
    ("shadow → dead address", "dead shadow"),
    (CONTROL, "control (no shadow, a second gateway)"),
];

/// The control row's label.
const CONTROL: &str = "no shadow, again (control)";

/// The shadow ratio lines.
fn shadow_ratios(rows: &[Row]) -> String {
    let mut out = String::new();
    let failed: u64 = rows.iter().map(|r| r.stats.errors + r.stats.unsent).sum();
    out += &format!("- failed primary messages, every row: **{failed}** (target 0)\n");
    let (Some(base_fixed), Some(base_sat)) =
        (find(rows, NO_SHADOW, Mode::Fixed), find(rows, NO_SHADOW, Mode::Saturation))
    else {
        return out;
    };
    for (label, short) in SHADOW_VARIANTS {
        if let Some(f) = find(rows, label, Mode::Fixed) {
            let r = f.micros(0.99) / base_fixed.micros(0.99).max(f64::MIN_POSITIVE);
            let t = f.rate() / base_fixed.rate().max(f64::MIN_POSITIVE);
            out += &format!(
                "- {short} / no shadow, p99 at the fixed rate: **{r:.2}×** ({} target ≤ {:.2}×); fixed-rate throughput {t:.3}× ({})\n",
                verdict(r <= 1.0 + SHADOW_TOLERANCE),
                1.0 + SHADOW_TOLERANCE,
                verdict(t >= 1.0 - SHADOW_TOLERANCE)
            );
        }
        if let Some(s) = find(rows, label, Mode::Saturation) {
            let t = s.rate() / base_sat.rate().max(f64::MIN_POSITIVE);
            out += &format!(
                "- {short} / no shadow, saturation throughput: **{t:.2}×** ({} target ≥ {:.2}×)\n",
                verdict(t >= 1.0 - SHADOW_TOLERANCE),
                1.0 - SHADOW_TOLERANCE
            );
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The scenarios.

async fn bench_storm(world: &World, o: &Options) -> Result<(), String> {
    eprintln!("[migration] storm: starting ficus");
    let gw = Gateway::start(world, "storm", &RouteSpec { target: "legacy", ..RouteSpec::default() }, o.workers).await?;
    let mut rows = Vec::new();
    for mode in [Mode::Fixed, Mode::Saturation] {
        rows.push(measure(world, &gw, STEADY_LEGACY, mode, Beside::Nothing, o).await);
    }
    for mode in [Mode::Fixed, Mode::Saturation] {
        rows.push(measure(world, &gw, RELOAD_STORM, mode, Beside::Storm(Storm::ReloadOnly), o).await);
    }
    for mode in [Mode::Fixed, Mode::Saturation] {
        rows.push(measure(world, &gw, FSYNC_ONLY, mode, Beside::Storm(Storm::FsyncOnly), o).await);
    }
    gw.put(&json!({ "target": "accounts", "canary": null })).await?;
    for mode in [Mode::Fixed, Mode::Saturation] {
        rows.push(measure(world, &gw, STEADY_ACCOUNTS, mode, Beside::Nothing, o).await);
    }
    for mode in [Mode::Fixed, Mode::Saturation] {
        rows.push(measure(world, &gw, FLIP_STORM, mode, Beside::Storm(Storm::Flip), o).await);
    }
    let (generation, reload) = gw.generation().await?;
    gw.running.stop().await;
    println!("## Flip storm vs steady (issue 4)\n");
    println!(
        "One `ficus serve` ({} worker thread(s)); rows in run order. Storms change ACCTINQ every {} ms during the \
         measured window only: the flip storm cycles PUT target=accounts, PUT target=legacy, PUT canary \
         {{to=accounts, percent 10/50/90/100, sticky ACCT-NO}}, and a rewrite of routes.toml (temp file + rename; \
         target legacy, no canary) followed by SIGHUP; the reload-only storm switches a 0% canary on and off the \
         same ways (no message changes side); the fsync-only row does no reload at all, just the two disk syncs a PUT \
         does (from this process, same directory, same cadence). The \"applied\" count is the generation delta from `GET /routes`. At the end: generation \
         {generation}, reload counters {reload}.\n",
        o.workers,
        o.flip_every.as_millis(),
    );
    println!("{}", table(&rows, o.rate));
    println!("{}", storm_ratios(&rows));
    Ok(())
}

async fn bench_shadow(world: &World, o: &Options) -> Result<(), String> {
    let spec = |shadow| RouteSpec { target: "legacy", canary: None, shadow };
    let variants: [(&str, RouteSpec); 5] = [
        (NO_SHADOW, spec(None)),
        (SHADOW_VARIANTS[0].0, spec(Some(("accounts", 3000)))),
        (SHADOW_VARIANTS[1].0, spec(Some(("slow", SLOW_SHADOW_TIMEOUT_MS)))),
        (SHADOW_VARIANTS[2].0, spec(Some(("dead", 1000)))),
        (SHADOW_VARIANTS[3].0, spec(None)),
    ];
    let mut rounds = Vec::new();
    for round in 1..=o.rounds {
        eprintln!("[migration] shadow, round {round} of {}: starting the {} gateways", o.rounds, variants.len());
        let mut gateways = Vec::new();
        for (i, (label, spec)) in variants.iter().enumerate() {
            gateways.push((*label, Gateway::start(world, &format!("shadow-{round}-{i}"), spec, o.workers).await?));
        }
        let mut rows = Vec::new();
        for mode in [Mode::Fixed, Mode::Saturation] {
            rows.extend(measure_interleaved(world, &gateways, mode, o).await);
        }
        for (_, gw) in gateways {
            gw.running.stop().await;
        }
        rows.sort_by_key(|r| (variants.iter().position(|v| v.0 == r.label), r.mode == Mode::Saturation));
        rounds.push(rows);
    }
    println!("## Shadow overhead (issue 5)\n");
    println!(
        "ACCTINQ primary = legacy (framed TCP to the host); one fresh `ficus serve` ({} worker thread(s)) per \
         variant, all five started together each round and measured interleaved: one-second slices ({} ms \
         warm-up each, unmeasured), the variants taking turns, the first turn rotating every slice and every other slice in reverse order, each \
         variant's slices merged into its row — so a slow spell of the machine falls on every variant alike \
         rather than on whichever ran then. The control row is a second gateway without a shadow, configured as the first: its ratios to the first should be 1.00×, and how far they are is this machine's noise in every ratio. Shadows: `accounts` (the sample JSON service, `ignore = [\"HDR-TIMESTAMP\"]`); `slow` (answers \
         after {} ms, `shadow_timeout_ms = {SLOW_SHADOW_TIMEOUT_MS}`, {} connections allowed, of which shadows \
         may hold half (`shadow_connections`, below the cap `[shadow] max_in_flight = {SHADOW_CAP}`), so that is \
         what limits it); `dead` (127.0.0.1 port with no listener; default circuit breaker). Shadow counts are \
         `GET /shadow` deltas over the mode (its warm-up pass and its slices' warm-ups included); after each slice \
         the gateway is left {} ms to finish its shadows still in flight, inside its CPU reading (±10 ms per slice: \
         /proc's ticks); \"dropped\" counts shadows dropped at the cap or \
         for want of spare connections. steal: CPU time the hypervisor took from the machine's virtual CPUs \
         during the variant's slices (/proc/stat), in which no process ran; a slice with more than 10 ms of it is \
         left out of the row (it measured the VM's pause), and the row says how many were.\n",
        o.workers,
        interleave::SLICE_WARMUP.as_millis(),
        SLOW_DELAY.as_millis(),
        SHADOW_CAP + 16,
        SLOW_DELAY.as_millis() + 100,
    );
    for (n, rows) in rounds.iter().enumerate() {
        if o.rounds > 1 {
            println!("### round {} of {}\n", n + 1, o.rounds);
        }
        println!("{}", table(rows, o.rate));
        println!("{}", shadow_ratios(rows));
    }
    if o.rounds > 1 {
        println!("### Over {} rounds (median, and the spread min–max)\n", o.rounds);
        println!("{}", shadow_spread(&rounds));
    }
    Ok(())
}

/// Runs `mode` against the gateways interleaved ([`interleave::measure`], `--seconds`
/// slices each); one row per gateway, with its shadow counts over all of its slices.
async fn measure_interleaved(world: &World, gateways: &[(&str, Gateway)], mode: Mode, o: &Options) -> Vec<Row> {
    let slots: Vec<interleave::Slot> = gateways
        .iter()
        .map(|(_, gw)| interleave::Slot {
            plan: Plan {
                addr: gw.running.addr,
                request: world.request.clone(),
                numbering: world.numbering.clone(),
                expected_len: world.expected,
                connections: o.connections,
                warmup: Duration::ZERO,
                measure: Duration::ZERO,
            },
            pid: gw.running.pid(),
        })
        .collect();
    let mut shadows_before = Vec::new();
    for (_, gw) in gateways {
        shadows_before.push(gw.shadow_counts().await.unwrap_or_default());
    }
    let rate = (mode == Mode::Fixed).then_some(o.rate);
    // A gateway's shadows still in flight when its slice ends (the slow service answers after
    // SLOW_DELAY) finish before the next gateway's slice, charged to their own.
    let settle = SLOW_DELAY + Duration::from_millis(100);
    let merged = interleave::measure(&slots, rate, o.seconds, Duration::from_secs(o.warmup), settle).await;
    let mut rows = Vec::new();
    for (i, ((label, gw), m)) in gateways.iter().zip(merged).enumerate() {
        let c = gw.shadow_counts().await.unwrap_or_default().since(shadows_before[i]);
        let note = format!(
            "shadows: {} compared ({} mismatched), {} dropped at the cap, {} shadow errors; steal {:.0} ms; {}",
            c.compared,
            c.mismatched,
            c.dropped,
            c.errors,
            m.steal * 1000.0,
            m.kept_note()
        );
        let stats = m.stats;
        log_row(&format!("{label} {mode:?}"), &stats, m.background, &note);
        let connections = if mode == Mode::Fixed { o.connections.min(o.rate as usize) } else { o.connections };
        let cpu_us = m.cpu.filter(|_| stats.replies > 0).map(|c| c * 1e6 / stats.replies as f64);
        rows.push(Row {
            label: label.to_string(),
            mode,
            connections,
            stats,
            cpu_us,
            background: Some(m.background),
            note,
        });
    }
    rows
}

/// The shadow ratios the new-path issue names, each as its median and spread over `rounds`:
/// throughput and ficus CPU per message with each shadow ÷ without, and primary p99.
fn shadow_spread(rounds: &[Vec<Row>]) -> String {
    type Of = fn(&Row) -> Option<f64>;
    let measures: [(&str, Mode, Of); 4] = [
        ("saturation throughput", Mode::Saturation, |r| Some(r.stats.rate())),
        ("ficus CPU per message at saturation", Mode::Saturation, |r| r.cpu_us),
        ("ficus CPU per message at the fixed rate", Mode::Fixed, |r| r.cpu_us),
        ("primary p99 at the fixed rate", Mode::Fixed, |r| Some(r.stats.micros(0.99))),
    ];
    let mut out = String::new();
    for (label, short) in SHADOW_VARIANTS {
        for (what, mode, of) in measures {
            let values: Vec<f64> = rounds
                .iter()
                .filter_map(|rows| {
                    let row = |l: &str| rows.iter().find(|r| r.label == l && r.mode == mode);
                    Some(of(row(label)?)? / of(row(NO_SHADOW)?)?)
                })
                .collect();
            if values.len() == rounds.len() {
                out += &median::median_line(&format!("{short} ÷ none, {what}"), &values).unwrap_or_default();
            }
        }
    }
    out
}

async fn bench(o: Options) -> Result<(), String> {
    // Before the simulators start, so every thread of this process is on the other cores.
    let pinned = if o.pin { targets::pin_apart()? } else { "Nothing pinned.".to_string() };
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let world = World::start(dir.path()).await?;
    println!("# ficus migration benchmark\n");
    println!(
        "Decisions: may routes be flipped while channels send (flip storm: 0 failed, p99 ≤ {MAX_STORM_P99_RATIO:.1}× \
         steady), and may shadowing stay on whatever the shadow does (healthy, +500 ms, dead: primary p99 and \
         throughput within {:.0}% of no shadow)?\n",
        SHADOW_TOLERANCE * 100.0
    );
    println!(
        "ACCTINQ through ficus's HTTP listener: {} request bytes, {}-byte replies; {} connections; fixed rate {}/s \
         open loop (latency from the intended send time), then saturation closed loop; {} s warm-up + {} s \
         measured each. Machine: {} cores, shared by the load generator, the simulators and the slow service (this \
         process, 2 runtime threads) and `ficus serve` (release build). {pinned}\n",
        world.request.len(),
        world.expected,
        o.connections,
        o.rate,
        o.warmup,
        o.seconds,
        targets::machine_cores(),
    );
    if o.scenario != Scenario::Shadow {
        bench_storm(&world, &o).await?;
    }
    if o.scenario != Scenario::Storm {
        bench_shadow(&world, &o).await?;
    }
    world.stop();
    Ok(())
}

/// The quick check: one `ficus serve` with a healthy shadow; ~400 messages over 4 connections
/// in 1.5 s while ACCTINQ is changed every 100 ms (API and file + SIGHUP). Every reply must be
/// 200 with the right length, every change must apply, and shadows must be compared.
async fn smoke() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let world = World::start(dir.path()).await?;
    let spec = RouteSpec { target: "legacy", shadow: Some(("accounts", 1000)), ..RouteSpec::default() };
    let gw = Gateway::start(&world, "smoke", &spec, 1).await?;
    let plan = Plan {
        addr: gw.running.addr,
        request: world.request.clone(),
        numbering: world.numbering.clone(),
        expected_len: world.expected,
        connections: 4,
        warmup: Duration::ZERO,
        measure: Duration::from_millis(1500),
    };
    let start = Instant::now() + Duration::from_millis(20);
    let (stats, flips) = tokio::join!(
        run::fixed_rate(&plan, 270),
        storm(&world, &gw, Storm::Flip, start, start + Duration::from_millis(1250), Duration::from_millis(100)),
    );
    let log = || gw.running.log_tail();
    if stats.errors + stats.unsent > 0 || stats.ok < 300 {
        return Err(format!(
            "{} ok, {} failed, {} unsent (first: {:?}); {}",
            stats.ok,
            stats.errors,
            stats.unsent,
            stats.first_error,
            log()
        ));
    }
    if flips.failed > 0 || flips.generations < flips.puts + flips.rewrites || flips.puts + flips.rewrites < 8 {
        return Err(format!("route changes: {} ({:?}); {}", flips.note(), flips.first_error, log()));
    }
    // Shadows conclude after their primaries: wait (bounded) until some were compared.
    let mut shadow = ShadowCounts::default();
    for _ in 0..50 {
        shadow = gw.shadow_counts().await?;
        if shadow.compared > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if shadow.compared == 0 || shadow.errors > 0 || shadow.dropped > 0 {
        return Err(format!(
            "shadow: {} compared, {} errors, {} dropped; {}",
            shadow.compared,
            shadow.errors,
            shadow.dropped,
            log()
        ));
    }
    println!(
        "migration smoke: {} messages, 0 failed, p99 {:.0} µs; {}; shadows {} compared ({} mismatched)",
        stats.ok,
        stats.micros(0.99),
        flips.note(),
        shadow.compared,
        shadow.mismatched
    );
    gw.running.stop().await;
    world.stop();
    Ok(())
}
