//! `ficus shadow report` and `ficus replay`: reading comparison records, and comparing
//! recorded traffic against another upstream.

use super::gateway_cmds::runtime;
use super::CliError;
use crate::shadow::{capture, record::Recorder, report, store};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// `ficus shadow report <records...> [--html out.html]`.
pub fn report(records: &[PathBuf], html: Option<&Path>) -> Result<(), CliError> {
    let (records_read, bad) = report::load(records).map_err(CliError::runtime)?;
    if records_read.is_empty() {
        return Err(CliError::runtime("no shadow records in those files"));
    }
    let ops = report::build(&records_read);
    print!("{}", report::terminal(&ops));
    if bad > 0 {
        eprintln!("({bad} line(s) were not shadow records and were skipped)");
    }
    if let Some(path) = html {
        std::fs::write(path, report::html(&ops, records))
            .map_err(|e| CliError::runtime(format!("{}: {e}", path.display())))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// `ficus shadow report --store postgres://… [--html out.html]`: every replica's records, as from
/// files, with how many each replica wrote.
pub fn report_store(url: &str, html: Option<&Path>) -> Result<(), CliError> {
    let shown = store::without_password(url);
    if !store::is_store_url(url) {
        return Err(CliError::runtime(format!("--store {shown:?}: expected postgres://USER@HOST:PORT/DB")));
    }
    usable_store(url)?;
    // Read as a stream (memory per operation, not per row), with progress for a person.
    let bar = std::io::stderr()
        .is_terminal()
        .then(|| indicatif::ProgressBar::new(0).with_message(format!("reading {shown}")));
    let progress = |done: u64, total: u64| {
        if let Some(b) = &bar {
            b.set_length(total);
            b.set_position(done);
        }
    };
    let read = runtime()?.block_on(store::report(url, &progress)).map_err(CliError::runtime)?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if read.ops.is_empty() {
        return Err(CliError::runtime(format!(
            "no shadow records in {shown} (records go there with [shadow] records = \"postgres\")"
        )));
    }
    let ops = read.ops;
    print!("{}", report::terminal(&ops));
    let per: Vec<String> = read.replicas.iter().map(|(r, n)| format!("{r} ({n})")).collect();
    println!("records from {} replica(s) in {shown}: {}", read.replicas.len(), per.join(", "));
    if read.bad > 0 {
        eprintln!("({} row(s) were not shadow records and were skipped)", read.bad);
    }
    if let Some(path) = html {
        std::fs::write(path, report::html(&ops, &[PathBuf::from(&shown)]))
            .map_err(|e| CliError::runtime(format!("{}: {e}", path.display())))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// A store URL's parameters and TLS files, checked before connecting: each problem named (a
/// parameter, a file), never a secret's value.
fn usable_store(url: &str) -> Result<(), CliError> {
    let shown = store::without_password(url);
    crate::journal::pg_url::check(url).map_err(|why| CliError::runtime(format!("{shown}: {why}")))?;
    match crate::journal::pg_url::unreadable_files(url).as_slice() {
        [] => Ok(()),
        missing => Err(CliError::runtime(format!("{shown}: {}", missing.join("; ")))),
    }
}

/// Arguments of `ficus replay`.
pub struct ReplayArgs {
    /// The capture file.
    pub capture: PathBuf,
    /// routes.toml.
    pub config: PathBuf,
    /// The upstream to replay against.
    pub against: String,
    /// Messages per second (none: as fast as replies come).
    pub rate: Option<f64>,
    /// Where to write comparison records (default: `replay.jsonl` beside the capture).
    pub records: Option<PathBuf>,
    /// Also write an HTML report.
    pub html: Option<PathBuf>,
}

/// `ficus replay`.
pub fn replay(args: ReplayArgs) -> Result<(), CliError> {
    let table = super::config_path::load(&args.config)?;
    let rt = runtime()?;
    let from = args.capture.to_str().filter(|c| store::is_store_url(c));
    if let Some(url) = from {
        usable_store(url)?;
    }
    let (captures, bad) = match from {
        Some(url) => rt.block_on(store::read_captures(url)),
        None => crate::replay::read_captures(&args.capture),
    }
    .map_err(CliError::runtime)?;
    // What the capture is called in messages and on the page (a store without its password).
    let source = from.map_or_else(|| args.capture.clone(), |url| PathBuf::from(store::without_password(url)));
    if !bad.is_empty() {
        eprintln!(
            "{} line(s) of {} are not capture records and were skipped (a last line cut short is a gateway \
             stopped mid-write):\n  {}",
            bad.len(),
            source.display(),
            bad.iter().take(3).cloned().collect::<Vec<_>>().join("\n  ")
        );
    }
    // Nothing to replay: say so, and leave an earlier replay's records as they are.
    if captures.is_empty() {
        return Err(CliError::runtime(format!(
            "no captured messages in {}: nothing was replayed (capture with `ficus route OP --capture PERCENT`)",
            source.display()
        )));
    }
    let out = match (&args.records, from) {
        (Some(r), _) => r.clone(),
        (None, Some(_)) => PathBuf::from("replay.jsonl"),
        (None, None) => args.capture.with_file_name("replay.jsonl"),
    };
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = out.file_name().and_then(|n| n.to_str()).unwrap_or("replay.jsonl");
    let recorder =
        Recorder::start(dir, name, u64::MAX, 1).map_err(|e| CliError::runtime(format!("{}: {e}", out.display())))?;
    let bar = std::io::stderr().is_terminal().then(|| indicatif::ProgressBar::new(captures.len() as u64));
    let key = crate::shadow::record::mask_key();
    let summary = rt
        .block_on(crate::replay::replay(
            &table,
            &captures,
            &args.against,
            args.rate,
            Some(&recorder),
            &key,
            |done, _| {
                if let Some(b) = &bar {
                    b.set_position(done as u64);
                }
            },
        ))
        .map_err(CliError::runtime)?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    recorder.close();
    let ops = report::build(&summary.records);
    let against_host = table.upstreams.get(&args.against).is_some_and(|u| u.upstream.is_bytes());
    let sides = replay_sides(&captures, &args.against, against_host);
    print!("{}", report::terminal_as(&ops, &sides));
    for (field, n) in &summary.lagged {
        println!(
            "replay lag: {field} moved by the time since the capture in {n} message(s): the captured reply was \
             stamped then, the replayed one now; not compared (a clock off by anything else is still a finding)"
        );
    }
    print_errors(&summary.records, &out);
    if !summary.damaged.is_empty() {
        println!("captured requests not replayed (damaged in the capture file, not the upstream's doing):");
        for (at, op, id, why) in summary.damaged.iter().take(ERRORS_SHOWN) {
            println!("  capture #{at:<5} {op:<10} message {:<12} {why}", id.as_deref().unwrap_or("-"));
        }
        if summary.damaged.len() > ERRORS_SHOWN {
            println!("  … {} more", summary.damaged.len() - ERRORS_SHOWN);
        }
    }
    if summary.writes_not_replayed > 0 {
        eprintln!(
            "{} captured write(s) not replayed: {} is a legacy upstream, and a write is never sent to the host \
             twice (replay writes against a new service, which gets them as dry runs)",
            summary.writes_not_replayed, args.against
        );
    }
    if summary.skipped > 0 {
        eprintln!(
            "{} capture(s) skipped: their operation has no response layout in {}",
            summary.skipped,
            args.config.display()
        );
    }
    eprintln!("records: {}", out.display());
    if let Some(path) = &args.html {
        std::fs::write(path, report::html_as(&ops, std::slice::from_ref(&source), &sides))
            .map_err(|e| CliError::runtime(e.to_string()))?;
        eprintln!("wrote {}", path.display());
    }
    // A replay with messages the upstream gave no comparable reply to is not a clean result.
    let errors = summary.records.iter().filter(|r| r.result == "error").count();
    let compared = summary.records.len() - errors;
    if errors > 0 || compared == 0 {
        return Err(CliError::runtime(format!(
            "{errors} of {} replayed message(s) got no comparable reply from {}, {compared} compared{}",
            summary.records.len(),
            args.against,
            if errors > 0 { " (reasons above)" } else { "" }
        )));
    }
    Ok(())
}

/// Replay's sides: the captured replies, by the upstream that answered each live, and the
/// replayed ones, by `--against`. Findings are differences between the two: against a new
/// service, its to fix; against the host (`against_host`), each is to explain.
fn replay_sides(captures: &[capture::CaptureRecord], against: &str, against_host: bool) -> report::Sides {
    let mut targets: Vec<&str> = captures.iter().map(|c| c.target.as_str()).collect();
    targets.sort_unstable();
    targets.dedup();
    let captured = format!("captured ({})", targets.join("+"));
    let replayed = format!("replayed ({against})");
    let primary_by_id =
        captures.iter().filter_map(|c| Some((c.id.clone()?, format!("captured ({})", c.target)))).collect();
    let findings = if against_host {
        format!(
            "findings — the host {against} now answers differently from the capture: explain each (the data \
             changed since, or a bug), never ignore"
        )
    } else {
        format!("findings — differences to fix on {against}, never to ignore")
    };
    report::Sides {
        legacy: captured.clone(),
        new: replayed.clone(),
        legacy_timed: false,
        primary: captured,
        shadow: replayed,
        primary_by_id,
        findings,
    }
}

/// Errors shown on the terminal; the rest are in the records file.
const ERRORS_SHOWN: usize = 10;

/// Prints each replayed message that failed (operation, message id, reason), the first
/// [`ERRORS_SHOWN`] of them, then how many more are in `file`.
fn print_errors(records: &[crate::shadow::record::ShadowRecord], file: &Path) {
    let errors: Vec<_> = records.iter().filter(|r| r.result == "error").collect();
    if errors.is_empty() {
        return;
    }
    println!("errors (the replayed upstream gave no comparable reply):");
    for r in errors.iter().take(ERRORS_SHOWN) {
        let reason = r.error.as_deref().unwrap_or("(no reason recorded)");
        println!("  {:<10} message {:<12} {reason}", r.op, r.id.as_deref().unwrap_or("-"));
    }
    if errors.len() > ERRORS_SHOWN {
        println!("  … {} more, see {}", errors.len() - ERRORS_SHOWN, file.display());
    }
}
