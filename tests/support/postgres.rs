//! A real PostgreSQL server for tests: Debian's `postgresql` binaries, a fresh cluster in a
//! temporary directory, listening on a free loopback port, stopped and removed on drop.
//!
//! [`Postgres::start`] runs `initdb` (superuser [`USER`], trust authentication for local and
//! loopback connections, UTF8, no locale) and then `postgres` with `fsync=off` — a test
//! cluster is thrown away, so durability across a power cut does not matter and every commit
//! is faster. It waits until the server accepts connections (`pg_isready`, with a deadline;
//! a server that stops or never gets ready panics with its log). Each test can take a
//! database of its own on one server with [`Postgres::create_database`].
//!
//! Binaries: the highest version under `/usr/lib/postgresql/<ver>/bin` (Debian keeps them off
//! PATH), else PATH. PostgreSQL refuses to run as root, so as root (CI and this machine) the
//! server runs as the `postgres` user the Debian package creates: its processes are started
//! with that user's uid and gid (no wrapper process in between, so the server's pid is the
//! child's and signals reach it), and the temporary directory is handed to it.
//!
//! A missing PostgreSQL is a test failure saying what to install, never a skip.

#![allow(dead_code)]

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The cluster's superuser, the user in every URL.
pub const USER: &str = "ficus";

/// How long a server may take to accept connections after it starts.
const READY_DEADLINE: Duration = Duration::from_secs(60);
/// Free-port races lost before giving up (another process took the port between our probe
/// and the server's bind).
const PORT_ATTEMPTS: usize = 5;

/// A running PostgreSQL server; dropping it stops the server and removes its files.
pub struct Postgres {
    bin: PathBuf,
    owner: Option<(u32, u32)>,
    /// Holds `data/` (the cluster), the Unix socket and `server.log`.
    dir: tempfile::TempDir,
    port: u16,
    server: Child,
    /// With [`Postgres::start_tls`]: the CA that signed the server's certificate.
    ca: Option<PathBuf>,
}

fn install_hint() -> String {
    "install Debian's `postgresql` package (apt-get install -y postgresql), or run .ci/run, \
     which installs it"
        .to_string()
}

/// The directory of the PostgreSQL server binaries: the highest `/usr/lib/postgresql/<ver>/bin`
/// holding `initdb`, else the directory of `initdb` on PATH.
pub fn bin_dir() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return bin;
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|d| d.join("initdb").is_file() && d.join("postgres").is_file());
    on_path.unwrap_or_else(|| {
        panic!(
            "PostgreSQL not found: no /usr/lib/postgresql/<version>/bin/initdb and no initdb on PATH; {}",
            install_hint()
        )
    })
}

/// `name` in `bin` if it is there (Debian's versioned directory has every tool), else `name`
/// from PATH.
fn tool(bin: &Path, name: &str) -> PathBuf {
    let there = bin.join(name);
    if there.is_file() {
        there
    } else {
        PathBuf::from(name)
    }
}

/// The uid and gid to run the server as: `None` unless we are root, then the `postgres`
/// user's (PostgreSQL will not run as root).
fn server_owner() -> Option<(u32, u32)> {
    let id = |args: &[&str]| -> Option<u32> {
        let out = Command::new("id").args(args).output().ok()?;
        String::from_utf8(out.stdout).ok()?.trim().parse().ok()
    };
    if id(&["-u"]) != Some(0) {
        return None;
    }
    match (id(&["-u", "postgres"]), id(&["-g", "postgres"])) {
        (Some(uid), Some(gid)) => Some((uid, gid)),
        _ => panic!(
            "running as root, and PostgreSQL will not run as root: it runs as the `postgres` user, but there is \
             none; {}",
            install_hint()
        ),
    }
}

/// A port nobody listens on right now (the server binds it next; a lost race is retried).
fn free_port() -> u16 {
    let probe = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    probe.local_addr().expect("local address").port()
}

impl Postgres {
    /// Initialises a cluster in a fresh temporary directory and starts a server on a free
    /// loopback port; returns once it accepts connections. Panics, with the server's log,
    /// if PostgreSQL is missing, or the server stops or is not ready within a minute.
    pub fn start() -> Postgres {
        Self::start_with(false)
    }

