//! The shadow's recent window: compared and matched counts over the last five minutes, in
//! ten-second slots, so a match rate shows how the new service does *now* — after a fix, or
//! after the host's data changed — rather than since the gateway started.
//!
//! Fixed memory (30 slots per operation); a slot is reset when its ten seconds come round
//! again. Time is a monotonic clock in whole seconds ([`now_secs`]).

use std::sync::OnceLock;
use std::time::Instant;

/// Seconds per slot.
pub const SLOT_SECS: u64 = 10;
/// Slots kept: the window is `SLOT_SECS * SLOTS` seconds (five minutes).
pub const SLOTS: usize = 30;
/// The window's length in seconds.
pub const WINDOW_SECS: u64 = SLOT_SECS * SLOTS as u64;

/// Whole seconds on a monotonic clock, counted from its first use in this process.
pub fn now_secs() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs()
}

#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    epoch: u64,
    compared: u64,
    matched: u64,
}

/// Counts of one operation's comparisons over the window.
#[derive(Clone, Debug, Default)]
pub struct Recent {
    slots: [Slot; SLOTS],
}

/// What the window holds at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Totals {
    /// Comparisons in the window.
    pub compared: u64,
    /// Of them, matches.
    pub matched: u64,
}

impl Recent {
    /// Counts one comparison at `now` (seconds, as [`now_secs`]).
    pub fn add(&mut self, now: u64, matched: bool) {
        let epoch = now / SLOT_SECS;
        let slot = &mut self.slots[(epoch % SLOTS as u64) as usize];
        if slot.epoch != epoch {
            *slot = Slot { epoch, ..Slot::default() };
        }
        slot.compared += 1;
        slot.matched += u64::from(matched);
    }

    /// The comparisons of the last [`WINDOW_SECS`] seconds before `now`.
    pub fn totals(&self, now: u64) -> Totals {
        let epoch = now / SLOT_SECS;
        self.slots.iter().filter(|s| s.epoch <= epoch && s.epoch + SLOTS as u64 > epoch).fold(
            Totals { compared: 0, matched: 0 },
            |t, s| Totals { compared: t.compared + s.compared, matched: t.matched + s.matched },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_comparisons_leave_the_window() {
        let mut r = Recent::default();
        for _ in 0..10 {
            r.add(5, false);
        }
        r.add(100, true);
        assert_eq!(r.totals(100), Totals { compared: 11, matched: 1 });
        // Five minutes after the mismatches, only the later match is left.
        assert_eq!(r.totals(5 + WINDOW_SECS), Totals { compared: 1, matched: 1 });
        assert_eq!(r.totals(100 + WINDOW_SECS), Totals { compared: 0, matched: 0 });
        // A slot coming round again starts from zero.
        r.add(5 + WINDOW_SECS, true);
        assert_eq!(r.totals(5 + WINDOW_SECS), Totals { compared: 2, matched: 2 });
    }

    #[test]
    fn any_order_of_times_counts_each_comparison_at_most_once() {
        // Randomized: a window never holds more than was added within it.
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut r = Recent::default();
        let mut added: Vec<(u64, bool)> = Vec::new();
        let mut now = 0;
        for _ in 0..2000 {
            now += next() % 7;
            let m = next() % 3 == 0;
            r.add(now, m);
            added.push((now, m));
            let t = r.totals(now);
            let start = (now / SLOT_SECS + 1).saturating_sub(SLOTS as u64) * SLOT_SECS;
            let inside: Vec<&(u64, bool)> = added.iter().filter(|(at, _)| *at >= start).collect();
            assert_eq!(t.compared, inside.len() as u64);
            assert_eq!(t.matched, inside.iter().filter(|(_, m)| *m).count() as u64);
        }
    }
}
