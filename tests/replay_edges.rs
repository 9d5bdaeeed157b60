//! `ficus replay` on real capture files and what it tells people: a line cut short is skipped
//! and counted, an empty capture replays nothing (and leaves the last records alone), a failed
//! replay exits non-zero with each failure's real cause (not "circuit open"), a damaged
//! captured request is not blamed on the upstream, a clock moved by the time since the capture
//! is replay lag, findings are headed for the side that was replayed, and each example names
//! the upstream that answered it live.

mod common;

use common::*;
use ficus::shadow::capture::CaptureRecord;
use serde_json::{json, Value};

/// Runs `ficus replay ARGS`.
async fn replay(args: &[&str]) -> (i32, String, String) {
    let (code, out, err) = ficus_cli(&[&["replay"], args].concat()).await;
    (code, out, err)
}

fn lines(captures: &[CaptureRecord]) -> String {
    captures.iter().map(|c| serde_json::to_string(c).unwrap() + "\n").collect()
}

/// A real ACCTINQ exchange through the gateway: (request, reply).
async fn exchange(gw: &Gateway, id: u64) -> (Vec<u8>, Vec<u8>) {
    let request = ficus::cli::build_request(
        &gw.table(),
        "ACCTINQ",
        &json!({ "ACCT-NO": "1000000000000001" }),
        &json!({ "HDR-SEQ-NO": id }),
    )
    .unwrap();
    let (status, reply) = gw.post(&request).await;
    assert_eq!(status, 200);
    (request, reply)
}

/// `reply` with its header's HDR-TIMESTAMP set to `secs` (Unix seconds, UTC as the host writes it).
fn stamped(gw: &Gateway, reply: &[u8], secs: u64) -> Vec<u8> {
    let table = gw.table();
    let (mut header, _) = table.header.codec.decode_json(reply).unwrap();
    let (date, time) = ficus::sim::ops::civil(secs);
    header["HDR-TIMESTAMP"] = Value::from(date as u64 * 1_000_000 + time as u64);
    let mut out = table.header.codec.encode_json(&header).unwrap();
    out.extend_from_slice(&reply[table.header.size..]);
    out
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

#[tokio::test]
async fn a_cut_short_or_empty_capture_is_handled() {
    let sims = sims().await;
    let gw = Gateway::start(&routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "")).await;
    let (request, reply) = exchange(&gw, 900).await;
    let good = CaptureRecord::new("ACCTINQ", Some("900"), "legacy", 1, &request, &reply);
    let text = lines(&[good.clone(), good.clone()]);
    let cut = format!("{text}{}", &lines(&[good])[..60]);
    let file = gw.dir.path().join("trunc.jsonl");
    std::fs::write(&file, cut).unwrap();
    let config = gw.config.display().to_string();
    let (code, stdout, stderr) =
        replay(&[&file.display().to_string(), "--config", &config, "--against", "legacy"]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stderr.contains("1 line(s) of") && stderr.contains("trunc.jsonl:3:"), "{stderr}");
    let row = stdout.lines().find(|l| l.starts_with("ACCTINQ")).unwrap();
    assert_eq!(row.split_whitespace().nth(1), Some("2"), "both whole lines replayed: {stdout}");

    // Empty: an error, and the earlier records are left as they were.
    let records = gw.dir.path().join("replay.jsonl");
    let earlier = std::fs::read_to_string(&records).unwrap();
    assert!(!earlier.is_empty());
    let empty = gw.dir.path().join("capture.jsonl");
    std::fs::write(&empty, "").unwrap();
    let (code, stdout, stderr) =
        replay(&[&empty.display().to_string(), "--config", &config, "--against", "legacy"]).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("no captured messages in") && !stdout.contains("CAPTURED"), "{stdout}{stderr}");
    assert_eq!(std::fs::read_to_string(&records).unwrap(), earlier);
    sims.stop();
}