    /// [`Postgres::start`], but TLS only, as a bank's server is: a test CA signs the server's
    /// certificate (for `127.0.0.1`, by IP), `pg_hba.conf` takes loopback connections over TLS
    /// and rejects them without (`hostnossl … reject`). [`Postgres::ca`] is the CA's PEM file.
    /// Needs the `openssl` command (Debian's `postgresql` package pulls it in).
    pub fn start_tls() -> Postgres {
        Self::start_with(true)
    }

    /// The CA that signed the server's certificate (PEM), with [`Postgres::start_tls`].
    pub fn ca(&self) -> &Path {
        self.ca.as_deref().expect("a server started with start_tls")
    }

    fn start_with(tls: bool) -> Postgres {
        let bin = bin_dir();
        let owner = server_owner();
        let dir = tempfile::Builder::new().prefix("ficus-pg").tempdir().expect("temporary directory");
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .unwrap_or_else(|e| panic!("chown {} to the postgres user: {e}", dir.path().display()));
        }
        let data = dir.path().join("data");
        let mut initdb = Command::new(tool(&bin, "initdb"));
        initdb.arg("-D").arg(&data).args([
            "--username",
            USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        ]);
        let out = run_as(&mut initdb, owner);
        if !out.status.success() {
            panic!(
                "initdb -D {} failed ({}):\n{}{}",
                data.display(),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let ca = tls.then(|| tls_only(&data, owner));
        let mut last_log = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            let mut server = Self::spawn_server(&bin, owner, dir.path(), port, tls);
            match wait_ready(&bin, &mut server, dir.path(), port) {
                Ok(()) => return Postgres { bin, owner, dir, port, server, ca },
                Err(log) if log.contains("Address already in use") => last_log = log,
                Err(log) => {
                    let _ = server.kill();
                    let _ = server.wait();
                    panic!("PostgreSQL ({}) did not start on 127.0.0.1:{port}; its log:\n{log}", bin.display());
                }
            }
        }
        panic!("PostgreSQL lost the race for a free port {PORT_ATTEMPTS} times; its last log:\n{last_log}");
    }

    fn spawn_server(bin: &Path, owner: Option<(u32, u32)>, dir: &Path, port: u16, tls: bool) -> Child {
        let log_path = dir.join("server.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .unwrap_or_else(|e| panic!("{}: {e}", log_path.display()));
        let mut cmd = Command::new(tool(bin, "postgres"));
        cmd.arg("-D")
            .arg(dir.join("data"))
            .arg("-p")
            .arg(port.to_string())
            .arg("-k")
            .arg(dir)
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .args(if tls {
                &["-c", "ssl=on", "-c", "ssl_cert_file=server.pem", "-c", "ssl_key_file=server.key"][..]
            } else {
                &[]
            })
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log);
        if let Some((uid, gid)) = owner {
            cmd.uid(uid).gid(gid);
        }
        cmd.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", tool(bin, "postgres").display()))
    }

    /// The server's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `postgres://ficus@127.0.0.1:PORT/postgres`: the server's default database.
    pub fn url(&self) -> String {
        self.database_url("postgres")
    }

