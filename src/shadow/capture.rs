//! Captured traffic and its replay.
//!
//! File format (`capture.jsonl`, JSON Lines, rotated like shadow records): one object per
//! captured message — `time` (Unix seconds), `op`, `id` (message id or null), `target` (who
//! answered), `generation`, and `request` / `reply`, the exact bytes as hex (upper case, no
//! separators). `ficus replay` sends each request to another upstream and compares its reply
//! with the captured one exactly as the live shadow does.

use super::mirror::{conclude_record, secs, Primary};
use super::record::{Recorder, ShadowRecord};
use super::stats::ShadowStats;
use crate::route::RouteTable;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::{Duration, Instant};

/// One captured exchange.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CaptureRecord {
    /// Unix seconds.
    pub time: f64,
    /// The operation.
    pub op: String,
    /// The message id.
    pub id: Option<String>,
    /// Who answered.
    pub target: String,
    /// The route table's generation.
    pub generation: u64,
    /// Request bytes, hex.
    pub request: String,
    /// Reply bytes, hex.
    pub reply: String,
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Parses upper- or lower-case hex.
pub fn unhex(s: &str) -> Result<Vec<u8>, String> {
    if s.len() % 2 != 0 {
        return Err("odd number of hex digits".into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| format!("bad hex at {i}: {e}")))
        .collect()
}

impl CaptureRecord {
    /// A record of one exchange, stamped now.
    pub fn new(
        op: &str,
        id: Option<&str>,
        target: &str,
        generation: u64,
        request: &[u8],
        reply: &[u8],
    ) -> CaptureRecord {
        CaptureRecord {
            time: super::mirror::now_secs(),
            op: op.into(),
            id: id.map(String::from),
            target: target.into(),
            generation,
            request: hex(request),
            reply: hex(reply),
        }
    }
}

/// Reads a capture file (every line must parse; the error names the line).
pub fn read(path: &Path) -> Result<Vec<CaptureRecord>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("{}:{}: {e}", path.display(), i + 1)))
        .collect()
}

/// What a replay found.
pub struct ReplaySummary {
    /// Counters per operation, as `GET /shadow` shows them.
    pub stats: ShadowStats,
    /// Every record, in order.
    pub records: Vec<ShadowRecord>,
    /// Captures skipped (operation without a response layout in routes.toml).
    pub skipped: usize,
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
    let summary = ReplaySummary { stats: ShadowStats::default(), records: Vec::new(), skipped: 0 };
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
        let request = unhex(&capture.request).map_err(|e| format!("capture {}: request: {e}", i + 1))?;
        let recorded = unhex(&capture.reply).map_err(|e| format!("capture {}: reply: {e}", i + 1))?;
        let started = Instant::now();
        let x =
            crate::gateway::Exchange { table, route, op: &capture.op, message: &request, id: capture.id.as_deref() };
        let result = crate::gateway::call(x, target, crate::upstream::Lane::Primary, false).await;
        let other = match &result {
            Ok(bytes) => Ok((bytes.as_slice(), secs(started))),
            Err(e) => Err(e.to_string()),
        };
        // The captured reply plays the primary: it came from whoever served the channel.
        let recorded_is_legacy = table.upstreams.get(&capture.target).is_none_or(|u| u.upstream.is_bytes());
        let primary = Primary {
            name: &capture.target,
            is_legacy: recorded_is_legacy,
            reply: &recorded,
            secs: 0.0,
            request: &request,
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(unhex(&hex(&bytes)).unwrap(), bytes);
        assert_eq!(hex(&[0x0E, 0xF1]), "0EF1");
        assert!(unhex("ABC").is_err() && unhex("ZZ").is_err());
    }
}
