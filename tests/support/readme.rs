//! The README's commands, run as a user types them: its `sh` blocks, a shell per command,
//! `export`s kept from one command to the next, long-running commands (a demo, a host, a
//! gateway) started in the background and stopped with Ctrl-C (SIGINT) as a user would.
//!
//! `cargo run --release -- …` and `cargo run --example cobol-host -- …` run the binaries this
//! test build made (the same programs, without rebuilding inside the test); `ficus` is the
//! gateway's binary, as the README's alias makes it. Nothing else is rewritten: a command the
//! README changes runs changed here.

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One command of a README `sh` block.
#[derive(Debug, Clone)]
pub struct Step {
    /// Its first line in README.md (1-based).
    pub line: usize,
    /// The command (continuation lines joined).
    pub command: String,
}

/// The commands of every `sh` block in the section whose heading starts with `heading`, up
/// to the next heading of the same or a higher level. Comment-only lines are left out.
pub fn commands(readme: &str, heading: &str) -> Vec<Step> {
    let lines: Vec<&str> = readme.lines().collect();
    let start =
        lines.iter().position(|l| l.starts_with(heading)).unwrap_or_else(|| panic!("README has no {heading:?}"));
    let level = heading.chars().take_while(|c| *c == '#').count();
    let mut steps = Vec::new();
    let mut in_sh = false;
    let mut pending: Option<Step> = None;
    for (i, line) in lines.iter().enumerate().skip(start + 1) {
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if !in_sh && hashes > 0 && hashes <= level && line[hashes..].starts_with(' ') {
            break;
        }
        if line.starts_with("```") {
            in_sh = !in_sh && line.trim() == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        let text = line.trim();
        if let Some(mut step) = pending.take() {
            step.command.push('\n');
            step.command.push_str(line);
            if text.ends_with('\\') {
                pending = Some(step);
            } else {
                steps.push(step);
            }
            continue;
        }
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let step = Step { line: i + 1, command: line.to_string() };
        if text.ends_with('\\') {
            pending = Some(step);
        } else {
            steps.push(step);
        }
    }
    steps
}

/// What a command printed.
#[derive(Debug)]
pub struct Output {
    /// Exit status (-1: killed by a signal).
    pub status: i32,
    /// Standard output and standard error, in that order.
    pub text: String,
}

/// A process the walkthrough started and keeps running.
pub struct Background {
    /// The command as the README wrote it.
    pub command: String,
    /// The bash running it (its own process group).
    child: Child,
    /// Where its output goes.
    pub log: PathBuf,
}

impl Background {
    /// What it printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A terminal: a working directory, exported variables, and what runs in the background.
pub struct Shell {
    /// The working directory (the fresh copy of the repository).
    pub cwd: PathBuf,
    env: BTreeMap<String, String>,
    prelude: String,
    /// Long-running commands, oldest first.
    pub background: Vec<Background>,
    logs: usize,
}

impl Shell {
    /// A shell in `cwd` where `ficus` is `ficus_bin` and `cargo run --example cobol-host --` is
    /// `cobol_host_bin`.
    pub fn new(cwd: &Path, ficus_bin: &Path, cobol_host_bin: &Path) -> Shell {
        let prelude = format!(
            r#"set -o pipefail
ficus() {{ "{ficus}" "$@"; }}
cargo() {{
  if [ "$1 $2 $3" = "run --release --" ]; then shift 3; "{ficus}" "$@";
  elif [ "$1 $2 $3 $4" = "run --example cobol-host --" ]; then shift 4; "{host}" "$@";
  else echo "the walkthrough test does not run: cargo $*" >&2; return 99; fi
}}
"#,
            ficus = ficus_bin.display(),
            host = cobol_host_bin.display()
        );
        let mut env: BTreeMap<String, String> = std::env::vars().collect();
        // A user's terminal has none of the test's own settings.
        for key in ["FICUS_ADMIN_TOKEN", "FICUS_CONFIG", "FICUS_ADMIN", "FICUS_LOG", "RUST_LOG"] {
            env.remove(key);
        }
        Shell { cwd: cwd.to_path_buf(), env, prelude, background: Vec::new(), logs: 0 }
    }

    fn bash(&self, script: &str) -> Command {
        let mut cmd = Command::new("bash");
        cmd.arg("-c").arg(format!("{}{script}", self.prelude)).current_dir(&self.cwd).env_clear().envs(&self.env);
        cmd
    }

    /// Runs `command` to its end; an `export` line's variables stay for the next commands.
    pub fn run(&mut self, command: &str) -> Output {
        if command.trim_start().starts_with("export ") {
            let out = self.bash(&format!("{command}\nenv -0")).output().expect("bash");
            assert!(out.status.success(), "{command}: {}", String::from_utf8_lossy(&out.stderr));
            self.env = String::from_utf8_lossy(&out.stdout)
                .split('\0')
                .filter_map(|kv| kv.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
                .filter(|(k, _)| !matches!(k.as_str(), "PWD" | "OLDPWD" | "SHLVL" | "_"))
                .collect();
            return Output { status: 0, text: String::new() };
        }
        let out = self.bash(command).stdin(Stdio::null()).output().expect("bash");
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        Output { status: out.status.code().unwrap_or(-1), text }
    }

    /// Sets a variable as if exported (to put in a value the README shows as `…`).
    pub fn set_var(&mut self, name: &str, value: &str) {
        self.env.insert(name.to_string(), value.to_string());
    }

    /// Starts `command` in the background and waits until every port in `ready` accepts
    /// connections on 127.0.0.1 (or the process exits: a panic naming its output).
    pub fn start(&mut self, command: &str, ready: &[u16], deadline: Duration) -> &Background {
        use std::os::unix::process::CommandExt;
        self.logs += 1;
        let log = self.cwd.join(format!("walkthrough-{}.log", self.logs));
        let file = std::fs::File::create(&log).unwrap();
        let child = self
            .bash(command)
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .process_group(0)
            .spawn()
            .expect("bash");
        self.background.push(Background { command: command.to_string(), child, log });
        let started = Instant::now();
        for port in ready {
            while TcpStream::connect(("127.0.0.1", *port)).is_err() {
                let bg = self.background.last_mut().unwrap();
                if let Some(status) = bg.child.try_wait().unwrap() {
                    panic!("`{command}` exited ({status}) before 127.0.0.1:{port} answered:\n{}", bg.output());
                }
                assert!(
                    started.elapsed() < deadline,
                    "`{command}`: 127.0.0.1:{port} not listening after {deadline:?}:\n{}",
                    bg.output()
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        self.background.last().unwrap()
    }

    /// Waits until the newest background command has printed `text` (or panics with its output
    /// when it exits first or `deadline` passes).
    pub fn wait_for_output(&mut self, text: &str, deadline: Duration) {
        let started = Instant::now();
        let bg = self.background.last_mut().expect("a background command");
        while !bg.output().contains(text) {
            if let Some(status) = bg.child.try_wait().unwrap() {
                panic!("`{}` exited ({status}) before printing {text:?}:\n{}", bg.command, bg.output());
            }
            assert!(started.elapsed() < deadline, "`{}`: no {text:?} after {deadline:?}:\n{}", bg.command, bg.output());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Ctrl-C for the background command whose text contains `pattern`; waits for it to end
    /// and returns everything it printed.
    pub fn interrupt(&mut self, pattern: &str) -> String {
        let i = self
            .background
            .iter()
            .position(|b| b.command.contains(pattern))
            .unwrap_or_else(|| panic!("nothing running matches {pattern:?}"));
        let mut bg = self.background.remove(i);
        interrupt(&mut bg.child);
        bg.output()
    }
}

fn interrupt(child: &mut Child) {
    let group = format!("-{}", child.id());
    // bash's own `kill`: a fresh machine may have no procps.
    let kill = |signal: &str| Command::new("bash").args(["-c", &format!("kill -{signal} -- {group}")]).status();
    let _ = kill("INT");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = kill("KILL");
            let _ = child.wait();
            panic!("a background command ignored Ctrl-C for 30 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        for bg in &mut self.background {
            interrupt(&mut bg.child);
        }
    }
}

/// Panics unless every port is free on 127.0.0.1 (the README's fixed addresses).
pub fn require_free(ports: &[u16]) {
    for port in ports {
        assert!(
            std::net::TcpListener::bind(("127.0.0.1", *port)).is_ok(),
            "the README walkthrough needs 127.0.0.1:{port}, which something else holds"
        );
    }
}

/// Copies the files a fresh clone has that the walkthroughs use into `to`.
pub fn fresh_copy(repo: &Path, to: &Path) {
    for entry in ["README.md", "routes.toml", "copybooks", "examples/cobol-host"] {
        copy(&repo.join(entry), &to.join(entry));
    }
}

fn copy(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            copy(&e.path(), &to.join(e.file_name()));
        }
    } else {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, to).unwrap();
    }
}
