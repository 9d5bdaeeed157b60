//! The control plane never loses an update, sees everything a table is built from, and its
//! emergency rollback always works: concurrent admin changes under one lock with If-Match/412,
//! an audit entry per applied change only, a table hash over routes.toml and its copybooks
//! (COPY members included) with parsed copybooks cached by content, and admin changes that apply
//! to the running table whatever invalid file sits on disk.

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Every test here takes this: the `ficus_reload_last_rejected` gauge is process-wide, and any
/// applied change may set it, so the one that reads it must not run beside the others.
static REJECTIONS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn acct(n: u64) -> Value {
    json!({ "ACCT-NO": format!("{}", 1_000_000_000_000_000u64 + n) })
}

/// One admin call with optional token and If-Match: (status, headers, JSON body).
async fn call(
    gw: &Gateway,
    method: &str,
    path: &str,
    if_match: Option<&str>,
    body: Option<Value>,
) -> (u16, HashMap<String, String>, Value) {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let if_match = if_match.map(|h| format!("If-Match: {h}\r\n")).unwrap_or_default();
    let auth = if method == "GET" { String::new() } else { format!("Authorization: Bearer {ADMIN_TOKEN}\r\n") };
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: t\r\n{auth}{if_match}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut conn = tokio::net::TcpStream::connect(gw.admin()).await.unwrap();
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(body.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).await.unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let (status, body) = parse_response(&raw);
    (status, headers, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn audit(gw: &Gateway) -> Vec<Value> {
    let text = std::fs::read_to_string(gw.dir.path().join("routes.audit.jsonl")).unwrap_or_default();
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The test routes with the copybooks copied into `dir/cb`, ACCTINQ's CUST-NAME in a COPY member.
fn own_copybooks(toml: &str, dir: &Path) -> String {
    let cb = dir.join("cb");
    std::fs::create_dir_all(&cb).unwrap();
    for f in ["COMMHDR.cpy", "ACCTINQ.cpy", "TXNHIST.cpy", "XFER.cpy"] {
        std::fs::copy(copybooks().join(f), cb.join(f)).unwrap();
    }
    let acctinq = std::fs::read_to_string(cb.join("ACCTINQ.cpy")).unwrap();
    let line = "           05  CUST-NAME               PIC X(30).\n";
    assert!(acctinq.contains(line));
    std::fs::write(cb.join("ACCTINQ.cpy"), acctinq.replace(line, "           COPY CUSTNAME.\n")).unwrap();
    std::fs::write(cb.join("CUSTNAME.cpy"), line).unwrap();
    toml.replace(
        &format!("copybooks   = \"{}\"", copybooks().display()),
        &format!("copybooks   = \"{}\"", cb.display()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_changes_to_distinct_ops_all_land_once_each() {
    let _serial = REJECTIONS.lock().await;
    const N: usize = 16;
    let sims = sims().await;
    let ops: Vec<String> = (0..N).map(|i| format!("OP{i:02}")).collect();
    let extra: String = ops.iter().map(|op| format!("\n[routes.{op}]\ntarget = \"legacy\"\n")).collect();
    let gw = Arc::new(Gateway::start(&routes_toml(&sim_upstreams(&sims), "legacy", "legacy", &extra)).await);
    let start = gw.generation();
    let barrier = Arc::new(tokio::sync::Barrier::new(N));
    let puts: Vec<_> = ops
        .iter()
        .map(|op| {
            let (gw, barrier, op) = (gw.clone(), barrier.clone(), op.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                call(&gw, "PUT", &format!("/routes/{op}"), None, Some(json!({ "enabled": false }))).await
            })
        })
        .collect();
    for put in puts {
        let (status, _, body) = put.await.unwrap();
        assert_eq!(status, 200, "{body}");
    }
    let table = gw.table();
    let file: toml::Value = toml::from_str(&std::fs::read_to_string(&gw.config).unwrap()).unwrap();
    for op in &ops {
        assert!(!table.routes[op].enabled, "{op} is disabled in the running table");
        assert_eq!(file["routes"][op]["enabled"].as_bool(), Some(false), "{op} is disabled in routes.toml");
    }
    assert_eq!(table.generation, start + N as u64, "one generation per change");
    let entries = audit(&gw);
    let generations: HashSet<u64> = entries.iter().map(|e| e["generation"].as_u64().unwrap()).collect();
    assert_eq!((entries.len(), generations.len()), (N, N), "one audit entry per change, each its own generation");
    for op in &ops {
        let n =
            entries.iter().flat_map(|e| e["changes"].as_array().unwrap()).filter(|c| c["op"] == op.as_str()).count();
        assert_eq!(n, 1, "{op} is audited exactly once");
    }
    sims.stop();
}

#[tokio::test]
async fn a_stale_if_match_is_refused_with_412_and_changes_nothing() {
    let _serial = REJECTIONS.lock().await;
    let sims = sims().await;
    let gw = Gateway::start(&routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "")).await;
    let (status, _, routes) = call(&gw, "GET", "/routes", None, None).await;
    assert_eq!(status, 200);
    let read = format!("\"{}\"", routes["hash"].as_str().unwrap());

    // The hash that was read applies once; after that change it is stale.
    let (status, headers, body) =
        call(&gw, "PUT", "/routes/ACCTINQ", Some(&read), Some(json!({ "target": "accounts" }))).await;
    assert_eq!(status, 200, "{body}");
    let (file, generation, entries) = (std::fs::read_to_string(&gw.config).unwrap(), gw.generation(), audit(&gw).len());
    let (status, _, stale) =
        call(&gw, "PUT", "/routes/ACCTINQ", Some(&read), Some(json!({ "target": "legacy" }))).await;
    assert_eq!(status, 412, "{stale}");
    assert_eq!(call(&gw, "POST", "/reload", Some(&read), None).await.0, 412);
    assert_eq!(gw.generation(), generation);
    assert_eq!(gw.table().routes["ACCTINQ"].target.name, "accounts");
    assert_eq!(std::fs::read_to_string(&gw.config).unwrap(), file);
    assert_eq!(audit(&gw).len(), entries, "a refused change is not audited");

    // ETag carries the table hash, and the 412 names the current one.
    let current = format!("\"{}\"", gw.table().hash);
    assert_eq!(stale["hash"], gw.table().hash);
    assert_eq!(headers.get("etag"), Some(&current), "a change answers with the new ETag");
    let (_, headers, route) = call(&gw, "GET", "/routes/ACCTINQ", None, None).await;
    assert_eq!((headers.get("etag"), &route["hash"]), (Some(&current), &json!(gw.table().hash)));
    let (_, headers, _) = call(&gw, "GET", "/routes", None, None).await;
    assert_eq!(headers.get("etag"), Some(&current));
    assert_eq!(call(&gw, "POST", "/reload", Some(&current), None).await.0, 200);
    // If-Match compares strongly: a weak tag of the current hash does not match.
    let weak = format!("W/{current}");
    assert_eq!(call(&gw, "PUT", "/routes/ACCTINQ", Some(&weak), Some(json!({ "target": "legacy" }))).await.0, 412);
    sims.stop();
}

#[tokio::test]
async fn a_rollback_runs_even_when_routes_toml_cannot_be_written() {
    let _serial = REJECTIONS.lock().await;
    let sims = sims().await;
    let gw = Gateway::start_unwatched(&routes_toml(&sim_upstreams(&sims), "accounts", "legacy", "")).await;
    // The volume routes.toml came from is gone (a ConfigMap unmounted, a directory removed):
    // nothing can be read or written there.
    std::fs::remove_dir_all(gw.dir.path()).unwrap();
    let (status, _, body) = call(&gw, "PUT", "/routes/ACCTINQ", None, Some(json!({ "target": "legacy" }))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["not_persisted"], true, "{body}");
    assert!(body["message"].as_str().unwrap().starts_with("NOT PERSISTED"), "{body}");
    assert_eq!(gw.table().routes["ACCTINQ"].target.name, "legacy", "the rollback runs");
    let m = gw.request("ACCTINQ", acct(1));
    assert_eq!(gw.post(&m).await.0, 200);
    sims.stop();
}

#[tokio::test]
async fn only_applied_changes_are_audited() {
    let _serial = REJECTIONS.lock().await;
    let sims = sims().await;
    let gw = Gateway::start(&routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "")).await;
    // No-op change, no-op reload, invalid change, bad key: no generation, no entry.
    let (status, _, noop) = call(&gw, "PUT", "/routes/ACCTINQ", None, Some(json!({ "target": "legacy" }))).await;
    assert_eq!((status, &noop["generation"]), (200, &json!(1)), "{noop}");
    let (status, _, body) = call(&gw, "POST", "/reload", None, None).await;
    assert_eq!((status, &body["generation"]), (200, &json!(1)), "{body}");
    assert_eq!(call(&gw, "PUT", "/routes/ACCTINQ", None, Some(json!({ "target": "nobody" }))).await.0, 422);
    assert_eq!(call(&gw, "PUT", "/routes/ACCTINQ", None, Some(json!({ "targt": "legacy" }))).await.0, 400);
    assert_eq!(gw.generation(), 1);
    assert!(audit(&gw).is_empty(), "{:?}", audit(&gw));
    assert!(gw.running.reloader.status().last_error.is_none(), "a refused change is not a rejected file");
    assert_eq!(noop["unchanged"], true, "the reply says nothing changed: {noop}");
    let outcome = gw.put_route("ACCTINQ", json!({ "target": "accounts" })).await;
    let entries = audit(&gw);
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0]["generation"].clone(), entries[0]["hash"].clone()),
        (outcome["generation"].clone(), outcome["hash"].clone())
    );
    sims.stop();
}

