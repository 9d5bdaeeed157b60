//! The kind "a write sent twice / a wrong answer to a resend", over a space of inputs: random
//! resends (1–4 copies of each transaction, over HTTP and TCP, at random moments, concurrently)
//! in front of a host that answers, answers late, never answers or drops the connection after
//! reading — fixed seeds, so every run is the same. Whatever happens:
//! - the host receives each transaction at most once;
//! - every host answer a channel gets for a transaction is byte for byte the same;
//! - every reply carries its own request's HDR-SEQ-NO;
//! - a transaction the host never received never gets a host answer.

mod common;

use common::*;
use ficus::frame::Framing;
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A small deterministic generator (xorshift64*), so the cases are the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What the chaotic host does with transaction `seq` (fixed per transaction).
fn behaviour(seq: u64) -> u64 {
    (seq.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 33) % 6
}

fn seq_of(message: &[u8]) -> u64 {
    message[MESSAGE_ID].iter().map(|b| (b & 0x0f) as u64).fold(0, |n, d| n * 10 + d)
}

/// A host that counts each transaction and answers (via the simulated host), answers late,
/// never answers, or drops the connection, by [`behaviour`].
async fn chaotic_host(sim: SocketAddr, seen: Arc<Mutex<HashMap<u64, usize>>>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let framing = Framing::prefix(4);
                let mut host = tokio::net::TcpStream::connect(sim).await.unwrap();
                while let Ok(Some(m)) = framing.read(&mut conn, 1 << 20).await {
                    let seq = seq_of(&m);
                    *seen.lock().unwrap().entry(seq).or_default() += 1;
                    match behaviour(seq) {
                        0..=2 => {}
                        3 => tokio::time::sleep(Duration::from_millis(150)).await,
                        4 => std::future::pending::<()>().await,
                        _ => return,
                    }
                    framing.write(&mut host, &m).await.unwrap();
                    let reply = framing.read(&mut host, 1 << 20).await.unwrap().unwrap();
                    if framing.write(&mut conn, &reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_resends_never_reach_the_host_twice_nor_get_another_answer() {
    let sims = sims().await;
    let seen = Arc::new(Mutex::new(HashMap::new()));
    let host = chaotic_host(sims.host_tcp, seen.clone()).await;
    let up = Upstreams { legacy: host.to_string(), accounts: format!("http://{}/ops", sims.accounts) };
    let toml = format!("{}\n[journal]\nstore = \"sqlite:journal.db\"\n", routes_toml(&up, "legacy", "legacy", ""))
        .replace("timeout_ms = 1000\nconnect_timeout_ms", "timeout_ms = 400\nconnect_timeout_ms")
        // The breaker would fail later messages fast (FC10, not sent): this test wants them sent.
        .replace("max_connections = 8\n", "max_connections = 8\nbreaker_failures = 0\n");
    let gw = Arc::new(Gateway::start(&toml).await);
    for seed in [1u64, 7, 42, 2026] {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut sends = Vec::new();
        for t in 0..24u64 {
            let seq = seed * 1_000 + t + 1;
            let body =
                json!({ "FROM-ACCT": "1000000000000003", "TO-ACCT": "1000000000000004", "AMOUNT": 0.01, "MEMO": "P" });
            let message = ficus::cli::build_request(&gw.table(), "XFER", &body, &json!({ "HDR-SEQ-NO": seq })).unwrap();
            for _ in 0..=rng.below(4) {
                sends.push((seq, message.clone(), rng.below(300), rng.below(2) == 0));
            }
        }
        let mut tasks = Vec::new();
        for (seq, message, delay, tcp) in sends {
            let gw = gw.clone();
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(delay)).await;
                let reply = if tcp {
                    let mut conn = tokio::net::TcpStream::connect(gw.tcp()).await.unwrap();
                    let framing = Framing::prefix(4);
                    framing.write(&mut conn, &message).await.unwrap();
                    framing.read(&mut conn, 1 << 20).await.unwrap().unwrap()
                } else {
                    gw.post(&message).await.1
                };
                (seq, reply)
            }));
        }
        let mut answers: HashMap<u64, Vec<Vec<u8>>> = HashMap::new();
        for t in tasks {
            let (seq, reply) = t.await.unwrap();
            assert_eq!(seq_of(&reply), seq, "seed {seed}: a reply carrying another transaction's number");
            let (code, text) = response_code(&gw, &reply);
            if !code.starts_with("FC") {
                answers.entry(seq).or_default().push(reply);
            } else {
                assert!(
                    ["FC10", "FC11", "FC21"].contains(&code.as_str()),
                    "seed {seed}, {seq}: unexpected {code} {text}"
                );
            }
        }
        let seen = seen.lock().unwrap().clone();
        for (seq, count) in &seen {
            assert!(*count <= 1, "seed {seed}: the host received transaction {seq} {count} times");
        }
        for (seq, replies) in &answers {
            assert!(seen.contains_key(seq), "seed {seed}: {seq} answered but never sent");
            assert!(replies.iter().all(|r| r == &replies[0]), "seed {seed}: {seq} answered with different bytes");
        }
        assert!(answers.len() >= 6, "seed {seed}: the host answered some: {}", answers.len());
    }
}
