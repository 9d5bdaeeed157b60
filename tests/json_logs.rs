//! `ficus --log-format json`: the real binary logs one JSON object per event on stderr, and an
//! event about a message carries the `msg` span's fields — operation, route, generation and
//! the message id from the header's sequence number — so one message can be followed.

mod common;

use common::*;
use serde_json::{json, Value};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::ChildStderr;

/// Reads JSON lines until one satisfies `want`, for at most 15 s; every line must be JSON.
async fn next_matching(lines: &mut Lines<BufReader<ChildStderr>>, want: impl Fn(&Value) -> bool) -> Value {
    let read = async {
        while let Some(line) = lines.next_line().await.expect("reading the gateway's stderr") {
            let event: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            if want(&event) {
                return event;
            }
        }
        panic!("the gateway exited before logging the expected event");
    };
    tokio::time::timeout(Duration::from_secs(15), read).await.expect("the expected log event within 15 s")
}

#[tokio::test]
async fn json_logs_carry_the_message_span_and_id() {
    // The legacy host is down, so the message gets an error reply and a warning is logged.
    let up = Upstreams { legacy: dead_address().await.to_string(), accounts: "http://127.0.0.1:9/ops".into() };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("routes.toml");
    std::fs::write(&config, routes_toml(&up, "legacy", "legacy", "")).unwrap();
    std::fs::write(dir.path().join("tokens"), format!("{ADMIN_NAME}:{ADMIN_TOKEN}\n")).unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ficus"))
        .args(["--log-format", "json", "serve", "--config"])
        .arg(&config)
        .env("FICUS_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start ficus");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let ready = next_matching(&mut lines, |e| e["fields"]["message"] == "gateway listening").await;
    assert_eq!(ready["level"], "INFO");
    let http = ready["fields"]["http"].as_str().expect("http address");
    let http: std::net::SocketAddr =
        http.trim_start_matches("Some(").trim_end_matches(')').parse().expect("an address in the ready event");

    let table = ficus::config::load(&config, None, 1).unwrap();
    let header = json!({ "HDR-SEQ-NO": 4242 });
    let body = json!({ "ACCT-NO": "1000000000000001" });
    let message = ficus::cli::build_request(&table, "ACCTINQ", &body, &header).unwrap();
    let (status, _) = post(http, &message).await;
    assert_eq!(status, 502, "the host is down");

    let event = next_matching(&mut lines, |e| e["fields"]["message"] == "error reply").await;
    assert_eq!(event["level"], "WARN");
    assert_eq!(event["fields"]["cause"], "unavailable");
    let span = &event["span"];
    assert_eq!(span["name"], "msg", "{event}");
    assert_eq!(span["op"], "ACCTINQ", "{event}");
    assert_eq!(span["route"], "legacy", "{event}");
    assert_eq!(span["generation"], 1, "{event}");
    assert!(span["id"].as_str().is_some_and(|id| id.trim_start_matches('0') == "4242"), "message id: {event}");
    let spans: Vec<&str> = event["spans"].as_array().unwrap().iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(spans, ["conn", "msg"], "the connection's span encloses the message's");
    let _ = child.kill().await;
}
