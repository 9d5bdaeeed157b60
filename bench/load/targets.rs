//! The things under load, each started on demand and stopped after its runs: (a) the
//! simulated host's own HTTP port, (b) nginx `proxy_pass` to it, (c) ficus routing ACCTINQ to
//! the host over framed TCP, (d) ficus routing ACCTINQ to the JSON `accounts` service, and
//! (e) ficus routing ACCTINQ to the host's HTTP port, the same upstream nginx has, and (f) the
//! route of (c) reached through a cp949 `[[channels]]` HTTP listener, so every request and
//! reply is converted between cp949 and the host's cp037 with the ACCTINQ layouts.
//!
//! nginx and ficus run as child processes with the same core budget (`workers`: nginx
//! `worker_processes`, ficus `TOKIO_WORKER_THREADS`), so their CPU time can be read from
//! /proc; ficus can also run inside the benchmark's own runtime. The simulators always run in
//! the benchmark process. This module starts and stops; it measures nothing.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// One of the four targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// (a) the host's HTTP port, no proxy.
    Direct,
    /// (b) nginx in front of the host's HTTP port.
    Nginx,
    /// (c) ficus, legacy route (framed TCP to the host).
    FicusLegacy,
    /// (d) ficus, http-json route (the `accounts` service).
    FicusJson,
    /// (e) ficus, legacy route over HTTP to the host's HTTP port (nginx's upstream).
    FicusHttp,
    /// (f) (c) through a cp949 channel: code conversion both ways.
    FicusChannel,
}

impl Target {
    /// Every target, in report order.
    pub const ALL: [Target; 6] = [
        Target::Direct,
        Target::Nginx,
        Target::FicusLegacy,
        Target::FicusJson,
        Target::FicusHttp,
        Target::FicusChannel,
    ];

    /// From its letter on the command line.
    pub fn from_letter(s: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.letter() == s)
    }

    /// a to f.
    pub fn letter(self) -> &'static str {
        match self {
            Target::Direct => "a",
            Target::Nginx => "b",
            Target::FicusLegacy => "c",
            Target::FicusJson => "d",
            Target::FicusHttp => "e",
            Target::FicusChannel => "f",
        }
    }

    /// A label for the table.
    pub fn label(self) -> &'static str {
        match self {
            Target::Direct => "(a) host sim, direct HTTP",
            Target::Nginx => "(b) nginx → host HTTP",
            Target::FicusLegacy => "(c) ficus → host TCP (legacy)",
            Target::FicusJson => "(d) ficus → accounts (http-json)",
            Target::FicusHttp => "(e) ficus → host HTTP (legacy)",
            Target::FicusChannel => "(f) cp949 channel → (c), converting",
        }
    }

    /// The code page the load client speaks to this target: the host's, but cp949 for (f).
    pub fn codepage(self) -> &'static str {
        match self {
            Target::FicusChannel => CHANNEL_CODEPAGE,
            _ => HOST_CODEPAGE,
        }
    }
}

/// The simulated host's code page (`[gateway] codepage`).
pub const HOST_CODEPAGE: &str = "cp037";
/// The code page of (f)'s channel.
pub const CHANNEL_CODEPAGE: &str = "cp949";
/// The name of (f)'s channel.
const CHANNEL: &str = "cp949-bench";

/// Where the simulators listen, where files go, and how ficus runs.
#[derive(Clone)]
pub struct Env {
    /// Scratch directory for configurations and logs.
    pub dir: PathBuf,
    /// The repository's copybooks.
    pub copybooks: PathBuf,
    /// The host's framed TCP port.
    pub host_tcp: SocketAddr,
    /// The host's HTTP port.
    pub host_http: SocketAddr,
    /// The `accounts` service.
    pub accounts: SocketAddr,
    /// The `ficus` binary to run as `ficus serve`; `None` runs ficus in this process.
    pub ficus_bin: Option<PathBuf>,
}

/// A started target.
pub struct Running {
    /// The HTTP address to load.
    pub addr: SocketAddr,
    child: Option<Child>,
    gateway: Option<ficus::server::Running>,
    /// Where the child writes its log, if any.
    pub log: Option<PathBuf>,
}

/// A port nothing listens on right now (bound and released).
pub fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// A loopback address nothing listens on, and nothing will while the returned socket lives: it
/// holds the port bound and never listens, so a connection is refused and the system offers the
/// port to no one else (a merely freed port can come back as a gateway's own listener).
#[allow(dead_code)]
pub fn dead_address() -> Result<(SocketAddr, tokio::net::TcpSocket), String> {
    let socket = tokio::net::TcpSocket::new_v4().map_err(|e| format!("no socket: {e}"))?;
    socket.bind(SocketAddr::from(([127, 0, 0, 1], 0))).map_err(|e| format!("no free port: {e}"))?;
    Ok((socket.local_addr().map_err(|e| e.to_string())?, socket))
}

