//! The live mirror: after the primary has answered, a copy of the message goes to the shadow
//! side in a spawned task, bounded by a semaphore and its own deadline; both replies are
//! decoded with the response copybook, compared, counted and recorded.

use super::compare::{compare, FieldDiff};
use super::record::{mask_diffs, Recorder, ShadowRecord};
use super::stats::{Outcome, ShadowStats};
use super::store::{Kind, Sink, StoreWriter};
use super::Comparison;
use crate::codec::Codec;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::debug;

/// The side that answered the channel: its name, whether it is the legacy side, its reply
/// and how long it took (seconds).
#[derive(Clone, Copy)]
pub struct Primary<'a> {
    /// Upstream name.
    pub name: &'a str,
    /// It is the legacy (fixed-width bytes) side.
    pub is_legacy: bool,
    /// Its reply.
    pub reply: &'a [u8],
    /// Its latency in seconds.
    pub secs: f64,
    /// The request both sides answered (to tell a repeated request from a new one).
    pub request: &'a [u8],
    /// The channel the request came in on, if known.
    pub channel: Option<&'a str>,
}

/// What [`ShadowState`] is started with (routes.toml's `[shadow]`).
#[derive(Clone, Copy, Debug)]
pub struct ShadowSettings {
    /// Most shadows in flight at once; beyond it they are dropped and counted.
    pub max_in_flight: usize,
    /// Size at which a record file is rotated, in bytes.
    pub max_record_bytes: u64,
    /// Rotated files kept.
    pub keep_files: usize,
}

/// Shadow state that outlives route tables: the in-flight cap, counters and records.
pub struct ShadowState {
    permits: Arc<Semaphore>,
    /// Per-operation counters.
    pub stats: ShadowStats,
    /// Comparison records, when a directory (or the store) is configured.
    pub recorder: Option<Sink>,
    /// Captured traffic for replay.
    pub captures: Option<Sink>,
    mask_key: Vec<u8>,
}

impl ShadowState {
    /// State for `table`, recording under `dir` (none: count only).
    pub fn new(s: &ShadowSettings, dir: Option<&Path>) -> ShadowState {
        // A directory that cannot be made (a read-only mount) leaves records off: said, not silent.
        let start = |name: &str| {
            let d = dir?;
            match Recorder::start(d, name, s.max_record_bytes, s.keep_files) {
                Ok(r) => Some(Sink::File(r)),
                Err(e) => {
                    tracing::error!(file = %d.join(name).display(), error = %e, "shadow records not kept: [shadow] records is not writable");
                    None
                }
            }
        };
        ShadowState {
            permits: Arc::new(Semaphore::new(s.max_in_flight.max(1))),
            stats: ShadowStats::default(),
            recorder: start("shadow.jsonl"),
            captures: start("capture.jsonl"),
            mask_key: super::record::mask_key(),
        }
    }

    /// State for `table`, recording comparisons and captures in the PostgreSQL store at `url`
    /// (`[shadow] records = "postgres"`), kept for `retention`; `shown` names it without a password. A writer that
    /// cannot start (no thread) leaves the state counting only, and says so.
    pub fn to_store(s: &ShadowSettings, url: &str, shown: &str, retention: std::time::Duration) -> ShadowState {
        let mut state = ShadowState::new(s, None);
        match StoreWriter::start(url, shown, retention) {
            Ok(w) => {
                state.recorder = Some(Sink::Store(w.clone(), Kind::Comparison));
                state.captures = Some(Sink::Store(w, Kind::Capture));
            }
            Err(e) => tracing::error!(store = %shown, error = %e, "records writer did not start: records are not kept"),
        }
        state
    }

    /// Waits (at most `wait`) for records and captures on their way to the store to be written:
    /// called when the gateway stops. Files need nothing: their writer is milliseconds behind.
    pub async fn flush(&self, wait: std::time::Duration) {
        if let Some(w) = self.store() {
            w.flush(wait).await;
        }
    }

    /// The store's writer, when records go to the store.
    pub fn store(&self) -> Option<&std::sync::Arc<StoreWriter>> {
        self.recorder.as_ref().and_then(Sink::store)
    }

