//! Polls on host links (`poll = { every_ms, op, timeout_ms }` on a `tcp` upstream): a pooled
//! connection idle `every_ms` gets a header-only poll message; one that is closed, out of step,
//! silent past the poll's timeout, or answering with another message id is dropped from the
//! pool, so a dead link is found before a customer's message is sent on it.
//!
//! A connection being polled is out of the idle list, so no message is handed it, and holds a
//! connection permit, so the pool's bound on connections holds; a poll never waits for a permit
//! (with every permit taken, every connection is carrying messages). Polls do not feed the
//! circuit breaker: a dead link is dropped, and the next message's connect tells the breaker.
//!
//! The pool knows no copybooks: the configuration hands it the poll message as a function of
//! the message id ([`PollPlan::message`]). One task per pool, started with the first pooled
//! connection, ends when the pool is dropped (a reload that changed the upstream).

use super::lane::{Correlation, Gate};
use super::pool::{check_idle, put_idle, Conn, Idle, Unusable};
use crate::frame::{FrameError, Framing};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::{debug, warn};

/// The poll message for message id `n` (header-only, length field set).
pub type PollMessage = Arc<dyn Fn(u64) -> Vec<u8> + Send + Sync>;

/// How a pool polls its idle connections.
#[derive(Clone)]
pub struct PollPlan {
    /// A connection idle this long is polled.
    pub every: Duration,
    /// Time for the host to answer a poll.
    pub timeout: Duration,
    /// The operation key of the poll (for logs).
    pub op: String,
    /// Builds the poll message carrying a message id from 1 to `id_capacity`.
    pub message: PollMessage,
    /// The largest message id the header's field holds.
    pub id_capacity: u64,
    /// Where the message id is: a poll's answer must carry the poll's (none: any answer will do).
    pub correlation: Option<Correlation>,
}

impl std::fmt::Debug for PollPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PollPlan")
            .field("every", &self.every)
            .field("timeout", &self.timeout)
            .field("op", &self.op)
            .field("correlation", &self.correlation)
            .finish_non_exhaustive()
    }
}

impl PollPlan {
    /// True when `other` polls the same way and sends the same bytes (a header that changed
    /// moves the operation or id fields, so the message is compared too).
    pub fn same_as(&self, other: &PollPlan) -> bool {
        (self.every, self.timeout, &self.op, self.correlation, self.id_capacity)
            == (other.every, other.timeout, &other.op, other.correlation, other.id_capacity)
            && (self.message)(1) == (other.message)(1)
    }
}

/// What one poll found, as counted in `ficus_upstream_polls_total{outcome}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PollOutcome {
    /// Answered in time with the poll's message id: the connection stays pooled.
    Ok,
    /// The host had closed the connection, or closed it during the poll.
    Closed,
    /// Bytes nobody asked for were waiting on the idle connection.
    Stray,
    /// No answer within the poll's timeout.
    Timeout,
    /// Answered with another message's id.
    Uncorrelated,
    /// The answer was not a frame of this link's framing.
    BadReply,
}

impl PollOutcome {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            PollOutcome::Ok => "ok",
            PollOutcome::Closed => "closed",
            PollOutcome::Stray => "stray_bytes",
            PollOutcome::Timeout => "timeout",
            PollOutcome::Uncorrelated => "uncorrelated",
            PollOutcome::BadReply => "bad_reply",
        }
    }
}

/// What the poller shares with its pool (weakly: a dropped pool ends the poller).
pub(super) struct Link {
    pub(super) name: String,
    pub(super) framing: Framing,
    pub(super) max_idle: usize,
    pub(super) max_reply_bytes: usize,
    pub(super) idle: Weak<Mutex<Vec<Idle>>>,
    pub(super) gate: Weak<Gate>,
}

/// A fresh message id from 1 to `capacity`: process-wide, starting from the clock so a restart
/// does not send the ids of the last run again.
fn fresh_id(capacity: u64) -> u64 {
    static NEXT: OnceLock<AtomicU64> = OnceLock::new();
    let next = NEXT.get_or_init(|| {
        let micros = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros());
        AtomicU64::new(micros as u64)
    });
    1 + next.fetch_add(1, Ordering::Relaxed) % capacity.max(1)
}

