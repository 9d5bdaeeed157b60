//! A retry budget per upstream: retries may add at most a fixed share of the requests (10% by
//! default) on top of a small reserve, so a failing host sees no retry storm.
//!
//! Every request deposits `percent / 100` of a retry; a retry withdraws a whole one. The
//! balance is capped, so a long quiet spell cannot save up a burst. Whether a retry is *safe*
//! (read-only, nothing answered yet) is the caller's decision; this only says whether it is
//! affordable.

use std::sync::atomic::{AtomicI64, Ordering};

/// One retry, in budget units (thousandths of a retry).
const RETRY: i64 = 1000;
/// Retries allowed before any request has deposited anything.
const RESERVE: i64 = 10 * RETRY;
/// The most the balance may hold.
const CAP: i64 = 100 * RETRY;

/// The retry budget of one upstream.
#[derive(Debug)]
pub struct RetryBudget {
    deposit: i64,
    balance: AtomicI64,
}

impl RetryBudget {
    /// A budget allowing retries of up to `percent` percent of requests (0 forbids retries).
    pub fn new(percent: u32) -> RetryBudget {
        let deposit = i64::from(percent.min(100)) * RETRY / 100;
        RetryBudget { deposit, balance: AtomicI64::new(if deposit == 0 { 0 } else { RESERVE }) }
    }

    /// Called once per request.
    pub fn deposit(&self) {
        if self.deposit > 0 {
            let _ =
                self.balance.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| Some((b + self.deposit).min(CAP)));
        }
    }

    /// Takes one retry from the budget; false when there is not enough.
    pub fn withdraw(&self) -> bool {
        self.balance.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| (b >= RETRY).then_some(b - RETRY)).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_stay_within_the_share_after_the_reserve() {
        let budget = RetryBudget::new(10);
        let mut retries = 0;
        for _ in 0..1000 {
            budget.deposit();
            if budget.withdraw() {
                retries += 1;
            }
        }
        assert_eq!(retries, 110, "10% of 1000 plus the reserve of 10");
        assert!(!RetryBudget::new(0).withdraw());
    }
}
