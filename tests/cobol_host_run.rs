//! The COBOL example host run as a user runs it: its binary started from a working directory
//! with the default, relative `--data` and `--build` (the README's step 1), a gateway on the
//! routes file it wrote, a message answered; restarted after a flip without undoing it; and
//! with a program retired from a copy of its sources (step 6).
//!
//! `cobc` missing is a failure with an install hint, never a skip (CI installs gnucobol3).

mod common;
#[path = "support/example_host.rs"]
mod example_host;

use common::*;
use example_host::ExampleHost;
use serde_json::json;
use std::path::Path;

/// The host's start arguments in these tests: the README's, on ports the system picks.
const ARGS: [&str; 4] = ["--listen", "127.0.0.1:0", "--accounts", "127.0.0.1:0"];
/// Where the host keeps its data and routes file by default, relative to its working directory.
const ROUTES: &str = "target/cobol-host/data/routes.toml";

/// A gateway on the routes file the host wrote, its listeners moved to port 0.
async fn gateway_on(routes: &Path) -> Gateway {
    let text = std::fs::read_to_string(routes).unwrap();
    let mut toml = text.clone();
    for (from, to) in [
        ("listen_http = \"127.0.0.1:8080\"", "listen_http = \"127.0.0.1:0\""),
        ("listen_tcp  = \"127.0.0.1:9000\"", "listen_tcp  = \"127.0.0.1:0\""),
        ("admin       = \"127.0.0.1:9901\"", "admin       = \"127.0.0.1:0\"\nadmin_token_file = \"tokens\""),
    ] {
        assert!(toml.contains(from), "{} has no {from}:\n{text}", routes.display());
        toml = toml.replace(from, to);
    }
    Gateway::start(&toml).await
}

/// The response code of a reply (any operation's header).
fn code(gw: &Gateway, reply: &[u8]) -> String {
    gw.decode("ACCTINQ", reply)["header"]["HDR-RESP-CODE"].as_str().unwrap_or_default().to_string()
}

