//! The table of an asynchronous link: which match keys have a request waiting for its reply,
//! and which were used recently enough that a reply carrying them could still arrive.
//!
//! A key is **reserved** from the moment its request is admitted until `hold` after its
//! exchange ended (answered, timed out, or given up after it may have been written). While
//! reserved, a second request with the same key is refused: the host's reply could not say
//! which of the two it answers. A reply whose key is reserved but waits for nobody is a late
//! reply or a second copy, and is never delivered; a reply whose key is not reserved at all
//! matches nothing. The table is bounded: outstanding requests by the upstream's permits, held
//! keys by [`MAX_HELD`] (the oldest let go first). This file does no I/O.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// Most keys kept after their exchange ended; beyond it the oldest is let go (and logged).
pub const MAX_HELD: usize = 1 << 16;

/// Why a reply was not delivered to anyone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unmatched {
    /// Its request had already been answered with a timeout (FC11).
    Late,
    /// Its request had already been answered by an earlier copy.
    Duplicate,
    /// No request with its key was sent (within the hold).
    Unknown,
    /// Its key matched a waiting request, but it carries another message id.
    WrongId,
    /// Too short to hold the match fields.
    Unreadable,
}

impl Unmatched {
    /// The `cause` label of `ficus_async_unmatched_total`.
    pub fn label(self) -> &'static str {
        match self {
            Unmatched::Late => "late",
            Unmatched::Duplicate => "duplicate",
            Unmatched::Unknown => "unknown",
            Unmatched::WrongId => "wrong_id",
            Unmatched::Unreadable => "unreadable",
        }
    }

    /// Every cause, in a fixed order.
    pub const ALL: [Unmatched; 5] =
        [Unmatched::Late, Unmatched::Duplicate, Unmatched::Unknown, Unmatched::WrongId, Unmatched::Unreadable];
}

/// Why a key cannot be used now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Busy {
    /// A request with this key is waiting for its reply.
    Waiting,
    /// A request with this key timed out (or was given up) and its reply may still come.
    AwaitingLate,
    /// A request with this key was answered; a second copy of the reply may still come.
    RecentlyAnswered,
}

enum Slot {
    Waiting { ticket: u64, tx: oneshot::Sender<Vec<u8>>, id: Vec<u8> },
    Held { ticket: u64, answered: bool },
}

/// Outstanding and recently used keys of one link.
#[derive(Default)]
pub struct Table {
    slots: HashMap<Vec<u8>, Slot>,
    /// Keys whose exchange ended, oldest first: (until, key, ticket).
    held: VecDeque<(Instant, Vec<u8>, u64)>,
    next: u64,
}

impl Table {
    /// Reserves `key` for a request carrying message id `id` (empty: not correlated): a ticket
    /// and where its reply will come, or why the key is in use.
    pub fn reserve(&mut self, key: &[u8], id: &[u8], now: Instant) -> Result<(u64, oneshot::Receiver<Vec<u8>>), Busy> {
        self.expire(now);
        match self.slots.get(key) {
            Some(Slot::Waiting { .. }) => return Err(Busy::Waiting),
            Some(Slot::Held { answered: false, .. }) => return Err(Busy::AwaitingLate),
            Some(Slot::Held { answered: true, .. }) => return Err(Busy::RecentlyAnswered),
            None => {}
        }
        self.next += 1;
        let (tx, rx) = oneshot::channel();
        self.slots.insert(key.to_vec(), Slot::Waiting { ticket: self.next, tx, id: id.to_vec() });
        Ok((self.next, rx))
    }

    /// The request holding `ticket` was certainly not written: its key is free again.
    pub fn release(&mut self, key: &[u8], ticket: u64) {
        if matches!(self.slots.get(key), Some(Slot::Waiting { ticket: t, .. }) if *t == ticket) {
            self.slots.remove(key);
        }
    }

    /// The request holding `ticket` may have been written and waits no more (timed out, failed,
    /// or its caller went away): its key stays reserved for `hold`, for the late reply.
    pub fn give_up(&mut self, key: &[u8], ticket: u64, now: Instant, hold: Duration) {
        if matches!(self.slots.get(key), Some(Slot::Waiting { ticket: t, .. }) if *t == ticket) {
            self.hold(key, ticket, false, now + hold);
        }
    }

