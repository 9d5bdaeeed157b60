//! The rules every upstream kind shares, in one place: who a call is for ([`Lane`]), how a
//! reply is matched to its request ([`Correlation`]), how capacity is taken ([`Gate::enter`]:
//! breaker, then a connection permit, with shadows kept to spare capacity) and when a call may
//! be retried ([`Gate::may_retry`]).
//!
//! Everything taken here is held by a guard ([`Pass`]) released when dropped: a call cancelled
//! at any await point (a channel gone, a shadow past its deadline) gives back its permit and, if
//! it was the breaker's probe, lets the next call probe instead of leaving the breaker half-open.
//! This file does no I/O.

use super::breaker::{Admit, Breaker};
use super::retry::RetryBudget;
use super::UpstreamError;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::{timeout_at, Instant};

/// Who a call is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// The channel is waiting for this answer.
    Primary,
    /// A shadow copy: optional work, only on spare capacity, never the breaker's probe.
    Shadow,
}

/// Where the message id (the header field named `message_id` in routes.toml) sits in a
/// message; a reply must carry the request's bytes there to be delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Correlation {
    /// Offset from the start of the message.
    pub offset: usize,
    /// Length in bytes.
    pub len: usize,
}

impl Correlation {
    /// `Ok` when `reply` carries `request`'s id; otherwise the two ids (lossily shown) for the
    /// error. A reply too short to hold the field cannot be matched and is refused too.
    pub fn check(&self, request: &[u8], reply: &[u8]) -> Result<(), (String, String)> {
        let range = self.offset..self.offset + self.len;
        let sent = request.get(range.clone()).unwrap_or_default();
        match reply.get(range) {
            Some(got) if got == sent => Ok(()),
            got => Err((show(sent), got.map_or_else(|| format!("(reply of {} bytes)", reply.len()), show))),
        }
    }

    /// The error for a reply that fails [`Correlation::check`], counted by cause.
    pub fn error(upstream: &str, (sent, got): (String, String)) -> UpstreamError {
        metrics::counter!("ficus_upstream_errors_total", "upstream" => upstream.to_string(), "cause" => "uncorrelated")
            .increment(1);
        tracing::warn!(upstream, sent = %sent, got = %got, "reply for another message: dropped with its connection");
        UpstreamError::Uncorrelated { upstream: upstream.to_string(), sent, got }
    }
}

pub(super) fn show(bytes: &[u8]) -> String {
    // EBCDIC digits and letters are shown as hex; ASCII as text. Only for errors and logs.
    if bytes.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        String::from_utf8_lossy(bytes).into_owned()
    } else {
        bytes.iter().map(|b| format!("{b:02X}")).collect()
    }
}

/// One call to an upstream: the message and what governs its handling.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    /// The fixed-width request.
    pub message: &'a [u8],
    /// The operation changes nothing: it may be retried.
    pub read_only: bool,
    /// Primary or shadow.
    pub lane: Lane,
    /// Where the message id is, when routes.toml names one.
    pub correlation: Option<Correlation>,
    /// Set when the first byte is about to leave for the upstream.
    pub sent: Option<&'a std::sync::atomic::AtomicBool>,
}

impl<'a> Call<'a> {
    /// A primary call, not retried, not correlated (tests and the default route's callers
    /// set the rest).
    pub fn primary(message: &'a [u8]) -> Call<'a> {
        Call { message, read_only: false, lane: Lane::Primary, correlation: None, sent: None }
    }
}

/// Connections shadows may hold at once by default, of `max`: half, and none when there is
/// only one connection (a shadow never takes the last one).
pub fn shadow_share(max: usize) -> usize {
    max / 2
}

/// Breaker, connection permits, shadow share and retry budget of one upstream.
///
/// Shadows have a breaker of their own: their failures (a shadow deadline shorter than the
/// host's answer, say) never open the breaker real traffic goes through, and their successes
/// never reset its count. They need the primary breaker closed to go at all.
#[derive(Debug)]
pub struct Gate {
    name: String,
    max: usize,
    breaker: Breaker,
    shadow_breaker: Breaker,
    permits: Semaphore,
    shadows: Semaphore,
    budget: RetryBudget,
}

/// What one admitted call holds; dropping it releases everything (see the module doc).
#[must_use = "report the outcome with Pass::finish"]
pub struct Pass<'a> {
    admit: Admit<'a>,
    _permit: SemaphorePermit<'a>,
    _shadow: Option<SemaphorePermit<'a>>,
}

impl Pass<'_> {
    /// Reports the call's outcome to the breaker (`failed`: a host failure) and releases.
    pub fn finish(self, failed: bool) {
        self.admit.record(failed);
    }
}

