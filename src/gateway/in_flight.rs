//! One message in flight, counted for as long as its future lives: the in-flight gauge goes
//! back down whether the message is answered or its future is dropped (a channel that
//! disconnected, a connection cut at the drain deadline). A write dropped once the upstream may
//! have it is logged and counted as an unknown outcome, so a reconciliation can find it: the
//! channel will never learn what happened.

use crate::route::tally::{OpTally, Side};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use tracing::warn;

/// The guard [`super::Gateway::handle`] holds; call [`InFlight::done`] once the reply is made.
pub(super) struct InFlight<'a> {
    count: &'a AtomicUsize,
    gauge: &'a metrics::Gauge,
    unknown: &'a AtomicU64,
    op: &'a str,
    id: Option<&'a str>,
    write: bool,
    sent: &'a AtomicBool,
    done: bool,
    /// The history's tally a dropped message counts into, as an error on its side.
    tally: Option<(&'a OpTally, Side)>,
}

impl<'a> InFlight<'a> {
    /// Counts a message in. `write`: its operation is not known to be read-only; `sent` is set
    /// by the pipeline when the message goes to an upstream. `gauge` is
    /// `ficus_messages_in_flight`.
    pub(super) fn enter(
        count: &'a AtomicUsize,
        gauge: &'a metrics::Gauge,
        unknown: &'a AtomicU64,
        op: &'a str,
        id: Option<&'a str>,
        write: bool,
        sent: &'a AtomicBool,
    ) -> InFlight<'a> {
        count.fetch_add(1, Ordering::Relaxed);
        gauge.increment(1.0);
        InFlight { count, gauge, unknown, op, id, write, sent, done: false, tally: None }
    }

    /// Counts a message dropped before its reply into `tally` (the history's), on `side`.
    pub(super) fn tallied(mut self, tally: Option<&'a OpTally>, side: Side) -> Self {
        self.tally = tally.map(|t| (t, side));
        self
    }

    /// The reply is made (sent or about to be).
    pub(super) fn done(mut self) {
        self.done = true;
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::Relaxed);
        self.gauge.decrement(1.0);
        if self.done {
            return;
        }
        metrics::counter!("ficus_messages_total", "op" => self.op.to_string(), "target" => "-", "outcome" => "cancelled")
            .increment(1);
        if let Some((t, side)) = self.tally {
            t.record_cancelled(side);
        }
        if self.write && self.sent.load(Ordering::Relaxed) {
            warn!(
                op = self.op,
                id = self.id.unwrap_or("-"),
                outcome = "unknown",
                "the channel went away while the upstream had a write: its outcome is unknown"
            );
            metrics::counter!("ficus_unknown_outcomes_total", "op" => self.op.to_string(), "cause" => "channel_gone")
                .increment(1);
            self.unknown.fetch_add(1, Ordering::Relaxed);
        }
    }
}
