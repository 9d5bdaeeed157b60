//! `ficus fleet`: every replica's `GET /status` side by side — table hash (routes.toml and the
//! copybooks it uses), generation, last reload, messages in flight, breakers — and a loud line
//! when the replicas do not serve one table ([`crate::admin::fleet`] asks them).

use super::admin_cmds::{columns, runtime};
use super::CliError;
use crate::admin::fleet::{short, survey, Survey};

/// Exit code when the replicas serve different tables or some cannot be asked.
pub const DISAGREE: i32 = 3;

/// Options of `ficus fleet`.
pub struct FleetArgs {
    /// `host:port` admin addresses (a name may resolve to several replicas).
    pub targets: Vec<String>,
    /// Print JSON instead of a table.
    pub json: bool,
}

/// `ficus fleet`.
pub fn fleet(args: FleetArgs) -> Result<(), CliError> {
    let survey = runtime()?.block_on(survey(&args.targets)).map_err(|e| CliError::runtime(format!("--targets {e}")))?;
    if args.json {
        out(&format!("{:#}\n", survey.to_json()))?;
    } else {
        out(&table(&survey))?;
    }
    let problems = survey.problems();
    if !problems.is_empty() {
        return Err(CliError { code: DISAGREE, message: problems.join("\n") });
    }
    if !args.json {
        let hash = survey.hashes.keys().next().map_or(String::new(), |h| short(h));
        out(&format!("one table on all {} replica(s): {hash}\n", survey.replicas()))?;
    }
    Ok(())
}

fn out(text: &str) -> Result<(), CliError> {
    use std::io::Write;
    std::io::stdout().write_all(text.as_bytes()).map_err(CliError::writing)
}

/// The replicas as rows.
fn table(survey: &Survey) -> String {
    let rows: Vec<[String; 7]> = survey
        .seen
        .iter()
        .map(|s| match &s.status {
            Err(e) => {
                let dash = || "-".to_string();
                let why = match &s.not_counted {
                    Some(note) => format!("not counted: {note} ({e})"),
                    None => format!("UNREACHABLE: {e}"),
                };
                [s.addr.clone(), dash(), dash(), dash(), why, dash(), dash()]
            }
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
                let addr = match s.also.is_empty() {
                    true => s.addr.clone(),
                    false => format!("{} (also {})", s.addr, s.also.join(" ")),
                };
                [
                    addr,
                    v["replica"]["host"].as_str().unwrap_or("-").to_string(),
                    v["generation"].to_string(),
                    short(v["hash"].as_str().unwrap_or("?")),
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
