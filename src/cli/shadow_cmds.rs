//! `ficus shadow report` and `ficus replay`: reading comparison records, and comparing
//! recorded traffic against another upstream.

use super::CliError;
use crate::shadow::{capture, record::Recorder, report};
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
    let table = crate::config::load(&args.config, None, 1).map_err(|e| CliError::config(e.to_string()))?;
    let captures = capture::read(&args.capture).map_err(CliError::runtime)?;
    let out = args.records.clone().unwrap_or_else(|| args.capture.with_file_name("replay.jsonl"));
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = out.file_name().and_then(|n| n.to_str()).unwrap_or("replay.jsonl");
    let recorder =
        Recorder::start(dir, name, u64::MAX, 1).map_err(|e| CliError::runtime(format!("{}: {e}", out.display())))?;
    let bar = std::io::stderr().is_terminal().then(|| indicatif::ProgressBar::new(captures.len() as u64));
    let rt = tokio::runtime::Runtime::new().map_err(|e| CliError::runtime(e.to_string()))?;
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
    print!("{}", report::terminal(&ops));
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
        std::fs::write(path, report::html(&ops, std::slice::from_ref(&args.capture)))
            .map_err(|e| CliError::runtime(e.to_string()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
