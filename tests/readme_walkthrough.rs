//! The README's two walkthroughs — the demo, and migrating an operation on the real COBOL
//! host — run command by command, as written, in a fresh copy of the repository's files, with
//! real processes on the README's fixed 127.0.0.1 ports. Each command's visible result is
//! checked; a command the README adds, drops or reorders fails the test until its check here
//! is updated, so the two cannot drift apart.
//!
//! Both walkthroughs share ports, so they run in one test, one after the other. Nothing is
//! timed: a background command gets a generous deadline to start listening (the COBOL host
//! compiles its programs first), and an eventually-visible result (shadow comparisons and
//! their records, written after the reply) is re-read until it shows or a deadline passes.

/// Only its `binary()`: the example built as `cargo run --example cobol-host` would build it.
#[allow(dead_code)]
#[path = "support/example_host.rs"]
mod example_host;
#[path = "support/readme.rs"]
mod readme;

use readme::{Shell, Step};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const PORTS: [u16; 6] = [7001, 7002, 8080, 9000, 9100, 9901];
/// The COBOL host's banner ends with the command to start the gateway: it is ready then.
const HOST_READY: &str = "cargo run --release -- serve --config";

/// How a command's result is checked.
enum Expect {
    /// Runs to its end, exits 0 and prints every one of these.
    Prints(&'static [&'static str]),
    /// As `Prints`, re-run until it does (the result shows after the command's reply).
    Eventually(&'static [&'static str]),
    /// Exits 0 and leaves this file, non-empty.
    Writes(&'static str),
    /// Keeps running: started in the background, ready when these ports listen; a running
    /// command with the same text is stopped first (Ctrl-C, then the same command again).
    Serves(&'static [u16]),
    /// As `Serves`, and ready only once it has printed this (the COBOL host binds its ports
    /// first, then compiles, seeds and writes its routes file, then prints the next command).
    ServesAfter(&'static [u16], &'static str),
    /// `export …`: the variables stay for the next commands.
    Exports,
}

/// One README command: the start of its text and what it must show.
struct Check(&'static str, Expect);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run_steps(
    shell: &mut Shell,
    section: &str,
    steps: &[Step],
    checks: &[Check],
    mut after: impl FnMut(&mut Shell, &Step),
) {
    let listed: Vec<String> = steps.iter().map(|s| format!("  README.md:{}  {}", s.line, s.command)).collect();
    assert_eq!(
        steps.len(),
        checks.len(),
        "{section}: the README has {} commands, the test checks {}:\n{}",
        steps.len(),
        checks.len(),
        listed.join("\n")
    );
    for (step, Check(start, expect)) in steps.iter().zip(checks) {
        let at = format!("{section}, README.md:{}: `{}`", step.line, step.command);
        assert!(step.command.starts_with(start), "{at}: expected a command starting `{start}` here");
        match expect {
            Expect::Exports => {
                shell.run(&step.command);
            }
            Expect::Serves(ports) | Expect::ServesAfter(ports, _) => {
                if shell.background.iter().any(|b| b.command == step.command) {
                    shell.interrupt(&step.command);
                }
                let patience = Duration::from_secs(300);
                shell.start(&step.command, ports, patience);
                if let Expect::ServesAfter(_, banner) = expect {
                    shell.wait_for_output(banner, patience);
                }
            }
            Expect::Prints(wanted) | Expect::Eventually(wanted) => {
                let eventually = matches!(expect, Expect::Eventually(_));
                let started = Instant::now();
                loop {
                    let out = shell.run(&step.command);
                    let missing: Vec<&&str> = wanted.iter().filter(|w| !out.text.contains(**w)).collect();
                    if out.status == 0 && missing.is_empty() {
                        break;
                    }
                    if !eventually || started.elapsed() > Duration::from_secs(20) {
                        panic!("{at}: exit {}, missing {missing:?} in:\n{}", out.status, out.text);
                    }
                    std::thread::sleep(Duration::from_millis(250));
                }
            }
            Expect::Writes(file) => {
                let out = shell.run(&step.command);
                assert_eq!(out.status, 0, "{at}:\n{}", out.text);
                let len = std::fs::metadata(shell.cwd.join(file)).map(|m| m.len()).unwrap_or(0);
                assert!(len > 0, "{at}: {file} not written:\n{}", out.text);
            }
        }
        after(shell, step);
    }
}

/// `[routes.ACCTINQ] target` of a routes file.
fn acctinq_target(path: &Path) -> String {
    let table: toml::Table = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    table["routes"]["ACCTINQ"]["target"].as_str().unwrap().to_string()
}

fn demo_walkthrough(shell: &mut Shell, readme: &str) {
    use Expect::*;
    let mut steps = readme::commands(readme, "## Two commands");
    steps.retain(|s| s.command.contains(" demo"));
    steps.extend(readme::commands(readme, "## A walkthrough"));
    let checks = [
        Check("cargo run --release -- demo", Serves(&PORTS)),
        Check("export FICUS_ADMIN_TOKEN=demo-… FICUS_CONFIG=", Exports),
        Check("ficus send ACCTINQ", Prints(&["\"HDR-RESP-CODE\": \"0000\"", "\"CUST-NAME\": \"KIM SEOYEON\""])),
        Check("ficus send --tcp --hex TXNHIST", Prints(&["\"HDR-RESP-CODE\": \"0000\"", "\"ROW-COUNT\""])),
        Check("ficus send XFER", Prints(&["\"HDR-RESP-CODE\": \"0000\""])),
        Check("curl -si --data-binary 'HELLO'", Prints(&["ficus-error: FC01 MALFORMED: message is 5 bytes"])),
        Check("curl -s --data-binary 'HELLO'", Prints(&["\"HDR-RESP-CODE\":\"FC01\""])),
        Check("ficus route ACCTINQ --canary 10", Prints(&["canary 10% → accounts"])),
        Check("ficus route ACCTINQ --target accounts", Prints(&["→  new (target accounts)"])),
        Check("ficus routes", Prints(&["ACCTINQ    new"])),
        Check("ficus route ACCTINQ --rollback", Prints(&["→  legacy"])),
    ];
    let original = std::fs::read(shell.cwd.join("routes.toml")).unwrap();
    run_steps(shell, "the demo walkthrough", &steps, &checks, |shell, step| {
        if step.command.starts_with("export FICUS_ADMIN_TOKEN=demo-") {
            // The README shows the token as `demo-…`; the demo printed the real one, and the
            // whole line the README shows. Its ports accept before its banner is printed: wait
            // for the line itself.
            shell.wait_for_output("export FICUS_ADMIN_TOKEN=", Duration::from_secs(30));
            let banner = shell.background[0].output();
            let printed =
                banner.lines().find(|l| l.trim_start().starts_with("export ")).expect("an export line").trim();
            let token = printed.split_whitespace().find_map(|w| w.strip_prefix("FICUS_ADMIN_TOKEN=")).unwrap();
            let cwd = std::fs::canonicalize(&shell.cwd).unwrap();
            let written = step.command.split('#').next().unwrap().trim().replace("demo-…", token);
            let written = written.replace("$PWD", &cwd.display().to_string());
            assert_eq!(written, printed, "the README's export line is not what `ficus demo` prints");
            shell.set_var("FICUS_ADMIN_TOKEN", token);
        }
    });
    let goodbye = shell.interrupt(" demo");
    assert!(goodbye.contains("ficus demo stopped"), "{goodbye}");
    assert_eq!(std::fs::read(shell.cwd.join("routes.toml")).unwrap(), original, "the demo must not edit the checkout");
    assert_eq!(
        acctinq_target(&shell.cwd.join("target/ficus-demo/routes.toml")),
        "legacy",
        "the rollback, in the demo's copy"
    );
}

fn cobol_walkthrough(shell: &mut Shell, readme: &str) {
    use Expect::*;
    let steps = readme::commands(readme, "## Migrating an operation, step by step (on a real COBOL host)");
    let checks = [
        Check("cargo run --example cobol-host --", ServesAfter(&[7001, 7002], HOST_READY)),
        Check("export FICUS_ADMIN_TOKEN=change-me", Exports),
        Check("cargo run --release -- serve --config target/cobol-host/data/routes.toml", Serves(&[8080, 9000, 9901])),
        Check("export FICUS_ADMIN_TOKEN=change-me FICUS_CONFIG=", Exports),
        Check("ficus send ACCTINQ", Prints(&["\"HDR-RESP-CODE\": \"0000\"", "KIM SEOYEON"])),
        Check("ficus send XFER", Prints(&["\"HDR-RESP-CODE\": \"0000\""])),
        Check("ficus openapi --op ACCTINQ --out acctinq-openapi.json", Writes("acctinq-openapi.json")),
        Check("ficus scaffold --op ACCTINQ --out acctinq-service", Writes("acctinq-service/src/handlers.rs")),
        Check("ficus route ACCTINQ --shadow accounts", Prints(&["shadow"])),
        Check("for n in", Prints(&[])),
        Check("curl -s http://127.0.0.1:9901/shadow", Eventually(&["\"ACCTINQ\"", "\"mismatched\": 0"])),
        Check("ficus shadow report", Writes("report.html")),
        Check("ficus route ACCTINQ --canary 10", Prints(&["canary 10% → accounts"])),
        Check("ficus routes", Prints(&["ACCTINQ", "canary 10% → accounts"])),
        Check("ficus route ACCTINQ --canary 50", Prints(&["canary 50% → accounts"])),
        Check(
            "ficus route ACCTINQ --target accounts",
            Prints(&["new (target accounts)", "shadow now: legacy 100% comparing"]),
        ),
        Check("ficus route ACCTINQ --rollback", Prints(&["→  legacy", "shadow now: accounts 100% comparing"])),
        Check("ficus route ACCTINQ --target accounts --no-shadow", Prints(&["new (target accounts)"])),
        Check("rm examples/cobol-host/programs/ACCTINQ.cbl", Prints(&[])),
        Check("cargo run --example cobol-host --", ServesAfter(&[7001, 7002], HOST_READY)),
        Check("ficus send ACCTINQ", Prints(&["\"HDR-RESP-CODE\": \"0000\"", "answered by accounts"])),
        Check("ficus send --tcp --to 127.0.0.1:7001 ACCTINQ", Prints(&["\"HDR-RESP-CODE\": \"E995\""])),
    ];
    let data = shell.cwd.join("target/cobol-host/data/routes.toml");
    run_steps(shell, "the COBOL host walkthrough", &steps, &checks, |_, _| {});
    assert_eq!(acctinq_target(&data), "accounts", "the host's restart kept the migration");
}

#[test]
fn the_readme_walkthroughs_work_as_written() {
    readme::require_free(&PORTS);
    let readme_text = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    readme::fresh_copy(&repo(), dir.path());
    let host = example_host::binary();
    let mut shell = Shell::new(dir.path(), Path::new(env!("CARGO_BIN_EXE_ficus")), &host);
    demo_walkthrough(&mut shell, &readme_text);
    let mut shell = Shell::new(dir.path(), Path::new(env!("CARGO_BIN_EXE_ficus")), &host);
    cobol_walkthrough(&mut shell, &readme_text);
}