/// A routes.toml serving ACCTINQ from `acctinq` ("legacy", "accounts" or "legacy_http") on `listen`.
pub fn ficus_config(env: &Env, listen: &str, acctinq: &str) -> String {
    ficus_config_in(env, listen, acctinq, HOST_CODEPAGE)
}

/// [`ficus_config`] with `[gateway] codepage` set to `codepage`: what a client of a channel in
/// that code page builds its messages with (the same header and layouts).
pub fn ficus_config_in(env: &Env, listen: &str, acctinq: &str, codepage: &str) -> String {
    format!(
        r#"[gateway]
listen_http = "{listen}"
copybooks   = "{copybooks}"
codepage    = "{codepage}"

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

[upstreams.legacy_http]
kind = "http"
url = "http://{host_http}/"
timeout_ms = 3000
max_connections = 64

[upstreams.accounts]
kind = "http-json"
url = "http://{accounts}/ops"
timeout_ms = 3000
max_connections = 64

[default]
target = "legacy"

[routes.ACCTINQ]
request  = "ACCTINQ.cpy#ACCTINQ-REQ"
response = "ACCTINQ.cpy#ACCTINQ-RESP"
target   = "{acctinq}"
read_only = true
"#,
        copybooks = env.copybooks.display(),
        legacy = env.host_tcp,
        host_http = env.host_http,
        accounts = env.accounts,
    )
}

/// (f)'s `[[channels]]` entry, appended to [`ficus_config`]: a cp949 HTTP listener on `listen`.
fn channel_section(listen: &str) -> String {
    format!("\n[[channels]]\nname = \"{CHANNEL}\"\nlisten_http = \"{listen}\"\ncodepage = \"{CHANNEL_CODEPAGE}\"\n")
}

/// nginx.conf: `workers` worker processes, keep-alive both sides, no access log.
fn nginx_config(dir: &Path, port: u16, upstream: SocketAddr, workers: usize) -> String {
    let d = dir.display();
    format!(
        r#"daemon off;
master_process on;
worker_processes {workers};
error_log {d}/nginx-error.log warn;
pid {d}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    keepalive_requests 1000000;
    upstream host {{
        server {upstream};
        keepalive 64;
        keepalive_requests 1000000;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://host;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"#
    )
}

/// Starts `target` with `workers` worker threads/processes and waits until it accepts.
pub async fn start(target: Target, env: &Env, workers: usize) -> Result<Running, String> {
    let mut running = Running { addr: env.host_http, child: None, gateway: None, log: None };
    match target {
        Target::Direct => return Ok(running),
        Target::Nginx => {
            let port = free_port()?;
            let dir = env.dir.join(format!("nginx-{workers}"));
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            let conf = dir.join("nginx.conf");
            std::fs::write(&conf, nginx_config(&dir, port, env.host_http, workers)).map_err(|e| e.to_string())?;
            let log = dir.join("nginx-stderr.log");
            let mut cmd = Command::new("/usr/sbin/nginx");
            cmd.arg("-c").arg(&conf).arg("-p").arg(&dir).arg("-e").arg(dir.join("nginx-error.log"));
            running.addr = SocketAddr::from(([127, 0, 0, 1], port));
            running.child = Some(spawn(cmd, &log)?);
            running.log = Some(log);
        }
        Target::FicusLegacy | Target::FicusJson | Target::FicusHttp | Target::FicusChannel => {
            let acctinq = match target {
                Target::FicusJson => "accounts",
                Target::FicusHttp => "legacy_http",
                _ => "legacy",
            };
            let listen = match env.ficus_bin {
                None => "127.0.0.1:0".to_string(),
                Some(_) => format!("127.0.0.1:{}", free_port()?),
            };
            // (f) loads its channel's listener; the default one stays on an unused port.
            let (default_listen, mut text) = match target {
                Target::FicusChannel => {
                    let port = if env.ficus_bin.is_some() { free_port()? } else { 0 };
                    (format!("127.0.0.1:{port}"), channel_section(&listen))
                }
                _ => (listen.clone(), String::new()),
            };
            text.insert_str(0, &ficus_config(env, &default_listen, acctinq));
            let config = env.dir.join(format!("routes-{}.toml", target.letter()));
            std::fs::write(&config, text).map_err(|e| e.to_string())?;
            let Some(ficus_bin) = &env.ficus_bin else {
                let options =
                    ficus::server::Options { watch: false, sighup: false, takeover: false, ..Default::default() };
                let gateway = ficus::server::start(&config, options).await?;
                running.addr = match target {
                    Target::FicusChannel => gateway.channel(CHANNEL).and_then(|c| c.http),
                    _ => gateway.http,
                }
                .ok_or("ficus started without the HTTP listener to load")?;
                running.gateway = Some(gateway);
                return Ok(running);
            };
            let log = env.dir.join(format!("ficus-{}-{workers}.log", target.letter()));
            let addr = listen.parse().map_err(|e| format!("{listen}: {e}"))?;
            return start_ficus_with(ficus_bin, &config, addr, workers, &log).await;
        }
    }
    running.wait_ready().await?;
    Ok(running)
}

/// With `--pin`: the CPUs (taskset's list syntax) every proxy under test is started on.
pub static PROXY_CPUS: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// How many cores the machine has, counted at the first call — which [`pin_apart`] makes
/// before narrowing this process to fewer.
pub fn machine_cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Pins every proxy started from now on (ficus or nginx) to the last core and this process —
/// load generator, simulators — to the others, so the two never take each other's core
/// (`taskset`); the report's words for it. Needs 2 or more cores.
pub fn pin_apart() -> Result<String, String> {
    let cores = machine_cores();
    if cores < 2 {
        return Err("--pin needs 2 or more cores".into());
    }
    let rest = if cores == 2 { "0".to_string() } else { format!("0-{}", cores - 2) };
    let proxy = (cores - 1).to_string();
    pin_self(&rest)?;
    let _ = PROXY_CPUS.set(proxy.clone());
    Ok(format!(
        "Pinned with taskset: the proxy under test on CPU {proxy}, the load generator and simulators on CPU {rest}."
    ))
}

/// Pins this process, every thread of it (and so the threads it starts later), to `cpus`.
pub fn pin_self(cpus: &str) -> Result<(), String> {
    let status = Command::new("taskset")
        .args(["-a", "-p", "-c", cpus, &std::process::id().to_string()])
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("taskset: {e}"))?;
    status.success().then_some(()).ok_or(format!("taskset -a -p -c {cpus} failed: {status}"))
}

fn spawn(cmd: Command, log: &Path) -> Result<Child, String> {
    // taskset execs the program: the child keeps its pid, so its CPU time is still read from /proc.
    let mut cmd = match PROXY_CPUS.get() {
        None => cmd,
        Some(cpus) => {
            let mut pinned = Command::new("taskset");
            pinned.arg("-c").arg(cpus).arg(cmd.get_program()).args(cmd.get_args());
            for (k, v) in cmd.get_envs() {
                match v {
                    Some(v) => pinned.env(k, v),
                    None => pinned.env_remove(k),
                };
            }
            pinned
        }
    };
    let file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(file);
    cmd.spawn().map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))
}

