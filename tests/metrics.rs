//! `/metrics` on the admin listener: valid Prometheus text (checked by an independent parser
//! here, not the exporter's), counters that move with traffic, and bounded labels (every
//! unknown operation code is `op="unknown"`). Counters are per process, so each test drives
//! operations no other test in this file touches.

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

type Labels = BTreeMap<String, String>;

/// One parsed exposition: samples keyed by (name, labels), and each family's TYPE.
#[derive(Debug, Default)]
struct Exposition {
    samples: HashMap<(String, Labels), f64>,
    types: HashMap<String, String>,
}

impl Exposition {
    /// Sum of `name` over the samples whose labels include every pair of `filter`.
    fn sum(&self, name: &str, filter: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|((n, l), _)| n == name && filter.iter().all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v)))
            .map(|(_, v)| v)
            .sum()
    }

    fn label_values(&self, name: &str, key: &str) -> HashSet<String> {
        self.samples.keys().filter(|(n, _)| n == name).filter_map(|(_, l)| l.get(key).cloned()).collect()
    }
}

fn valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `{k="v",…}` → labels and the rest of the line; strict about quoting and escapes.
fn parse_labels(s: &str) -> Result<(Labels, &str), String> {
    let mut labels = Labels::new();
    let mut rest = s.strip_prefix('{').ok_or("no {")?;
    loop {
        rest = rest.trim_start_matches(',');
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((labels, after));
        }
        let eq = rest.find('=').ok_or("label without =")?;
        let key = &rest[..eq];
        if !valid_name(key) {
            return Err(format!("bad label name {key:?}"));
        }
        let mut chars = rest[eq + 1..].strip_prefix('"').ok_or("unquoted label value")?.char_indices();
        let mut value = String::new();
        let end = loop {
            match chars.next().ok_or("unterminated label value")? {
                (i, '"') => break i,
                (_, '\\') => match chars.next().ok_or("dangling escape")?.1 {
                    'n' => value.push('\n'),
                    c @ ('\\' | '"') => value.push(c),
                    c => return Err(format!("bad escape \\{c}")),
                },
                (_, c) => value.push(c),
            }
        };
        if labels.insert(key.to_string(), value).is_some() {
            return Err(format!("label {key} twice"));
        }
        rest = &rest[eq + 2 + end + 1..];
    }
}

fn parse_value(s: &str) -> Result<f64, String> {
    match s {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        v => v.parse().map_err(|e| format!("value {v:?}: {e}")),
    }
}

/// The family a sample belongs to, given the declared TYPEs (histogram parts map to their base).
fn family<'a>(name: &'a str, types: &HashMap<String, String>) -> Option<&'a str> {
    if types.contains_key(name) {
        return Some(name);
    }
    ["_bucket", "_sum", "_count"]
        .iter()
        .filter_map(|suffix| name.strip_suffix(suffix))
        .find(|base| matches!(types.get(*base).map(String::as_str), Some("histogram" | "summary")))
}

