//! One system's own record of the transfers it posted, keyed by the original message's
//! `HDR-SEQ-NO` — what a host looks up when a cancellation (취소) arrives.
//!
//! The simulated host and the sample service each keep their OWN table: the balances live on
//! the one shared [`Ledger`] (the demo models the bank's CDC that way), but only the system
//! that posted a transfer can cancel it. A cancellation sent to the other system is refused
//! with E401, which is what makes a misrouted reversal visible. Each table also counts the
//! transfers and cancellations its side applied, so a test can tell which side posted.
//!
//! The table is locked across the ledger change, so a transfer is in the table exactly when
//! its money moved, and two cancellations of one transfer never both reverse it.

use super::ledger::{Effect, Ledger, Refusal};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

/// A transfer as this system posted it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Posted {
    /// The debited account.
    pub from: String,
    /// The credited account.
    pub to: String,
    /// The amount in cents.
    pub cents: i128,
    /// The reference it answered (`XF…`).
    pub reference: String,
    /// The cancellation's reference (`CN…`), once cancelled.
    pub cancelled: Option<String>,
}

/// One side's transfers by `HDR-SEQ-NO`, and how many transfers and cancellations it applied.
#[derive(Debug, Default)]
pub struct Postings {
    table: Mutex<HashMap<u64, Posted>>,
    transfers: AtomicU64,
    cancellations: AtomicU64,
}

/// A transfer as a request names it: accounts, amount in cents, memo.
#[derive(Clone, Copy, Debug)]
pub struct Transfer<'a> {
    /// The account debited.
    pub from: &'a str,
    /// The account credited.
    pub to: &'a str,
    /// The amount in cents.
    pub cents: i128,
    /// History memo.
    pub memo: &'a str,
}

impl Postings {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Posted>> {
        self.table.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Posts `t` on `ledger` (see [`Ledger::transfer_as`]) and, when applied, records it under
    /// `seq` — the message's HDR-SEQ-NO; without one, the transfer is posted but cannot be
    /// cancelled. A second transfer under a `seq` already recorded is posted (a host does
    /// what it is sent: keeping duplicates away is the gateway journal's work) and counted,
    /// but the table keeps the first, the one a cancellation reverses.
    pub fn transfer(
        &self,
        ledger: &Ledger,
        effect: Effect,
        seq: Option<u64>,
        t: Transfer<'_>,
        at: (u32, u32),
    ) -> Result<(i128, String), Refusal> {
        let mut table = self.lock();
        let (after, reference) = ledger.transfer_as(effect, t.from, t.to, t.cents, t.memo, at)?;
        if effect == Effect::Apply {
            self.transfers.fetch_add(1, Ordering::Relaxed);
            if let Some(seq) = seq {
                table.entry(seq).or_insert_with(|| Posted {
                    from: t.from.trim().to_string(),
                    to: t.to.trim().to_string(),
                    cents: t.cents,
                    reference: reference.clone(),
                    cancelled: None,
                });
            }
        }
        Ok((after, reference))
    }

    /// Cancels the transfer posted under `original` (its HDR-SEQ-NO): refused with E401 if
    /// this side did not post it, E402 if already cancelled, E301 if `from` or `cents` are
    /// not the original's; else the money goes back ([`Ledger::reverse_as`]). Returns the
    /// original debited account's balance after and the cancellation's reference. A dry run
    /// answers the same and changes nothing, not even the table.
    pub fn cancel(
        &self,
        ledger: &Ledger,
        effect: Effect,
        original: u64,
        from: &str,
        cents: i128,
        at: (u32, u32),
    ) -> Result<(i128, String), Refusal> {
        let mut table = self.lock();
        let posted = table.get_mut(&original).ok_or(Refusal::OriginalNotFound)?;
        if posted.cancelled.is_some() {
            return Err(Refusal::AlreadyCancelled);
        }
        if posted.from != from.trim() || posted.cents != cents {
            return Err(Refusal::BadRequest);
        }
        let memo = format!("CANCEL {original:010}");
        let (after, reference) = ledger.reverse_as(effect, &posted.from, &posted.to, cents, &memo, at)?;
        if effect == Effect::Apply {
            posted.cancelled = Some(reference.clone());
            self.cancellations.fetch_add(1, Ordering::Relaxed);
        }
        Ok((after, reference))
    }

    /// The transfer recorded under `seq`, if this side posted one.
    pub fn posted(&self, seq: u64) -> Option<Posted> {
        self.lock().get(&seq).cloned()
    }

    /// How many transfers (XFER) this side applied.
    pub fn transfers(&self) -> u64 {
        self.transfers.load(Ordering::Relaxed)
    }

    /// How many cancellations (XFERCAN) this side applied.
    pub fn cancellations(&self) -> u64 {
        self.cancellations.load(Ordering::Relaxed)
    }
}
