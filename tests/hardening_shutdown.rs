//! Graceful shutdown and restart on real sockets: stop drains messages in flight within
//! `[limits] drain_timeout_ms`; `ficus serve` does the same on SIGTERM and exits 0; a second
//! gateway asked to take over (`--takeover`: it shares the ports with `SO_REUSEPORT`) does so
//! while the first drains, refusing nothing; and one not asked to is refused, naming the port.

mod common;

use common::faults::*;
use common::*;
use ficus::frame::Framing;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn config(host: &Host, limits: &str) -> String {
    let up = Upstreams { legacy: host.addr.to_string(), accounts: "http://127.0.0.1:9/ops".into() };
    routes_toml(&up, "legacy", "legacy", &format!("\n[limits]\n{limits}\n"))
}

/// A POST that reports failure instead of panicking: (status, body) or the error.
async fn try_post(addr: SocketAddr, message: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let mut conn = TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
    let head = format!("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", message.len());
    conn.write_all(head.as_bytes()).await.map_err(|e| format!("write: {e}"))?;
    conn.write_all(message).await.map_err(|e| format!("write: {e}"))?;
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut raw))
        .await
        .map_err(|_| "no reply".to_string())?
        .map_err(|e| format!("read: {e}"))?;
    if raw.is_empty() {
        return Err("closed without a reply".into());
    }
    Ok(parse_response(&raw))
}

async fn try_tcp(addr: SocketAddr, message: &[u8]) -> Result<Vec<u8>, String> {
    let framing = Framing::prefix(4);
    let mut conn = TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
    framing.write(&mut conn, message).await.map_err(|e| format!("write: {e}"))?;
    framing.read(&mut conn, 1 << 20).await.map_err(|e| format!("read: {e}"))?.ok_or_else(|| "closed".to_string())
}

/// `toml` with its three listeners on free named ports (ports are shared only when named).
fn on_named_ports(toml: &str) -> String {
    let free = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    toml.replace("listen_http = \"127.0.0.1:0\"", &format!("listen_http = \"{}\"", free()))
        .replace("listen_tcp  = \"127.0.0.1:0\"", &format!("listen_tcp  = \"{}\"", free()))
        .replace("admin       = \"127.0.0.1:0\"", &format!("admin       = \"{}\"", free()))
}

/// Starts a second gateway on `toml` (written to its own directory), taking over or not.
async fn start_second(toml: &str, takeover: bool) -> Result<Gateway, String> {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("routes.toml");
    std::fs::write(&config, toml).unwrap();
    std::fs::write(dir.path().join("tokens"), format!("{ADMIN_NAME}:{ADMIN_TOKEN}\n")).unwrap();
    let options = ficus::server::Options { watch: false, sighup: false, takeover, ..Default::default() };
    let running = ficus::server::start(&config, options).await?;
    Ok(Gateway { dir, config, running })
}

/// Polls `cond` (bounded: 5 s).
async fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let started = Instant::now();
    while !cond() {
        assert!(started.elapsed() < Duration::from_secs(5), "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn stop_finishes_messages_in_flight_then_refuses_new_connections() {
    let host = Host::start(Act::SlowEcho(Duration::from_millis(300))).await;
    let gw = Gateway::start(&config(&host, "drain_timeout_ms = 3000")).await;
    let (http, tcp) = (gw.http(), gw.tcp());
    let m = gw.request("ACCTINQ", json!({ "ACCT-NO": "1000000000000001" }));
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..4 {
        let m = m.clone();
        calls.spawn(async move {
            if i % 2 == 0 {
                try_post(http, &m).await.map(|(s, b)| (s, b == m))
            } else {
                try_tcp(tcp, &m).await.map(|b| (200, b == m))
            }
        });
    }
    let admission = gw.running.admission.clone();
    wait_for("4 messages in flight", || admission.in_flight() == 4).await;
    let Gateway { running, dir: _dir, .. } = gw;
    let started = Instant::now();
    running.stop().await;
    let took = started.elapsed();
    let mut served = 0;
    while let Some(r) = calls.join_next().await {
        assert_eq!(r.unwrap(), Ok((200, true)), "a message in flight is finished, not dropped");
        served += 1;
    }
    assert_eq!(served, 4);
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(TcpStream::connect(http).await.is_err(), "stopped: no longer accepting");
    println!("SHUTDOWN drain: 4 in flight (HTTP+TCP) all served, stop took {took:?}");
}

#[tokio::test]
async fn the_drain_deadline_bounds_shutdown() {
    let host = Host::start(Act::Silent).await;
    let toml = config(&host, "drain_timeout_ms = 300").replacen(
        "timeout_ms = 1000\nconnect_timeout_ms",
        "timeout_ms = 10000\nconnect_timeout_ms",
        1,
    );
    let gw = Gateway::start(&toml).await;
    let m = gw.request("ACCTINQ", json!({ "ACCT-NO": "1000000000000001" }));
    let http = gw.http();
    let call = tokio::spawn(async move { try_post(http, &m).await });
    let admission = gw.running.admission.clone();
    wait_for("1 message in flight", || admission.in_flight() == 1).await;
    let Gateway { running, dir: _dir, .. } = gw;
    let started = Instant::now();
    running.stop().await;
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(290) && took < Duration::from_secs(1), "{took:?}");
    assert!(call.await.unwrap().is_err(), "past the deadline the connection is closed");
    println!("SHUTDOWN deadline: stuck message cut at the 300 ms drain deadline, stop took {took:?}");
}

