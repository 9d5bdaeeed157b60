//! Metric handles a route's messages count into, made on first use and kept with the table, so
//! a message answered without error costs no label `String`s and no registry lookup.
//!
//! The series are those `metrics::counter!` would name (`ficus_messages_total{op,target,
//! outcome="ok"}`, `ficus_message_outcomes_total{op,outcome="ok"}`, `ficus_message_seconds{op,
//! target}`, `ficus_canary_messages_total{op}`); errors and rarer outcomes still go through the
//! macros. A table reload makes new handles onto the same series.
//!
//! The route also keeps its handle on the operation's history tally ([`super::tally`]), taken
//! from the gateway's [`Tallies`] on the first message the table serves for it.

use super::tally::{OpTally, Tallies};
use metrics::{Counter, Histogram};
use std::sync::{Arc, OnceLock};

/// Distinct targets one route keeps handles for (its target, canary, fallback, an owner); a
/// further one counts through the macros.
const SLOTS: usize = 4;

/// The handles of one (operation, target) pair for a message answered without error.
pub struct Served {
    /// `ficus_messages_total{op, target, outcome="ok"}`.
    pub messages: Counter,
    /// `ficus_message_outcomes_total{op, outcome="ok"}`.
    pub outcomes: Counter,
    /// `ficus_message_seconds{op, target}`.
    pub seconds: Histogram,
}

impl Served {
    /// The handles for `op` served by `target` (registers the series).
    pub fn new(op: &str, target: &str) -> Served {
        let (op, target) = (op.to_string(), target.to_string());
        Served {
            messages: metrics::counter!("ficus_messages_total", "op" => op.clone(), "target" => target.clone(), "outcome" => "ok"),
            outcomes: metrics::counter!("ficus_message_outcomes_total", "op" => op.clone(), "outcome" => "ok"),
            seconds: metrics::histogram!("ficus_message_seconds", "op" => op, "target" => target),
        }
    }
}

/// A route's (or the unrouted operations') cached handles.
#[derive(Default)]
pub struct RouteCounters {
    slots: [OnceLock<(String, Served)>; SLOTS],
    canary: OnceLock<Counter>,
    tally: OnceLock<Option<Arc<OpTally>>>,
}

impl RouteCounters {
    /// The handles for `op` served by `target`: cached, or made now; `None` once the route has
    /// seen more than [`SLOTS`] targets (the caller counts through the macros then).
    pub fn served(&self, op: &str, target: &str) -> Option<&Served> {
        self.slots.iter().find_map(|slot| {
            let (name, served) = slot.get_or_init(|| (target.to_string(), Served::new(op, target)));
            (name == target).then_some(served)
        })
    }

    /// The history tally of `op`: looked up in `all` on the table's first message for it, then
    /// kept (`None` once `all` is full).
    #[inline]
    pub fn tally(&self, op: &str, all: &Tallies) -> Option<&OpTally> {
        self.tally.get_or_init(|| all.get(op)).as_deref()
    }

    /// `ficus_canary_messages_total{op}`.
    pub fn canary(&self, op: &str) -> &Counter {
        self.canary.get_or_init(|| metrics::counter!("ficus_canary_messages_total", "op" => op.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_slot_per_target_and_none_past_the_last() {
        let c = RouteCounters::default();
        let first = c.served("ACCTINQ", "legacy").map(|s| s as *const Served);
        assert_eq!(c.served("ACCTINQ", "legacy").map(|s| s as *const Served), first, "kept, not made again");
        for t in ["accounts", "fallback", "owner"] {
            assert!(c.served("ACCTINQ", t).is_some(), "{t}");
        }
        assert!(c.served("ACCTINQ", "a-fifth").is_none());
        assert!(c.served("ACCTINQ", "accounts").is_some(), "the first four stay");
    }
}
