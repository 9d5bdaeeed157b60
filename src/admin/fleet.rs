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
mod tests {
    use super::*;

    fn status(pid: u64) -> Result<Value, String> {
        Ok(json!({ "replica": { "pid": pid, "host": "h", "started_ms": 1 }, "hash": "abc" }))
    }

    fn row(addr: &str, target: &str, status: Result<Value, String>) -> Seen {
        Seen::new(addr.into(), target.into(), status)
    }

    #[test]
    fn a_dual_stack_name_whose_other_family_is_not_listened_on_is_not_a_missing_replica() {
        let down = || Err("connection refused".to_string());
        let seen = vec![row("127.0.0.1:9", "localhost:9", status(7)), row("[::1]:9", "localhost:9", down())];
        let out = per_process(seen, &[Some(false), Some(true)]);
        assert_eq!(out.len(), 2);
        assert!(out[1].not_counted.as_deref().is_some_and(|n| n.contains("IPv4")), "{:?}", out[1].not_counted);
        let survey = Survey { seen: out, hashes: BTreeMap::from([("abc".into(), vec!["127.0.0.1:9".into()])]) };
        assert_eq!((survey.replicas(), survey.unreachable(), survey.agree()), (1, 0, true));
        assert!(survey.problems().is_empty());
    }

    #[test]
    fn a_family_with_one_address_answering_counts_its_silent_ones() {
        // Two pods, each with an IPv4 and an IPv6 address; pod 8 is down on both.
        let down = || Err("no answer".to_string());
        let seen = vec![
            row("10.0.0.1:9", "svc:9", status(7)),
            row("10.0.0.2:9", "svc:9", down()),
            row("[fd00::1]:9", "svc:9", status(7)),
            row("[fd00::2]:9", "svc:9", down()),
        ];
        let out = per_process(seen, &[Some(false), Some(false), Some(true), Some(true)]);
        assert_eq!(out.len(), 3, "pod 7 once, with its other address");
        assert_eq!(out[0].also, vec!["[fd00::1]:9".to_string()]);
        assert!(out.iter().all(|s| s.not_counted.is_none()), "both families answered somewhere: a pod is missing");
    }

    #[test]
    fn every_address_is_shown_once_and_every_process_counted_once() {
        // Randomized, with a fixed seed: targets of one to four addresses of either family, each
        // answering as one of three processes or failing.
        let mut seed = 19u64;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        for case in 0..3000 {
            let (mut seen, mut families) = (Vec::new(), Vec::new());
            for t in 0..1 + next(3) {
                for a in 0..1 + next(4) {
                    let v6 = next(2) == 1;
                    let who = next(4);
                    let status = if who == 3 { Err("no answer".to_string()) } else { status(who) };
                    seen.push(row(&format!("{t}.{a}.{v6}:9"), &format!("t{t}:9"), status));
                    families.push(Some(v6));
                }
            }
            let fam = |i: usize| families[i];
            let failed_family = |target: &str, v6: bool, rows: &[Seen]| {
                let of = |ok: bool| {
                    rows.iter()
                        .enumerate()
                        .any(|(i, s)| s.target == target && fam(i) == Some(v6) && s.status.is_ok() == ok)
                };
                of(false) && !of(true)
            };
            let expect_not_counted: Vec<bool> = seen
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let v6 = fam(i).unwrap();
                    s.status.is_err()
                        && failed_family(&s.target, v6, &seen)
                        && seen
                            .iter()
                            .enumerate()
                            .any(|(j, o)| o.target == s.target && fam(j) == Some(!v6) && o.status.is_ok())
                })
                .collect();
            let processes: std::collections::BTreeSet<String> =
                seen.iter().filter_map(|s| s.status.as_ref().ok().and_then(identity)).collect();
            let failures = seen.iter().filter(|s| s.status.is_err()).count();
            let addresses: Vec<String> = seen.iter().map(|s| s.addr.clone()).collect();
            let out = per_process(seen, &families);
            let mut shown: Vec<String> =
                out.iter().flat_map(|s| std::iter::once(s.addr.clone()).chain(s.also.clone())).collect();
            let mut all = addresses.clone();
            shown.sort();
            all.sort();
            assert_eq!(shown, all, "case {case}: every address once");
            assert_eq!(out.iter().filter(|s| s.status.is_ok()).count(), processes.len(), "case {case}");
            let not_counted = out.iter().filter(|s| s.not_counted.is_some()).count();
            assert_eq!(not_counted, expect_not_counted.iter().filter(|b| **b).count(), "case {case}");
            let survey = Survey { seen: out, hashes: BTreeMap::new() };
            assert_eq!(survey.unreachable(), failures - not_counted, "case {case}");
            assert_eq!(survey.replicas(), processes.len() + failures - not_counted, "case {case}");
        }
    }

    #[test]
    fn replicas_are_told_apart_by_pid_host_and_start() {
        let seen = vec![row("a:1", "a:1", status(7)), row("b:1", "b:1", status(8)), row("c:1", "c:1", status(7))];
        let out = per_process(seen, &[Some(false); 3]);
        assert_eq!(out.iter().map(|s| s.addr.as_str()).collect::<Vec<_>>(), ["a:1", "b:1"]);
        assert_eq!(out[0].also, vec!["c:1".to_string()]);
        assert_eq!(identity(&json!({})), None, "no identity: never merged");
    }
}