#[tokio::test]
async fn a_changed_copybook_or_copy_member_is_reloaded_without_reparsing_the_rest() {
    let _serial = REJECTIONS.lock().await;
    let sims = sims().await;
    let dir = tempfile::tempdir().unwrap();
    let toml = own_copybooks(&routes_toml(&sim_upstreams(&sims), "accounts", "legacy", ""), dir.path());
    let gw = Gateway::start_unwatched(&toml).await;
    let reloader = gw.running.reloader.clone();
    let (status, reply) = gw.post(&gw.request("ACCTINQ", acct(1))).await;
    assert_eq!((status, reply.len()), (200, 85 + 75));

    // Nothing changed: nothing parsed, no generation. A routes-only change parses nothing either.
    let parses = reloader.copybook_parses();
    let (status, _, body) = call(&gw, "POST", "/reload", None, None).await;
    assert_eq!((status, &body["generation"]), (200, &json!(1)), "{body}");
    gw.put_route("XFER", json!({ "enabled": false })).await;
    assert_eq!(reloader.copybook_parses(), parses, "unchanged copybooks are not parsed again");
    let (generation, hash) = (gw.generation(), gw.table().hash.clone());

    // A COPY member grows: a new table, a new hash, the new layout — and only ACCTINQ.cpy parsed.
    std::fs::write(dir.path().join("cb/CUSTNAME.cpy"), "           05  CUST-NAME               PIC X(60).\n").unwrap();
    let (status, _, body) = call(&gw, "POST", "/reload", None, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["generation"], generation + 1, "{body}");
    assert_ne!(body["hash"], hash.as_str());
    assert_eq!(body["copybooks"], json!(["ACCTINQ.cpy"]), "{body}");
    assert_eq!(reloader.copybook_parses(), parses + 1);
    let (status, reply) = gw.post(&gw.request("ACCTINQ", acct(1))).await;
    assert_eq!((status, reply.len()), (200, 85 + 105), "the reply is encoded with the new layout");
    assert_eq!(audit(&gw).last().unwrap()["copybooks"], json!(["ACCTINQ.cpy"]));
    sims.stop();
}

