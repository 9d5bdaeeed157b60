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

/// A target's slices merged.
pub struct Merged {
    /// Latencies and counts of every slice, their windows' seconds summed.
    pub stats: Stats,
    /// The target's CPU seconds over its slices (warm-ups included), if known.
    pub cpu: Option<f64>,
    /// Average cores busy with other work during its slices.
    pub background: f64,
    /// CPU seconds the hypervisor took during its slices (see [`cpu::steal_seconds`]).
    pub steal: f64,
}

/// Runs `slices` slices of [`SLICE`] against every slot in turn — open loop at `rate` per
/// second when given, else closed loop — after a `warmup` pass each (none if zero), each slice
/// followed by `settle` idle time inside its CPU reading; one [`Merged`] per slot, in order.
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
    for slot in slots.iter().filter(|_| !warmup.is_zero()) {
        run(Plan { warmup: Duration::ZERO, measure: warmup, ..slot.plan.clone() }).await;
        tokio::time::sleep(settle).await;
    }
    let n = slots.len();
    let mut merged: Vec<Option<Merged>> = (0..n).map(|_| None).collect();
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
            let background = usage.background_cores.unwrap_or(0.0) / slices as f64;
            let steal = usage.steal.unwrap_or(0.0);
            match &mut merged[i] {
                Some(m) => {
                    m.stats.append(stats);
                    m.cpu = m.cpu.zip(usage.proxy).map(|(a, b)| a + b);
                    m.background += background;
                    m.steal += steal;
                }
                None => merged[i] = Some(Merged { stats, cpu: usage.proxy, background, steal }),
            }
        }
    }
    merged.into_iter().flatten().collect()
}
