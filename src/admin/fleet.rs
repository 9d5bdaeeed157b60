//! The fleet view: every replica's `GET /status` ([`super::status`]) asked at once and compared.
//! `ficus fleet --targets …` prints it; `GET /fleet` serves it to the dashboard for the peers
//! given to `ficus serve --peers …`. A target that is a DNS name resolving to several addresses
//! (a Kubernetes headless Service) is every one of them.
//!
//! Replicas are counted per process, not per address: `/status` names each (`replica`: host,
//! pid, start time), and addresses that reach one replica — two names for one host, or a name
//! with an IPv4 and an IPv6 address — are one row (`also`: the other addresses). A name's
//! addresses of one family none of which answered, while its addresses of the other family
//! did (a replica listening on 0.0.0.0 reached by a dual-stack name), are not counted as
//! replicas that did not answer: their rows say so (`not_counted`).

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long one replica has to answer.
pub const ASK_TIMEOUT: Duration = Duration::from_secs(3);

/// One replica's answer: its status, or why there is none.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The admin address asked (or the target as written, when it did not resolve).
    pub addr: String,
    /// The target (as written) the address came from.
    pub target: String,
    /// Its `GET /status`, or what went wrong.
    pub status: Result<Value, String>,
    /// Other addresses that answered as the same replica (same host, pid and start).
    pub also: Vec<String>,
    /// Why a failed address is not counted as a replica that did not answer.
    pub not_counted: Option<String>,
}

impl Seen {
    fn new(addr: String, target: String, status: Result<Value, String>) -> Seen {
        Seen { addr, target, status, also: Vec::new(), not_counted: None }
    }
}