    /// A reply with `key` arrived; `same_id` says whether it carries a request's message id.
    /// Delivered to its waiting request (`Ok`), or why not.
    pub fn deliver(
        &mut self,
        key: &[u8],
        reply: Vec<u8>,
        same_id: impl Fn(&[u8]) -> bool,
        now: Instant,
        hold: Duration,
    ) -> Result<(), Unmatched> {
        self.expire(now);
        let ticket = match self.slots.get_mut(key) {
            None => return Err(Unmatched::Unknown),
            Some(Slot::Held { answered, .. }) => {
                let was = std::mem::replace(answered, true);
                return Err(if was { Unmatched::Duplicate } else { Unmatched::Late });
            }
            // The right reply may still come: the request keeps waiting.
            Some(Slot::Waiting { id, .. }) if !same_id(id) => return Err(Unmatched::WrongId),
            Some(Slot::Waiting { ticket, .. }) => *ticket,
        };
        let Some(Slot::Waiting { tx, .. }) = self.slots.remove(key) else { unreachable!("looked up above") };
        let delivered = tx.send(reply).is_ok();
        self.hold(key, ticket, true, now + hold);
        // The receiver is gone: its caller stopped waiting an instant ago (a deadline).
        if delivered {
            Ok(())
        } else {
            Err(Unmatched::Late)
        }
    }

    /// Requests waiting for their replies now.
    pub fn waiting(&self) -> usize {
        self.slots.values().filter(|s| matches!(s, Slot::Waiting { .. })).count()
    }

    /// Keys held after their exchange ended.
    pub fn held(&self) -> usize {
        self.slots.len() - self.waiting()
    }

    fn hold(&mut self, key: &[u8], ticket: u64, answered: bool, until: Instant) {
        self.slots.insert(key.to_vec(), Slot::Held { ticket, answered });
        self.held.push_back((until, key.to_vec(), ticket));
        while self.held.len() > MAX_HELD {
            if let Some((_, key, ticket)) = self.held.pop_front() {
                tracing::warn!(held = MAX_HELD, "too many keys held for late replies: the oldest is let go");
                self.forget(&key, ticket);
            }
        }
    }

    fn expire(&mut self, now: Instant) {
        while self.held.front().is_some_and(|(until, _, _)| *until <= now) {
            if let Some((_, key, ticket)) = self.held.pop_front() {
                self.forget(&key, ticket);
            }
        }
    }