#[tokio::test]
async fn a_second_gateway_on_the_same_ports_takes_over_without_refusing_anything() {
    // The production setting the README names for upgrades: without it the kernel resets a
    // connection that lands in the old listener's queue as it closes (a race no user-space
    // drain can close). Set it if we may (root), else fail saying so.
    const MIGRATE: &str = "/proc/sys/net/ipv4/tcp_migrate_req";
    if std::fs::read_to_string(MIGRATE).map(|v| v.trim() != "1").unwrap_or(true) {
        std::fs::write(MIGRATE, "1").unwrap_or_else(|e| {
            panic!("this test needs net.ipv4.tcp_migrate_req=1 (sysctl -w net.ipv4.tcp_migrate_req=1): {e}")
        });
    }
    let host = Host::start(Act::Echo).await;
    // Ports are shared only when named (as in production), so A names its ports too.
    let toml = on_named_ports(&config(&host, "drain_timeout_ms = 2000"));
    let a = Gateway::start(&toml).await;
    // The upgrade path: the new process on the same routes.toml, asked to take over.
    let b = start_second(&toml, true).await.expect("a takeover shares the ports");
    assert_eq!((b.http(), b.tcp()), (a.http(), a.tcp()), "B listens on A's ports");
    let m = a.request("ACCTINQ", json!({ "ACCT-NO": "1000000000000001" }));

    let (done, sent) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
    let (http, tcp) = (a.http(), a.tcp());
    let client = {
        let (done, sent, m) = (done.clone(), sent.clone(), m.clone());
        tokio::spawn(async move {
            let mut failures = Vec::new();
            while !done.load(Ordering::SeqCst) {
                let n = sent.fetch_add(1, Ordering::SeqCst);
                let result = if n % 2 == 0 {
                    try_post(http, &m)
                        .await
                        .and_then(|(s, b)| if s == 200 && b == m { Ok(()) } else { Err(format!("{s}")) })
                } else {
                    try_tcp(tcp, &m).await.and_then(|b| if b == m { Ok(()) } else { Err("wrong reply".into()) })
                };
                if let Err(e) = result {
                    failures.push(e);
                }
            }
            failures
        })
    };
    let s = sent.clone();
    wait_for("traffic before the upgrade", || s.load(Ordering::SeqCst) >= 100).await;
    let Gateway { running, dir: _dir_a, .. } = a;
    let stopping = Instant::now();
    running.stop().await;
    let drained = stopping.elapsed();
    let at_stop = sent.load(Ordering::SeqCst);
    let s = sent.clone();
    wait_for("traffic after the upgrade", || s.load(Ordering::SeqCst) >= at_stop + 200).await;
    done.store(true, Ordering::SeqCst);
    let failures = client.await.unwrap();
    let total = sent.load(Ordering::SeqCst);
    assert!(failures.is_empty(), "{} of {total} failed: {failures:?}", failures.len());
    println!("SHUTDOWN reuseport upgrade: {total} messages (HTTP+TCP, new connection each), A drained in {drained:?}, 0 failed");
}

