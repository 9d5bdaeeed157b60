//! One record store for a fleet: three `ficus serve` replicas sharing one routes.toml and one
//! PostgreSQL (a real server, started by the test) with `[shadow] records = "postgres"`. Shadowed
//! traffic sent to each is summarised whole by `ficus shadow report --store` and by `GET /shadow`
//! on any one replica; the captures of all three are replayed from the store. With the store
//! down, every message is still answered and the records are dropped and counted. `ficus check`
//! refuses `records = "postgres"` without a PostgreSQL journal, naming the line.

#[path = "support/postgres.rs"]
mod postgres;
#[allow(dead_code)]
#[path = "support/replica.rs"]
mod replica;

mod common;

use common::*;
use replica::Replica;
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// Messages sent to each replica.
const EACH: u64 = 4;

/// routes.toml: ACCTINQ answered by the host, shadowed to `accounts`, every message captured;
/// records and captures in the journal's store at `url`.
fn config(up: &Upstreams, url: &str) -> String {
    routes_toml(up, "legacy", "legacy", "").replace(
        "target   = \"legacy\"\nread_only = true\n\n[routes.TXNHIST]",
        "target   = \"legacy\"\nread_only = true\nshadow = \"accounts\"\nshadow_timeout_ms = 2000\ncapture = { percent \
         = 100 }\n\n[routes.TXNHIST]",
    ) + &format!("\n[journal]\nstore = \"{url}\"\n\n[shadow]\nrecords = \"postgres\"\n")
}

fn acctinq(table: &ficus::route::RouteTable, seq: u64) -> Vec<u8> {
    let acct = format!("100000000000000{}", 1 + seq % 3);
    ficus::cli::build_request(table, "ACCTINQ", &json!({ "ACCT-NO": acct }), &json!({ "HDR-SEQ-NO": seq })).unwrap()
}

async fn shadow(r: &Replica) -> Value {
    let (code, v) = admin_call_at(r.admin, "GET", "/shadow", None, None).await;
    assert_eq!(code, 200, "{v}");
    v
}

