//! One `ficus serve` process on its own routes.toml, as the fleet tests start several: its
//! channel and admin addresses read from its log, its table loaded for building messages.

use crate::common::*;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

/// One `ficus serve` process on its own routes.toml.
pub struct Replica {
    pub child: tokio::process::Child,
    pub http: SocketAddr,
    pub admin: SocketAddr,
    pub table: Arc<ficus::route::RouteTable>,
    /// Every line the replica logged (stderr) from its start, as it comes.
    #[allow(dead_code)] // read by the tests that check a log line
    pub log: Arc<std::sync::Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

fn addr_in(line: &str, key: &str) -> SocketAddr {
    let at = line.find(&format!("{key}=Some(")).unwrap_or_else(|| panic!("no {key} in {line}")) + key.len() + 6;
    line[at..].split(')').next().unwrap().parse().unwrap()
}

impl Replica {
    pub async fn start(toml: &str) -> Replica {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("routes.toml");
        std::fs::write(&path, toml).unwrap();
        std::fs::write(dir.path().join("tokens"), format!("{ADMIN_NAME}:{ADMIN_TOKEN}\n")).unwrap();
        Replica::serve(&path, &[], dir).await
    }

    /// `ficus serve --config path` with `args` after it (e.g. `--listen-http 127.0.0.1:0`), on a
    /// routes.toml others may share; `dir` is kept as long as the replica.
    pub async fn serve(path: &std::path::Path, args: &[&str], dir: tempfile::TempDir) -> Replica {
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ficus"))
            .args(["serve", "--config"])
            .arg(path)
            .args(args)
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let (line, start_log) = tokio::time::timeout(Duration::from_secs(20), async {
            let mut said = Vec::new();
            while let Some(line) = lines.next_line().await.unwrap() {
                if line.contains("gateway listening") {
                    return (line, said);
                }
                said.push(line);
            }
            panic!("ficus serve exited before listening:\n{}", said.join("\n"));
        })
        .await
        .expect("ficus serve starts");
        // Keep reading, so the child never blocks on a full pipe.
        let log = Arc::new(std::sync::Mutex::new(start_log));
        let kept = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                kept.lock().unwrap().push(line);
            }
        });
        let table = Arc::new(ficus::config::load(path, None, 1).unwrap());
        Replica { child, http: addr_in(&line, "http"), admin: addr_in(&line, "admin"), table, log, _dir: dir }
    }

    pub async fn post(&self, message: &[u8]) -> (u16, Vec<u8>) {
        post(self.http, message).await
    }

    pub async fn flip(&self, op: &str, target: &str) {
        let (status, body) = admin_call_at(
            self.admin,
            "PUT",
            &format!("/routes/{op}"),
            Some(ADMIN_TOKEN),
            Some(json!({ "target": target })),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
}