#[tokio::test]
async fn a_second_gateway_not_asked_to_take_over_is_refused_and_the_first_keeps_serving() {
    let host = Host::start(Act::Echo).await;
    let toml = on_named_ports(&config(&host, ""));
    let a = Gateway::start(&toml).await;
    let m = a.request("ACCTINQ", json!({ "ACCT-NO": "1000000000000001" }));
    // The whole file (as `ficus demo` then `ficus serve` on one routes.toml), then each listener
    // alone: every one of them refuses a port in use, and says which and what to do.
    let own_port = |toml: &str, key: &str| {
        let line = toml.lines().find(|l| l.starts_with(key)).unwrap();
        toml.replace(line, &format!("{key} = \"127.0.0.1:0\""))
    };
    let only = |key: &str| {
        ["listen_http", "listen_tcp ", "admin      "]
            .iter()
            .filter(|k| **k != key)
            .fold(toml.clone(), |t, k| own_port(&t, k))
    };
    let cases = [
        ("admin", a.admin(), toml.clone()),
        ("listen_http", a.http(), only("listen_http")),
        ("listen_tcp", a.tcp(), only("listen_tcp ")),
        ("admin", a.admin(), only("admin      ")),
    ];
    for (listener, addr, second) in cases {
        let error = start_second(&second, false).await.err().expect("a port in use is refused without --takeover");
        for needed in ["address in use", &format!("port {}", addr.port()), &format!("({listener})"), "--takeover"] {
            assert!(error.contains(needed), "the error names {needed:?}: {error}");
        }
    }
    // Every connection still lands on A: B holds nothing (each one would be served by A anyway,
    // but a B that had started would take about half of them and fail the count).
    for _ in 0..20 {
        assert_eq!(try_post(a.http(), &m).await, Ok((200, m.clone())));
        assert_eq!(try_tcp(a.tcp(), &m).await, Ok(m.clone()));
    }
    assert_eq!(host.count(), 40, "every message went through A");
}

#[tokio::test]
async fn ficus_serve_refuses_a_port_in_use_and_takes_over_when_asked() {
    let host = Host::start(Act::Echo).await;
    let a = Gateway::start(&on_named_ports(&config(&host, ""))).await;
    let path = a.config.clone();
    let serve = |takeover: bool| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_ficus"));
        command.args(["serve", "--config"]).arg(&path);
        if takeover {
            command.arg("--takeover");
        }
        command.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).kill_on_drop(true);
        command.spawn().unwrap()
    };
    let refused = tokio::time::timeout(Duration::from_secs(10), serve(false).wait_with_output())
        .await
        .expect("ficus serve exits at once on a port in use")
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(stderr.contains("address in use") && stderr.contains("ficus serve --takeover"), "{stderr}");
    assert!(stderr.contains(&format!("port {}", a.admin().port())), "{stderr}");

    let mut b = serve(true);
    let mut lines = tokio::io::BufReader::new(b.stderr.take().unwrap()).lines();
    let listening = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("gateway listening") {
                return Some(line);
            }
        }
        None
    });
    let line = listening.await.expect("ficus serve --takeover starts").expect("ficus serve --takeover exited early");
    assert!(line.contains(&a.http().to_string()), "B listens on A's port: {line}");
    let pid = b.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = tokio::time::timeout(Duration::from_secs(10), b.wait()).await.expect("exits").unwrap();
    assert!(status.success(), "{status:?}");
    let m = a.request("ACCTINQ", json!({ "ACCT-NO": "1000000000000001" }));
    assert_eq!(try_post(a.http(), &m).await, Ok((200, m.clone())), "A still serves");
}

#[tokio::test]
async fn sigterm_drains_and_exits_zero() {
    let host = Host::start(Act::SlowEcho(Duration::from_millis(400))).await;
    let (http, tcp, admin) = (free_address().await, free_address().await, free_address().await);
    let toml = config(&host, "drain_timeout_ms = 3000")
        .replace("listen_http = \"127.0.0.1:0\"", &format!("listen_http = \"{http}\""))
        .replace("listen_tcp  = \"127.0.0.1:0\"", &format!("listen_tcp  = \"{tcp}\""))
        .replace("admin       = \"127.0.0.1:0\"", &format!("admin       = \"{admin}\""));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("routes.toml");
    std::fs::write(&path, &toml).unwrap();
    std::fs::write(dir.path().join("tokens"), format!("{ADMIN_NAME}:{ADMIN_TOKEN}\n")).unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ficus"))
        .args(["serve", "--config"])
        .arg(&path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let started = Instant::now();
    while TcpStream::connect(http).await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(10), "ficus serve did not start listening");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let table = ficus::config::load(&path, None, 1).unwrap();
    let m = ficus::cli::build_request(&table, "ACCTINQ", &json!({ "ACCT-NO": "1" }), &serde_json::Value::Null).unwrap();
    let call = {
        let m = m.clone();
        tokio::spawn(async move { try_post(http, &m).await.map(|(s, b)| (s, b == m)) })
    };
    wait_for("the message to reach the host", || host.count() == 1).await;
    let pid = child.id().unwrap().to_string();
    let term = Instant::now();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait()).await.expect("exits").unwrap();
    let took = term.elapsed();
    assert!(status.success(), "{status:?}");
    assert_eq!(call.await.unwrap(), Ok((200, true)), "the message in flight was answered");
    assert!(TcpStream::connect(http).await.is_err());
    println!("SHUTDOWN SIGTERM: in-flight message answered, exit {status}, {took:?} after the signal");
}
