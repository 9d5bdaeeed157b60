//! Cumulative per-operation tallies for the dashboard's history: messages and errors per side
//! (legacy / new service) and a fixed log-bucket latency histogram per side, all relaxed
//! atomics. A message adds to them through a handle its route already holds (see
//! [`super::counters::RouteCounters::tally`]): two or three relaxed increments, no lock, no
//! allocation, no lookup by name. A sampler elsewhere reads them once a second and keeps the
//! deltas; this module keeps no history and does no I/O.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Latency buckets per side: half-powers of two of microseconds, from under 2 µs up to
/// 2³² µs (about 72 minutes; the last bucket takes everything longer).
pub const BUCKETS: usize = 64;

/// Most operations tallied; messages of further ones are not kept in the history (each table
/// has a bounded number of routes, plus `unknown`, so this is only reached across many reloads
/// that add and remove operations).
pub const MAX_OPS: usize = 256;

/// Which side served a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The legacy host (bytes passed through).
    Legacy = 0,
    /// A new service (JSON).
    New = 1,
}

/// One side's cumulative counts.
pub struct SideTally {
    /// Messages answered (with or without error).
    pub messages: AtomicU64,
    /// Messages answered with an error reply.
    pub errors: AtomicU64,
    /// Latency histogram: [`bucket`] of the message's microseconds.
    pub buckets: [AtomicU64; BUCKETS],
}

impl Default for SideTally {
    fn default() -> Self {
        SideTally {
            messages: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

/// One operation's cumulative counts, both sides.
#[derive(Default)]
pub struct OpTally {
    /// Indexed by [`Side`].
    pub sides: [SideTally; 2],
}

impl OpTally {
    /// Counts one message: two relaxed increments, three on an error.
    #[inline]
    pub fn record(&self, side: Side, error: bool, micros: u64) {
        let s = &self.sides[side as usize];
        s.messages.fetch_add(1, Ordering::Relaxed);
        if error {
            s.errors.fetch_add(1, Ordering::Relaxed);
        }
        s.buckets[bucket(micros)].fetch_add(1, Ordering::Relaxed);
    }
}

impl OpTally {
    /// Counts a message dropped before its reply (its channel went away) as an error, without
    /// a latency: it had none.
    pub fn record_cancelled(&self, side: Side) {
        let s = &self.sides[side as usize];
        s.messages.fetch_add(1, Ordering::Relaxed);
        s.errors.fetch_add(1, Ordering::Relaxed);
    }
}

/// The latency bucket of `micros`: 0 holds 0–1 µs; from 2 µs on, each power of two is split
/// in two halves (a bucket's upper bound is at most 1.5 × its lower bound).
#[inline]
pub fn bucket(micros: u64) -> usize {
    if micros < 2 {
        return 0;
    }
    let log2 = 63 - micros.leading_zeros() as usize;
    let half = ((micros >> (log2 - 1)) & 1) as usize;
    (2 * log2 + half - 1).min(BUCKETS - 1)
}

/// The lowest microseconds of bucket `i` (see [`bucket`]).
pub fn bucket_lower(i: usize) -> u64 {
    if i == 0 {
        return 0;
    }
    let (k, half) = (i.div_ceil(2), (i + 1) % 2);
    (1u64 << k) + ((half as u64) << (k - 1))
}

/// The microseconds a bucket stands for: the middle of its range.
pub fn bucket_middle(i: usize) -> f64 {
    (bucket_lower(i) as f64 + bucket_lower(i + 1) as f64) / 2.0
}

/// The p99 (nearest rank) of the samples counted in `counts`, as the middle of the bucket
/// holding it, in microseconds; `None` without samples.
pub fn p99_micros(counts: &[u64; BUCKETS]) -> Option<f64> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = (total * 99).div_ceil(100);
    let mut seen = 0;
    for (i, &n) in counts.iter().enumerate() {
        seen += n;
        if seen >= rank {
            return Some(bucket_middle(i));
        }
    }
    Some(bucket_middle(BUCKETS - 1))
}

/// Every operation's tally, by name: outlives route tables (a reload's routes get the same
/// tallies). Looked up once per operation per table, never per message.
#[derive(Default)]
pub struct Tallies {
    ops: Mutex<HashMap<String, Arc<OpTally>>>,
}

impl Tallies {
    /// `op`'s tally, made now if new; `None` past [`MAX_OPS`].
    pub fn get(&self, op: &str) -> Option<Arc<OpTally>> {
        let mut ops = self.ops.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = ops.get(op) {
            return Some(t.clone());
        }
        if ops.len() >= MAX_OPS {
            tracing::warn!(op, max = MAX_OPS, "history keeps no more operations");
            return None;
        }
        let t = Arc::new(OpTally::default());
        ops.insert(op.to_string(), t.clone());
        Some(t)
    }

    /// Every operation tallied so far, by name.
    pub fn all(&self) -> Vec<(String, Arc<OpTally>)> {
        let ops = self.ops.lock().unwrap_or_else(|p| p.into_inner());
        ops.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn buckets_are_contiguous_and_in_order() {
        assert_eq!((bucket(0), bucket(1), bucket(2), bucket(3), bucket(4), bucket(6)), (0, 0, 1, 2, 3, 4));
        for i in 0..BUCKETS - 1 {
            let lo = bucket_lower(i);
            assert_eq!(bucket(lo), i, "lower bound of {i}");
            assert_eq!(bucket(bucket_lower(i + 1) - 1), i, "last value of {i}");
            assert!(bucket_lower(i + 1) as f64 <= (lo.max(1) as f64) * 2.0);
        }
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn no_samples_no_p99() {
        assert_eq!(p99_micros(&[0; BUCKETS]), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 512,
            rng_seed: proptest::test_runner::RngSeed::Fixed(18),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]
        /// The p99 read from the buckets is within one bucket of the exact (nearest-rank) p99.
        #[test]
        fn p99_from_buckets_is_within_one_bucket(samples in prop::collection::vec(
            prop_oneof![0u64..2_000, 2_000u64..200_000, 200_000u64..30_000_000], 1..400)) {
            let mut counts = [0u64; BUCKETS];
            for &s in &samples {
                counts[bucket(s)] += 1;
            }
            let mut sorted = samples.clone();
            sorted.sort_unstable();
            let rank = (sorted.len() * 99).div_ceil(100);
            let exact = sorted[rank - 1];
            let got = p99_micros(&counts).unwrap();
            let (a, b) = (bucket(got as u64) as i64, bucket(exact) as i64);
            prop_assert!((a - b).abs() <= 1, "p99 {got} µs (bucket {a}) vs exact {exact} µs (bucket {b})");
        }
    }

    #[test]
    fn a_tally_counts_by_side() {
        let t = OpTally::default();
        t.record(Side::New, false, 1500);
        t.record(Side::New, true, 10);
        t.record(Side::Legacy, false, 3);
        let n = &t.sides[Side::New as usize];
        assert_eq!((n.messages.load(Ordering::Relaxed), n.errors.load(Ordering::Relaxed)), (2, 1));
        assert_eq!(t.sides[0].buckets[bucket(3)].load(Ordering::Relaxed), 1);
        let all = Tallies::default();
        let a = all.get("ACCTINQ").unwrap();
        assert!(Arc::ptr_eq(&a, &all.get("ACCTINQ").unwrap()), "one tally per name");
    }
}