/// Parses and checks the text format: HELP/TYPE once per family and before its samples,
/// every sample `name{labels} value` of a declared family, no duplicate series, histograms
/// cumulative with `+Inf` equal to `_count`.
fn parse_exposition(text: &str) -> Result<Exposition, String> {
    let mut x = Exposition::default();
    let mut helped = HashSet::new();
    let mut sampled = HashSet::new();
    for (n, line) in text.lines().enumerate() {
        let at = |e: String| format!("line {}: {e}: {line:?}", n + 1);
        if line.trim().is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix("# ") {
            let mut parts = comment.splitn(3, ' ');
            let (kind, name, rest) = (parts.next(), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            if !valid_name(name) && matches!(kind, Some("HELP" | "TYPE")) {
                return Err(at(format!("bad metric name {name:?}")));
            }
            if sampled.contains(name) {
                return Err(at(format!("{kind:?} after samples of {name}")));
            }
            match kind {
                Some("HELP") if !helped.insert(name.to_string()) => return Err(at("second HELP".into())),
                Some("TYPE") => {
                    if !matches!(rest, "counter" | "gauge" | "histogram" | "summary" | "untyped") {
                        return Err(at(format!("unknown type {rest:?}")));
                    }
                    if x.types.insert(name.to_string(), rest.to_string()).is_some() {
                        return Err(at("second TYPE".into()));
                    }
                }
                _ => {}
            }
            continue;
        }
        let name_end = line.find(['{', ' ']).ok_or_else(|| at("no value".into()))?;
        let name = &line[..name_end];
        if !valid_name(name) {
            return Err(at(format!("bad metric name {name:?}")));
        }
        let (labels, rest) = if line[name_end..].starts_with('{') {
            parse_labels(&line[name_end..]).map_err(at)?
        } else {
            (Labels::new(), &line[name_end..])
        };
        let mut fields = rest.split_whitespace();
        let value = parse_value(fields.next().ok_or_else(|| at("no value".into()))?).map_err(at)?;
        if fields.nth(1).is_some() {
            return Err(at("junk after the timestamp".into()));
        }
        let fam = family(name, &x.types).ok_or_else(|| at(format!("{name} has no TYPE line before it")))?;
        if x.types[fam] == "counter" && value < 0.0 {
            return Err(at("negative counter".into()));
        }
        sampled.insert(fam.to_string());
        if x.samples.insert((name.to_string(), labels), value).is_some() {
            return Err(at("duplicate series".into()));
        }
    }
    check_histograms(&x)?;
    Ok(x)
}

fn check_histograms(x: &Exposition) -> Result<(), String> {
    for (fam, _) in x.types.iter().filter(|(_, t)| *t == "histogram") {
        let mut series: BTreeMap<Labels, Vec<(f64, f64)>> = BTreeMap::new();
        for ((name, labels), v) in &x.samples {
            if name == &format!("{fam}_bucket") {
                let mut base = labels.clone();
                let le = base.remove("le").ok_or(format!("{fam}_bucket without le"))?;
                series.entry(base).or_default().push((parse_value(&le)?, *v));
            }
        }
        for (labels, mut buckets) in series {
            buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
            if !buckets.windows(2).all(|w| w[0].1 <= w[1].1) {
                return Err(format!("{fam}{labels:?}: buckets not cumulative"));
            }
            let inf = buckets.last().filter(|b| b.0.is_infinite()).ok_or(format!("{fam}{labels:?}: no +Inf"))?.1;
            let count = x.samples.get(&(format!("{fam}_count"), labels.clone())).copied();
            if count != Some(inf) {
                return Err(format!("{fam}{labels:?}: +Inf bucket {inf} but _count {count:?}"));
            }
        }
    }
    Ok(())
}

/// GET over a fresh connection: (status, content type, body).
async fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
    let mut conn = TcpStream::connect(addr).await.unwrap();
    let head = format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    conn.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).await.unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("no end of headers") + 4;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-type:").map(|v| v.trim().to_string()))
        .unwrap_or_default();
    (status, content_type, String::from_utf8(raw[split..].to_vec()).unwrap())
}

async fn scrape(gw: &Gateway) -> Exposition {
    let (status, content_type, body) = get(gw.admin(), "/metrics").await;
    assert_eq!(status, 200, "{body}");
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    parse_exposition(&body).unwrap_or_else(|e| panic!("/metrics is not valid Prometheus text: {e}\n{body}"))
}

fn acct(n: u64) -> Value {
    json!({ "ACCT-NO": format!("{}", 1_000_000_000_000_000u64 + n) })
}

#[test]
fn the_checker_rejects_malformed_text() {
    let good = "# HELP a_total A.\n# TYPE a_total counter\na_total{op=\"x\"} 1\n";
    assert!(parse_exposition(good).is_ok());
    for bad in [
        "a_total 1\n",                                                                    // no TYPE
        "# TYPE a_total counter\na_total{op=x} 1\n",                                      // unquoted
        "# TYPE a_total counter\na_total{op=\"x\"} one\n",                                // not a number
        "# TYPE a_total counter\na_total 1\na_total 2\n",                                 // duplicate series
        "# TYPE a_total counter\na_total 1\n# TYPE a_total gauge\n",                      // TYPE after samples
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n", // not cumulative
    ] {
        assert!(parse_exposition(bad).is_err(), "accepted: {bad}");
    }
}

