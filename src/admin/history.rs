//! The dashboard's history, kept in memory: per operation, the last hour at one-second
//! resolution — messages/s per side (legacy / new service), errors, p99 per side and the
//! shadow match rate — for `GET /history`.
//!
//! A sampler task wakes once a second, reads the gateway's cumulative tallies
//! ([`crate::route::tally`]) and the shadow counters, and writes the deltas into a ring of
//! [`SLOTS`] slots per operation (p99 from the second's histogram delta). The message path
//! only adds to the tallies; nothing here runs per message.
//!
//! Memory is bounded: [`SLOTS`] × 40 bytes (144 KB) of ring plus 1 KB of last-seen counts per
//! operation that has had traffic, for at most [`crate::route::tally::MAX_OPS`] operations
//! (36 MB in the worst case; a gateway with 20 routes keeps under 3 MB). Like the metrics, the
//! history is per process and starts empty at every start.

use crate::route::tally::{p99_micros, OpTally, Tallies, BUCKETS};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

/// Seconds of history kept per operation.
pub const SLOTS: usize = 3600;

/// One second of one operation.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Slot {
    /// The second (Unix time) this slot holds; a slot whose `sec` is not the one asked for is
    /// empty (never sampled, or overwritten an hour later).
    pub sec: u64,
    /// Messages per side ([legacy, new]).
    pub messages: [u32; 2],
    /// Error replies per side.
    pub errors: [u32; 2],
    /// p99 per side in microseconds (0: no message).
    pub p99_us: [f32; 2],
    /// Shadow comparisons concluded.
    pub compared: u32,
    /// Of which matched.
    pub matched: u32,
}

/// A ring of [`SLOTS`] seconds.
pub struct Ring {
    slots: Box<[Slot]>,
}

impl Default for Ring {
    fn default() -> Self {
        Ring { slots: vec![Slot::default(); SLOTS].into_boxed_slice() }
    }
}

impl Ring {
    /// Stores `slot` at its second; a slot already there for the same second is added to (a
    /// sampler that woke twice in one second).
    pub fn put(&mut self, slot: Slot) {
        let at = &mut self.slots[(slot.sec % SLOTS as u64) as usize];
        if at.sec == slot.sec {
            for s in 0..2 {
                at.messages[s] += slot.messages[s];
                at.errors[s] += slot.errors[s];
                at.p99_us[s] = at.p99_us[s].max(slot.p99_us[s]);
            }
            at.compared += slot.compared;
            at.matched += slot.matched;
        } else {
            *at = slot;
        }
    }

    /// The slot of second `sec`, if it was sampled and is still kept.
    pub fn get(&self, sec: u64) -> Option<&Slot> {
        let at = &self.slots[(sec % SLOTS as u64) as usize];
        (at.sec == sec && sec != 0).then_some(at)
    }
}

/// Cumulative counts as last read, to take the next delta from.
#[derive(Clone)]
struct Seen {
    messages: [u64; 2],
    errors: [u64; 2],
    buckets: [[u64; BUCKETS]; 2],
    compared: u64,
    matched: u64,
}

impl Default for Seen {
    fn default() -> Self {
        Seen { messages: [0; 2], errors: [0; 2], buckets: [[0; BUCKETS]; 2], compared: 0, matched: 0 }
    }
}

fn delta(now: u64, before: u64) -> u32 {
    u32::try_from(now.saturating_sub(before)).unwrap_or(u32::MAX)
}

impl Seen {
    /// Reads `tally` (and the shadow's cumulative counts), returning the slot of the change
    /// since the last read.
    fn advance(&mut self, sec: u64, tally: &OpTally, shadow: (u64, u64)) -> Slot {
        let mut slot = Slot { sec, ..Slot::default() };
        for (s, side) in tally.sides.iter().enumerate() {
            let (m, e) = (side.messages.load(Ordering::Relaxed), side.errors.load(Ordering::Relaxed));
            slot.messages[s] = delta(m, self.messages[s]);
            slot.errors[s] = delta(e, self.errors[s]);
            (self.messages[s], self.errors[s]) = (m, e);
            let mut second = [0u64; BUCKETS];
            for (i, b) in side.buckets.iter().enumerate() {
                let n = b.load(Ordering::Relaxed);
                second[i] = n.saturating_sub(self.buckets[s][i]);
                self.buckets[s][i] = n;
            }
            slot.p99_us[s] = p99_micros(&second).unwrap_or(0.0) as f32;
        }
        slot.compared = delta(shadow.0, self.compared);
        slot.matched = delta(shadow.1, self.matched);
        (self.compared, self.matched) = shadow;
        slot
    }
}

struct OpHistory {
    tally: Arc<OpTally>,
    seen: Seen,
    ring: Ring,
}

/// Every operation's ring, fed from the gateway's tallies.
pub struct History {
    tallies: Arc<Tallies>,
    ops: Mutex<HashMap<String, OpHistory>>,
}

impl History {
    /// An empty history over `tallies`.
    pub fn new(tallies: Arc<Tallies>) -> History {
        History { tallies, ops: Mutex::new(HashMap::new()) }
    }

    /// Takes one second's deltas: every tallied operation's, with `shadow` giving cumulative
    /// (compared, matched) per operation.
    pub fn sample(&self, sec: u64, shadow: &[(String, u64, u64)]) {
        let all = self.tallies.all();
        let mut ops = self.ops.lock().unwrap_or_else(|p| p.into_inner());
        for (op, tally) in all {
            ops.entry(op).or_insert_with(|| OpHistory { tally, seen: Seen::default(), ring: Ring::default() });
        }
        for (op, h) in ops.iter_mut() {
            let counts =
                shadow.iter().find(|(o, ..)| o == op).map_or((h.seen.compared, h.seen.matched), |(_, c, m)| (*c, *m));
            let slot = h.seen.advance(sec, &h.tally, counts);
            h.ring.put(slot);
        }
    }