impl Running {
    /// Connects until the target accepts (at most 10 s), failing early if the child exits.
    async fn wait_ready(&mut self) -> Result<(), String> {
        for _ in 0..500 {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!("exited with {status} before listening; {}", self.log_tail()));
                }
            }
            if tokio::net::TcpStream::connect(self.addr).await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(format!("{} never accepted a connection; {}", self.addr, self.log_tail()))
    }

    /// The end of the child's log, for error messages.
    pub fn log_tail(&self) -> String {
        let Some(log) = &self.log else { return "no log".into() };
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let tail: Vec<_> = text.lines().rev().take(10).collect::<Vec<_>>().into_iter().rev().collect();
        format!("{}:\n{}", log.display(), tail.join("\n"))
    }

    /// The child's process id (nginx's master), when the target is a separate process.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Stops the target: SIGTERM to the child (nginx's master stops its workers), then waits.
    pub async fn stop(mut self) {
        if let Some(gateway) = self.gateway.take() {
            gateway.stop().await;
        }
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            for _ in 0..250 {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Running {
    /// A panic mid-run still ends the child (by its id).
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            std::thread::sleep(Duration::from_millis(200));
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts `ficus serve --config <config>` from a routes.toml the caller wrote (listening for
/// HTTP on `listen`), with `workers` tokio worker threads, its log in `log`; waits until it
/// accepts. For benchmarks that need settings [`ficus_config`] does not write (admin API,
/// shadows); the file is watched and SIGHUP reloads it, as in production.
pub async fn start_ficus_with(
    ficus_bin: &Path,
    config: &Path,
    listen: SocketAddr,
    workers: usize,
    log: &Path,
) -> Result<Running, String> {
    let mut cmd = Command::new(ficus_bin);
    cmd.arg("serve").arg("--config").arg(config);
    cmd.env("TOKIO_WORKER_THREADS", workers.to_string()).env("FICUS_LOG", "warn");
    let mut running =
        Running { addr: listen, child: Some(spawn(cmd, log)?), gateway: None, log: Some(log.to_path_buf()) };
    running.wait_ready().await?;
    Ok(running)
}