    /// The URL of database `name` on this server.
    pub fn database_url(&self, name: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates database `name` (letters, digits and `_`, starting with a letter or `_`) and
    /// returns its URL; panics with `createdb`'s message if it cannot (e.g. it exists).
    pub fn create_database(&self, name: &str) -> String {
        let valid = name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && name.len() <= 63;
        assert!(valid, "database name {name:?}: use lower-case letters, digits and _, at most 63 (a plain SQL name)");
        let createdb = tool(&self.bin, "createdb");
        let out = Command::new(&createdb)
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", USER, name])
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", createdb.display()));
        assert!(
            out.status.success(),
            "createdb {name} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        self.database_url(name)
    }

    /// The directory holding the cluster (`data/`), the socket and `server.log`; removed on
    /// drop.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Makes the server hang: SIGSTOP to the postmaster, then to every process it started (the
    /// backends of open connections). Connections are still accepted by the kernel, and nothing
    /// answers. [`Postgres::resume`] undoes it (also done on drop).
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// SIGCONT to the server and its processes (after [`Postgres::pause`]).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, sig: &str) {
        let server = self.server.id();
        let mut pids = vec![server];
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|p| p.parse::<u32>().ok()) else { continue };
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            // pid (comm) state ppid …: the comm may hold spaces, so read after its ')'.
            let ppid = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
            if ppid == Some(server) {
                pids.push(pid);
            }
        }
        // A backend may exit between the listing and the signal: only the server's must reach it.
        for pid in pids {
            let status = Command::new("kill").arg(sig).arg(pid.to_string()).stderr(Stdio::null()).status();
            if pid == server && !std::thread::panicking() {
                assert!(status.is_ok_and(|s| s.success()), "kill {sig} {pid} (the server)");
            }
        }
    }

    /// The server's log so far (for a failing test's message).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for Postgres {
    /// Stops the server at once (`pg_ctl stop -m immediate`: nothing is kept, so nothing
    /// needs a clean shutdown), waits for it to exit, then the directory goes.
    fn drop(&mut self) {
        self.signal("-CONT");
        let mut stop = Command::new(tool(&self.bin, "pg_ctl"));
        stop.arg("stop").arg("-D").arg(self.dir.path().join("data")).args(["-m", "immediate", "-w", "-s"]);
        let stopped = run_as(&mut stop, self.owner).status.success();
        if !stopped {
            let _ = self.server.kill();
        }
        let _ = self.server.wait();
    }
}

/// Makes the cluster in `data` TLS-only: a test CA (`data/ca.pem`) signs `data/server.pem` for
/// IP 127.0.0.1; `pg_hba.conf` rejects loopback connections without TLS. Returns the CA's path.
fn tls_only(data: &Path, owner: Option<(u32, u32)>) -> PathBuf {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(data).output().unwrap_or_else(|e| {
            panic!("cannot run openssl ({e}): install it (Debian's postgresql package pulls it in)")
        });
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &["-days", "2", "-subj", "/CN=ficus test CA", "-keyout", "ca.key", "-out", "ca.pem"],
        ]
        .concat(),
    );
    openssl(&[&["req"][..], &ec, &["-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr"]].concat());
    let ext = data.join("server.ext");
    std::fs::write(&ext, "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
        .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.pem",
    ]);
    let key = data.join("server.key");
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    if let Some((uid, gid)) = owner {
        for f in ["server.key", "server.pem", "ca.pem"] {
            std::os::unix::fs::chown(data.join(f), Some(uid), Some(gid)).unwrap();
        }
    }
    let hba = "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n";
    std::fs::write(data.join("pg_hba.conf"), hba).unwrap();
    data.join("ca.pem")
}

/// Runs `cmd` (as `owner`, if given) to completion, output captured.
fn run_as(cmd: &mut Command, owner: Option<(u32, u32)>) -> Output {
    if let Some((uid, gid)) = owner {
        cmd.uid(uid).gid(gid);
    }
    let program = cmd.get_program().to_string_lossy().into_owned();
    cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| {
        panic!("cannot run {program}: {e}; {}", install_hint());
    })
}

/// Polls `pg_isready` until the server accepts connections: `Err(log)` if it exits first or
/// the deadline passes.
fn wait_ready(bin: &Path, server: &mut Child, dir: &Path, port: u16) -> Result<(), String> {
    let log = || std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = server.try_wait() {
            return Err(format!("(the server exited: {status})\n{}", log()));
        }
        let ready = Command::new(tool(bin, "pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string(), "-U", USER, "-d", "postgres"])
            .status()
            .is_ok_and(|s| s.success());
        if ready {
            return Ok(());
        }
        if started.elapsed() > READY_DEADLINE {
            return Err(format!("(not accepting connections after {READY_DEADLINE:?})\n{}", log()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
pub fn accepts(port: u16) -> bool {
    TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok()
}
