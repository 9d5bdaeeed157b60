//! A circuit breaker per upstream: a small state machine that stops the gateway from hammering
//! a host that is down.
//!
//! Closed: every call goes through; `failures` consecutive failures open it. Open: calls fail
//! at once (no connection is attempted) until `cooldown` has passed. Half-open: exactly one
//! call (the probe) goes through; its success closes the breaker, its failure opens it again
//! for another cool-down. Only failures that say something about the host count (cannot
//! connect, connection broken, no reply in time, a 5xx); a busy pool or a bad request do not.
//!
//! Permission to call is an [`Admit`] guard. A call that ends without a verdict — cancelled at
//! an await point, or refused a connection — drops its guard: a probe dropped that way puts the
//! breaker back to open with its cool-down already over, so the next call probes. (Before, a
//! cancelled probe left the breaker half-open for good: every call failed fast until restart.)
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

/// Permission to make one call; report its outcome with [`Admit::record`]. Dropped without a
/// verdict, a probe is handed back (see the module doc).
#[derive(Debug)]
#[must_use = "report the outcome with Admit::record"]
pub struct Admit<'a> {
    breaker: &'a Breaker,
    probe: bool,
    settled: bool,
}

impl Admit<'_> {
    /// True when this call is the half-open probe.
    pub fn is_probe(&self) -> bool {
        self.probe
    }

    /// Reports the outcome of the call. `failed` is true only for host failures.
    pub fn record(mut self, failed: bool) {
        self.settled = true;
        self.breaker.record(self.probe, failed);
    }
}

impl Drop for Admit<'_> {
    fn drop(&mut self) {
        if self.settled || !self.probe {
            return;
        }
        let Ok(mut state) = self.breaker.state.lock() else { return };
        if *state == State::HalfOpen {
            *state = State::Open { until: Instant::now() };
            tracing::debug!("breaker probe cancelled: the next call probes");
        }
    }
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

    fn admitted(&self, probe: bool) -> Admit<'_> {
        Admit { breaker: self, probe, settled: false }
    }

    /// May a call go ahead? `Err` carries the time left before the next probe.
    pub fn admit(&self) -> Result<Admit<'_>, Duration> {
        if self.settings.failures == 0 {
            return Ok(self.admitted(false));
        }
        let Ok(mut state) = self.state.lock() else { return Ok(self.admitted(false)) };
        match *state {
            State::Closed { .. } => Ok(self.admitted(false)),
            State::Open { until } => {
                let now = Instant::now();
                if now < until {
                    return Err(until - now);
                }
                *state = State::HalfOpen;
                drop(state);
                Ok(self.admitted(true))
            }
            // One probe at a time: the others wait for its verdict by failing fast.
            State::HalfOpen => Err(Duration::ZERO),
        }
    }

    /// True while closed (calls go through without probing).
    pub fn is_closed(&self) -> bool {
        self.settings.failures == 0 || matches!(self.state.lock().map(|s| *s), Ok(State::Closed { .. }) | Err(_))
    }

    fn record(&self, probe: bool, failed: bool) {
        if self.settings.failures == 0 {
            return;
        }
        let Ok(mut state) = self.state.lock() else { return };
        let open = State::Open { until: Instant::now() + self.settings.cooldown };
        *state = match (*state, failed) {
            // A success closes it; but a late success of a call admitted before the breaker
            // opened must not end a cool-down or steal the probe's verdict.
            (State::Closed { .. }, false) => State::Closed { failures: 0 },
            (State::HalfOpen, false) if probe => State::Closed { failures: 0 },
            (other, false) => other,
            (State::HalfOpen, true) if probe => open,
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
            b.admit().unwrap().record(true);
        }
        b.admit().unwrap().record(false);
        assert_eq!(b.state(), BreakerState::Closed, "a success resets the count");
        for _ in 0..3 {
            b.admit().unwrap().record(true);
        }
        assert_eq!(b.state(), BreakerState::Open);
        assert!(b.failing_fast(), "open and cooling down");
        assert!(b.admit().is_err(), "open: fail fast");
        std::thread::sleep(Duration::from_millis(40));
        assert!(!b.failing_fast(), "cool-down over: the next call may probe (asking takes nothing)");
        let probe = b.admit().unwrap();
        assert!(b.failing_fast(), "a probe is in flight");
        assert!(b.admit().is_err(), "only one probe at a time");
        probe.record(false);
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn a_failed_probe_opens_it_again_and_zero_disables() {
        let b = fast();
        for _ in 0..3 {
            b.admit().unwrap().record(true);
        }
        std::thread::sleep(Duration::from_millis(40));
        let probe = b.admit().unwrap();
        probe.record(true);
        assert_eq!(b.state(), BreakerState::Open);
        let off = Breaker::new(BreakerSettings { failures: 0, cooldown: Duration::ZERO });
        for _ in 0..10 {
            off.admit().unwrap().record(true);
        }
        assert_eq!(off.state(), BreakerState::Closed);
    }

    #[test]
    fn a_probe_dropped_without_a_verdict_lets_the_next_call_probe() {
        let b = fast();
        for _ in 0..3 {
            b.admit().unwrap().record(true);
        }
        std::thread::sleep(Duration::from_millis(40));
        let probe = b.admit().unwrap();
        assert!(probe.is_probe());
        drop(probe); // cancelled: a shadow past its deadline, a channel gone
        assert_eq!(b.state(), BreakerState::Open);
        assert!(!b.failing_fast(), "no new cool-down: the next call may probe at once");
        let next = b.admit().expect("the next call is admitted as the probe");
        assert!(next.is_probe());
        next.record(false);
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn optional_work_never_takes_the_probe_and_late_successes_change_nothing() {
        let b = fast();
        let early = b.admit().unwrap();
        for _ in 0..3 {
            b.admit().unwrap().record(true);
        }
        assert!(!b.is_closed(), "open: no shadow");
        early.record(false);
        assert_eq!(b.state(), BreakerState::Open, "a success admitted before the opening keeps it open");
        std::thread::sleep(Duration::from_millis(40));
        assert!(!b.is_closed(), "cool-down over: the probe is for real traffic");
        assert_eq!(b.state(), BreakerState::Open);
        b.admit().unwrap().record(false);
        assert!(b.is_closed());
    }
}