#[tokio::test]
async fn failures_name_their_cause_and_fail_the_replay() {
    let sims = sims().await;
    let gw = Gateway::start(&routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "")).await;
    let (request, reply) = exchange(&gw, 910).await;
    let mut captures: Vec<CaptureRecord> = (0..12)
        .map(|n| CaptureRecord::new("ACCTINQ", Some(&format!("{}", 910 + n)), "legacy", 1, &request, &reply))
        .collect();
    // Two damaged captured requests: cut inside the header, and not hex at all.
    captures[0].request.truncate(40);
    captures[1].request = "ZZ".into();
    let file = gw.dir.path().join("capture.jsonl");
    std::fs::write(&file, lines(&captures)).unwrap();
    // Replayed against a routes file whose `accounts` is a dead address.
    let dead = dead_address().await;
    let up = Upstreams { legacy: sim_upstreams(&sims).legacy, accounts: format!("http://{dead}/ops") };
    let other = gw.dir.path().join("dead.toml");
    std::fs::write(&other, routes_toml(&up, "legacy", "legacy", "")).unwrap();
    let (code, stdout, stderr) =
        replay(&[&file.display().to_string(), "--config", &other.display().to_string(), "--against", "accounts"]).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("10 of 10 replayed message(s) got no comparable reply from accounts"), "{stderr}");
    let (errors, rest) = stdout.split_once("errors (the replayed upstream gave no comparable reply):").unwrap();
    assert!(errors.contains("ACCTINQ") && errors.contains(" - "), "RATE is - with 0 compared: {errors}");
    let (rest, _) = rest.split_once("captured requests not replayed").unwrap_or_else(|| panic!("{stdout}"));
    let listed: Vec<&str> = rest.lines().filter(|l| l.contains("message 9")).collect();
    assert_eq!(listed.len(), 10, "{stdout}");
    assert!(
        listed.iter().all(|l| l.to_lowercase().contains("connection refused")),
        "the real cause each time: {stdout}"
    );
    assert!(!listed.iter().any(|l| l.contains("message 910 ") || l.contains("message 911 ")), "{stdout}");
    let damaged = stdout
        .split_once("captured requests not replayed (damaged")
        .map(|(_, d)| d)
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        damaged.contains("message 910") && damaged.contains("message 911") && damaged.contains("not hex"),
        "{damaged}"
    );
    sims.stop();
}

#[tokio::test]
async fn replay_lag_is_not_a_finding_and_findings_name_their_side() {
    let sims = sims().await;
    let gw = Gateway::start(&routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "")).await;
    let captured_at = now() - 3600;
    let mut captures = Vec::new();
    for n in 0..4u64 {
        let (request, reply) = exchange(&gw, 920 + n).await;
        let mut c = CaptureRecord::new(
            "ACCTINQ",
            Some(&format!("{}", 920 + n)),
            "legacy",
            1,
            &request,
            &stamped(&gw, &reply, captured_at),
        );
        c.time = captured_at as f64;
        captures.push(c);
    }
    let file = gw.dir.path().join("capture.jsonl");
    std::fs::write(&file, lines(&captures)).unwrap();
    let config = gw.config.display().to_string();
    let (code, stdout, stderr) =
        replay(&[&file.display().to_string(), "--config", &config, "--against", "legacy"]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("replay lag: HDR-TIMESTAMP moved by the time since the capture in 4 message(s)"),
        "{stdout}"
    );
    assert!(!stdout.contains("findings"), "{stdout}");
    let row = stdout.lines().find(|l| l.starts_with("ACCTINQ")).unwrap();
    assert!(row.contains("100.00%"), "{row}");

    // A clock nine hours off is still a finding; against the host, headed for the host; each
    // example named by who answered it live, and a header-only reply's body by name.
    for (n, c) in captures.iter_mut().enumerate() {
        let reply = ficus::shadow::capture::unhex(&c.reply).unwrap();
        c.reply = ficus::shadow::capture::CaptureRecord::new(
            "X",
            None,
            "x",
            1,
            &[],
            &stamped(&gw, &reply, captured_at - 9 * 3600),
        )
        .reply;
        if n % 2 == 1 {
            c.target = "accounts".into();
        }
    }
    captures[3].reply = captures[3].reply[..gw.table().header.size * 2].to_string();
    std::fs::write(&file, lines(&captures)).unwrap();
    let (_, stdout, _) = replay(&[&file.display().to_string(), "--config", &config, "--against", "legacy"]).await;
    assert!(stdout.contains("findings — the host legacy now answers differently from the capture"), "{stdout}");
    assert!(!stdout.contains("fix on the new side"), "{stdout}");
    assert!(stdout.contains("HDR-TIMESTAMP") && !stdout.contains("replay lag"), "{stdout}");
    assert!(stdout.contains("captured (legacy): ") || stdout.contains("captured (legacy) "), "{stdout}");
    assert!(stdout.contains("captured (accounts) "), "per example: {stdout}");
    assert!(stdout.contains("(the whole reply body)"), "{stdout}");
    sims.stop();
}
