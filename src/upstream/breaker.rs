//! A circuit breaker per upstream: a small state machine that stops the gateway from hammering
//! a host that is down.
//!
//! Closed: every call goes through; `failures` consecutive failures open it. Open: calls fail
//! at once (no connection is attempted) until `cooldown` has passed. Half-open: exactly one
//! call (the probe) goes through; its success closes the breaker, its failure opens it again
//! for another cool-down. Only failures that say something about the host count (cannot
//! connect, connection broken, no reply in time, a 5xx); a busy pool or a bad request do not.
//!
//! It does not retry, queue or time anything out itself.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// When a breaker opens and how long it stays open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerSettings {
    /// Consecutive failures that open the breaker (0 disables the breaker).
    pub failures: u32,
    /// Time an open breaker waits before letting one probe through.
    pub cooldown: Duration,
}

impl Default for BreakerSettings {
    fn default() -> Self {
        BreakerSettings { failures: 5, cooldown: Duration::from_millis(500) }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen,
}

/// The breaker's public view of itself (for metrics and tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls fail fast.
    Open,
    /// One probe is in flight.
    HalfOpen,
}

/// A circuit breaker for one upstream.
#[derive(Debug)]
pub struct Breaker {
    settings: BreakerSettings,
    state: Mutex<State>,
}

/// Permission to make one call; report its outcome with [`Breaker::record`].
#[derive(Debug)]
#[must_use = "report the outcome with Breaker::record"]
pub struct Admit {
    probe: bool,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(settings: BreakerSettings) -> Breaker {
        Breaker { settings, state: Mutex::new(State::Closed { failures: 0 }) }
    }

    /// The current state.
    pub fn state(&self) -> BreakerState {
        match self.state.lock().map(|s| *s) {
            Ok(State::Closed { .. }) | Err(_) => BreakerState::Closed,
            Ok(State::Open { .. }) => BreakerState::Open,
            Ok(State::HalfOpen) => BreakerState::HalfOpen,
        }
    }

    /// True while calls would fail fast (open and cooling down, or a probe in flight). Unlike
    /// [`Breaker::admit`] this changes nothing: optional work (a shadow) can be skipped without
    /// taking the probe that real traffic needs.
    pub fn failing_fast(&self) -> bool {
        match self.state.lock().map(|s| *s) {
            Ok(State::Open { until }) => Instant::now() < until,
            Ok(State::HalfOpen) => true,
            _ => false,
        }
    }

    /// May a call go ahead? `Err` carries the time left before the next probe.
    pub fn admit(&self) -> Result<Admit, Duration> {
        if self.settings.failures == 0 {
            return Ok(Admit { probe: false });
        }
        let Ok(mut state) = self.state.lock() else { return Ok(Admit { probe: false }) };
        match *state {
            State::Closed { .. } => Ok(Admit { probe: false }),
            State::Open { until } => {
                let now = Instant::now();
                if now < until {
                    return Err(until - now);
                }
                *state = State::HalfOpen;
                Ok(Admit { probe: true })
            }
            // One probe at a time: the others wait for its verdict by failing fast.
            State::HalfOpen => Err(Duration::ZERO),
        }
    }

    /// Reports the outcome of an admitted call. `failed` is true only for host failures.
    pub fn record(&self, admit: Admit, failed: bool) {
        if self.settings.failures == 0 {
            return;
        }
        let Ok(mut state) = self.state.lock() else { return };
        let open = State::Open { until: Instant::now() + self.settings.cooldown };
        *state = match (*state, failed) {
            (_, false) => State::Closed { failures: 0 },
            (State::HalfOpen, true) if admit.probe => open,
            (State::Closed { failures }, true) if failures + 1 >= self.settings.failures => open,
            (State::Closed { failures }, true) => State::Closed { failures: failures + 1 },
            // A late failure of a call admitted before the breaker opened changes nothing.
            (other, true) => other,
        };
        if matches!(*state, State::Open { .. }) {
            tracing::warn!(cooldown_ms = self.settings.cooldown.as_millis() as u64, "circuit breaker open");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> Breaker {
        Breaker::new(BreakerSettings { failures: 3, cooldown: Duration::from_millis(30) })
    }

    #[test]
    fn opens_after_consecutive_failures_and_closes_on_a_good_probe() {
        let b = fast();
        for _ in 0..2 {
            let a = b.admit().unwrap();
            b.record(a, true);
        }
        let a = b.admit().unwrap();
        b.record(a, false);
        assert_eq!(b.state(), BreakerState::Closed, "a success resets the count");
        for _ in 0..3 {
            let a = b.admit().unwrap();
            b.record(a, true);
        }
        assert_eq!(b.state(), BreakerState::Open);
        assert!(b.failing_fast(), "open and cooling down");
        assert!(b.admit().is_err(), "open: fail fast");
        std::thread::sleep(Duration::from_millis(40));
        assert!(!b.failing_fast(), "cool-down over: the next call may probe (asking takes nothing)");
        let probe = b.admit().unwrap();
        assert!(b.failing_fast(), "a probe is in flight");
        assert!(b.admit().is_err(), "only one probe at a time");
        b.record(probe, false);
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn a_failed_probe_opens_it_again_and_zero_disables() {
        let b = fast();
        for _ in 0..3 {
            let a = b.admit().unwrap();
            b.record(a, true);
        }
        std::thread::sleep(Duration::from_millis(40));
        let probe = b.admit().unwrap();
        b.record(probe, true);
        assert_eq!(b.state(), BreakerState::Open);
        let off = Breaker::new(BreakerSettings { failures: 0, cooldown: Duration::ZERO });
        for _ in 0..10 {
            let a = off.admit().unwrap();
            off.record(a, true);
        }
        assert_eq!(off.state(), BreakerState::Closed);
    }
}
