//! `ficus replay` on the terminal: the two sides are called by who answered them (the captured
//! reply by its capture's target, the replayed one by `--against`), never "legacy" for a reply
//! the host did not give; and every replayed message that failed is listed (bounded), not only
//! counted.

mod common;

use common::*;
use ficus::shadow::capture::CaptureRecord;
use serde_json::json;
use std::path::Path;

/// Runs `ficus replay ARGS`.
async fn replay(args: &[&str]) -> (bool, String, String) {
    let (code, out, err) = ficus_cli(&[&["replay"], args].concat()).await;
    (code == 0, out, err)
}

fn write_captures(path: &Path, captures: &[CaptureRecord]) {
    let lines: Vec<String> = captures.iter().map(|c| serde_json::to_string(c).unwrap()).collect();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

#[tokio::test]
async fn sides_are_called_by_who_answered_them() {
    let sims = sims().await;
    // ACCTINQ already served by the new service: its captures were answered by `accounts`.
    let gw = Gateway::start(&routes_toml(&sim_upstreams(&sims), "accounts", "legacy", "")).await;
    let mut captures = Vec::new();
    for (n, acct) in ["1000000000000001", "1000000000000002"].into_iter().enumerate() {
        let id = 500 + n as u64;
        let request = ficus::cli::build_request(
            &gw.table(),
            "ACCTINQ",
            &json!({ "ACCT-NO": acct }),
            &json!({ "HDR-SEQ-NO": id }),
        )
        .unwrap();
        let (status, reply) = gw.post(&request).await;
        assert_eq!(status, 200);
        let id = id.to_string();
        captures.push(CaptureRecord::new("ACCTINQ", Some(&id), "accounts", gw.generation(), &request, &reply));
    }
    let file = gw.dir.path().join("capture.jsonl");
    write_captures(&file, &captures);
    let config = gw.config.display().to_string();
    let (ok, stdout, stderr) =
        replay(&[&file.display().to_string(), "--config", &config, "--against", "accounts"]).await;
    assert!(ok, "{stderr}");
    let head = stdout.lines().next().unwrap_or_default();
    assert!(head.contains("CAPTURED (ACCOUNTS) p50/p99") && head.contains("REPLAYED (ACCOUNTS) p50/p99"), "{stdout}");
    assert!(!stdout.to_ascii_uppercase().contains("LEGACY"), "no side here is the host: {stdout}");
    let row = stdout.lines().find(|l| l.starts_with("ACCTINQ")).unwrap();
    assert!(row.contains(" 2 ") && row.trim_end().ends_with("ms"), "{row}");
    sims.stop();
}

#[tokio::test]
async fn each_failed_message_is_listed_on_the_terminal() {
    let failing = fake_service(500, r#"{"error":"database unavailable"}"#).await;
    let up = Upstreams { legacy: dead_address().await.to_string(), accounts: format!("http://{failing}/ops") };
    let gw = Gateway::start(&routes_toml(&up, "legacy", "legacy", "")).await;
    let captures: Vec<CaptureRecord> = (0..12u64)
        .map(|n| {
            let id = 700 + n;
            let request = ficus::cli::build_request(
                &gw.table(),
                "ACCTINQ",
                &json!({ "ACCT-NO": "1000000000000001" }),
                &json!({ "HDR-SEQ-NO": id }),
            )
            .unwrap();
            // What the host answered does not matter: the replayed side fails before any compare.
            CaptureRecord::new("ACCTINQ", Some(&id.to_string()), "legacy", 1, &request, &request[..85])
        })
        .collect();
    let file = gw.dir.path().join("capture.jsonl");
    write_captures(&file, &captures);
    let records = gw.dir.path().join("out/replay.jsonl");
    std::fs::create_dir_all(records.parent().unwrap()).unwrap();
    let config = gw.config.display().to_string();
    let (file, out) = (file.display().to_string(), records.display().to_string());
    let (ok, stdout, stderr) = replay(&[&file, "--config", &config, "--against", "accounts", "--records", &out]).await;
    assert!(!ok, "errors fail the replay: {stderr}");
    assert!(stderr.contains("12 of 12 replayed message(s) got no comparable reply from accounts"), "{stderr}");
    let row = stdout.lines().find(|l| l.starts_with("ACCTINQ")).unwrap();
    assert!(row.split_whitespace().nth(4) == Some("12"), "ERRORS 12: {stdout}");
    let listed: Vec<&str> = stdout.lines().filter(|l| l.trim_start().starts_with("ACCTINQ    message")).collect();
    assert_eq!(listed.len(), 10, "the first ten, each with op, id and reason: {stdout}");
    assert!(listed[0].contains("message 700") && listed[0].contains("500"), "{}", listed[0]);
    assert!(listed[9].contains("message 709"), "{}", listed[9]);
    assert!(stdout.contains(&format!("… 2 more, see {}", records.display())), "{stdout}");
    assert_eq!(std::fs::read_to_string(&records).unwrap().lines().count(), 12, "every error is in the records file");
}