    /// A permit for one more shadow, or `None` (dropped and counted) at the cap.
    pub fn admit(&self, op: &str) -> Option<OwnedSemaphorePermit> {
        let permit = self.permits.clone().try_acquire_owned().ok();
        if permit.is_none() {
            self.stats.record(op, &Outcome::Dropped);
            metrics::counter!("ficus_shadow_total", "op" => op.to_string(), "result" => "dropped").increment(1);
        }
        permit
    }

    /// Counts a shadow not sent because its upstream's circuit breaker is open.
    pub fn skip(&self, op: &str, shadow_name: &str) {
        self.stats.record(op, &Outcome::ShadowError(format!("{shadow_name}: circuit open")));
        metrics::counter!("ficus_shadow_total", "op" => op.to_string(), "result" => "circuit_open").increment(1);
    }

    /// Compares a primary and a shadow reply (or the shadow's failure) and records the outcome.
    pub fn conclude(
        &self,
        op: &str,
        id: Option<String>,
        cmp: &Comparison,
        shadow_name: &str,
        primary: Primary<'_>,
        other: Result<(&[u8], f64), String>,
    ) {
        let record = conclude_record(op, id, cmp, shadow_name, primary, other, &self.mask_key);
        self.stats.record(op, &record.1);
        metrics::counter!("ficus_shadow_total", "op" => op.to_string(), "result" => record.0.result.clone())
            .increment(1);
        for d in &record.0.diffs {
            let field = super::stats::generalise(&d.path);
            metrics::counter!("ficus_shadow_field_mismatches_total", "op" => op.to_string(), "field" => field)
                .increment(1);
        }
        debug!(result = %record.0.result, diffs = record.0.diffs.len(), "shadow compared");
        if let Some(r) = &self.recorder {
            r.write(&record.0);
        }
    }

    /// The masking key records use.
    pub fn mask_key(&self) -> &[u8] {
        &self.mask_key
    }
}

/// Compares a primary reply with the other side's (or its failure): the record and the outcome
/// for the counters, both with masked values (so `GET /shadow` shows no more than records do).
pub fn conclude_record(
    op: &str,
    id: Option<String>,
    cmp: &Comparison,
    shadow_name: &str,
    primary: Primary<'_>,
    other: Result<(&[u8], f64), String>,
    mask_key: &[u8],
) -> (ShadowRecord, Outcome) {
    let Primary {
        name: primary_name,
        is_legacy: primary_is_legacy,
        reply: primary_reply,
        secs: primary_secs,
        request,
        channel,
    } = primary;
    let mut record = ShadowRecord {
        time: now_secs(),
        op: op.to_string(),
        id,
        channel: channel.map(String::from),
        result: String::new(),
        primary: primary_name.to_string(),
        shadow: shadow_name.to_string(),
        legacy_ms: None,
        new_ms: None,
        diffs: Vec::new(),
        error: None,
        key: None,
        primary_is_legacy: None,
    };
    let outcome = match other {
        Err(error) => {
            record.error = Some(error.clone());
            Outcome::ShadowError(error)
        }
        Ok((shadow_reply, shadow_secs)) => {
            let (legacy, new) =
                if primary_is_legacy { (primary_reply, shadow_reply) } else { (shadow_reply, primary_reply) };
            let (legacy_secs, new_secs) =
                if primary_is_legacy { (primary_secs, shadow_secs) } else { (shadow_secs, primary_secs) };
            record.legacy_ms = Some(legacy_secs * 1000.0);
            record.new_ms = Some(new_secs * 1000.0);
            record.primary_is_legacy = Some(primary_is_legacy);
            let mut diffs = compare_replies(cmp, legacy, new);
            // Only a mismatch needs to know which request it answered (a match costs nothing more).
            let (key, id) = if diffs.is_empty() {
                (None, None)
            } else {
                mask_diffs(&mut diffs, &cmp.mask, mask_key);
                let key = request_key(mask_key, op, request.get(cmp.header.max_size()..).unwrap_or_default());
                record.key = Some(format!("{key:016x}"));
                record.diffs = diffs.clone();
                (Some(key), record.id.clone())
            };
            Outcome::Compared { diffs, primary_secs, shadow_secs, primary_is_legacy, key, id }
        }
    };
    record.result = match &outcome {
        Outcome::Compared { diffs, .. } if diffs.is_empty() => "match",
        Outcome::Compared { .. } => "mismatch",
        _ => "error",
    }
    .to_string();
    (record, outcome)
}

