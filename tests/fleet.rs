//! Replicas on one host sharing one routes.toml (`ficus serve --listen-http/--listen-tcp/--admin`
//! give each its own addresses; the table hash stays the file's), and `ficus fleet` comparing
//! them: one hash while they agree — also right after the shared file changes, once each has
//! reloaded — and a loud line (exit 3) when a replica serves another table or does not answer.

#[allow(dead_code)] // the journal fleet tests use all of it
#[path = "support/replica.rs"]
mod replica;

mod common;

use common::*;
use replica::Replica;
use serde_json::Value;
use std::time::{Duration, Instant};

const OVERRIDE: [&str; 6] = ["--listen-http", "127.0.0.1:0", "--listen-tcp", "127.0.0.1:0", "--admin", "127.0.0.1:0"];

async fn status(r: &Replica) -> Value {
    let (code, v) = admin_call_at(r.admin, "GET", "/status", None, None).await;
    assert_eq!(code, 200, "{v}");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_share_one_routes_toml_and_the_fleet_view_sees_one_table() {
    // The file names fixed ports; the first replica takes them, the others override all three.
    let (http, admin) = (free_address().await, free_address().await);
    let up = Upstreams { legacy: "127.0.0.1:9".into(), accounts: "http://127.0.0.1:9/ops".into() };
    let toml = routes_toml(&up, "legacy", "legacy", "")
        .replace("listen_http = \"127.0.0.1:0\"", &format!("listen_http = \"{http}\""))
        .replace("admin       = \"127.0.0.1:0\"", &format!("admin       = \"{admin}\""));
    let shared = tempfile::tempdir().unwrap();
    let path = shared.path().join("routes.toml");
    std::fs::write(&path, &toml).unwrap();
    std::fs::write(shared.path().join("tokens"), format!("{ADMIN_NAME}:{ADMIN_TOKEN}\n")).unwrap();
    let a = Replica::serve(&path, &[], tempfile::tempdir().unwrap()).await;
    let b = Replica::serve(&path, &OVERRIDE, tempfile::tempdir().unwrap()).await;
    let c = Replica::serve(&path, &OVERRIDE, tempfile::tempdir().unwrap()).await;
    assert_eq!((a.http, a.admin), (http, admin), "the file's addresses");
    assert!(b.http != http && c.http != http && b.admin != c.admin, "each its own");

    let s = status(&b).await;
    assert_eq!(s["hash"].as_str(), Some(a.table.hash.as_str()), "overrides leave the file's hash: {s}");
    assert_eq!(s["in_flight"], 0);
    assert_eq!(s["upstreams"]["legacy"]["breaker"], "closed", "{s}");
    assert!(s["replica"]["pid"].as_u64().is_some() && s["reload"]["applied"].is_u64(), "{s}");

    let targets = format!("{},{},{}", a.admin, b.admin, c.admin);
    let (code, out, err) = ficus_cli(&["fleet", "--targets", &targets]).await;
    assert_eq!(code, 0, "{out}{err}");
    let hash: String = a.table.hash.chars().take(12).collect();
    assert!(out.contains(&format!("one table on all 3 replica(s): {hash}")), "{out}");
    assert_eq!(out.lines().filter(|l| l.contains(&hash)).count(), 4, "three rows and the verdict: {out}");

    // The shared file changes: each replica reloads it; the fleet view then shows the new hash.
    std::fs::write(
        &path,
        toml.replace("timeout_ms = 1000\nconnect_timeout_ms", "timeout_ms = 1500\nconnect_timeout_ms"),
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let new_hash = loop {
        let mut hashes = Vec::new();
        for r in [&a, &b, &c] {
            hashes.push(status(r).await["hash"].clone());
        }
        if hashes.iter().all(|h| h != &Value::from(a.table.hash.as_str())) && hashes.windows(2).all(|w| w[0] == w[1]) {
            break hashes[0].as_str().unwrap().to_string();
        }
        assert!(Instant::now() < deadline, "not every replica reloaded: {hashes:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // One edit, one audit entry, whichever replica reloaded it first.
    let audit = std::fs::read_to_string(shared.path().join("routes.audit.jsonl")).unwrap_or_default();
    assert_eq!(audit.lines().count(), 1, "three replicas, one change: {audit}");
    let (code, out, _) = ficus_cli(&["fleet", "--targets", &targets, "--json"]).await;
    assert_eq!(code, 0, "{out}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((doc["agree"].as_bool(), doc["hashes"].as_u64()), (Some(true), Some(1)), "{doc}");
    assert!(doc["replicas"].as_array().unwrap().iter().all(|r| r["status"]["hash"] == new_hash.as_str()));

    // A replica on another file, and an address nobody answers: loud, exit 3.
    let elsewhere = tempfile::tempdir().unwrap();
    let other_path = elsewhere.path().join("routes.toml");
    std::fs::write(&other_path, &toml).unwrap();
    std::fs::write(elsewhere.path().join("tokens"), format!("{ADMIN_NAME}:{ADMIN_TOKEN}\n")).unwrap();
    let other = Replica::serve(&other_path, &OVERRIDE, elsewhere).await;
    let dead = dead_address().await;
    let targets = format!("{targets},{},{dead},no-such-replica.invalid:9901", other.admin);
    let (code, out, err) = ficus_cli(&["fleet", "--targets", &targets]).await;
    assert_eq!(code, 3, "{out}{err}");
    assert!(err.contains("TABLES DIFFER: 2 hashes across 6 replicas"), "{err}");
    assert!(err.contains("2 of 6 replica(s) did not answer"), "{err}");
    assert!(out.contains(&format!("{dead}")) && out.contains("UNREACHABLE"), "{out}");
    // A name that does not resolve is a row of its own: the others are still shown.
    assert!(
        out.lines().any(|l| l.starts_with("no-such-replica.invalid:9901") && l.contains("does not resolve")),
        "{out}"
    );
    assert_eq!(out.lines().filter(|l| l.contains(&new_hash[..12])).count(), 3, "{out}");
}
