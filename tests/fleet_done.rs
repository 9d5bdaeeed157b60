//! The fleet issue's whole picture in one run: three `ficus serve` replicas on one machine
//! sharing one routes.toml directory and one PostgreSQL (journal, shadow records and captures),
//! exporting traces to an OTLP receiver in this process. A change to the shared file is seen by
//! all three (`ficus fleet` shows one hash again within the reload time), the shadow report
//! from the store covers the traffic sent to each, and the traces arrive with the upstream call
//! and the shadow as children of each message's span.

#[allow(dead_code)] // parts serve the OTLP tests
#[path = "support/otlp.rs"]
mod otlp;
#[path = "support/postgres.rs"]
mod postgres;
#[allow(dead_code)] // the journal fleet tests use all of it
#[path = "support/replica.rs"]
mod replica;

mod common;

use common::*;
use replica::Replica;
use serde_json::json;
use std::time::{Duration, Instant};

const EACH: u64 = 3;
const OVERRIDE: [&str; 6] = ["--listen-http", "127.0.0.1:0", "--listen-tcp", "127.0.0.1:0", "--admin", "127.0.0.1:0"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_one_file_one_store_one_view_and_traces() {
    let pg = postgres::Postgres::start();
    let url = pg.create_database("fleet");
    let sims = sims().await;
    let (collector, at) = otlp::Receiver::start().await;
    let toml = routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "").replace(
        "target   = \"legacy\"\nread_only = true\n\n[routes.TXNHIST]",
        "target   = \"legacy\"\nread_only = true\nshadow = \"accounts\"\nshadow_timeout_ms = 2000\n\n[routes.TXNHIST]",
    ) + &format!(
        "\n[journal]\nstore = \"{url}\"\n\n[shadow]\nrecords = \"postgres\"\n\n[telemetry]\notlp = \"http://{at}\"\nservice_name = \"ficus-fleet\"\n"
    );
    let shared = tempfile::tempdir().unwrap();
    let path = shared.path().join("routes.toml");
    std::fs::write(&path, &toml).unwrap();
    std::fs::write(shared.path().join("tokens"), format!("{ADMIN_NAME}:{ADMIN_TOKEN}\n")).unwrap();
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(Replica::serve(&path, &OVERRIDE, tempfile::tempdir().unwrap()).await);
    }
    // Replicas after the first find the schema there: PostgreSQL's "already exists, skipping"
    // notices are not the operator's news.
    for r in &replicas {
        let log = r.log.lock().unwrap();
        assert!(!log.iter().any(|l| l.contains("already exists")), "{log:#?}");
    }

    // Traffic to each replica: every reply its own.
    let mut seq = 7001;
    for r in &replicas {
        for _ in 0..EACH {
            let body = json!({ "ACCT-NO": format!("100000000000000{}", 1 + seq % 3) });
            let m = ficus::cli::build_request(&r.table, "ACCTINQ", &body, &json!({ "HDR-SEQ-NO": seq })).unwrap();
            let (status, reply) = r.post(&m).await;
            let h = ficus::cli::decode_reply(&r.table, "ACCTINQ", &reply)["header"].clone();
            assert_eq!((status, h["HDR-RESP-CODE"].as_str(), h["HDR-SEQ-NO"].as_u64()), (200, Some("0000"), Some(seq)));
            seq += 1;
        }
    }
    let total = 3 * EACH;

    // A change to the shared file: all three reload it, and the fleet view shows one hash.
    let before = replicas[0].table.hash.clone();
    std::fs::write(
        &path,
        toml.replace("timeout_ms = 1000\nconnect_timeout_ms", "timeout_ms = 1200\nconnect_timeout_ms"),
    )
    .unwrap();
    let targets: Vec<String> = replicas.iter().map(|r| r.admin.to_string()).collect();
    let targets = targets.join(",");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (code, out, err) = ficus_cli(&["fleet", "--targets", &targets, "--json"]).await;
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        let hash = doc["replicas"][0]["status"]["hash"].as_str().unwrap_or("").to_string();
        if code == 0 && doc["agree"] == true && hash != before {
            break;
        }
        assert!(Instant::now() < deadline, "the fleet never agreed on the new table: {out}{err}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The shadow report from the store covers what each replica served.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (code, out, err) = ficus_cli(&["shadow", "report", "--store", &url]).await;
        let compared = out.lines().find(|l| l.starts_with("ACCTINQ")).and_then(|l| l.split_whitespace().nth(1));
        if code == 0 && compared == Some(total.to_string().as_str()) && out.contains("records from 3 replica(s)") {
            break;
        }
        assert!(Instant::now() < deadline, "the report never covered all three: {out}{err}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Traces: a message span per message with the host call as its child; shadows are children
    // of message spans in their traces (a shadow runs after the reply: wait for some).
    let spans = collector
        .until("every message with its host call, and shadows under messages", |spans| {
            let msgs: Vec<_> = spans
                .iter()
                .filter(|s| s.name == "msg" && s.attrs.get("op").map(String::as_str) == Some("ACCTINQ"))
                .collect();
            let child = |m: &otlp::Got, name: &str| {
                spans.iter().any(|s| s.name == name && s.parent == m.span_id && s.trace_id == m.trace_id)
            };
            let shadows: Vec<_> = spans.iter().filter(|s| s.name == "shadow").collect();
            msgs.len() as u64 >= total
                && msgs.iter().all(|m| child(m, "legacy") && child(m, "shadow"))
                && shadows.iter().all(|s| child(s, "modern"))
        })
        .await;
    // Every span but a message's has its parent among them, in its trace: no call or shadow
    // ever lost its message (under load they once took another task's context, or none).
    for s in spans.iter().filter(|s| s.name != "msg") {
        let parent = spans.iter().find(|p| p.span_id == s.parent && p.trace_id == s.trace_id).map(|p| p.name.as_str());
        let expected = if s.name == "modern" { "shadow" } else { "msg" };
        assert_eq!(parent, Some(expected), "{s:?}");
    }
    assert!(spans.iter().all(|s| s.service == "ficus-fleet"), "service.name");
    let traces: std::collections::HashSet<&str> =
        spans.iter().filter(|s| s.name == "msg").map(|s| s.trace_id.as_str()).collect();
    assert!(traces.len() as u64 >= total, "a trace per message: {}", traces.len());
}