/// Polls the pool's idle connections as `plan` says until the pool is dropped.
pub(super) async fn run(link: Link, plan: PollPlan) {
    let link = Arc::new(link);
    loop {
        let wake = {
            let Some(idle) = link.idle.upgrade() else { return };
            let idle = idle.lock().map(|v| v.iter().map(|i| i.since).min()).unwrap_or(None);
            idle.unwrap_or_else(Instant::now) + plan.every
        };
        tokio::time::sleep_until(wake).await;
        let due: Vec<Idle> = {
            let Some(idle) = link.idle.upgrade() else { return };
            let Ok(mut idle) = idle.lock() else { return };
            let now = Instant::now();
            let (due, keep) = std::mem::take(&mut *idle).into_iter().partition(|i| i.since + plan.every <= now);
            *idle = keep;
            due
        };
        let mut polls = JoinSet::new();
        for entry in due {
            polls.spawn(poll_one(link.clone(), plan.clone(), entry));
        }
        while polls.join_next().await.is_some() {}
    }
}

/// Polls one connection taken out of the pool, and pools it again if the host answered.
async fn poll_one(link: Arc<Link>, plan: PollPlan, mut entry: Idle) {
    let Some(gate) = link.gate.upgrade() else { return };
    let give_back = |entry: Idle| {
        if let Some(idle) = link.idle.upgrade() {
            put_idle(&idle, link.max_idle, entry);
        }
    };
    let Some(permit) = gate.try_poll() else {
        // Every permit is carrying a message: the link is in use; look again a period later.
        entry.since = Instant::now();
        give_back(entry);
        return;
    };
    let id = fresh_id(plan.id_capacity);
    let message = (plan.message)(id);
    let outcome = exchange(&link, &plan, &mut entry.conn, &message).await;
    metrics::counter!("ficus_upstream_polls_total", "upstream" => link.name.clone(), "outcome" => outcome.label())
        .increment(1);
    if outcome == PollOutcome::Ok {
        debug!(upstream = %link.name, op = %plan.op, id, "host link answered its poll");
        entry.last_id =
            plan.correlation.and_then(|c| message.get(c.offset..c.offset + c.len)).unwrap_or_default().into();
        entry.since = Instant::now();
        give_back(entry);
    } else {
        warn!(upstream = %link.name, op = %plan.op, id, outcome = outcome.label(), "host link failed its poll: connection dropped");
    }
    drop(permit);
}

/// Sends the poll on `conn` and reads its answer within the poll's timeout.
async fn exchange(link: &Link, plan: &PollPlan, conn: &mut Conn, message: &[u8]) -> PollOutcome {
    match check_idle(conn) {
        Ok(()) => {}
        Err(Unusable::Closed) => return PollOutcome::Closed,
        Err(Unusable::Stray) => return PollOutcome::Stray,
    }
    let io = async {
        link.framing.write(conn, message).await?;
        link.framing.read(conn, link.max_reply_bytes).await
    };
    match tokio::time::timeout(plan.timeout, io).await {
        Err(_) => PollOutcome::Timeout,
        Ok(Ok(Some(reply))) => match plan.correlation.map_or(Ok(()), |c| c.check(message, &reply)) {
            Ok(()) => PollOutcome::Ok,
            Err((sent, got)) => {
                debug!(upstream = %link.name, %sent, %got, "poll answered with another message id");
                PollOutcome::Uncorrelated
            }
        },
        Ok(Ok(None) | Err(FrameError::Io(_) | FrameError::Broken { .. } | FrameError::Truncated { .. })) => {
            PollOutcome::Closed
        }
        Ok(Err(_)) => PollOutcome::BadReply,
    }
}

#[cfg(test)]
mod tests {
    use super::fresh_id;

    #[test]
    fn fresh_ids_are_never_zero_and_stay_within_the_field() {
        for capacity in [1, 9, 99_999, u64::MAX] {
            for _ in 0..50 {
                let id = fresh_id(capacity);
                assert!((1..=capacity).contains(&id), "{id} of {capacity}");
            }
        }
        assert_ne!(fresh_id(u64::MAX), fresh_id(u64::MAX), "each poll its own id");
    }
}
