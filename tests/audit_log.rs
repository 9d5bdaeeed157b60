//! Where the audit log goes and what happens when it cannot be written: `[gateway] audit_log`
//! puts it on a writable volume (routes.toml in a read-only ConfigMap), a change whose entry
//! cannot be written is applied and said to be NOT audited — in the reply, by the CLI, in
//! `/status` and a counter — never reported as audited, and an `audit_log` named in routes.toml
//! that cannot be written refuses the start.

mod common;

use common::*;
use serde_json::{json, Value};

fn entries(path: &std::path::Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// `ficus route OP --target T` against `gw` through the real CLI: (success, stdout).
async fn route_cli(gw: &Gateway, op: &str, target: &str) -> (bool, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_ficus"))
        .args(["route", op, "--target", target, "--admin", &format!("http://{}", gw.admin())])
        .env("FICUS_ADMIN_TOKEN", ADMIN_TOKEN)
        .env_remove("FICUS_CONFIG")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.success(), format!("{stdout}{}", String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_goes_where_audit_log_says_and_follows_a_reload() {
    let sims = sims().await;
    // A volume apart from routes.toml's directory (an absolute path, as in Kubernetes).
    let staged = tempfile::tempdir().unwrap();
    std::fs::create_dir(staged.path().join("state")).unwrap();
    let at = staged.path().join("state/changes.jsonl");
    let toml = routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "")
        .replace("codepage    =", &format!("audit_log   = {:?}\ncodepage    =", at.to_str().unwrap()));
    let gw = Gateway::start_unwatched(&toml).await;
    let log = staged.path().join("state/changes.jsonl");
    gw.put_route("ACCTINQ", json!({ "target": "accounts" })).await;
    assert_eq!(entries(&log).len(), 1, "the change is audited at audit_log");
    assert!(!gw.dir.path().join("routes.audit.jsonl").exists(), "nothing beside routes.toml");
    let (_, audit) = gw.admin_call("GET", "/audit", None, None).await;
    assert_eq!(audit["entries"].as_array().map(Vec::len), Some(1), "GET /audit reads the same log: {audit}");

    // A reload that moves audit_log: its own entry, and every later one, go to the new place.
    let moved = staged.path().join("state/moved.jsonl");
    let text = std::fs::read_to_string(&gw.config).unwrap().replace("changes.jsonl", "moved.jsonl");
    std::fs::write(&gw.config, text).unwrap();
    let (code, body) = gw.admin_call("POST", "/reload", Some(ADMIN_TOKEN), None).await;
    assert_eq!(code, 200, "{body}");
    gw.put_route("TXNHIST", json!({ "target": "accounts" })).await;
    assert_eq!((entries(&log).len(), entries(&moved).len()), (1, 2), "the reload and the change at the new path");
    sims.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_cannot_be_audited_is_applied_and_said_not_audited() {
    let sims = sims().await;
    let gw = Gateway::start_unwatched(&routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "")).await;
    // A directory where the log should be: no file can be opened there, even by root.
    let log = gw.dir.path().join("routes.audit.jsonl");
    std::fs::remove_file(&log).expect("the start made sure it can be written");
    std::fs::create_dir(&log).unwrap();

    let (ok, out) = route_cli(&gw, "ACCTINQ", "accounts").await;
    assert!(ok, "{out}");
    assert!(out.contains("NOT audited") && out.contains("routes.audit.jsonl"), "the CLI says so: {out}");
    assert!(!out.contains("and audited"), "{out}");
    assert_eq!(gw.table().routes["ACCTINQ"].target.name, "accounts", "the change runs");
    let (_, status) = gw.admin_call("GET", "/status", None, None).await;
    let why = status["reload"]["audit_error"].as_str().unwrap_or_else(|| panic!("/status shows it: {status}"));
    assert!(why.contains("routes.audit.jsonl"), "{why}");
    let (code, reply) =
        gw.admin_call("PUT", "/routes/TXNHIST", Some(ADMIN_TOKEN), Some(json!({ "target": "accounts" }))).await;
    assert_eq!(code, 200, "{reply}");
    assert!(reply["audit_error"].as_str().is_some_and(|e| e.contains("routes.audit.jsonl")), "{reply}");
    let (_, metrics) = get_text(&gw, "/metrics").await;
    let failures = metrics.lines().find(|l| l.starts_with("ficus_audit_failures_total")).unwrap_or("");
    assert!(failures.ends_with(" 2"), "two failures counted: {failures:?}");

    // The volume comes back: the next change is audited and the status clears.
    std::fs::remove_dir(&log).unwrap();
    let (ok, out) = route_cli(&gw, "ACCTINQ", "legacy").await;
    assert!(ok && out.contains("and audited"), "{out}");
    assert_eq!(entries(&log).len(), 1);
    let (_, status) = gw.admin_call("GET", "/status", None, None).await;
    assert!(status["reload"].get("audit_error").is_none(), "{status}");
    sims.stop();
}

/// GET `path` on the admin port as text.
async fn get_text(gw: &Gateway, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut c = tokio::net::TcpStream::connect(gw.admin()).await.unwrap();
    c.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    c.read_to_end(&mut raw).await.unwrap();
    let (code, body) = parse_response(&raw);
    (code, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn an_audit_log_named_in_routes_toml_that_cannot_be_written_refuses_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let up = Upstreams { legacy: "127.0.0.1:9".into(), accounts: "http://127.0.0.1:9/ops".into() };
    // Under a file, not a directory: no one can create it.
    let toml = routes_toml(&up, "legacy", "legacy", "")
        .replace("codepage    =", "audit_log   = \"tokens/audit.jsonl\"\ncodepage    =");
    let config = dir.path().join("routes.toml");
    std::fs::write(&config, toml).unwrap();
    std::fs::write(dir.path().join("tokens"), format!("{ADMIN_NAME}:{ADMIN_TOKEN}\n")).unwrap();
    // `ficus check` may run elsewhere (CI, a laptop): it says where the log goes and that serve
    // checks it, and creates nothing.
    let (code, out, err) = ficus_cli(&["check", "--config", config.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("audit log") && out.contains("tokens/audit.jsonl") && out.contains("not on this machine"),
        "{out}"
    );
    let started = ficus::server::start(&config, Default::default()).await;
    let why = started.err().expect("the start is refused");
    assert!(why.to_string().contains("audit_log"), "{why}");

    // Not a regular file: a device never ends when its tail is read, a pipe blocks the open.
    for (name, make) in [("a directory", "dir"), ("a named pipe", "fifo")] {
        let at = dir.path().join(make);
        let ok = match make {
            "dir" => std::fs::create_dir(&at).is_ok(),
            _ => std::process::Command::new("mkfifo").arg(&at).status().unwrap().success(),
        };
        assert!(ok, "{name}");
        let toml = std::fs::read_to_string(&config).unwrap().replace("tokens/audit.jsonl", make);
        std::fs::write(&config, toml).unwrap();
        let started =
            tokio::time::timeout(std::time::Duration::from_secs(10), ficus::server::start(&config, Default::default()))
                .await
                .unwrap_or_else(|_| panic!("{name}: the start hangs"));
        let why = started.err().unwrap_or_else(|| panic!("{name}: the start is refused"));
        assert!(why.to_string().contains("not a regular file"), "{name}: {why}");
        let toml = std::fs::read_to_string(&config).unwrap().replace(make, "tokens/audit.jsonl");
        std::fs::write(&config, toml).unwrap();
    }
}

#[test]
fn an_entry_a_full_disk_cut_short_never_swallows_the_next() {
    use ficus::control::audit::{AuditEntry, AuditLog};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("routes.audit.jsonl");
    let entry = |generation: u64| {
        AuditEntry::now("ops".into(), "api", generation, &format!("h{generation}"), &Default::default())
    };
    let log = AuditLog::at(path.clone());
    log.append(&entry(1)).unwrap();
    // What a write that hit a full disk leaves: half a line.
    let mut text = std::fs::read(&path).unwrap();
    let half = serde_json::to_vec(&entry(2)).unwrap();
    text.extend_from_slice(&half[..half.len() / 2]);
    std::fs::write(&path, &text).unwrap();
    log.append(&entry(3)).unwrap();
    assert!(log.append_unless_recorded(&entry(4)).unwrap(), "the cut line is not the newest entry");
    assert!(!log.append_unless_recorded(&entry(4)).unwrap(), "recorded once");
    let generations: Vec<u64> = log.recent(10).iter().map(|e| e.generation).collect();
    assert_eq!(generations, [1, 3, 4], "every whole entry reads; the cut one is skipped");
}

/// The kind behind a flaky deployment test: a new table must never serve before its audit entry
/// is written, or whoever reads the generation (`GET /routes`, a reply's `Ficus-Generation`)
/// and then the audit log finds no entry for it. A thread reads the serving generation and then
/// the log, as fast as it can, while changes are applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generation_serving_is_always_in_the_audit_log_already() {
    let sims = sims().await;
    let gw = Gateway::start_unwatched(&routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "")).await;
    let first = gw.generation();
    let log = gw.dir.path().join("routes.audit.jsonl");
    let gateway = gw.running.gateway.clone();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = done.clone();
    let (started, running) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let (mut checks, mut seen_new) = (0u64, 0u64);
        let _ = started.send(());
        // One check after the last change too, however late this thread ran.
        loop {
            let last = stop.load(std::sync::atomic::Ordering::Relaxed);
            let serving = gateway.table().generation;
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            // Whole lines only: the writer may be mid-line.
            let newest = text
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok()?["generation"].as_u64())
                .max()
                .unwrap_or(first);
            assert!(newest >= serving, "generation {serving} serving, the audit log's newest is {newest}");
            checks += 1;
            seen_new += u64::from(serving > first);
            if last {
                return (checks, seen_new);
            }
        }
    });
    running.recv().unwrap();
    for i in 0..40 {
        let target = if i % 2 == 0 { "accounts" } else { "legacy" };
        gw.put_route("ACCTINQ", json!({ "target": target })).await;
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let (checks, seen_new) = reader.join().expect("every generation seen was audited");
    assert_eq!(gw.generation(), first + 40);
    assert!(checks > 1 && seen_new > 0, "the reader ran beside the changes: {checks} checks");
    sims.stop();
}