    /// Messages per side ([legacy, new]) of every operation over the last `seconds` up to `now`.
    pub fn totals(&self, seconds: u64, now: u64) -> [u64; 2] {
        let ops = self.ops.lock().unwrap_or_else(|p| p.into_inner());
        let mut sum = [0u64; 2];
        for h in ops.values() {
            for t in now.saturating_sub(seconds.saturating_sub(1))..=now {
                if let Some(s) = h.ring.get(t) {
                    sum[0] += u64::from(s.messages[0]);
                    sum[1] += u64::from(s.messages[1]);
                }
            }
        }
        sum
    }

    /// Whether `op` has had traffic since the gateway started.
    pub fn has(&self, op: &str) -> bool {
        self.ops.lock().unwrap_or_else(|p| p.into_inner()).contains_key(op)
    }

    /// The last `seconds` (at most [`SLOTS`]) seconds up to `now` of `op` as JSON columns:
    /// `times` and one array per series, `null` for a second not sampled (all of them for an
    /// operation without traffic).
    pub fn series(&self, op: &str, seconds: usize, now: u64) -> Value {
        let ops = self.ops.lock().unwrap_or_else(|p| p.into_inner());
        let ring = ops.get(op).map(|h| &h.ring);
        let n = seconds.clamp(1, SLOTS) as u64;
        let times: Vec<u64> = (now + 1 - n..=now).collect();
        let slots: Vec<Option<&Slot>> = times.iter().map(|&t| ring.and_then(|r| r.get(t))).collect();
        let col =
            |f: &dyn Fn(&Slot) -> Value| -> Vec<Value> { slots.iter().map(|s| s.map_or(Value::Null, f)).collect() };
        let p99 = |side: usize| {
            col(&move |s: &Slot| {
                if s.messages[side] > 0 {
                    json!(f64::from(s.p99_us[side]) / 1000.0)
                } else {
                    Value::Null
                }
            })
        };
        json!({
            "times": times,
            "series": {
                "legacy_per_s": col(&|s| json!(s.messages[0])),
                "new_per_s": col(&|s| json!(s.messages[1])),
                "errors_per_s": col(&|s| json!(s.errors[0] + s.errors[1])),
                "error_rate": col(&|s| {
                    let m = s.messages[0] + s.messages[1];
                    if m > 0 { json!(f64::from(s.errors[0] + s.errors[1]) / f64::from(m)) } else { Value::Null }
                }),
                "legacy_p99_ms": p99(0),
                "new_p99_ms": p99(1),
                "shadow_compared_per_s": col(&|s| json!(s.compared)),
                "shadow_match_rate": col(&|s| {
                    if s.compared > 0 { json!(f64::from(s.matched) / f64::from(s.compared)) } else { Value::Null }
                }),
            },
        })
    }
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Samples `gateway` into `history` once a second, just after each second turns, until
/// `shutdown` fires.
pub async fn run_sampler(
    history: Arc<History>,
    gateway: Arc<crate::gateway::Gateway>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        // Wake 5 ms into the next second, so each sample is that second's.
        let wait = std::time::Duration::from_millis(1005 - u64::from(now.subsec_millis()));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
        let shadow = gateway.shadow.stats.totals();
        // The second that just ended.
        history.sample(now_secs().saturating_sub(1), &shadow);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::tally::Side;

    #[test]
    fn a_ring_keeps_an_hour_and_forgets_what_is_older() {
        let mut r = Ring::default();
        r.put(Slot { sec: 1000, messages: [3, 0], ..Slot::default() });
        r.put(Slot { sec: 1000, messages: [1, 2], ..Slot::default() });
        assert_eq!(r.get(1000).unwrap().messages, [4, 2], "a second sampled twice adds up");
        assert!(r.get(999).is_none(), "never sampled");
        r.put(Slot { sec: 1000 + SLOTS as u64, messages: [7, 0], ..Slot::default() });
        assert!(r.get(1000).is_none(), "an hour later the slot is reused");
        assert_eq!(r.get(1000 + SLOTS as u64).unwrap().messages, [7, 0]);
    }

    #[test]
    fn samples_are_deltas_per_second_with_p99_and_match_rate() {
        let tallies = Arc::new(Tallies::default());
        let h = History::new(tallies.clone());
        let t = tallies.get("ACCTINQ").unwrap();
        for _ in 0..99 {
            t.record(Side::Legacy, false, 100);
        }
        t.record(Side::Legacy, true, 50_000);
        h.sample(5000, &[("ACCTINQ".into(), 10, 9)]);
        t.record(Side::New, false, 2_000);
        h.sample(5001, &[("ACCTINQ".into(), 12, 11)]);
        let v = h.series("ACCTINQ", 3, 5001);
        assert_eq!(v["times"], json!([4999, 5000, 5001]));
        let s = &v["series"];
        assert_eq!(s["legacy_per_s"], json!([null, 100, 0]));
        assert_eq!(s["new_per_s"], json!([null, 0, 1]));
        assert_eq!(s["error_rate"], json!([null, 0.01, 0.0]));
        assert_eq!(s["shadow_match_rate"], json!([null, 0.9, 1.0]));
        let p99 = s["legacy_p99_ms"][1].as_f64().unwrap();
        assert!((0.08..0.13).contains(&p99), "the 99th of 100 is a 100 µs one: {p99}");
        assert_eq!(s["legacy_p99_ms"][2], Value::Null, "no legacy message that second");
        assert!(!h.has("NOSUCH"));
        assert_eq!(h.series("NOSUCH", 2, 5001)["series"]["new_per_s"], json!([null, null]));
    }
}
