//! The fleet view: every replica's `GET /status` ([`super::status`]) asked at once and compared.
//! `ficus fleet --targets …` prints it; `GET /fleet` serves it to the dashboard for the peers
//! given to `ficus serve --peers …`. A target that is a DNS name resolving to several addresses
//! (a Kubernetes headless Service) is every one of them.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

/// How long one replica has to answer.
pub const ASK_TIMEOUT: Duration = Duration::from_secs(3);

/// One replica's answer: its status, or why there is none.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The admin address asked (or the target as written, when it did not resolve).
    pub addr: String,
    /// Its `GET /status`, or what went wrong.
    pub status: Result<Value, String>,
}

/// Every replica asked, and what they say together.
#[derive(Clone, Debug)]
pub struct Survey {
    /// In the order the targets named them.
    pub seen: Vec<Seen>,
    /// Table hash → the replicas serving it.
    pub hashes: BTreeMap<String, Vec<String>>,
}

impl Survey {
    /// Replicas that did not answer.
    pub fn unreachable(&self) -> usize {
        self.seen.iter().filter(|s| s.status.is_err()).count()
    }

    /// Every replica answered and all serve one table.
    pub fn agree(&self) -> bool {
        self.hashes.len() == 1 && self.unreachable() == 0
    }

    /// What is wrong, one line each (none when they agree): the loud lines.
    pub fn problems(&self) -> Vec<String> {
        let total = self.seen.len();
        let mut out = Vec::new();
        if self.hashes.len() > 1 {
            let each: Vec<String> =
                self.hashes.iter().map(|(h, a)| format!("{} on {}", short(h), a.join(" "))).collect();
            out.push(format!(
                "TABLES DIFFER: {} hashes across {total} replicas — {}",
                self.hashes.len(),
                each.join("; ")
            ));
        }
        if self.unreachable() > 0 {
            out.push(format!("{} of {total} replica(s) did not answer", self.unreachable()));
        }
        out
    }

    /// The survey as JSON (`ficus fleet --json`, `GET /fleet`).
    pub fn to_json(&self) -> Value {
        let replicas: Vec<Value> = self
            .seen
            .iter()
            .map(|s| match &s.status {
                Ok(v) => json!({ "address": s.addr, "status": v }),
                Err(e) => json!({ "address": s.addr, "error": e }),
            })
            .collect();
        json!({
            "replicas": replicas,
            "hashes": self.hashes.len(),
            "unreachable": self.unreachable(),
            "agree": self.agree(),
            "problems": self.problems(),
        })
    }
}

/// A hash as people compare it: its first 12 characters.
pub fn short(hash: &str) -> String {
    hash.chars().take(12).collect()
}

/// Every address `targets` name (`host:port`, comma-separated allowed), in order, each once;
/// a target that does not resolve is kept with why, so the others are still asked (a fleet
/// view that hid every replica behind one bad name would hide what is wrong).
pub async fn resolve(targets: &[String]) -> Vec<(String, Result<SocketAddr, String>)> {
    let mut out: Vec<(String, Result<SocketAddr, String>)> = Vec::new();
    for target in targets.iter().flat_map(|t| t.split(',')).map(str::trim).filter(|t| !t.is_empty()) {
        match tokio::net::lookup_host(target).await {
            Ok(found) => {
                for addr in found {
                    if !out.iter().any(|(_, a)| a.as_ref() == Ok(&addr)) {
                        out.push((addr.to_string(), Ok(addr)));
                    }
                }
            }
            Err(e) => out.push((target.to_string(), Err(format!("does not resolve: {e}")))),
        }
    }
    out
}

/// Asks every replica `targets` name for its status, all at once (one silent replica costs its
/// timeout once); a name that does not resolve is a row that did not answer.
///
/// Errors: no target given.
pub async fn survey(targets: &[String]) -> Result<Survey, String> {
    let named = resolve(targets).await;
    if named.is_empty() {
        return Err("no replica named (host:port,host:port…)".into());
    }
    let asks: Vec<_> = named
        .into_iter()
        .map(|(shown, addr)| match addr {
            Ok(addr) => tokio::spawn(ask(addr)),
            Err(e) => tokio::spawn(async move { Seen { addr: shown, status: Err(e) } }),
        })
        .collect();
    let mut seen = Vec::new();
    for ask in asks {
        match ask.await {
            Ok(s) => seen.push(s),
            Err(e) => seen.push(Seen { addr: "?".into(), status: Err(e.to_string()) }),
        }
    }
    let mut hashes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in &seen {
        if let Ok(v) = &s.status {
            hashes.entry(v["hash"].as_str().unwrap_or("?").to_string()).or_default().push(s.addr.clone());
        }
    }
    Ok(Survey { seen, hashes })
}

async fn ask(addr: SocketAddr) -> Seen {
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let url = format!("http://{addr}/status");
    let status = async {
        let uri: hyper::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
        let resp = tokio::time::timeout(ASK_TIMEOUT, client.get(uri))
            .await
            .map_err(|_| format!("no answer in {} s", ASK_TIMEOUT.as_secs()))?
            .map_err(|e| error_chain(&e))?;
        let code = resp.status().as_u16();
        let body = tokio::time::timeout(ASK_TIMEOUT, resp.into_body().collect())
            .await
            .map_err(|_| format!("no whole answer in {} s", ASK_TIMEOUT.as_secs()))?
            .map_err(|e| e.to_string())?
            .to_bytes();
        let v: Value = serde_json::from_slice(&body)
            .map_err(|_| format!("HTTP {code}: not ficus's admin API (is this the admin port?)"))?;
        match code {
            200 => Ok(v),
            _ => Err(format!("HTTP {code}: {}", v["error"].as_str().unwrap_or("no /status (an older ficus?)"))),
        }
    }
    .await;
    Seen { addr: addr.to_string(), status }
}

/// An error and every cause below it ("client error (Connect): tcp connect error: Connection
/// refused"): the top one alone names none.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut why = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        why = format!("{why}: {s}");
        source = s.source();
    }
    why
}
