//! Interleaved measurement: several targets running side by side, measured in short slices
//! taken in turn, each target's slices merged into one result. On a shared machine whose speed
//! wanders over seconds (a VM, other builds), measuring one target after another puts a slow
//! spell on whichever ran then and moves every ratio between them; in turn, a spell falls on all
//! alike. The first turn rotates every slice and every other slice runs the order backwards, so
//! no target always goes first or always follows the same one.
//!
//! Each slice opens its connections afresh and warms up unmeasured first; before the slices,
//! every target gets one unmeasured pass of its own (connection pools, caches). A target's work
//! that outlives its slice (a shadow answered late) is waited for and charged to it: `settle`.
//! CPU time comes from /proc in 10 ms ticks, so each slice's reading is ±10 ms.
//!
//! A slice during which the hypervisor took more than a tick of CPU from the machine (steal,
//! /proc/stat) is left out of its target's figures — it measured the VM's pause, not the target
//! — and the report says how many were; if every slice of a target had steal, all are kept.

use super::cpu;
use super::run::{self, Plan, Stats};
use std::time::Duration;

/// One measured slice.
pub const SLICE: Duration = Duration::from_secs(1);
/// The unmeasured start of each slice (its connections are new).
pub const SLICE_WARMUP: Duration = Duration::from_millis(250);

/// A target to measure: what to send it, and its process (for its CPU time), if separate.
pub struct Slot {
    /// Address, request and connections (warm-up and window are set here).
    pub plan: Plan,
    /// The target's process id, when it runs apart from the load generator.
    pub pid: Option<u32>,
}

/// Most steal a slice may have and still count (one /proc tick): a slice in which the
/// hypervisor took the machine's CPUs for longer measured the VM, not the target.
pub const MAX_STEAL: f64 = 0.010;

/// A target's slices merged.
pub struct Merged {
    /// Latencies and counts of its kept slices, their windows' seconds summed.
    pub stats: Stats,
    /// The target's CPU seconds over its kept slices (warm-ups included), if known.
    pub cpu: Option<f64>,
    /// Average cores busy with other work during its kept slices.
    pub background: f64,
    /// CPU seconds the hypervisor took during all of its slices (see [`cpu::steal_seconds`]).
    pub steal: f64,
    /// Slices kept: those with at most [`MAX_STEAL`] of steal — all of them when none has.
    pub kept: usize,
    /// Slices run.
    pub slices: usize,
}

/// One slice's reading.
struct Slice {
    stats: Stats,
    cpu: Option<f64>,
    background: f64,
    steal: f64,
}

impl Merged {
    /// `slices` merged, keeping those without steal (or every one, when none is without).
    fn of(slices: Vec<Slice>) -> Option<Merged> {
        let (n, steal) = (slices.len(), slices.iter().map(|s| s.steal).sum());
        let calm = slices.iter().filter(|s| s.steal <= MAX_STEAL).count();
        let kept: Vec<Slice> = slices.into_iter().filter(|s| calm == 0 || s.steal <= MAX_STEAL).collect();
        let k = kept.len();
        let mut kept = kept.into_iter();
        let first = kept.next()?;
        let mut m = Merged {
            stats: first.stats,
            cpu: first.cpu,
            background: first.background / k as f64,
            steal,
            kept: k,
            slices: n,
        };
        for s in kept {
            m.stats.append(s.stats);
            m.cpu = m.cpu.zip(s.cpu).map(|(a, b)| a + b);
            m.background += s.background / k as f64;
        }
        Some(m)
    }

    /// The report's words for the slices kept, e.g. "4 of 5 slices (1 with steal left out)".
    pub fn kept_note(&self) -> String {
        match self.slices - self.kept {
            0 => format!("{} of {} slices", self.kept, self.slices),
            out => format!("{} of {} slices ({out} with steal left out)", self.kept, self.slices),
        }
    }
}

/// Runs `slices` slices of [`SLICE`] against every slot in turn — open loop at `rate` per
/// second when given, else closed loop — after a `warmup` pass each (none if zero), each slice
/// followed by `settle` idle time inside its CPU reading; one [`Merged`] per slot, in order,
/// of its slices without steal ([`MAX_STEAL`]).
pub async fn measure(
    slots: &[Slot],
    rate: Option<u64>,
    slices: u64,
    warmup: Duration,
    settle: Duration,
) -> Vec<Merged> {
    let run = |plan: Plan| async move {
        match rate {
            Some(rate) => run::fixed_rate(&plan, rate).await,
            None => run::saturate(&plan).await,
        }
    };
    if !warmup.is_zero() {
        for slot in slots {
            run(Plan { warmup: Duration::ZERO, measure: warmup, ..slot.plan.clone() }).await;
            tokio::time::sleep(settle).await;
        }
    }
    let n = slots.len();
    let mut readings: Vec<Vec<Slice>> = (0..n).map(|_| Vec::new()).collect();
    for slice in 0..slices as usize {
        for turn in 0..n {
            let i = match slice % 2 {
                0 => (slice + turn) % n,
                _ => (slice + n - turn) % n,
            };
            let slot = &slots[i];
            let before = cpu::Sample::take(slot.pid);
            let stats = run(Plan { warmup: SLICE_WARMUP, measure: SLICE, ..slot.plan.clone() }).await;
            tokio::time::sleep(settle).await;
            let usage = before.until(&cpu::Sample::take(slot.pid));
            readings[i].push(Slice {
                stats,
                cpu: usage.proxy,
                background: usage.background_cores.unwrap_or(0.0),
                steal: usage.steal.unwrap_or(0.0),
            });
        }
    }
    readings.into_iter().filter_map(Merged::of).collect()
}