#[tokio::test]
async fn the_watcher_sees_a_copybook_change() {
    let _serial = REJECTIONS.lock().await;
    let sims = sims().await;
    let dir = tempfile::tempdir().unwrap();
    let toml = own_copybooks(&routes_toml(&sim_upstreams(&sims), "accounts", "legacy", ""), dir.path());
    let gw = Gateway::start(&toml).await;
    // An editor's save of a COPY member, in a directory other than routes.toml's.
    let tmp = dir.path().join("cb/.CUSTNAME.cpy.swp");
    std::fs::write(&tmp, "           05  CUST-NAME               PIC X(60).\n").unwrap();
    std::fs::rename(&tmp, dir.path().join("cb/CUSTNAME.cpy")).unwrap();
    for _ in 0..100 {
        if gw.generation() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(gw.generation(), 2, "the watcher reloads within 2 s");
    let (status, reply) = gw.post(&gw.request("ACCTINQ", acct(1))).await;
    assert_eq!((status, reply.len()), (200, 85 + 105));
    sims.stop();
}

#[tokio::test]
async fn rollback_works_with_a_typo_on_disk_and_keeps_the_typo_beside() {
    let _serial = REJECTIONS.lock().await;
    let sims = sims().await;
    let gw = Gateway::start_unwatched(&routes_toml(&sim_upstreams(&sims), "accounts", "legacy", "")).await;
    let typo = std::fs::read_to_string(&gw.config).unwrap().replace("[routes.XFER]", "[routes.XFER");
    std::fs::write(&gw.config, &typo).unwrap();
    assert_eq!(call(&gw, "POST", "/reload", None, None).await.0, 422);

    // What `ficus route ACCTINQ --rollback` does, through the real CLI (GET, then PUT If-Match).
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_ficus"))
        .args(["route", "ACCTINQ", "--rollback", "--admin", &format!("http://{}", gw.admin())])
        .env("FICUS_ADMIN_TOKEN", ADMIN_TOKEN)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let aside = gw.dir.path().join("routes.toml.rejected");
    assert!(stdout.contains("ACCTINQ: new (target accounts)  →  legacy"), "{stdout}");
    assert!(stdout.contains(&aside.display().to_string()), "the CLI says where the typo went: {stdout}");
    assert_eq!(gw.table().routes["ACCTINQ"].target.name, "legacy", "rolled back");
    assert_eq!(gw.generation(), 2);
    assert_eq!(std::fs::read_to_string(&aside).unwrap(), typo, "the person's edit is kept");
    let now = std::fs::read_to_string(&gw.config).unwrap();
    assert_eq!(now, gw.table().source.text, "routes.toml holds the running table");
    assert!(ficus::config::load(&gw.config, None, 1).is_ok());
    assert!(gw.running.reloader.status().last_error.is_none(), "the disk holds what runs again");
    sims.stop();
}

#[tokio::test]
async fn a_change_applies_to_the_running_copybooks_when_one_on_disk_is_broken() {
    let _serial = REJECTIONS.lock().await;
    let sims = sims().await;
    let dir = tempfile::tempdir().unwrap();
    let toml = own_copybooks(&routes_toml(&sim_upstreams(&sims), "accounts", "legacy", ""), dir.path());
    let gw = Gateway::start_unwatched(&toml).await;
    std::fs::write(dir.path().join("cb/CUSTNAME.cpy"), "           05  CUST-NAME  PIC X(.\n").unwrap();
    let (status, _, body) = call(&gw, "PUT", "/routes/ACCTINQ", None, Some(json!({ "target": "legacy" }))).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["message"].as_str().unwrap().contains("copybooks on disk"), "{body}");
    assert_eq!(gw.table().routes["ACCTINQ"].target.name, "legacy");
    assert_eq!(gw.table().routes["ACCTINQ"].response.as_ref().unwrap().max_size(), 75, "the running layout stays");
    assert!(gw.running.reloader.status().last_error.is_some(), "the broken copybook is still on disk");
    sims.stop();
}

