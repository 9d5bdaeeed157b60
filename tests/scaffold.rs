//! `ficus scaffold` end to end: a crate generated for ACCTINQ from real captured traffic builds
//! and passes its tests as generated (ACCTINQ reported as not implemented); with its handler
//! filled in from the demo's ledger it answers through a real gateway with the host's exact
//! bytes (all but HDR-TIMESTAMP), and its contract test reports ACCTINQ as implemented and
//! matching. Slow: it compiles the crate (into `$CARGO_TARGET_DIR/scaffold`, shared by runs).

mod common;

use common::*;
use ficus::shadow::capture::{self, unhex};
use ficus::sim::ledger::{Ledger, Refusal, ACCOUNTS, FIRST_ACCOUNT};
use ficus::sim::ops::{OK_CODE, OK_MESSAGE};
use serde_json::json;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

/// One target dir for every generated crate, beside ficus's own.
fn target_dir() -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    base.join("scaffold")
}

/// `cargo ARGS` in `dir`: (success, stdout + stderr).
fn cargo(dir: &Path, args: &[&str]) -> (bool, String) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo in {}: {e}", dir.display()));
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// The filled-in handlers.rs: ACCTINQ answered from a table of the seeded ledger's accounts.
fn ledger_handlers() -> String {
    let ledger = Ledger::seeded();
    let mut rows = String::new();
    for i in 0..ACCOUNTS {
        let number = (FIRST_ACCOUNT + i).to_string();
        let a = ledger.account(&number).unwrap();
        let last = a.history.last().map_or(0, |t| t.date);
        let _ = writeln!(
            rows,
            "    ({number:?}, {:?}, \"{}\", {}, {}, {}, {last}),",
            a.name,
            a.status,
            a.balance,
            a.balance - a.hold,
            a.rate
        );
    }
    let (no_code, no_message) = Refusal::NoAccount.code();
    format!(
        r#"//! ACCTINQ from a copy of the demo ledger.
use crate::model::{{self, Decimal}};
use crate::{{Context, Reply}};

/// (number, name, status, balance cents, available cents, rate (scale 4), last txn date)
const ACCOUNTS: &[(&str, &str, &str, i64, i64, i64, u64)] = &[
{rows}];

fn code(code: &str, message: &str) -> model::header::HeaderChanges {{
    model::header::HeaderChanges {{ hdr_resp_code: Some(code.into()), hdr_resp_msg: Some(message.into()), ..Default::default() }}
}}

pub async fn acctinq(_ctx: &Context, request: model::acctinq::Request) -> Reply<model::acctinq::Response> {{
    let number = request.acct_no.trim();
    match ACCOUNTS.iter().find(|a| a.0 == number) {{
        None => Reply::refuse(code({no_code:?}, {no_message:?})),
        Some(&(_, name, status, balance, avail, rate, last)) => Reply::answer(
            code({OK_CODE:?}, {OK_MESSAGE:?}),
            model::acctinq::Response {{
                acct_no: number.into(),
                cust_name: name.into(),
                acct_status: status.into(),
                balance: Decimal::new(balance, 2),
                avail_bal: Decimal::new(avail, 2),
                int_rate: Decimal::new(rate, 4),
                last_txn_date: last,
            }},
        ),
    }}
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scaffolded_service_builds_then_filled_in_answers_with_the_hosts_bytes() {
    // 1. Real traffic through a gateway to the host simulator, ACCTINQ captured.
    let sims = sims().await;
    let toml = routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "").replacen(
        "read_only = true",
        "read_only = true\ncapture = { percent = 100 }",
        1,
    );
    let gw = Gateway::start(&toml).await;
    let mut accounts: Vec<String> = (0..ACCOUNTS).map(|i| (FIRST_ACCOUNT + i).to_string()).collect();
    accounts.push("9999999999999999".into());
    for (n, account) in accounts.iter().enumerate() {
        let request = ficus::cli::build_request(
            &gw.table(),
            "ACCTINQ",
            &json!({ "ACCT-NO": account }),
            &json!({ "HDR-SEQ-NO": 500 + n, "HDR-TIMESTAMP": 20261201093000u64 }),
        )
        .unwrap();
        let (status, _) = gw.post(&request).await;
        assert_eq!(status, 200, "{account}");
    }
    let capture_file = gw.dir.path().join("shadow/capture.jsonl");
    let mut captured = Vec::new();
    for _ in 0..400 {
        captured = capture::read(&capture_file).unwrap_or_default();
        if captured.len() >= accounts.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(captured.len(), accounts.len(), "every exchange captured in {}", capture_file.display());

    // 2. Generated, it builds and its contract test passes, ACCTINQ not implemented.
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("acctinq-service");
    let (code, _, stderr) = ficus_cli(&[
        "scaffold",
        "--config",
        &gw.config.display().to_string(),
        "--op",
        "ACCTINQ",
        "--out",
        &dir.display().to_string(),
        "--capture",
        &capture_file.display().to_string(),
        "--ignore",
        "HDR-TIMESTAMP",
    ])
    .await;
    assert_eq!(code, 0, "ficus scaffold failed: {stderr}");
    assert!(stderr.contains(&format!("{} captured exchanges", accounts.len())), "{stderr}");
    let traffic = std::fs::read_to_string(dir.join("tests/traffic.jsonl")).unwrap();
    assert_eq!(traffic.lines().count(), accounts.len());
    let (built, log) = cargo(&dir, &["build", "--all-targets"]);
    assert!(built, "cargo could not build the generated crate {} as generated:\n{log}", dir.display());
    let (passed, log) = cargo(&dir, &["test", "--", "--nocapture"]);
    assert!(passed, "the generated crate's tests fail as generated:\n{log}");
    assert!(log.contains(&format!("ACCTINQ: not implemented ({} captured requests", accounts.len())), "{log}");

    // 3. Filled in from the ledger: started on a free port, ACCTINQ routed to it.
    std::fs::write(dir.join("src/handlers.rs"), ledger_handlers()).unwrap();
    let (built, log) = cargo(&dir, &["build"]);
    assert!(built, "cargo could not build the crate with the handler filled in:\n{log}");
    let mut service = tokio::process::Command::new(target_dir().join("debug/acctinq-service"))
        .args(["--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(service.stdout.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().expect("the service says where it listens");
    let addr = first.rsplit(' ').next().unwrap().to_string();
    let up = Upstreams { legacy: sims.host_tcp.to_string(), accounts: format!("http://{addr}/ops") };
    let new = Gateway::start(&routes_toml(&up, "accounts", "legacy", "")).await;
    let mut answered = 0;
    for c in &captured {
        let (request, host_reply) = (unhex(&c.request).unwrap(), unhex(&c.reply).unwrap());
        let (status, reply) = new.post(&request).await;
        assert_eq!(status, 200);
        let blank = |mut b: Vec<u8>| {
            if b.len() >= TIMESTAMP.end {
                b[TIMESTAMP].fill(0);
            }
            b
        };
        assert_eq!(
            blank(reply.clone()),
            blank(host_reply.clone()),
            "{:?}: the new service's reply differs from the host's:\nnew  {}\nhost {}",
            c.id,
            new.decode("ACCTINQ", &reply),
            gw.decode("ACCTINQ", &host_reply)
        );
        answered += usize::from(reply.len() > 85);
    }
    assert_eq!(answered, ACCOUNTS as usize, "every seeded account answered with a body");

    // 4. The contract test now reports ACCTINQ implemented and matching.
    let (passed, log) = cargo(&dir, &["test", "--", "--nocapture"]);
    assert!(passed, "the contract test fails with the handler filled in:\n{log}");
    let all = accounts.len();
    assert!(log.contains(&format!("ACCTINQ: implemented, {all} of {all} captured replies match")), "{log}");
    drop(service);
}

/// Runs `ficus scaffold` in `dir` with `args`; its exit status and stderr.
fn scaffold(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ficus"))
        .current_dir(dir)
        .arg("scaffold")
        .args(args)
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn an_operation_named_twice_is_one_module_and_two_that_would_share_a_module_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("copybooks")).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for cpy in ["COMMHDR.cpy", "ACCTINQ.cpy"] {
        std::fs::copy(root.join("copybooks").join(cpy), dir.path().join("copybooks").join(cpy)).unwrap();
    }
    let route = |op: &str| {
        format!("[routes.{op}]\nrequest = \"ACCTINQ.cpy#ACCTINQ-REQ\"\nresponse = \"ACCTINQ.cpy#ACCTINQ-RESP\"\ntarget = \"legacy\"\n\n")
    };
    let toml = format!(
        "[gateway]\nlisten_http = \"127.0.0.1:1\"\ncopybooks = \"copybooks\"\n\n\
         [header]\ncopybook = \"COMMHDR.cpy\"\noperation = [\"HDR-TRAN-CODE\"]\n\
         response_code = \"HDR-RESP-CODE\"\nresponse_message = \"HDR-RESP-MSG\"\n\n\
         [upstreams.legacy]\nkind = \"tcp\"\naddress = \"127.0.0.1:2\"\n\n[default]\ntarget = \"legacy\"\n\n{}{}{}",
        route("ACCT-INQ"),
        route("ACCT_INQ"),
        route("TYPE")
    );
    std::fs::write(dir.path().join("routes.toml"), toml).unwrap();
    let (ok, err) = scaffold(dir.path(), &["--op", "TYPE", "--op", "TYPE", "--out", "twice"]);
    assert!(ok, "{err}");
    let model = std::fs::read_to_string(dir.path().join("twice/src/model.rs")).unwrap();
    assert_eq!(model.matches("pub mod type_ {").count(), 1, "{model}");
    let (ok, err) = scaffold(dir.path(), &["--op", "ACCT-INQ", "--op", "ACCT_INQ", "--out", "clash"]);
    assert!(!ok && err.contains("ACCT-INQ and ACCT_INQ would both be the Rust module acct_inq"), "{err}");
    assert!(!dir.path().join("clash").exists(), "nothing written");
}