/// The replica's identity as `/status` reports it: `pid@host` and when it started.
pub fn identity(status: &Value) -> Option<String> {
    let r = &status["replica"];
    Some(format!("{}@{} started {}", r["pid"].as_u64()?, r["host"].as_str()?, r["started_ms"].as_i64().unwrap_or(0)))
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
    /// Replicas that did not answer (not counting [`Seen::not_counted`] rows).
    pub fn unreachable(&self) -> usize {
        self.seen.iter().filter(|s| s.status.is_err() && s.not_counted.is_none()).count()
    }

    /// Replicas: one per process that answered, one per address that did not (and counts).
    pub fn replicas(&self) -> usize {
        self.seen.iter().filter(|s| s.not_counted.is_none()).count()
    }

    /// Every replica answered and all serve one table.
    pub fn agree(&self) -> bool {
        self.hashes.len() == 1 && self.unreachable() == 0
    }

    /// What is wrong, one line each (none when they agree): the loud lines.
    pub fn problems(&self) -> Vec<String> {
        let total = self.replicas();
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
            .map(|s| {
                let mut row = match &s.status {
                    Ok(v) => json!({ "address": s.addr, "status": v }),
                    Err(e) => json!({ "address": s.addr, "error": e }),
                };
                row["target"] = json!(s.target);
                if !s.also.is_empty() {
                    row["also"] = json!(s.also);
                }
                if let Some(why) = &s.not_counted {
                    row["not_counted"] = json!(why);
                }
                row
            })
            .collect();
        json!({
            "replicas": replicas,
            "count": self.replicas(),
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
/// Each comes with the target it was found by.
pub async fn resolve(targets: &[String]) -> Vec<(String, Result<SocketAddr, String>)> {
    let mut out: Vec<(String, Result<SocketAddr, String>)> = Vec::new();
    for target in targets.iter().flat_map(|t| t.split(',')).map(str::trim).filter(|t| !t.is_empty()) {
        match tokio::net::lookup_host(target).await {
            Ok(found) => {
                for addr in found {
                    if !out.iter().any(|(_, a)| a.as_ref() == Ok(&addr)) {
                        out.push((target.to_string(), Ok(addr)));
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
    survey_remembering(targets, &Mutex::default()).await
}

/// [`survey`], not asking again an address that failed within
/// [`super::flight::PEER_FAILED_FOR`] (`failed`: address → when and why; its row says how
/// long ago) — `GET /fleet` on a dashboard every two seconds must not wait on a silent peer
/// every time.
pub async fn survey_remembering(
    targets: &[String],
    failed: &Mutex<HashMap<String, (Instant, String)>>,
) -> Result<Survey, String> {
    let named = resolve(targets).await;
    if named.is_empty() {
        return Err("no replica named (host:port,host:port…)".into());
    }
    let recent = |addr: &SocketAddr| -> Option<String> {
        let map = failed.lock().ok()?;
        let (at, why) = map.get(&addr.to_string()).filter(|(at, _)| at.elapsed() < super::flight::PEER_FAILED_FOR)?;
        Some(format!(
            "{why} ({} s ago; asked again after {} s)",
            at.elapsed().as_secs(),
            super::flight::PEER_FAILED_FOR.as_secs()
        ))
    };
    let asks: Vec<_> = named
        .iter()
        .map(|(target, addr)| {
            let target = target.clone();
            match addr {
                Ok(addr) => match recent(addr) {
                    Some(why) => {
                        let addr = addr.to_string();
                        tokio::spawn(async move { Seen::new(addr, target, Err(why)) })
                    }
                    None => {
                        let addr = *addr;
                        tokio::spawn(async move {
                            let seen = ask(addr).await;
                            Seen::new(addr.to_string(), target, seen)
                        })
                    }
                },
                Err(e) => {
                    let e = e.clone();
                    tokio::spawn(async move { Seen::new(target.clone(), target, Err(e)) })
                }
            }
        })
        .collect();
    let mut seen = Vec::new();
    for ask in asks {
        match ask.await {
            Ok(s) => seen.push(s),
            Err(e) => seen.push(Seen::new("?".into(), "?".into(), Err(e.to_string()))),
        }
    }
    if let Ok(mut map) = failed.lock() {
        for ((_, addr), s) in named.iter().zip(&seen) {
            let Ok(addr) = addr else { continue };
            match &s.status {
                Ok(_) => {
                    map.remove(&addr.to_string());
                }
                Err(why) => {
                    map.entry(addr.to_string()).or_insert_with(|| (Instant::now(), why.clone()));
                }
            }
        }
        map.retain(|_, (at, _)| at.elapsed() < super::flight::PEER_FAILED_FOR);
    }
    let families: Vec<Option<bool>> = named.iter().map(|(_, a)| a.as_ref().ok().map(SocketAddr::is_ipv6)).collect();
    let seen = per_process(seen, &families);
    let mut hashes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in &seen {
        if let Ok(v) = &s.status {
            hashes.entry(v["hash"].as_str().unwrap_or("?").to_string()).or_default().push(s.addr.clone());
        }
    }
    Ok(Survey { seen, hashes })
}

/// One row per process: rows that answered as one replica merged into the first (`also`), and a
/// failed address marked `not_counted` when its target's addresses of its family all failed
/// while the target's other family answered. `families[i]`: row i's address is IPv6.
fn per_process(seen: Vec<Seen>, families: &[Option<bool>]) -> Vec<Seen> {
    let answered = |target: &str, v6: bool| {
        seen.iter().zip(families).any(|(s, f)| s.target == target && *f == Some(v6) && s.status.is_ok())
    };
    let notes: Vec<Option<String>> = seen
        .iter()
        .zip(families)
        .map(|(s, f)| match (f, &s.status) {
            (Some(v6), Err(_)) if answered(&s.target, !v6) && !answered(&s.target, *v6) => Some(format!(
                "{} answered on its IPv{} address(es): nothing listens on this family; not a missing replica",
                s.target,
                if *v6 { 4 } else { 6 }
            )),
            _ => None,
        })
        .collect();
    let mut out: Vec<Seen> = Vec::new();
    for (mut s, note) in seen.into_iter().zip(notes) {
        s.not_counted = note;
        let id = s.status.as_ref().ok().and_then(identity);
        if let Some(first) =
            id.and_then(|id| out.iter_mut().find(|o| o.status.as_ref().ok().and_then(identity) == Some(id.clone())))
        {
            first.also.push(s.addr);
            continue;
        }
        out.push(s);
    }
    out
}

async fn ask(addr: SocketAddr) -> Result<Value, String> {
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
    status
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

#[cfg(test)]
#[path = "fleet_tests.rs"]
mod tests;
