//! Flip storm: clients keep sending over HTTP and TCP while ACCTINQ and TXNHIST are flipped
//! between the host and the new service more than 100 times — through the admin API, file
//! edits and SIGHUP. Every message must get a correct reply; none may fail.
//!
//! Its own test binary: it sends SIGHUP to this process (after the handler is installed).

mod common;

use common::*;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const CLIENTS: usize = 6;
const MESSAGES_PER_CLIENT: usize = 150;
const FLIPS: usize = 120;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flips_under_traffic_lose_nothing() {
    let sims = sims().await;
    let toml = routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("routes.toml");
    std::fs::write(&config, &toml).unwrap();
    std::fs::write(dir.path().join("tokens"), format!("{ADMIN_NAME}:{ADMIN_TOKEN}\n")).unwrap();
    let running = ficus::server::start(
        &config,
        ficus::server::Options { watch: true, sighup: true, takeover: false, ..Default::default() },
    )
    .await
    .unwrap();
    let gw = Arc::new(Gateway { dir, config, running });

    let done = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let (gw, served) = (gw.clone(), served.clone());
        clients.push(tokio::spawn(async move {
            let over_tcp = c % 2 == 0;
            let mut conn = if over_tcp { Some(tokio::net::TcpStream::connect(gw.tcp()).await.unwrap()) } else { None };
            let framing = ficus::frame::Framing::prefix(4);
            for i in 0..MESSAGES_PER_CLIENT {
                let n = 1 + ((c + i) % 10) as u64;
                let acct = format!("{}", 1_000_000_000_000_000u64 + n);
                let (op, body) = if i % 2 == 0 {
                    ("ACCTINQ", json!({ "ACCT-NO": acct }))
                } else {
                    ("TXNHIST", json!({ "ACCT-NO": acct, "FROM-DATE": 20260101, "TO-DATE": 20261231, "MAX-ROWS": 3 }))
                };
                let request = gw.request(op, body);
                let reply = match conn.as_mut() {
                    Some(conn) => {
                        framing.write(conn, &request).await.unwrap();
                        framing.read(conn, 1 << 20).await.unwrap().expect("gateway closed the connection")
                    }
                    None => {
                        let (status, reply) = gw.post(&request).await;
                        assert_eq!(status, 200, "client {c} message {i}");
                        reply
                    }
                };
                let decoded = gw.decode(op, &reply);
                assert_eq!(decoded["header"]["HDR-RESP-CODE"], "0000", "client {c} message {i}: {decoded}");
                assert_eq!(decoded["response"]["ACCT-NO"], acct, "client {c} message {i}");
                if op == "TXNHIST" {
                    assert_eq!(decoded["response"]["ROW-COUNT"].to_string(), "3");
                }
                served.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }

    let flipper = {
        let (gw, done) = (gw.clone(), done.clone());
        tokio::spawn(async move {
            let mut flips = 0;
            let mut target = "accounts";
            while flips < FLIPS {
                match flips % 3 {
                    0 => {
                        gw.put_route("ACCTINQ", json!({ "target": target })).await;
                    }
                    1 => {
                        let text = std::fs::read_to_string(&gw.config).unwrap();
                        let other = if target == "accounts" { "legacy" } else { "accounts" };
                        let text = text.replace(&format!("[routes.TXNHIST]\nrequest  = \"TXNHIST.cpy#TXNHIST-REQ\"\nresponse = \"TXNHIST.cpy#TXNHIST-RESP\"\ntarget   = \"{other}\""),
                            &format!("[routes.TXNHIST]\nrequest  = \"TXNHIST.cpy#TXNHIST-REQ\"\nresponse = \"TXNHIST.cpy#TXNHIST-RESP\"\ntarget   = \"{target}\""));
                        ficus::config::edit::write_atomically(&gw.config, &text).unwrap();
                        let _ = gw.running.reloader.reload(ficus::control::reload::Trigger::File);
                    }
                    _ => {
                        let text = std::fs::read_to_string(&gw.config).unwrap();
                        let text = ficus::config::edit::patch_route(
                            &text,
                            "TXNHIST",
                            json!({ "read_only": flips % 2 == 0 }).as_object().unwrap(),
                        )
                        .unwrap();
                        ficus::config::edit::write_atomically(&gw.config, &text).unwrap();
                        // SAFETY of the signal: the handler was installed by server::start.
                        unsafe { libc_kill_self_hup() };
                    }
                }
                flips += 1;
                target = if target == "accounts" { "legacy" } else { "accounts" };
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            done.store(true, Ordering::SeqCst);
            flips
        })
    };

    for c in clients {
        c.await.expect("a client saw a failed message");
    }
    let flips = flipper.await.unwrap();
    assert!(done.load(Ordering::SeqCst));
    assert_eq!(flips, FLIPS);
    assert_eq!(served.load(Ordering::SeqCst), CLIENTS * MESSAGES_PER_CLIENT);
    // Every flip that changed something made a generation (file edits may coalesce with SIGHUP).
    let status = gw.running.reloader.status();
    assert_eq!(status.rejected, 0, "{:?}", status.last_error);
    assert!(gw.generation() > 60, "generation {} after {FLIPS} flips", gw.generation());
    sims.stop();
}

/// Sends SIGHUP to this process.
unsafe fn libc_kill_self_hup() {
    extern "C" {
        fn kill(pid: i32, sig: i32) -> i32;
    }
    const SIGHUP: i32 = 1;
    kill(std::process::id() as i32, SIGHUP);
}
