//! Replay of captured traffic (`ficus replay`): each captured request goes to another upstream
//! through the gateway's own call path ([`crate::gateway::call`]: the same translation and reply
//! correlation), and its reply is compared with the captured one exactly as the live shadow
//! does. It sits above the gateway; the capture format is [`crate::shadow::capture`].
//!
//! Writes follow the live shadow's rule: a captured write (an operation not `read_only`) is
//! never sent to a legacy (fixed-width) upstream — the host would post it a second time — and
//! goes to a JSON service only as a dry run (`Ficus-Shadow: dry-run`). Writes not replayed are
//! counted in [`ReplaySummary::writes_not_replayed`].
//!
//! In replay records the captured reply is the reference: it fills the `legacy` slot (`diffs[].legacy`,
//! `legacy_ms`, always 0: its latency was not captured) and the replayed reply the `new` slot,
//! whoever answered either; `primary` names the upstream that answered live (the capture's
//! `target`) and `shadow` the one replayed against. Reports call the sides by those names
//! ([`crate::shadow::report::Sides`]), never "legacy" for a reply the host did not give.
//!
//! Real capture files are read leniently ([`read_captures`]): a line cut short (the gateway
//! stopped mid-write) or damaged is skipped and counted, and so is a captured request that
//! cannot be read (its bytes damaged): neither is blamed on the replayed upstream. A clock field
//! that moved by exactly the time since the capture is the replay's own lag, not a difference
//! ([`lag`]). An upstream error is reported with its whole cause, and a message the circuit
//! breaker stopped names the failure that opened it.

pub mod lag;

use crate::reply::GatewayError;
use crate::route::RouteTable;
use crate::shadow::capture::{unhex, CaptureRecord};
use crate::shadow::mirror::{conclude_record, secs, Primary};
use crate::shadow::record::{Recorder, ShadowRecord};
use crate::shadow::stats::Outcome;
use crate::shadow::stats::ShadowStats;
use crate::upstream::UpstreamError;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// What a replay found.
pub struct ReplaySummary {
    /// Counters per operation, as `GET /shadow` shows them.
    pub stats: ShadowStats,
    /// Every record, in order.
    pub records: Vec<ShadowRecord>,
    /// Captures skipped (operation without a response layout in routes.toml).
    pub skipped: usize,
    /// Captured writes not replayed because `against` is a legacy upstream.
    pub writes_not_replayed: usize,
    /// Captured requests that could not be read (damaged bytes): position in the capture (from
    /// 1), operation, message id, and why. Not replayed, not counted against the upstream.
    pub damaged: Vec<(usize, String, Option<String>, String)>,
    /// Clock fields taken out of the comparison because they moved by the time since the
    /// capture (replay lag), with the number of messages each did so in.
    pub lagged: BTreeMap<String, u64>,
}

/// The capture records of a file, and the lines that are not one (`path:line: why`): a line
/// cut short by a gateway stopped mid-write, say. Only a file that cannot be read is an error.
pub fn read_captures(path: &Path) -> Result<(Vec<CaptureRecord>, Vec<String>), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    let (mut records, mut bad) = (Vec::new(), Vec::new());
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match serde_json::from_str::<CaptureRecord>(line) {
            Ok(r) => records.push(r),
            Err(e) => bad.push(format!("{}:{}: {e}", path.display(), i + 1)),
        }
    }
    Ok((records, bad))
}

/// An error with every cause below it (a connect error's "connection refused").
fn chain(e: &dyn std::error::Error) -> String {
    let mut why = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !why.contains(&next) {
            why = format!("{why}: {next}");
        }
        source = s.source();
    }
    why
}

/// True for an error about the captured request itself, not the upstream's answer.
fn request_unreadable(e: &GatewayError) -> bool {
    matches!(
        e,
        GatewayError::Frame(_) | GatewayError::Header(_) | GatewayError::Body(_) | GatewayError::TooLarge { .. }
    )
}

