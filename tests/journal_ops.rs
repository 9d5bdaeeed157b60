//! Operating the transaction journal, through a real gateway on an embedded SQLite journal and
//! the `ficus` binary: `ficus journal unknown` lists a write left without an answer and the
//! dashboard's `/stats` counts it, `forget` lets it be sent again, `show` decodes a transaction
//! with the route's layouts, `summary --sum AMOUNT` totals what was sent per outcome; `ficus
//! owners move` moves an account's writes to the `accounts` service through the admin API,
//! `show` says so, `--rollback` moves it back, each move is audited, and a bad upstream or a
//! gateway without a journal is refused.

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::Path;

const JOURNAL: &str = "\n[journal]\nstore = \"sqlite:journal.db\"\n";
const FROM: &str = "1000000000000001";

/// XFER journaled, its account (FROM-ACCT) followed by the owner table.
fn config(legacy: &str, accounts: &str) -> String {
    let up = Upstreams { legacy: legacy.into(), accounts: accounts.into() };
    format!("{}{JOURNAL}", routes_toml(&up, "legacy", "legacy", "owner_key = \"FROM-ACCT\""))
}

fn xfer(from: &str, amount: &str) -> Value {
    let amount: serde_json::Number = amount.parse().unwrap();
    json!({ "FROM-ACCT": from, "TO-ACCT": "1000000000000002", "AMOUNT": amount, "MEMO": "OPS" })
}

fn request(gw: &Gateway, seq: u64, body: &Value) -> Vec<u8> {
    ficus::cli::build_request(&gw.table(), "XFER", body, &json!({ "HDR-SEQ-NO": seq })).unwrap()
}

/// Runs `ficus` with the test's admin token (and no FICUS_CONFIG / FICUS_ADMIN / TZ of the
/// caller's): (exit code, stdout, stderr).
async fn ficus(args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_ficus"))
        .args(args)
        .env_remove("FICUS_CONFIG")
        .env_remove("FICUS_ADMIN")
        .env("FICUS_ADMIN_TOKEN", ADMIN_TOKEN)
        .output()
        .await
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

fn config_arg(gw: &Gateway) -> String {
    gw.config.display().to_string()
}

/// `--admin URL` of the test gateway (routes.toml says port 0).
fn admin_arg(gw: &Gateway) -> String {
    format!("http://{}", gw.admin())
}

/// An offset from UTC at which it is about noon now, and the date there: a day boundary far
/// from now, whenever the test runs.
fn noon_here() -> (String, String) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let minutes = (12 * 60 - (now % 86_400) / 60).rem_euclid(24 * 60);
    let minutes = if minutes > 12 * 60 { minutes - 24 * 60 } else { minutes };
    let local = now + minutes * 60;
    let date = jiff::Timestamp::from_second(local).unwrap().to_zoned(jiff::tz::TimeZone::UTC).date();
    let sign = if minutes < 0 { '-' } else { '+' };
    (date.strftime("%Y-%m-%d").to_string(), format!("{sign}{:02}:{:02}", minutes.abs() / 60, minutes.abs() % 60))
}