#[tokio::test]
async fn counters_move_with_traffic_and_the_text_parses() {
    let sims = sims().await;
    let gw = Gateway::start(&routes_toml(&sim_upstreams(&sims), "legacy", "accounts", "")).await;
    let before = scrape(&gw).await;
    const N: u64 = 7;
    for n in 1..=N {
        let (status, reply) = gw.post(&gw.request("ACCTINQ", acct(n))).await;
        assert_eq!((status, response_code(&gw, &reply).0.as_str()), (200, "0000"));
    }
    let after = scrape(&gw).await;
    let delta = |name: &str, filter: &[(&str, &str)]| after.sum(name, filter) - before.sum(name, filter);
    assert_eq!(delta("ficus_messages_total", &[("op", "ACCTINQ")]), N as f64);
    assert_eq!(delta("ficus_messages_total", &[("op", "ACCTINQ"), ("target", "legacy")]), N as f64);
    assert_eq!(delta("ficus_message_outcomes_total", &[("op", "ACCTINQ"), ("outcome", "ok")]), N as f64);
    assert_eq!(delta("ficus_message_seconds_count", &[("op", "ACCTINQ"), ("target", "legacy")]), N as f64);
    assert_eq!(after.types["ficus_message_seconds"], "histogram");
    assert!(
        after.label_values("ficus_message_seconds_bucket", "le").contains("0.0005"),
        "latency buckets start at 0.5 ms"
    );
    // Scrape-time gauges from the live table.
    assert_eq!(after.sum("ficus_route_generation", &[]), 1.0);
    assert!(after.samples.contains_key(&(
        "ficus_upstream_connections_idle".into(),
        [("upstream".to_string(), "legacy".to_string())].into()
    )));
    assert_eq!(after.sum("ficus_reload_last_rejected", &[]), 0.0);
    assert_eq!(after.types["ficus_messages_in_flight"], "gauge");

    // A flip shows in the generation gauge and the reload counters.
    gw.put_route("ACCTINQ", json!({ "target": "accounts" })).await;
    let (status, reply) = gw.post(&gw.request("ACCTINQ", acct(1))).await;
    assert_eq!((status, response_code(&gw, &reply).0.as_str()), (200, "0000"));
    let flipped = scrape(&gw).await;
    assert_eq!(flipped.sum("ficus_route_generation", &[]), 2.0);
    assert_eq!(
        flipped.sum("ficus_messages_total", &[("op", "ACCTINQ"), ("target", "accounts")])
            - after.sum("ficus_messages_total", &[("op", "ACCTINQ"), ("target", "accounts")]),
        1.0
    );
    assert!(flipped.sum("ficus_reload_attempts_total", &[("result", "applied")]) >= 1.0);

    // /stats, the dashboard's view, agrees.
    let (status, _, body) = get(gw.admin(), "/stats").await;
    assert_eq!(status, 200);
    let stats: Value = serde_json::from_str(&body).unwrap();
    assert!(stats["ops"]["ACCTINQ"]["sides"]["new"]["total"].as_f64() >= Some(1.0), "{stats}");
    assert!(stats["ops"]["ACCTINQ"]["sides"]["legacy"]["total"].as_f64() >= Some(N as f64), "{stats}");
    assert_eq!(stats["upstreams"]["accounts"]["side"], "new");
    // The first /stats of this process (the dashboard's first load) has rates already: over the
    // time since the recorder started, as `window_seconds` says.
    assert!(stats["window_seconds"].as_f64() > Some(0.0), "{stats}");
    assert!(stats["ops"]["ACCTINQ"]["rate"].as_f64() > Some(0.0), "{stats}");
    sims.stop();
}

#[tokio::test]
async fn unknown_operation_codes_share_one_label() {
    let sims = sims().await;
    let gw = Gateway::start(&routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "")).await;
    let before = scrape(&gw).await;
    // Three different garbage codes (EBCDIC "ZZZ", "QQQ", "YYYYYYYY") in HDR-TRAN-CODE.
    let codes: [&[u8]; 3] = [&[0xE9, 0xE9, 0xE9, 0x40], &[0xD8, 0xD8, 0xD8, 0x40], &[0xE8; 8]];
    for code in codes {
        let mut message = gw.request("ACCTINQ", acct(1));
        message[6..14].fill(0x40);
        message[6..6 + code.len()].copy_from_slice(code);
        gw.post(&message).await;
    }
    let after = scrape(&gw).await;
    let unknown = |x: &Exposition| x.sum("ficus_messages_total", &[("op", "unknown")]);
    assert_eq!(unknown(&after) - unknown(&before), 3.0);
    let ops = after.label_values("ficus_messages_total", "op");
    assert!(
        ops.iter().all(|op| ["ACCTINQ", "TXNHIST", "XFER", "unknown"].contains(&op.as_str())),
        "unbounded op labels: {ops:?}"
    );
    sims.stop();
}
