//! The COBOL example host owns its data directory and its build cache: a second host on the
//! same `--data` or the same port changes nothing before it fails, Ctrl-C while compiling says
//! goodbye and leaves no half-built directory, and builds no host uses are pruned.

#[allow(dead_code)]
#[path = "support/example_host.rs"]
mod example_host;

use example_host::ExampleHost;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};

/// Inode and bytes of each ledger file in `data`: reseeding recreates them.
fn ledger_files(data: &Path) -> Vec<(u64, Vec<u8>)> {
    ["ACCOUNTS", "TXNS", "CONTROL"]
        .iter()
        .map(|f| {
            let path = data.join(f);
            (std::fs::metadata(&path).unwrap().ino(), std::fs::read(&path).unwrap())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_host_changes_nothing_of_the_first_before_failing() {
    let work = tempfile::tempdir().unwrap();
    let args = ["--data", "data", "--build", "build", "--listen", "127.0.0.1:0", "--accounts", "127.0.0.1:0"];
    let first = ExampleHost::start(work.path(), &args).await;
    let data = work.path().join("data");
    let before = ledger_files(&data);
    let taken = first.addr().to_string();

    // The same data directory (the review's repro: the same command again).
    let again = ["--data", "data", "--build", "build", "--listen", &taken];
    let (status, stderr) = ExampleHost::fail(work.path(), &again).await;
    assert!(!status.success(), "{stderr}");
    let data_shown = std::fs::canonicalize(&data).unwrap().display().to_string();
    assert!(stderr.contains(&format!("the data directory {data_shown} is in use by another cobol-host")), "{stderr}");
    assert!(stderr.contains("--data DIR"), "says what to do: {stderr}");
    assert!(ledger_files(&data) == before, "the running host's ledger was not reseeded");

    // Another data directory, the same port: refused at the port, before seeding anything.
    let other = ["--data", "other", "--build", "build", "--listen", &taken];
    let (status, stderr) = ExampleHost::fail(work.path(), &other).await;
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains("cannot listen on") && stderr.contains("address in use"), "{stderr}");
    assert!(!work.path().join("other/ACCOUNTS").exists(), "nothing seeded before the port was bound");

    let (goodbye, _) = first.stop().await;
    assert!(goodbye.join("\n").contains("stopped (SIGTERM)"), "{goodbye:?}");
    // Once the first host is gone, its data directory can be used again.
    let next =
        ExampleHost::start(work.path(), &["--data", "data", "--build", "build", "--listen", "127.0.0.1:0"]).await;
    next.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_compiling_says_goodbye_and_leaves_no_build_behind() {
    let work = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(example_host::binary())
        .args(["--data", "data", "--build", "build", "--listen", "127.0.0.1:0"])
        .current_dir(work.path())
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    loop {
        let line = stderr.next_line().await.unwrap().unwrap_or_else(|| panic!("exited before compiling: {seen:#?}"));
        let compiling = line.contains("compiling the programs");
        assert!(!line.contains("programs compiled"), "compiled without saying it was compiling: {seen:#?}");
        seen.push(line);
        if compiling {
            break;
        }
    }
    let pid = child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let out = child.wait_with_output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}: {stdout}", out.status);
    assert!(stdout.contains("cobol-host stopped (Ctrl-C) while starting"), "{stdout}");
    let left: Vec<_> = std::fs::read_dir(work.path().join("build")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "nothing half-built is left: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builds_no_host_uses_are_pruned() {
    let work = tempfile::tempdir().unwrap();
    let build = work.path().join("build");
    // A build killed outright, an old build nobody runs, and an old build a host still runs
    // (this test process holds its lock, as a running host does).
    for dir in ["building-1-2", "0123456789abcdef", "fedcba9876543210"] {
        std::fs::create_dir_all(build.join(dir)).unwrap();
    }
    std::fs::write(build.join("building-1-2/BUILDING"), "").unwrap();
    std::fs::write(build.join("0123456789abcdef/READY"), "cobc").unwrap();
    std::fs::write(build.join("fedcba9876543210/READY"), "cobc").unwrap();
    let held = std::fs::File::open(build.join("fedcba9876543210/READY")).unwrap();
    held.lock_shared().unwrap();

    let host =
        ExampleHost::start(work.path(), &["--data", "data", "--build", "build", "--listen", "127.0.0.1:0"]).await;
    let mut left: Vec<_> =
        std::fs::read_dir(&build).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    left.sort();
    assert_eq!(left.len(), 2, "this host's build and the held one: {left:?}");
    assert!(left.contains(&"fedcba9876543210".to_string()), "a build in use is kept: {left:?}");
    assert!(!left.iter().any(|d| d == "0123456789abcdef" || d.starts_with("building-")), "{left:?}");
    host.stop().await;
}