#[tokio::test]
async fn a_valid_edit_on_disk_is_taken_in_before_an_admin_change() {
    let _serial = REJECTIONS.lock().await;
    let sims = sims().await;
    let gw = Gateway::start_unwatched(&routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "")).await;
    let edited = std::fs::read_to_string(&gw.config).unwrap().replace(
        "target   = \"legacy\"\nread_only = true\n\n[routes.XFER]",
        "target   = \"accounts\"\nread_only = true\n\n[routes.XFER]",
    );
    std::fs::write(&gw.config, &edited).unwrap();
    let etag = format!("\"{}\"", gw.table().hash);
    let (status, _, body) = call(&gw, "PUT", "/routes/ACCTINQ", Some(&etag), Some(json!({ "enabled": false }))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["generation"], 3, "the edit on disk is generation 2, the change 3: {body}");
    assert!(body["message"].as_str().unwrap().contains("reloaded first"), "{body}");
    let table = gw.table();
    assert_eq!((table.routes["TXNHIST"].target.name.as_str(), table.routes["ACCTINQ"].enabled), ("accounts", false));
    let file = std::fs::read_to_string(&gw.config).unwrap();
    assert!(file.contains("enabled = false") && file.contains("target   = \"accounts\""), "{file}");
    let sources: Vec<_> = audit(&gw).iter().map(|e| (e["generation"].as_u64().unwrap(), e["source"].clone())).collect();
    assert_eq!(sources, [(2, json!("file")), (3, json!("api"))]);

    // An edit on disk to the very route being changed makes the caller's If-Match stale.
    let etag = format!("\"{}\"", gw.table().hash);
    std::fs::write(&gw.config, file.replace("enabled = false", "enabled = true")).unwrap();
    let (status, _, body) =
        call(&gw, "PUT", "/routes/ACCTINQ", Some(&etag), Some(json!({ "target": "accounts" }))).await;
    assert_eq!(status, 412, "{body}");
    assert!(gw.table().routes["ACCTINQ"].enabled, "the edit on disk was taken in");
    assert_eq!(gw.table().routes["ACCTINQ"].target.name, "legacy", "the stale change was not");
    sims.stop();
}