/// Replays `captures` against upstream `against`, at most `rate` messages a second.
/// `progress` is called after each message with (done, total).
pub async fn replay(
    table: &RouteTable,
    captures: &[CaptureRecord],
    against: &str,
    rate: Option<f64>,
    recorder: Option<&Recorder>,
    mask_key: &[u8],
    mut progress: impl FnMut(usize, usize),
) -> Result<ReplaySummary, String> {
    let target = table.upstreams.get(against).ok_or_else(|| format!("{against} is not an upstream in routes.toml"))?;
    let mut summary = ReplaySummary {
        stats: ShadowStats::default(),
        records: Vec::new(),
        skipped: 0,
        writes_not_replayed: 0,
        damaged: Vec::new(),
        lagged: BTreeMap::new(),
    };
    // The last real failure, named when the breaker then stops messages without sending them.
    let mut last_failure: Option<String> = None;
    let interval = rate.filter(|r| *r > 0.0).map(|r| Duration::from_secs_f64(1.0 / r));
    let start = Instant::now();
    for (i, capture) in captures.iter().enumerate() {
        if let Some(every) = interval {
            tokio::time::sleep_until((start + every * i as u32).into()).await;
        }
        let Some((route, cmp)) = table.routes.get(&capture.op).and_then(|r| Some((r, r.comparison.as_ref()?))) else {
            summary.skipped += 1;
            progress(i + 1, captures.len());
            continue;
        };
        // A write is never sent to the host twice; a new service gets it as a dry run.
        if !route.read_only && target.upstream.is_bytes() {
            summary.writes_not_replayed += 1;
            progress(i + 1, captures.len());
            continue;
        }
        let dry_run = !route.read_only;
        let damaged = |why: String| (i + 1, capture.op.clone(), capture.id.clone(), why);
        let (request, recorded) = match (unhex(&capture.request), unhex(&capture.reply)) {
            (Ok(request), Ok(reply)) => (request, reply),
            (Err(e), _) => {
                summary.damaged.push(damaged(format!("request is not hex: {e}")));
                progress(i + 1, captures.len());
                continue;
            }
            (_, Err(e)) => {
                summary.damaged.push(damaged(format!("reply is not hex: {e}")));
                progress(i + 1, captures.len());
                continue;
            }
        };
        let started = Instant::now();
        let x = crate::gateway::Exchange {
            table,
            route,
            op: &capture.op,
            message: &request,
            id: capture.id.as_deref(),
            channel: capture.channel.as_deref(),
            sent: None,
            json: None,
        };
        let result = crate::gateway::call(x, target, crate::upstream::Lane::Primary, dry_run).await;
        let other = match &result {
            Ok(bytes) => Ok((bytes.as_slice(), secs(started))),
            Err(e) if request_unreadable(e) => {
                summary.damaged.push(damaged(format!("captured request cannot be read: {}", chain(e))));
                progress(i + 1, captures.len());
                continue;
            }
            Err(GatewayError::Upstream(open @ UpstreamError::Open { .. })) => Err(match &last_failure {
                Some(cause) => format!("not sent: {open}; the failure that opened it: {cause}"),
                None => format!("not sent: {open}"),
            }),
            Err(e) => {
                let why = chain(e);
                last_failure = Some(why.clone());
                Err(why)
            }
        };
        // The captured reply plays the primary (it came from whoever served the channel) and is
        // always the reference: it sits in the records' legacy slot whoever answered it, so one
        // replay's records line up whatever mix of targets the capture spans (see the module doc).
        let primary = Primary {
            name: &capture.target,
            is_legacy: true,
            reply: &recorded,
            secs: 0.0,
            request: &request,
            channel: capture.channel.as_deref(),
        };
        let (mut record, mut outcome) =
            conclude_record(&capture.op, capture.id.clone(), cmp, against, primary, other, mask_key);
        let lag = record.time - capture.time;
        drop_lag(&mut record, &mut outcome, lag, &mut summary.lagged);
        summary.stats.record(&capture.op, &outcome);
        if let Some(r) = recorder {
            r.write(&record);
        }
        summary.records.push(record);
        progress(i + 1, captures.len());
    }
    Ok(summary)
}

/// Takes the clock differences that are replay lag out of a record and its outcome (a record
/// left with none is a match), counting them per field in `lagged`.
fn drop_lag(record: &mut ShadowRecord, outcome: &mut Outcome, lag: f64, lagged: &mut BTreeMap<String, u64>) {
    let Outcome::Compared { diffs, key, id, .. } = outcome else { return };
    let before = diffs.len();
    diffs.retain(|d| {
        let is_lag = lag::is_replay_lag(d, lag);
        if is_lag {
            *lagged.entry(d.path.clone()).or_default() += 1;
        }
        !is_lag
    });
    if diffs.len() == before {
        return;
    }
    record.diffs.retain(|d| !lag::is_replay_lag(d, lag));
    if diffs.is_empty() {
        (*key, *id) = (None, None);
        (record.key, record.result) = (None, "match".into());
    }
}
