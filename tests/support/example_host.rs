//! The COBOL example host (`examples/cobol-host`) as a process, started the way a user starts
//! it: its binary, a working directory, command-line arguments. The binary is built (or found
//! up to date) with `cargo build --example cobol-host` in this test's own target directory, so
//! a test never runs a stale copy.
//!
//! [`ExampleHost::start`] returns once the host has printed its banner (its listeners are
//! bound and its routes file is written by then); [`ExampleHost::stop`] sends SIGTERM and
//! returns what it printed on the way out.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// A safety net against a host that never prints its banner, not a speed requirement.
const PATIENCE: Duration = Duration::from_secs(300);
/// The banner's last line starts with this.
const GATEWAY_COMMAND: &str = "cargo run --release -- serve --config ";

/// The example's binary, built once per test process.
pub fn binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            // This test runs from <target>/<profile>/deps/; the example lands in <profile>/examples/.
            let exe = std::env::current_exe().unwrap();
            let profile = exe.parent().and_then(Path::parent).expect("test binary outside a target directory");
            let target = profile.parent().expect("profile directory without a parent");
            let mut cargo = std::process::Command::new(env!("CARGO"));
            cargo
                .args(["build", "--quiet", "--example", "cobol-host", "--manifest-path"])
                .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
                .arg("--target-dir")
                .arg(target);
            if profile.file_name().is_some_and(|n| n == "release") {
                cargo.arg("--release");
            }
            let status = cargo.status().expect("cannot run cargo");
            assert!(status.success(), "cargo build --example cobol-host failed: {status}");
            let binary = profile.join("examples").join(format!("cobol-host{}", std::env::consts::EXE_SUFFIX));
            assert!(binary.is_file(), "cargo built no {}", binary.display());
            binary
        })
        .clone()
}

/// A running example host.
pub struct ExampleHost {
    child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr: tokio::task::JoinHandle<String>,
    /// The banner's lines, trimmed.
    pub banner: Vec<String>,
}

/// Spawns the host in `cwd` with `args`, its output captured.
fn spawn(cwd: &Path, args: &[&str]) -> (Child, Lines<BufReader<ChildStdout>>, tokio::task::JoinHandle<String>) {
    let mut child = Command::new(binary())
        .args(args)
        .current_dir(cwd)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut err = child.stderr.take().unwrap();
    let stderr = tokio::spawn(async move {
        let mut text = String::new();
        let _ = err.read_to_string(&mut text).await;
        text
    });
    (child, stdout, stderr)
}

impl ExampleHost {
    /// Starts the host in `cwd` with `args` and reads its banner; panics, with what it wrote
    /// on stderr, if it exits first.
    pub async fn start(cwd: &Path, args: &[&str]) -> ExampleHost {
        let (child, mut stdout, stderr) = spawn(cwd, args);
        let mut banner = Vec::new();
        let read = async {
            while let Some(line) = stdout.next_line().await.unwrap() {
                let line = line.trim().to_string();
                let last = line.starts_with(GATEWAY_COMMAND);
                banner.push(line);
                if last {
                    return true;
                }
            }
            false
        };
        let complete = tokio::time::timeout(PATIENCE, read).await.expect("no banner from the example host");
        if !complete {
            let stderr = stderr.await.unwrap();
            panic!("the example host exited before its banner:\nstdout: {banner:#?}\nstderr: {stderr}");
        }
        ExampleHost { child, stdout, stderr, banner }
    }

    /// Runs the host in `cwd` with `args` expecting it to fail: its exit status and stderr.
    pub async fn fail(cwd: &Path, args: &[&str]) -> (std::process::ExitStatus, String) {
        let (mut child, mut stdout, stderr) = spawn(cwd, args);
        while let Ok(Some(_)) = stdout.next_line().await {}
        let status = tokio::time::timeout(PATIENCE, child.wait()).await.expect("the host did not exit").unwrap();
        (status, stderr.await.unwrap())
    }

    /// The value on the banner line labelled `label` (its first word).
    pub fn value(&self, label: &str) -> &str {
        self.banner
            .iter()
            .find_map(|l| l.strip_prefix(label).and_then(|rest| rest.split_whitespace().next()))
            .unwrap_or_else(|| panic!("no {label:?} in the banner: {:#?}", self.banner))
    }

    /// The banner line labelled `label`, whole.
    pub fn line(&self, label: &str) -> &str {
        self.banner
            .iter()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no {label:?} in {:#?}", self.banner))
    }

    /// The COBOL host's framed address.
    pub fn addr(&self) -> SocketAddr {
        self.value("COBOL host").parse().unwrap()
    }

    /// The `--config` path of the gateway command the banner prints, as printed.
    pub fn config(&self) -> &str {
        let command = self.banner.last().unwrap();
        command.strip_prefix(GATEWAY_COMMAND).unwrap()
    }

    /// Sends SIGTERM, checks the host exits 0, and returns what it printed after its banner
    /// (the goodbye) and its whole stderr.
    pub async fn stop(mut self) -> (Vec<String>, String) {
        let pid = self.child.id().expect("the host exited early").to_string();
        assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        let mut goodbye = Vec::new();
        while let Some(line) = self.stdout.next_line().await.unwrap() {
            goodbye.push(line.trim().to_string());
        }
        let status = tokio::time::timeout(PATIENCE, self.child.wait()).await.expect("the host did not stop").unwrap();
        let stderr = self.stderr.await.unwrap();
        assert!(status.success(), "the host exited with {status} on SIGTERM:\n{stderr}");
        (goodbye, stderr)
    }
}