impl Gate {
    /// The gate of upstream `name`: `max` connections, its breaker and retry budget.
    pub fn new(name: &str, limits: &super::Limits) -> Gate {
        let max = limits.max_connections.max(1);
        Gate {
            name: name.to_string(),
            max,
            breaker: Breaker::new(limits.breaker),
            shadow_breaker: Breaker::new(limits.breaker),
            permits: Semaphore::new(max),
            shadows: Semaphore::new(limits.shadow_connections.unwrap_or(shadow_share(max)).min(max - 1)),
            budget: RetryBudget::new(limits.retry_percent),
        }
    }

    /// The breaker.
    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }

    /// Calls holding a connection permit right now.
    pub fn in_use(&self) -> usize {
        self.max - self.permits.available_permits()
    }

    /// True while shadows would fail fast: the primary breaker is not closed, or the shadows'
    /// own breaker is open.
    pub fn shadows_failing_fast(&self) -> bool {
        !self.breaker.is_closed() || self.shadow_breaker.failing_fast()
    }

    /// A shadow ran out of its own deadline (its call was dropped, so it gave no verdict): a
    /// failure for the shadows' breaker, never for the primary's.
    pub fn shadow_timed_out(&self) {
        if let Ok(admit) = self.shadow_breaker.admit() {
            admit.record(true);
        }
    }

    /// True when a shadow could enter now (see [`Gate::enter`]).
    pub fn has_spare(&self) -> bool {
        self.shadows.available_permits() > 0 && self.permits.available_permits() > 1 && !self.shadows_failing_fast()
    }

    /// Admits one call: the breaker first (fail fast while open), then a connection permit,
    /// waiting until `deadline` for a primary. A shadow never waits, never takes the last
    /// permit or more than its share, goes only while the primary breaker is closed (so never
    /// as its probe), and reports to the shadows' own breaker.
    pub async fn enter(&self, lane: Lane, deadline: Instant) -> Result<Pass<'_>, UpstreamError> {
        let count = |cause: &'static str| {
            metrics::counter!("ficus_upstream_errors_total", "upstream" => self.name.clone(), "cause" => cause)
                .increment(1);
        };
        if lane == Lane::Shadow {
            let no_spare = || UpstreamError::NoSpare { upstream: self.name.clone() };
            if !self.breaker.is_closed() {
                return Err(no_spare());
            }
            // The shadows' breaker is open or probing: a shadow error (circuit open), like a
            // shadow skipped before it was spawned.
            let admit = self.shadow_breaker.admit().map_err(|wait| UpstreamError::Open {
                upstream: self.name.clone(),
                retry_in_ms: wait.as_millis() as u64,
            })?;
            let shadow = self.shadows.try_acquire().map_err(|_| no_spare())?;
            if self.permits.available_permits() <= 1 {
                return Err(no_spare());
            }
            let permit = self.permits.try_acquire().map_err(|_| no_spare())?;
            return Ok(Pass { admit, _permit: permit, _shadow: Some(shadow) });
        }
        let admit = self.breaker.admit().map_err(|wait| {
            count("open");
            UpstreamError::Open { upstream: self.name.clone(), retry_in_ms: wait.as_millis() as u64 }
        })?;
        self.budget.deposit();
        match timeout_at(deadline, self.permits.acquire()).await {
            Ok(Ok(permit)) => Ok(Pass { admit, _permit: permit, _shadow: None }),
            // No verdict on the host: dropping `admit` releases a probe for the next call.
            _ => {
                count("busy");
                Err(UpstreamError::Busy { upstream: self.name.clone(), max: self.max })
            }
        }
    }

    /// A connection permit for polling an idle connection, if one is free now. A poll never
    /// waits: with every permit taken, every connection is carrying messages.
    pub fn try_poll(&self) -> Option<SemaphorePermit<'_>> {
        self.permits.try_acquire().ok()
    }

    /// The one retry rule: a read-only primary call, first attempt, where nothing was answered
    /// (or the answer was another message's), within the retry budget.
    pub fn may_retry(&self, call: &Call, attempts: u32, nothing_answered: bool) -> bool {
        call.read_only && call.lane == Lane::Primary && attempts < 2 && nothing_answered && self.budget.withdraw()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlation_matches_only_the_same_id() {
        let c = Correlation { offset: 2, len: 3 };
        assert!(c.check(b"xxABCyy", b"..ABC").is_ok());
        assert_eq!(c.check(b"xxABCyy", b"..ABD"), Err(("ABC".into(), "ABD".into())));
        assert!(c.check(b"xxABCyy", b"..A").is_err(), "too short to carry the id");
        assert_eq!(c.check(&[0, 0, 0xF1, 0xF2, 0xF3], &[0, 0, 0xF1, 0xF2, 0xF4]).unwrap_err().0, "F1F2F3");
    }

    #[test]
    fn shadows_keep_to_a_share_and_never_take_the_last_connection() {
        assert_eq!((0..=9).map(shadow_share).collect::<Vec<_>>(), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
    }
}