/// The key of a request: a keyed hash (HMAC-SHA256 with the masking key, first 8 bytes) of the
/// operation and the request body after the common header — the header carries message ids
/// and timestamps that differ even when the same request is asked again. Keyed, so records
/// that carry it do not reveal the request (an account number is easily guessed from a plain
/// hash).
pub fn request_key(mask_key: &[u8], op: &str, body: &[u8]) -> u64 {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(mask_key) else { return 0 };
    mac.update(op.as_bytes());
    mac.update(&[0]);
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// Seconds since the Unix epoch, with milliseconds.
pub fn now_secs() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| (d.as_millis() as f64) / 1000.0)
}

/// Decodes a reply into `{"header": .., "response": ..}` leniently (invalid fields are null).
/// The differences between two replies (see [`compare`]). A part — header or body — whose
/// bytes are the same on both sides decodes to the same values, so it is not decoded at all:
/// a healthy shadow usually differs in a header field or two (a timestamp) and nowhere else.
pub fn compare_replies(cmp: &Comparison, legacy: &[u8], new: &[u8]) -> Vec<FieldDiff> {
    if legacy == new {
        return Vec::new();
    }
    let h = cmp.header.max_size();
    let ((lh, lb), (nh, nb)) = (legacy.split_at(h.min(legacy.len())), new.split_at(h.min(new.len())));
    let part = |codec: &Codec, l: &[u8], n: &[u8], whole: bool| -> (Value, Value) {
        match (l == n || only_ignored_differ(codec, l, n, &cmp.rules), whole) {
            (true, _) => (Value::Null, Value::Null),
            // The header codec reads the reply from its start (as `decode` gives it).
            (false, true) => (decode_one(codec, legacy), decode_one(codec, new)),
            (false, false) => {
                let one = |b: &[u8]| if b.is_empty() { Value::Null } else { decode_one(codec, b) };
                (one(l), one(n))
            }
        }
    };
    let (lh, nh) = part(&cmp.header, lh, nh, true);
    let (lb, nb) = part(&cmp.response, lb, nb, false);
    compare(&json!({ "header": lh, "response": lb }), &json!({ "header": nh, "response": nb }), &cmp.rules)
}

/// True when `a` and `b` (one part of each reply, the same length) differ only in fields the
/// rules ignore, so decoding them would find no difference: for a flat layout (elementary
/// fields and FILLER at the top level, no REDEFINES, tables or DEPENDING ON), field by field
/// on the bytes. Anything else answers false and is decoded.
fn only_ignored_differ(codec: &Codec, a: &[u8], b: &[u8], rules: &super::compare::Rules) -> bool {
    use crate::codec::ops::Op;
    if a.len() != b.len() || a.len() < codec.max_size() || rules.ignore.is_empty() {
        return false;
    }
    codec.plan().ops.iter().all(|op| match op {
        Op::Leaf { leaf, alt: None } => {
            let span = leaf.offset as usize..(leaf.offset + leaf.len) as usize;
            a[span.clone()] == b[span] || super::paths::any_match(&rules.ignore, &leaf.name)
        }
        // FILLER is neither decoded nor compared.
        Op::Fill { .. } => true,
        _ => false,
    })
}

/// A reply as the comparison reads it: `{"header": {...}, "response": {...} | null}`.
pub fn decode(cmp: &Comparison, reply: &[u8]) -> Value {
    let header = decode_one(&cmp.header, reply);
    let body = reply.get(cmp.header.max_size()..).unwrap_or_default();
    let response = if body.is_empty() { Value::Null } else { decode_one(&cmp.response, body) };
    json!({ "header": header, "response": response })
}

fn decode_one(codec: &Codec, bytes: &[u8]) -> Value {
    codec.decode_json(bytes).map(|(v, _)| v).unwrap_or_else(|e| json!({ "(undecodable)": e.to_string() }))
}

/// Seconds since `started`.
pub fn secs(started: Instant) -> f64 {
    started.elapsed().as_secs_f64()
}