/// Waits (with a deadline, for the writers' batches) until `GET /shadow` on `r` satisfies `done`.
async fn shadow_until(r: &Replica, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = shadow(r).await;
        if done(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: GET /shadow says {v:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends `EACH` messages to every replica; every reply comes, from the host.
async fn traffic(replicas: &[&Replica], first_seq: u64) {
    let mut seq = first_seq;
    for r in replicas {
        for _ in 0..EACH {
            let m = acctinq(&r.table, seq);
            let (status, reply) = r.post(&m).await;
            assert_eq!(status, 200, "message {seq}");
            let h = ficus::cli::decode_reply(&r.table, "ACCTINQ", &reply)["header"].clone();
            assert_eq!(h["HDR-RESP-CODE"], "0000", "message {seq}: {h}");
            assert_eq!(h["HDR-SEQ-NO"].as_u64(), Some(seq), "message {seq}: its own reply");
            seq += 1;
        }
    }
}

fn shared_config(toml: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("routes.toml");
    std::fs::write(&path, toml).unwrap();
    std::fs::write(dir.path().join("tokens"), format!("{ADMIN_NAME}:{ADMIN_TOKEN}\n")).unwrap();
    (dir, path)
}

const OVERRIDE: [&str; 6] = ["--listen-http", "127.0.0.1:0", "--listen-tcp", "127.0.0.1:0", "--admin", "127.0.0.1:0"];

async fn three(path: &Path) -> [Replica; 3] {
    let mut out = Vec::new();
    for _ in 0..3 {
        out.push(Replica::serve(path, &OVERRIDE, tempfile::tempdir().unwrap()).await);
    }
    out.try_into().unwrap_or_else(|_| unreachable!())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_one_store_report_shadow_and_replay_cover_the_traffic_of_all() {
    let pg = postgres::Postgres::start();
    let url = pg.create_database("records");
    let sims = sims().await;
    let (dir, path) = shared_config(&config(&sim_upstreams(&sims), &url));
    // A record from long ago (past the journal's 72 hours): the first batch's sweep deletes it.
    let mut db = <sqlx::PgConnection as sqlx::Connection>::connect(&url).await.unwrap();
    let old = json!({ "time": 1.0, "op": "OLDOP", "id": null, "result": "match", "primary": "legacy",
                      "shadow": "accounts", "legacy_ms": 1.0, "new_ms": 1.0 });
    for sql in [
        "CREATE TABLE ficus_shadow_records (kind TEXT NOT NULL, time DOUBLE PRECISION NOT NULL, replica TEXT NOT NULL, \
         op TEXT NOT NULL, body TEXT NOT NULL)",
        &format!("INSERT INTO ficus_shadow_records VALUES ('comparison', 1.0, 'gone:1', 'OLDOP', '{old}')"),
    ] {
        sqlx::query(sql).execute(&mut db).await.unwrap();
    }
    let [a, b, c] = three(&path).await;
    traffic(&[&a, &b, &c], 5001).await;
    let total = 3 * EACH;

    // Any one replica summarises every replica's records, and says so.
    let v = shadow_until(&b, "every replica's records in the store", |v| {
        v["operations"]["ACCTINQ"]["compared"].as_u64().unwrap_or(0)
            + v["operations"]["ACCTINQ"]["shadow_errors"].as_u64().unwrap_or(0)
            == total
    })
    .await;
    assert_eq!(v["source"], "store", "{v:#}");
    let replicas = v["replicas"].as_object().unwrap();
    assert_eq!(replicas.len(), 3, "{v:#}");
    assert!(replicas.values().all(|n| n.as_u64() == Some(EACH)), "{v:#}");
    assert_eq!(v["operations"]["ACCTINQ"]["compared"].as_u64(), Some(total), "the shadow answered every one: {v:#}");
    assert!(v["store"].as_str().unwrap().starts_with("postgres://"), "{v:#}");
    assert_eq!(v["this_replica"]["dropped"]["comparisons"], 0, "{v:#}");
    assert_eq!(v["this_replica"]["written"]["comparisons"].as_u64(), Some(EACH), "{v:#}");

    // The report from the store: the same summary as from files, every replica's records.
    let (code, out, err) = ficus_cli(&["shadow", "report", "--store", &url]).await;
    assert_eq!(code, 0, "{out}{err}");
    let row = out.lines().find(|l| l.starts_with("ACCTINQ")).unwrap_or_else(|| panic!("{out}"));
    assert_eq!(row.split_whitespace().nth(1), Some(total.to_string().as_str()), "compared: {out}");
    assert!(out.contains("records from 3 replica(s)"), "{out}");
    assert!(!out.contains("OLDOP") && !out.contains("gone:1"), "past retention, deleted: {out}");
    let page = dir.path().join("report.html");
    let (code, _, err) = ficus_cli(&["shadow", "report", "--store", &url, "--html", page.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read_to_string(&page).unwrap().contains("ACCTINQ"));

    // Every replica's captures, replayed from the store.
    let deadline = Instant::now() + Duration::from_secs(30);
    while ficus::shadow::store::read_captures(&url).await.unwrap().0.len() < total as usize {
        assert!(Instant::now() < deadline, "captures not all in the store");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (captures, bad) = ficus::shadow::store::read_captures(&url).await.unwrap();
    assert!(bad.is_empty(), "{bad:?}");
    let mut ids: Vec<String> = captures.iter().filter_map(|c| c.id.clone()).collect();
    ids.sort();
    assert_eq!(ids, (5001..5001 + total).map(|s| s.to_string()).collect::<Vec<_>>());
    let records = dir.path().join("replay.jsonl");
    let (code, out, err) = ficus_cli(&[
        "replay",
        &url,
        "--against",
        "accounts",
        "--config",
        path.to_str().unwrap(),
        "--records",
        records.to_str().unwrap(),
    ])
    .await;
    assert_eq!(code, 0, "{out}{err}");
    let row = out.lines().find(|l| l.starts_with("ACCTINQ")).unwrap_or_else(|| panic!("{out}"));
    assert_eq!(row.split_whitespace().nth(1), Some(total.to_string().as_str()), "replayed: {out}");
    assert_eq!(std::fs::read_to_string(&records).unwrap().lines().count(), total as usize);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_store_down_every_message_is_answered_and_records_are_dropped_and_counted() {
    let pg = postgres::Postgres::start();
    let url = pg.create_database("down");
    let sims = sims().await;
    let (_dir, path) = shared_config(&config(&sim_upstreams(&sims), &url));
    let [a, b, c] = three(&path).await;
    traffic(&[&a, &b, &c], 6001).await;
    shadow_until(&a, "the first records written", |v| v["records_read"].as_u64() == Some(3 * EACH)).await;

    drop(pg);
    traffic(&[&a, &b, &c], 7001).await;
    for r in [&a, &b, &c] {
        // A summary read from the store before it went down is answered for a few seconds more.
        let v = shadow_until(r, "records dropped and counted", |v| {
            v["this_replica"]["dropped"]["comparisons"].as_u64() == Some(EACH)
                && v["this_replica"]["dropped"]["captures"].as_u64() == Some(EACH)
                && v["source"] == "this replica"
        })
        .await;
        assert!(v["store_error"].as_str().is_some_and(|e| !e.is_empty()), "{v:#}");
        assert!(v["this_replica"]["last_error"].is_string(), "{v:#}");
        assert_eq!(v["this_replica"]["written"]["comparisons"].as_u64(), Some(EACH), "{v:#}");
        // This replica's own counters still count every message it shadowed.
        assert_eq!(v["operations"]["ACCTINQ"]["compared"].as_u64(), Some(2 * EACH), "{v:#}");
    }
}

#[tokio::test]
async fn check_refuses_records_in_postgres_without_a_postgresql_journal_naming_the_line() {
    let up = Upstreams { legacy: "127.0.0.1:9".into(), accounts: "http://127.0.0.1:9/ops".into() };
    let base = routes_toml(&up, "legacy", "legacy", "");
    let cases = [
        (format!("{base}\n[shadow]\nrecords = \"postgres\"\n"), "there is no [journal]"),
        (
            format!("{base}\n[journal]\nstore = \"sqlite:journal.db\"\n\n[shadow]\nrecords = \"postgres\"\n"),
            "[journal] store = \"sqlite:journal.db\" is not",
        ),
        (
            format!("{base}\n[shadow]\nrecords = \"postgres://ficus@127.0.0.1:5432/ficus\"\n"),
            "a store is named once, in [journal] store",
        ),
        (
            format!("{base}\n[journal]\nstore = \"postgres://ficus@127.0.0.1:9/ficus\"\n\n[shadow]\nrecords = \"Postgres\"\n"),
            "would be a directory of that name",
        ),
    ];
    for (toml, says) in cases {
        let (dir, path) = shared_config(&toml);
        let line = toml.lines().position(|l| l.starts_with("records =")).unwrap() + 1;
        let (code, out, err) = ficus_cli(&["check", "--config", path.to_str().unwrap()]).await;
        assert_eq!(code, 64, "{out}{err}");
        let said = format!("{out}{err}");
        assert!(said.contains(says), "{said}");
        assert!(said.contains(&format!(":{line}")), "names line {line}: {said}");
        drop(dir);
    }
    // A directory stays the default, and "postgres" with a PostgreSQL journal is accepted.
    let (_dir, path) = shared_config(&config(&up, "postgres://ficus@127.0.0.1:9/ficus"));
    let (code, out, err) = ficus_cli(&["check", "--config", path.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{out}{err}");
}