fn inquiry(gw: &Gateway) -> Vec<u8> {
    gw.request("ACCTINQ", json!({ "ACCT-NO": "1000000000000002" }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_one_as_written_from_a_working_directory_answers() {
    let cwd = tempfile::tempdir().unwrap();
    let host = ExampleHost::start(cwd.path(), &ARGS).await;
    assert_eq!(host.config(), ROUTES, "the README's gateway command, relative to the working directory");
    assert!(host.line("routes file").contains("written"), "{:#?}", host.banner);
    let routes = cwd.path().join(ROUTES);
    for file in ["ACCOUNTS", "TXNS", "CONTROL"] {
        assert!(cwd.path().join("target/cobol-host/data").join(file).is_file(), "{file} in the default data directory");
    }
    assert!(cwd.path().join("target/cobol-host/build").is_dir(), "the default build directory");

    let gw = gateway_on(&routes).await;
    let (status, reply) = gw.post(&inquiry(&gw)).await;
    assert_eq!(status, 200);
    let got = gw.decode("ACCTINQ", &reply);
    assert_eq!(got["header"]["HDR-RESP-CODE"], "0000", "{got}");
    assert_eq!(got["response"]["CUST-NAME"], "LEE DOYUN", "{got}");

    let (goodbye, _) = host.stop().await;
    let text = goodbye.join("\n");
    assert!(text.contains("stopped (SIGTERM): served 1 messages, 0 replica mismatches"), "{text}");
    assert!(text.contains(&format!("routes file   {ROUTES}")), "{text}");
    assert!(text.contains("cargo run --example cobol-host -- --listen 127.0.0.1:0 --accounts 127.0.0.1:0"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_the_routes_file_and_warns_of_other_addresses() {
    let cwd = tempfile::tempdir().unwrap();
    let routes = cwd.path().join(ROUTES);
    let first = ExampleHost::start(cwd.path(), &ARGS).await;
    let old = first.addr().to_string();
    // The operator flips ACCTINQ to the new service (as `ficus route` would write it).
    let text = std::fs::read_to_string(&routes).unwrap();
    let route = text.find("[routes.ACCTINQ]").unwrap();
    let legacy = "target   = \"legacy\"";
    let target = route + text[route..].find(legacy).unwrap();
    let flipped = format!("{}target   = \"accounts\"{}", &text[..target], &text[target + legacy.len()..]);
    std::fs::write(&routes, &flipped).unwrap();
    first.stop().await;

    let second = ExampleHost::start(cwd.path(), &ARGS).await;
    let new = second.addr().to_string();
    assert_ne!(old, new, "port 0 gave another port");
    assert_eq!(std::fs::read_to_string(&routes).unwrap(), flipped, "the restart left the flip alone");
    assert!(second.line("routes file").contains("kept"), "{:#?}", second.banner);
    assert!(second.line("ledger").contains("reseeded"), "{:#?}", second.banner);
    let warning = second.line("WARNING");
    let file = std::fs::canonicalize(&routes).unwrap();
    for part in [file.display().to_string(), old, new] {
        assert!(warning.contains(&part), "the warning names {part}: {warning}");
    }
    let (_, stderr) = second.stop().await;
    assert!(stderr.contains("routes file kept"), "{stderr}");
}

/// Copies the example's programs, copybooks and routes template into `dir`.
fn copy_sources(dir: &Path) {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cobol-host");
    for sub in ["programs", "copybooks"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        for entry in std::fs::read_dir(example.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, dir.join(sub).join(path.file_name().unwrap())).unwrap();
        }
    }
    std::fs::copy(example.join("routes.toml"), dir.join("routes.toml")).unwrap();
}

/// Starts the host on the sources in `work/src`; sends ACCTINQ and TXNHIST straight to it.
async fn retired(work: &Path) -> (String, String, Vec<String>) {
    let args = ["--sources", "src", "--data", "data", "--build", "build", "--listen", "127.0.0.1:0"];
    let host = ExampleHost::start(work, &args).await;
    assert!(host.line("COBOL host").ends_with("(transactions: TXNHIST XFER)"), "{:#?}", host.banner);
    let gw = gateway_on(&work.join("data/routes.toml")).await;
    let history =
        gw.request("TXNHIST", json!({ "ACCT-NO": "1000000000000002", "FROM-DATE": 0, "TO-DATE": 0, "MAX-ROWS": 5 }));
    let replies = tcp_exchange(host.addr(), &[inquiry(&gw), history]).await;
    let codes = (code(&gw, &replies[0]), code(&gw, &replies[1]));
    let (_, stderr) = host.stop().await;
    let logged = stderr.lines().filter(|l| l.contains("sources")).map(str::to_string).collect();
    (codes.0, codes.1, logged)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_program_is_not_installed_after_a_restart() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    copy_sources(&src);
    std::fs::remove_file(src.join("programs/ACCTINQ.cbl")).unwrap();

    // Still in DISPATCH's program table, but no program: E995.
    let (acctinq, txnhist, logged) = retired(work.path()).await;
    assert_eq!((acctinq.as_str(), txnhist.as_str()), ("E995", "0000"));
    let src = std::fs::canonicalize(&src).unwrap();
    assert!(logged.iter().any(|l| l.contains(&src.display().to_string())), "the log names the sources: {logged:?}");

    // Out of the table too (README step 6): E998.
    let dispatch = src.join("programs/DISPATCH.cbl");
    let text = std::fs::read_to_string(&dispatch).unwrap();
    let entry = "               WHEN \"ACCTINQ \" MOVE \"ACCTINQ\" TO WS-PROGRAM\n";
    assert!(text.contains(entry), "DISPATCH's table has ACCTINQ");
    std::fs::write(&dispatch, text.replace(entry, "")).unwrap();
    let (acctinq, txnhist, _) = retired(work.path()).await;
    assert_eq!((acctinq.as_str(), txnhist.as_str()), ("E998", "0000"));

    // Without DISPATCH the host cannot run: it says which file it looked for.
    std::fs::remove_file(&dispatch).unwrap();
    let (status, stderr) = ExampleHost::fail(work.path(), &["--sources", "src", "--listen", "127.0.0.1:0"]).await;
    assert!(!status.success());
    assert!(stderr.contains(&format!("{} is missing", dispatch.display())), "{stderr}");
}
