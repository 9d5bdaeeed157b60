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

use crate::route::RouteTable;
use crate::shadow::capture::{unhex, CaptureRecord};
use crate::shadow::mirror::{conclude_record, secs, Primary};
use crate::shadow::record::{Recorder, ShadowRecord};
use crate::shadow::stats::ShadowStats;
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
    let summary =
        ReplaySummary { stats: ShadowStats::default(), records: Vec::new(), skipped: 0, writes_not_replayed: 0 };
    let mut summary = summary;
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
        let request = unhex(&capture.request).map_err(|e| format!("capture {}: request: {e}", i + 1))?;
        let recorded = unhex(&capture.reply).map_err(|e| format!("capture {}: reply: {e}", i + 1))?;
        let started = Instant::now();
        let x = crate::gateway::Exchange {
            table,
            route,
            op: &capture.op,
            message: &request,
            id: capture.id.as_deref(),
            sent: None,
        };
        let result = crate::gateway::call(x, target, crate::upstream::Lane::Primary, dry_run).await;
        let other = match &result {
            Ok(bytes) => Ok((bytes.as_slice(), secs(started))),
            Err(e) => Err(e.to_string()),
        };
        // The captured reply plays the primary (it came from whoever served the channel) and is
        // always the reference: it sits in the records' legacy slot whoever answered it, so one
        // replay's records line up whatever mix of targets the capture spans (see the module doc).
        let primary =
            Primary { name: &capture.target, is_legacy: true, reply: &recorded, secs: 0.0, request: &request };
        let (record, outcome) =
            conclude_record(&capture.op, capture.id.clone(), cmp, against, primary, other, mask_key);
        summary.stats.record(&capture.op, &outcome);
        if let Some(r) = recorder {
            r.write(&record);
        }
        summary.records.push(record);
        progress(i + 1, captures.len());
    }
    Ok(summary)
}