#[tokio::test]
async fn an_unknown_write_is_listed_counted_and_once_forgotten_may_be_sent_again() {
    let host = FakeHost::start(HostScript::Silent).await;
    let gw = Gateway::start(&config(&host.addr.to_string(), "http://127.0.0.1:9/ops")).await;
    let cfg = config_arg(&gw);
    let (code, out, err) = ficus(&["journal", "unknown", "--config", &cfg]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("No transaction has an unknown outcome"), "{out}");

    let message = request(&gw, 555, &xfer(FROM, "10.00"));
    let (_, reply) = gw.post(&message).await;
    assert_eq!(response_code(&gw, &reply).0, "FC11", "the host never answered: outcome unknown");

    let (code, out, err) = ficus(&["journal", "unknown", "--config", &cfg, "--utc-offset", "+09:00"]).await;
    assert_eq!(code, 0, "{err}");
    let line = out.lines().find(|l| l.starts_with("555 ")).unwrap_or_else(|| panic!("555 not listed:\n{out}"));
    for word in ["XFER", FROM, "legacy", "+09:00", "unknown"] {
        assert!(line.contains(word), "{word} missing from {line:?}");
    }
    assert!(out.contains("ficus journal forget KEY"), "says what to do: {out}");
    let (_, out, _) = ficus(&["journal", "unknown", "--config", &cfg, "--json"]).await;
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!((listed[0]["key"].as_str(), listed[0]["state"].as_str()), (Some("555"), Some("unknown")));
    assert!(!listed[0]["replica"].as_str().unwrap_or("").is_empty(), "which replica claimed it: {listed}");

    // The dashboard's poll counts it.
    let (status, stats) = gw.admin_call("GET", "/stats", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(stats["journal"]["unknown"], json!(1), "{stats}");
    assert!(stats["journal"]["store"].as_str().unwrap_or("").ends_with("journal.db"), "{stats}");

    // Until reconciled, a resend is refused and never sent.
    let (status, _) = gw.post(&message).await;
    assert_eq!((status, host.count()), (409, 1));
    // Reconciliation showed the host did NOT post it: forget, and the channel may send it again.
    let (code, out, err) = ficus(&["journal", "forget", "555", "--config", &cfg]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("forgot 555: XFER to legacy"), "{out}");
    let (code, _, err) = ficus(&["journal", "forget", "555", "--config", &cfg]).await;
    assert_eq!(code, 1, "already forgotten");
    assert!(err.contains("no transaction \"555\""), "{err}");
    let (_, reply) = gw.post(&message).await;
    assert_eq!(response_code(&gw, &reply).0, "FC11");
    assert_eq!(host.count(), 2, "sent again after forget");
}

#[tokio::test]
async fn show_decodes_and_summary_totals_what_was_sent_per_outcome() {
    let sims = sims().await;
    let up = sim_upstreams(&sims);
    let gw = Gateway::start(&config(&up.legacy, &up.accounts)).await;
    let cfg = config_arg(&gw);
    let sent = [(1, "10.00"), (2, "20.50"), (3, "0.01"), (4, "99999999.00")];
    for (seq, amount) in sent {
        let (status, _) = gw.post(&request(&gw, seq, &xfer(FROM, amount))).await;
        assert_eq!(status, 200);
    }
    // A duplicate: answered from the journal, counted for the dashboard.
    let (_, dup) = gw.post(&request(&gw, 1, &xfer(FROM, "10.00"))).await;
    assert_eq!(response_code(&gw, &dup).0, "0000");

    let (code, out, err) = ficus(&["journal", "show", "2", "--config", &cfg, "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["request"]["body"]["AMOUNT"].to_string(), "20.50", "{shown}");
    assert_eq!(shown["request"]["header"]["HDR-SEQ-NO"], json!(2));
    assert_eq!(shown["reply"]["response"]["FROM-ACCT"], json!(FROM), "{shown}");
    assert_eq!((shown["state"].as_str(), shown["response_code"].as_str()), (Some("done"), Some("0000")));
    assert_eq!((shown["account"].as_str(), shown["upstream"].as_str()), (Some(FROM), Some("legacy")));
    // A key typed as the field holds it (PIC 9(10), leading zeros) is the same transaction.
    let (code, padded, err) = ficus(&["journal", "show", "0000000002", "--config", &cfg, "--json"]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(serde_json::from_str::<Value>(&padded).unwrap(), shown);
    let (code, _, err) = ficus(&["journal", "show", "two", "--config", &cfg]).await;
    assert_ne!(code, 0);
    assert!(err.contains("HDR-SEQ-NO (a number)"), "{err}");
    let (code, out, _) = ficus(&["journal", "show", "4", "--config", &cfg]).await;
    assert_eq!(code, 0);
    assert!(out.contains("response    E201"), "{out}");
    assert!(out.contains("\"AMOUNT\":99999999.00"), "the request decoded: {out}");

    // A done transaction is never forgotten: a resend must keep getting its reply.
    let (code, _, err) = ficus(&["journal", "forget", "1", "--config", &cfg]).await;
    assert_eq!(code, 1);
    assert!(err.contains("is done with response code 0000: refused"), "{err}");

    let (date, offset) = noon_here();
    let args = ["journal", "summary", "--config", &cfg, "--date", &date, "--utc-offset", &offset, "--sum", "AMOUNT"];
    let (code, out, err) = ficus(&[&args[..], &["--json"]].concat()).await;
    assert_eq!(code, 0, "{err}");
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["transactions"], json!(4), "the duplicate is one transaction: {summary}");
    let rows = summary["rows"].as_array().unwrap();
    let row = |outcome: &str| rows.iter().find(|r| r["outcome"] == outcome).cloned().unwrap_or(Value::Null);
    assert_eq!(row("ok"), json!({ "op": "XFER", "upstream": "legacy", "outcome": "ok", "count": 3, "sum": "30.51" }));
    assert_eq!(row("refused E201")["sum"], json!("99999999.00"), "{summary}");
    assert_eq!(rows.len(), 2, "{summary}");
    let (code, out, _) = ficus(&args).await;
    assert_eq!(code, 0);
    assert!(out.contains(&format!("journal summary (대사) for {date}: {date} 00:00:00 {offset}")), "{out}");
    let ok_line = out.lines().find(|l| l.starts_with("XFER") && l.contains(" ok ")).unwrap_or_default();
    assert!(ok_line.ends_with("30.51") && ok_line.contains(" 3 "), "{out}");
    // The next day has none of them; a text field has no total.
    let (_, out, _) =
        ficus(&["journal", "summary", "--config", &cfg, "--date", "2001-01-01", "--utc-offset", "+09:00"]).await;
    assert!(out.contains("No journaled transaction that day."), "{out}");
    let (code, _, err) =
        ficus(&["journal", "summary", "--config", &cfg, "--date", &date, "--utc-offset", &offset, "--sum", "MEMO"])
            .await;
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("MEMO") && err.contains("not a fixed-point number"), "{err}");

    let (_, stats) = gw.admin_call("GET", "/stats", None, None).await;
    assert!(stats["journal"]["duplicates_by_op"]["XFER"].as_f64().unwrap_or(0.0) >= 1.0, "{stats}");
    assert_eq!(stats["journal"]["unknown"], json!(0), "{stats}");
}

#[tokio::test]
async fn a_config_without_a_journal_says_so_with_exit_64() {
    let dead = dead_address().await;
    let up = Upstreams { legacy: dead.to_string(), accounts: "http://127.0.0.1:9/ops".into() };
    let gw = Gateway::start(&routes_toml(&up, "legacy", "legacy", "")).await;
    let (code, _, err) = ficus(&["journal", "unknown", "--config", &config_arg(&gw)]).await;
    assert_eq!(code, 64);
    assert!(err.contains("has no [journal] section"), "{err}");
    let (status, body) = gw
        .admin_call("POST", "/owners/move", Some(ADMIN_TOKEN), Some(json!({ "to": "accounts", "keys": [FROM] })))
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"].as_str().unwrap_or("").contains("no [journal]"), "{body}");
}

/// The upstream that served the journaled XFER with sequence number `seq`.
async fn served_by(cfg: &str, seq: u64) -> String {
    let (code, out, err) = ficus(&["journal", "show", &seq.to_string(), "--config", cfg, "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["response_code"], json!("0000"), "{v}");
    v["upstream"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn owners_move_sends_an_accounts_writes_to_the_new_service_and_rollback_brings_them_back() {
    let sims = sims().await;
    let up = sim_upstreams(&sims);
    let gw = Gateway::start(&config(&up.legacy, &up.accounts)).await;
    let (cfg, admin) = (config_arg(&gw), admin_arg(&gw));
    let keys = gw.dir.path().join("accounts.txt");
    std::fs::write(&keys, format!("# day 1 of the cut-over\n{FROM}\n\n")).unwrap();
    let keys = keys.display().to_string();

    gw.post(&request(&gw, 10, &xfer(FROM, "1.00"))).await;
    assert_eq!(served_by(&cfg, 10).await, "legacy");
    let (code, out, _) = ficus(&["owners", "show", FROM, "--config", &cfg, "--admin", &admin]).await;
    assert_eq!(code, 0);
    assert!(out.contains("no owner: each route decides; followed by XFER (FROM-ACCT)"), "{out}");

    let (code, out, err) =
        ficus(&["owners", "move", "--to", "accounts", "--keys", &keys, "--config", &cfg, "--admin", &admin]).await;
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("batch 1/1: 1 account(s) to accounts: 1 moved"), "{err}");
    assert!(out.contains("1 changed owner"), "{out}");
    // The dashboard: one account moved to a new service, and the move on XFER's time axis.
    let (_, progress) = gw.admin_call("GET", "/progress", None, None).await;
    assert_eq!(progress["accounts"]["moved_to_new"], json!(1), "{progress}");
    assert_eq!(progress["accounts"]["by_upstream"], json!({ "accounts": 1 }), "{progress}");
    let (_, history) = gw.admin_call("GET", "/history?op=XFER", None, None).await;
    let moved = history["markers"].as_array().and_then(|m| m.iter().find(|m| m["kind"] == "owners")).cloned();
    assert_eq!(
        moved.as_ref().map(|m| (m["label"].clone(), m["who"].clone())),
        Some((json!("owners: 1 account(s) → accounts"), json!(ADMIN_NAME))),
        "{history}"
    );
    gw.post(&request(&gw, 11, &xfer(FROM, "1.00"))).await;
    assert_eq!(served_by(&cfg, 11).await, "accounts", "the account's writes follow its owner");
    gw.post(&request(&gw, 12, &xfer("1000000000000003", "1.00"))).await;
    assert_eq!(served_by(&cfg, 12).await, "legacy", "other accounts stay with the route");
    let (_, out, _) = ficus(&["owners", "show", FROM, "--config", &cfg, "--admin", &admin]).await;
    assert!(out.contains(&format!("{FROM}  owner accounts by {ADMIN_NAME} at ")), "{out}");
    // Sent again: already there, nothing changes (the rollback target stays the route).
    let (code, _, err) =
        ficus(&["owners", "move", "--to", "accounts", "--keys", &keys, "--config", &cfg, "--admin", &admin]).await;
    assert_eq!(code, 0);
    assert!(err.contains("0 moved, 1 already there"), "{err}");

    // A bad upstream is refused, naming the known ones; nothing moves.
    let (code, _, err) =
        ficus(&["owners", "move", "--to", "acounts", "--keys", &keys, "--config", &cfg, "--admin", &admin]).await;
    assert_eq!(code, 1);
    assert!(err.contains("no upstream \"acounts\"") && err.contains("known: accounts, legacy"), "{err}");
    let (status, _) =
        gw.admin_call("POST", "/owners/move", None, Some(json!({ "to": "legacy", "keys": [FROM] }))).await;
    assert_eq!(status, 401, "a move needs the token");

    let (code, _, err) =
        ficus(&["owners", "move", "--rollback", "--keys", &keys, "--config", &cfg, "--admin", &admin]).await;
    assert_eq!(code, 0, "{err}");
    gw.post(&request(&gw, 13, &xfer(FROM, "1.00"))).await;
    assert_eq!(served_by(&cfg, 13).await, "legacy", "rolled back to the route");
    let (_, shown) = gw.admin_call("GET", &format!("/owners/{FROM}"), None, None).await;
    assert_eq!(shown["owner"], Value::Null, "{shown}");
    let (_, progress) = gw.admin_call("GET", "/progress", None, None).await;
    assert_eq!(progress["accounts"]["moved_to_new"], json!(0), "rolled back: {progress}");
    let (_, history) = gw.admin_call("GET", "/history?op=XFER", None, None).await;
    assert!(history["markers"].as_array().unwrap().iter().any(|m| m["kind"] == "rollback"), "{history}");
    assert_eq!(shown["previous"], Value::Null, "an undone move has nothing left to undo: {shown}");
    // A second rollback changes nothing (it does not move the account forward again).
    let (code, _, err) =
        ficus(&["owners", "move", "--rollback", "--keys", &keys, "--config", &cfg, "--admin", &admin]).await;
    assert_eq!(code, 0, "{err}");
    gw.post(&request(&gw, 14, &xfer(FROM, "1.00"))).await;
    assert_eq!(served_by(&cfg, 14).await, "legacy", "still rolled back");

    let (_, audit) = gw.admin_call("GET", "/audit?limit=10", None, None).await;
    let moves: Vec<&Value> = audit["entries"].as_array().unwrap().iter().filter(|e| !e["owners"].is_null()).collect();
    assert!(moves.len() >= 2, "the move and the rollback; the no-op and the refusals are not audited: {audit}");
    assert_eq!(moves[0]["who"], json!(ADMIN_NAME));
    assert_eq!(moves[0]["owners"]["to"], json!("accounts"));
    assert_eq!(moves[0]["owners"]["keys"], json!([FROM]));
    assert_eq!((moves[0]["owners"]["moved"].as_u64(), moves[0]["owners"]["waited_ms"].is_u64()), (Some(1), true));
    assert_eq!(moves[1]["owners"]["rollback"], json!(true));
    assert!(Path::new(&gw.dir.path().join("routes.audit.jsonl")).exists());
}

#[tokio::test]
async fn a_large_keys_file_goes_in_batches_from_standard_input() {
    let sims = sims().await;
    let up = sim_upstreams(&sims);
    let gw = Gateway::start(&config(&up.legacy, &up.accounts)).await;
    let (cfg, admin) = (config_arg(&gw), admin_arg(&gw));
    let accounts: String = (0..2500).map(|i| format!("{}\n", 3_000_000_000_000_000u64 + i)).collect();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ficus"))
        .args(["owners", "move", "--to", "accounts", "--keys", "-", "--config", &cfg, "--admin", &admin])
        .env_remove("FICUS_ADMIN")
        .env("FICUS_ADMIN_TOKEN", ADMIN_TOKEN)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(accounts.as_bytes()).await.unwrap();
    }
    let out = child.wait_with_output().await.unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    for line in ["batch 1/3: 1000 account(s)", "batch 2/3: 1000 account(s)", "batch 3/3: 500 account(s)"] {
        assert!(err.contains(line), "{line:?} missing:\n{err}");
    }
    assert!(String::from_utf8_lossy(&out.stdout).contains("2500 changed owner"));
    let (_, last) = gw.admin_call("GET", "/owners/3000000000002499", None, None).await;
    assert_eq!(last["owner"], json!("accounts"), "{last}");
}

#[tokio::test]
async fn check_and_send_work_on_a_routes_file_with_a_journal() {
    // Building a table opens the journal's store, which needs a runtime: these commands once
    // panicked ("this functionality requires a Tokio context") before saying anything.
    let sims = sims().await;
    let up = sim_upstreams(&sims);
    let gw = Gateway::start(&config(&up.legacy, &up.accounts)).await;
    let cfg = config_arg(&gw);
    let (code, out, err) = ficus(&["check", "--config", &cfg]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(": ok (hash"), "{out}");
    let to = gw.http().to_string();
    let body = r#"{"FROM-ACCT":"1000000000000001","TO-ACCT":"1000000000000002","AMOUNT":1.00,"MEMO":"CLI"}"#;
    let (code, out, err) =
        ficus(&["send", "--config", &cfg, "--to", &to, "--header", r#"{"HDR-SEQ-NO":77}"#, "XFER", body]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"HDR-RESP-CODE\": \"0000\""), "{out}");
    assert_eq!(served_by(&cfg, 77).await, "legacy");
}
