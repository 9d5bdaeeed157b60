//! `ficus fleet`: every replica's `GET /status` side by side — table hash (routes.toml and the
//! copybooks it uses), generation, last reload, messages in flight, breakers — and a loud line
//! when the replicas do not serve one table. A target that is a DNS name resolving to several
//! addresses (a Kubernetes headless Service) is every one of them.

use super::admin_cmds::{call, columns, runtime};
use super::CliError;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// Exit code when the replicas serve different tables or some cannot be asked.
pub const DISAGREE: i32 = 3;

/// Options of `ficus fleet`.
pub struct FleetArgs {
    /// `host:port` admin addresses (a name may resolve to several replicas).
    pub targets: Vec<String>,
    /// Print JSON instead of a table.
    pub json: bool,
}

/// One replica's answer.
struct Seen {
    addr: SocketAddr,
    status: Result<Value, String>,
}

/// Every address `targets` name, in order, each once.
async fn resolve(targets: &[String]) -> Result<Vec<SocketAddr>, CliError> {
    let mut out: Vec<SocketAddr> = Vec::new();
    for target in targets.iter().flat_map(|t| t.split(',')).map(str::trim).filter(|t| !t.is_empty()) {
        let found = tokio::net::lookup_host(target).await.map_err(|e| {
            CliError::runtime(format!("--targets {target}: {e} (give host:port of each replica's admin API)"))
        })?;
        for addr in found {
            if !out.contains(&addr) {
                out.push(addr);
            }
        }
    }
    if out.is_empty() {
        return Err(CliError::runtime("--targets names no replica (host:port,host:port…)"));
    }
    Ok(out)
}

/// `ficus fleet`.
pub fn fleet(args: FleetArgs) -> Result<(), CliError> {
    let seen = runtime()?.block_on(async {
        let addrs = resolve(&args.targets).await?;
        // Asked together, so one silent replica costs its timeout once, not once per replica.
        let asks: Vec<_> = addrs
            .iter()
            .map(|&addr| {
                tokio::spawn(async move {
                    let status = match call(hyper::Method::GET, &format!("http://{addr}/status"), None).await {
                        Ok((200, v)) => Ok(v),
                        Ok((code, v)) => Err(format!(
                            "HTTP {code}: {}",
                            v["error"].as_str().unwrap_or("no /status (an older ficus?)")
                        )),
                        Err(e) => Err(e.message),
                    };
                    Seen { addr, status }
                })
            })
            .collect();
        let mut seen = Vec::new();
        for ask in asks {
            seen.push(ask.await.map_err(|e| CliError::runtime(e.to_string()))?);
        }
        Ok::<_, CliError>(seen)
    })?;
    let mut hashes: BTreeMap<String, Vec<SocketAddr>> = BTreeMap::new();
    for s in &seen {
        if let Ok(v) = &s.status {
            hashes.entry(v["hash"].as_str().unwrap_or("?").to_string()).or_default().push(s.addr);
        }
    }
    let unreachable = seen.iter().filter(|s| s.status.is_err()).count();
    if args.json {
        let replicas: Vec<Value> = seen
            .iter()
            .map(|s| match &s.status {
                Ok(v) => json!({ "address": s.addr.to_string(), "status": v }),
                Err(e) => json!({ "address": s.addr.to_string(), "error": e }),
            })
            .collect();
        let doc = json!({ "replicas": replicas, "hashes": hashes.len(), "unreachable": unreachable, "agree": hashes.len() == 1 && unreachable == 0 });
        out(&format!("{doc:#}\n"))?;
    } else {
        out(&table(&seen))?;
    }
    verdict(&hashes, unreachable, seen.len(), args.json)
}

/// The replicas as rows.
fn table(seen: &[Seen]) -> String {
    let rows: Vec<[String; 7]> = seen
        .iter()
        .map(|s| match &s.status {
            Err(e) => [
                s.addr.to_string(),
                "-".into(),
                "-".into(),
                "-".into(),
                format!("UNREACHABLE: {e}"),
                "-".into(),
                "-".into(),
            ],
            Ok(v) => {
                let reload = match v["reload"]["last_error"].as_str() {
                    Some(e) => format!("REJECTED: {}", e.lines().next().unwrap_or("")),
                    None => format!("ok ({} applied)", v["reload"]["applied"].as_u64().unwrap_or(0)),
                };
                let open: Vec<String> = v["upstreams"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(_, u)| u["breaker"] != "closed")
                    .map(|(n, u)| format!("{n} {}", u["breaker"].as_str().unwrap_or("?")))
                    .collect();
                [
                    s.addr.to_string(),
                    v["replica"]["host"].as_str().unwrap_or("-").to_string(),
                    v["generation"].to_string(),
                    v["hash"].as_str().unwrap_or("?").chars().take(12).collect(),
                    reload,
                    v["in_flight"].to_string(),
                    if open.is_empty() { "all closed".into() } else { open.join(", ") },
                ]
            }
        })
        .collect();
    let header = ["REPLICA", "HOST", "GEN", "HASH", "RELOAD", "IN-FLIGHT", "BREAKERS"];
    columns(&header, [21, 8, 3, 12, 8, 9, 8], &rows)
}

fn out(text: &str) -> Result<(), CliError> {
    use std::io::Write;
    std::io::stdout().write_all(text.as_bytes()).map_err(CliError::writing)
}

/// Exit 0 when every replica answered and all serve one table (said, unless `json`: the
/// document says it); else the loud line on stderr, exit 3.
fn verdict(
    hashes: &BTreeMap<String, Vec<SocketAddr>>,
    unreachable: usize,
    total: usize,
    json: bool,
) -> Result<(), CliError> {
    let mut problems = Vec::new();
    if hashes.len() > 1 {
        let each: Vec<String> = hashes
            .iter()
            .map(|(h, a)| {
                let who: Vec<String> = a.iter().map(ToString::to_string).collect();
                format!("{} on {}", h.chars().take(12).collect::<String>(), who.join(" "))
            })
            .collect();
        problems.push(format!("TABLES DIFFER: {} hashes across {total} replicas — {}", hashes.len(), each.join("; ")));
    }
    if unreachable > 0 {
        problems.push(format!("{unreachable} of {total} replica(s) did not answer"));
    }
    if problems.is_empty() && json {
        return Ok(());
    }
    if problems.is_empty() {
        let hash = hashes.keys().next().map_or(String::new(), |h| h.chars().take(12).collect());
        out(&format!("one table on all {total} replica(s): {hash}\n"))?;
        return Ok(());
    }
    Err(CliError { code: DISAGREE, message: problems.join("\n") })
}