    fn forget(&mut self, key: &[u8], ticket: u64) {
        if matches!(self.slots.get(key), Some(Slot::Held { ticket: t, .. }) if *t == ticket) {
            self.slots.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOLD: Duration = Duration::from_secs(10);

    fn any(_: &[u8]) -> bool {
        true
    }

    #[tokio::test]
    async fn a_reply_reaches_its_request_once_and_a_second_copy_nobody() {
        let (mut t, now) = (Table::default(), Instant::now());
        let (_, rx) = t.reserve(b"K1", b"", now).unwrap();
        assert_eq!(t.deliver(b"K1", b"one".to_vec(), any, now, HOLD), Ok(()));
        assert_eq!(rx.await.unwrap(), b"one");
        assert_eq!(t.deliver(b"K1", b"two".to_vec(), any, now, HOLD), Err(Unmatched::Duplicate));
        assert_eq!(t.deliver(b"K2", b"x".to_vec(), any, now, HOLD), Err(Unmatched::Unknown));
        assert_eq!(t.reserve(b"K1", b"", now).unwrap_err(), Busy::RecentlyAnswered);
    }

    #[tokio::test]
    async fn a_timed_out_key_stays_reserved_until_its_late_reply_or_the_hold() {
        let (mut t, now) = (Table::default(), Instant::now());
        let (ticket, rx) = t.reserve(b"K", b"", now).unwrap();
        assert_eq!(t.reserve(b"K", b"", now).unwrap_err(), Busy::Waiting);
        drop(rx);
        t.give_up(b"K", ticket, now, HOLD);
        assert_eq!(t.reserve(b"K", b"", now).unwrap_err(), Busy::AwaitingLate);
        assert_eq!(t.deliver(b"K", b"late".to_vec(), any, now, HOLD), Err(Unmatched::Late));
        assert_eq!(t.deliver(b"K", b"again".to_vec(), any, now, HOLD), Err(Unmatched::Duplicate));
        assert!(t.reserve(b"K", b"", now + HOLD).is_ok(), "free once the hold has passed");
        assert_eq!(t.held(), 0);
    }

    #[tokio::test]
    async fn a_reply_with_another_id_leaves_the_request_waiting() {
        let (mut t, now) = (Table::default(), Instant::now());
        let (_, rx) = t.reserve(b"K", b"ID1", now).unwrap();
        let same = |id: &[u8]| id == b"ID1";
        assert_eq!(t.deliver(b"K", b"other".to_vec(), |id| id == b"ID2", now, HOLD), Err(Unmatched::WrongId));
        assert_eq!(t.deliver(b"K", b"mine".to_vec(), same, now, HOLD), Ok(()));
        assert_eq!(rx.await.unwrap(), b"mine");
    }

    #[tokio::test]
    async fn a_request_never_written_frees_its_key_and_an_old_ticket_touches_nothing() {
        let (mut t, now) = (Table::default(), Instant::now());
        let (first, _rx) = t.reserve(b"K", b"", now).unwrap();
        t.release(b"K", first);
        let (second, _rx2) = t.reserve(b"K", b"", now).unwrap();
        t.release(b"K", first);
        t.give_up(b"K", first, now, HOLD);
        assert_eq!(t.waiting(), 1, "the second request is untouched by the first's ticket");
        t.give_up(b"K", second, now, HOLD);
        assert_eq!((t.waiting(), t.held()), (0, 1));
    }

    /// One step of a random run: keys and ids from small sets, so they collide.
    #[derive(Clone, Debug)]
    enum Step {
        Reserve { key: u8, id: u8 },
        GiveUp { which: usize },
        Reply { key: u8, id: u8 },
        Wait { ms: u64 },
    }

    fn step() -> impl proptest::strategy::Strategy<Value = Step> {
        use proptest::prelude::*;
        prop_oneof![
            (0..4u8, 0..3u8).prop_map(|(key, id)| Step::Reserve { key, id }),
            (0..8usize).prop_map(|which| Step::GiveUp { which }),
            (0..4u8, 0..3u8).prop_map(|(key, id)| Step::Reply { key, id }),
            (0..40u64).prop_map(|ms| Step::Wait { ms }),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, rng_seed: proptest::test_runner::RngSeed::Fixed(16), ..Default::default() })]

        /// Whatever the order: a reply reaches only a request waiting with its key and id, at
        /// most one request gets each reply, no key has two requests waiting, and a key is never
        /// free while a reply to an earlier request with it may still come within the hold.
        #[test]
        fn a_reply_reaches_only_its_own_request(steps in proptest::collection::vec(step(), 1..60)) {
            let hold = Duration::from_millis(50);
            let mut now = Instant::now();
            let mut t = Table::default();
            // (key, id, ticket, receiver) of requests waiting; keys whose exchange ended, and when.
            let mut waiting: Vec<(u8, u8, u64, oneshot::Receiver<Vec<u8>>)> = Vec::new();
            let mut ended: HashMap<u8, Instant> = HashMap::new();
            for s in steps {
                match s {
                    Step::Reserve { key, id } => {
                        if let Ok((ticket, rx)) = t.reserve(&[key], &[id], now) {
                            proptest::prop_assert!(waiting.iter().all(|w| w.0 != key), "two waiting with one key");
                            let free = ended.get(&key).is_none_or(|at| now >= *at + hold);
                            proptest::prop_assert!(free, "key free within the hold");
                            waiting.push((key, id, ticket, rx));
                        }
                    }
                    Step::GiveUp { which } if which < waiting.len() => {
                        let (key, _, ticket, _) = waiting.remove(which);
                        t.give_up(&[key], ticket, now, hold);
                        ended.insert(key, now);
                    }
                    Step::GiveUp { .. } => {}
                    Step::Reply { key, id } => {
                        let body = vec![key, id, 0xAA];
                        let delivered = t.deliver(&[key], body.clone(), |want| want == [id], now, hold).is_ok();
                        let mine = waiting.iter().position(|w| w.0 == key && w.1 == id);
                        proptest::prop_assert_eq!(delivered, mine.is_some());
                        if let Some(i) = mine {
                            let (_, _, _, mut rx) = waiting.remove(i);
                            proptest::prop_assert_eq!(rx.try_recv().ok(), Some(body));
                            ended.insert(key, now);
                        }
                    }
                    Step::Wait { ms } => now += Duration::from_millis(ms),
                }
            }
            proptest::prop_assert_eq!(t.waiting(), waiting.len());
        }
    }

    #[tokio::test]
    async fn a_reply_to_a_caller_that_just_left_is_late() {
        let (mut t, now) = (Table::default(), Instant::now());
        let (_, rx) = t.reserve(b"K", b"", now).unwrap();
        drop(rx);
        assert_eq!(t.deliver(b"K", b"r".to_vec(), any, now, HOLD), Err(Unmatched::Late));
        assert_eq!(t.reserve(b"K", b"", now).unwrap_err(), Busy::RecentlyAnswered);
    }
}