#[tokio::test]
async fn a_fixed_file_clears_the_rejection_even_when_nothing_changed() {
    let _serial = REJECTIONS.lock().await;
    let sims = sims().await;
    let gw = Gateway::start_unwatched(&routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "")).await;
    let good = std::fs::read_to_string(&gw.config).unwrap();
    std::fs::write(&gw.config, good.replace("target   = \"legacy\"", "target   = \"nobody\"")).unwrap();
    assert_eq!(call(&gw, "POST", "/reload", None, None).await.0, 422);
    let (_, _, routes) = call(&gw, "GET", "/routes", None, None).await;
    assert!(routes["reload"]["last_error"].is_string(), "{routes}");
    assert_eq!(scrape_gauge(&gw).await, Some(1.0));

    std::fs::write(&gw.config, &good).unwrap();
    let (status, _, body) = call(&gw, "POST", "/reload", None, None).await;
    assert_eq!((status, &body["generation"]), (200, &json!(1)), "identical to the running table: {body}");
    let (_, _, routes) = call(&gw, "GET", "/routes", None, None).await;
    assert!(routes["reload"]["last_error"].is_null(), "{routes}");
    assert_eq!(scrape_gauge(&gw).await, Some(0.0));
    sims.stop();
}

/// `ficus_reload_last_rejected` from the gateway's /metrics.
async fn scrape_gauge(gw: &Gateway) -> Option<f64> {
    let mut conn = tokio::net::TcpStream::connect(gw.admin()).await.unwrap();
    conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).await.unwrap();
    let (_, body) = parse_response(&raw);
    String::from_utf8_lossy(&body)
        .lines()
        .find_map(|l| l.strip_prefix("ficus_reload_last_rejected "))
        .and_then(|v| v.trim().parse().ok())
}

#[tokio::test]
async fn a_change_that_could_not_be_written_is_not_undone_by_the_next_one() {
    let _serial = REJECTIONS.lock().await;
    let sims = sims().await;
    let gw = Gateway::start_unwatched(&routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "")).await;
    // routes.toml lives on another file system (a mounted ConfigMap): the atomic rename of a
    // new version over it fails, while reading it works.
    let elsewhere = Path::new("/dev/shm").join(format!("ficus-routes-{}.toml", std::process::id()));
    // The test needs another file system there (Linux's tmpfs at /dev/shm, the temp dir on disk).
    use std::os::unix::fs::MetadataExt;
    let dev = |p: &Path| std::fs::metadata(p).map(|m| m.dev()).ok();
    assert_ne!(dev(Path::new("/dev/shm")), dev(gw.dir.path()), "/dev/shm must be another file system here");
    std::fs::copy(&gw.config, &elsewhere).unwrap();
    std::fs::remove_file(&gw.config).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &gw.config).unwrap();
    let (status, _, body) = call(&gw, "PUT", "/routes/ACCTINQ", None, Some(json!({ "enabled": false }))).await;
    assert_eq!((status, &body["not_persisted"]), (200, &json!(true)), "{body}");
    assert!(!gw.table().routes["ACCTINQ"].enabled, "the kill switch runs");
    // An unrelated change next: the file on disk is behind what runs, not an edit to take in.
    let (status, _, body) = call(&gw, "PUT", "/routes/TXNHIST", None, Some(json!({ "target": "accounts" }))).await;
    assert_eq!(status, 200, "{body}");
    assert!(!gw.table().routes["ACCTINQ"].enabled, "the kill switch is not undone: {body}");
    assert_eq!(gw.table().routes["TXNHIST"].target.name, "accounts");
    let _ = std::fs::remove_file(&elsewhere);
    sims.stop();
}
