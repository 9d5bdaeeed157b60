//! Writes on journaled routes: claim the transaction's key, pick the upstream (the original's
//! for a reversal, the account's owner, else the route's decision), send once, record the
//! outcome. A duplicate gets the first one's reply bytes; one whose outcome is unknown gets
//! FC21 and is never sent. Reads on routes with an `owner_key` follow the owner table.

use super::{call, Exchange, Gateway};
use crate::journal::store::NewEntry;
use crate::journal::{Entry, EntryState, JournalPlan, OnStoreError, Refusal, RouteJournal, Store, StoreError};
use crate::reply::GatewayError;
use crate::route::{RouteTable, UpstreamEntry};
use crate::upstream::Lane;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::{info, warn};

/// What a journaled write came to.
pub(super) struct Journaled<'t> {
    /// The reply or error for the channel.
    pub result: Result<Vec<u8>, GatewayError>,
    /// Who it was sent to; none when the journal answered (a duplicate, a refusal).
    pub sent_to: Option<&'t Arc<UpstreamEntry>>,
}

/// How long a refused write's claim is tried to be given back (the store may be down that long).
const GIVE_BACK_FOR: Duration = Duration::from_secs(600);

/// After a claim's statement failed and the write was refused (never sent): gives the claim back
/// once the store answers again, in case it landed after all ([`Store::give_back`]) — else a
/// resend would be refused as `unknown` for a write never sent. Stops when a row was removed,
/// after three answers that found none (a late statement lands at once when the server
/// resumes), or after [`GIVE_BACK_FOR`].
fn give_back_later(store: &Arc<Store>, key: &str, claim: &str) {
    let (store, key, claim) = (store.clone(), key.to_string(), claim.to_string());
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
    runtime.spawn(async move {
        let give_up = Instant::now() + GIVE_BACK_FOR;
        let (mut wait, mut found_none) = (Duration::from_millis(500), 0);
        while Instant::now() < give_up && found_none < 3 {
            tokio::time::sleep(wait).await;
            match store.give_back(&key, &claim).await {
                Ok(true) => {
                    warn!(key = %key, "a refused write's claim had landed late: given back (a resend will be sent)");
                    return;
                }
                Ok(false) => found_none += 1,
                Err(_) => wait = (wait * 2).min(Duration::from_secs(30)),
            }
        }
    });
}

/// The journal's own store failure as the channel sees it.
fn store_down(e: StoreError) -> GatewayError {
    Refusal::Store(e.to_string()).into()
}

impl Gateway {
    /// Serves a write on a journaled route. `target` is the route's decision (target or canary).
    pub(super) async fn journaled<'t>(
        &self,
        x: Exchange<'_>,
        table: &'t RouteTable,
        target: &'t Arc<UpstreamEntry>,
        (plan, rj): (&JournalPlan, &RouteJournal),
        served_by: &mut Option<&'t str>,
    ) -> Journaled<'t> {
        let refused = |e: GatewayError| Journaled { result: Err(e), sent_to: None };
        *served_by = None;
        let options = table.options;
        let claim = claim_token();
        let key = match rj.dedupe {
            true => match plan.key_of(x.message, options) {
                Ok(k) => k,
                Err(e) => return refused(Refusal::Key(e).into()),
            },
            // Not deduplicated, but still journaled (owner moves wait for it): a key of its own.
            false => format!("~{claim}"),
        };
        let account = match rj.owner_key.as_ref().map(|f| f.read(x.message, options.codepage)).transpose() {
            Ok(a) => a,
            Err(e) => return refused(Refusal::Key(e).into()),
        };
        let hash = request_hash(x.op, &x.message[table.header.size..]);
        let deadline = Instant::now() + Duration::from_millis(target.settings.timeout_ms);
        let store = &plan.store;
        // A reversal by route (`reverses`), or by a header flag on the original's own operation.
        let flagged = plan.flagged_reversal(x.op, x.message, options);
        let reverses = rj.reverses.as_ref().or(flagged.as_ref());
        loop {
            let chosen = match reverses {
                Some(rv) => self.original(table, plan, rv, x.message, deadline).await,
                None => match &account {
                    Some(a) => owner_target(store, table, a, target, deadline).await,
                    None => Ok(target),
                },
            };
            let chosen = match chosen {
                Ok(c) => c,
                Err(Refused::Journal(e)) if plan.on_store_error == OnStoreError::Pass && reverses.is_none() => {
                    return self.unguarded(x, target, e, served_by).await
                }
                Err(e) => return refused(e.into()),
            };
            let lease = Duration::from_millis(chosen.settings.timeout_ms * 2 + 1000);
            let new = NewEntry {
                key: &key,
                op: x.op,
                request_hash: &hash,
                route_key: account.as_deref(),
                upstream: &chosen.name,
                request: x.message,
                claim: &claim,
                generation: table.generation,
                lease,
            };
            match store.claim(&new).await {
                Err(e) if plan.on_store_error == OnStoreError::Pass => {
                    return self.unguarded(x, chosen, e, served_by).await
                }
                Err(e) => {
                    give_back_later(store, &key, &claim);
                    return refused(store_down(e));
                }
                Ok(Some(existing)) => match duplicate(store, existing, x, &hash, table, deadline).await {
                    Some(result) => {
                        // HTTP says who answered: the journal (a duplicate), or nobody (refused).
                        *served_by = result.is_ok().then_some("journal");
                        return Journaled { result, sent_to: None };
                    }
                    // The first one was given up unsent: this one may go.
                    None => continue,
                },
                Ok(None) => {}
            }
            let guard = ClaimGuard {
                store: store.clone(),
                key: key.clone(),
                claim: claim.clone(),
                sent: x.sent,
                settled: false,
            };
            // The other half of an owner move: the claim is visible, now the owner must still be
            // the one chosen and not moving; else give the claim back and choose again.
            if let (Some(a), None) = (&account, reverses) {
                match store.owner(a).await {
                    Ok(o) if still_owner(o.as_ref(), table, target, chosen) => {}
                    Ok(_) => {
                        guard.release().await;
                        continue;
                    }
                    Err(e) => {
                        guard.release().await;
                        return refused(store_down(e));
                    }
                }
            }
            *served_by = Some(&chosen.name);
            let result = self.settle(x.op, false, call(x, chosen, Lane::Primary, false).await);
            match &result {
                Ok(reply) => guard.finish(table.header.response_code(reply).as_deref(), reply).await,
                Err(GatewayError::OutcomeUnknown(_)) => guard.unknown().await,
                Err(_) => guard.release().await,
            }
            return Journaled { result, sent_to: Some(chosen) };
        }
    }

    /// The store is down and `on_store_error = "pass"`: sent without the journal's guard.
    async fn unguarded<'t>(
        &self,
        x: Exchange<'_>,
        target: &'t Arc<UpstreamEntry>,
        e: StoreError,
        served_by: &mut Option<&'t str>,
    ) -> Journaled<'t> {
        warn!(error = %e, "journal store unavailable: write sent unguarded (on_store_error = \"pass\")");
        metrics::counter!("ficus_journal_unguarded_total", "op" => x.op.to_string()).increment(1);
        *served_by = Some(&target.name);
        let result = self.settle(x.op, false, call(x, target, Lane::Primary, false).await);
        Journaled { result, sent_to: Some(target) }
    }

    /// The upstream that served the original of a reversal.
    async fn original<'t>(
        &self,
        table: &'t RouteTable,
        plan: &JournalPlan,
        rv: &crate::journal::Reversal,
        message: &[u8],
        deadline: Instant,
    ) -> Result<&'t Arc<UpstreamEntry>, Refused> {
        let key = crate::journal::key::join(&rv.original_key, message, table.options).map_err(Refusal::Key)?;
        let missing =
            || Refusal::OriginalMissing { op: rv.op.clone(), key: key.clone(), configured: rv.missing_reply.clone() };
        let find = || async {
            let row = plan.store.get(&key).await.map_err(Refused::Journal)?;
            row.filter(|e| e.op == rv.op).ok_or_else(|| Refused::from(missing()))
        };
        let mut original = find().await?;
        // An original still on its way: the reversal waits for its outcome (up to the route's
        // timeout), so it never overtakes it to a system that has not posted it yet.
        let mut pause = Duration::from_millis(2);
        while original.state_at(crate::journal::now_ms()) == EntryState::InFlight && Instant::now() < deadline {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
            original = find().await?;
        }
        info!(original = %key, upstream = %original.upstream, state = original.state.as_str(), "reversal goes where its original went");
        table
            .upstreams
            .get(&original.upstream)
            .ok_or_else(|| Refusal::OriginalTargetGone { key, upstream: original.upstream.clone() }.into())
    }

    /// For a read on a route with an `owner_key`: the account's owner, else `target`. A read
    /// never waits for a move and never fails for the journal: it is served by the route then.
    pub(super) async fn owner_for_read<'t>(
        &self,
        table: &'t RouteTable,
        plan: &JournalPlan,
        field: &crate::journal::KeyField,
        message: &[u8],
        target: &'t Arc<UpstreamEntry>,
    ) -> Result<&'t Arc<UpstreamEntry>, GatewayError> {
        let account = field.read(message, table.options.codepage).map_err(Refusal::Key)?;
        match plan.store.owner(&account).await {
            Ok(o) => Ok(owner_upstream(o.as_ref(), table, target, &account)?),
            Err(e) => {
                warn!(error = %e, "journal store unavailable: a read goes where its route says");
                Ok(target)
            }
        }
    }
}

/// Why no upstream was chosen: the journal said no, or the store failed.
enum Refused {
    Refusal(Refusal),
    Journal(StoreError),
}

impl From<Refusal> for Refused {
    fn from(r: Refusal) -> Refused {
        Refused::Refusal(r)
    }
}

impl From<Refused> for GatewayError {
    fn from(r: Refused) -> GatewayError {
        match r {
            Refused::Refusal(r) => r.into(),
            Refused::Journal(e) => store_down(e),
        }
    }
}

/// The upstream an owner row (none, or an empty owner: the route decides) sends `account`'s
/// messages to: its named upstream, else the route's `target`. An owner this table does not
/// have is refused, never guessed.
fn owner_upstream<'t>(
    owner: Option<&crate::journal::owners::Owner>,
    table: &'t RouteTable,
    target: &'t Arc<UpstreamEntry>,
    account: &str,
) -> Result<&'t Arc<UpstreamEntry>, Refusal> {
    match owner {
        Some(o) if !o.upstream.is_empty() => table
            .upstreams
            .get(&o.upstream)
            .ok_or_else(|| Refusal::OwnerGone { key: account.to_string(), upstream: o.upstream.clone() }),
        _ => Ok(target),
    }
}

/// True when the owner row (re-read after the claim) still sends the account's writes to
/// `chosen`: no move under way, and the owner (or, without one, the route's target) is `chosen`.
fn still_owner(
    owner: Option<&crate::journal::owners::Owner>,
    table: &RouteTable,
    target: &Arc<UpstreamEntry>,
    chosen: &Arc<UpstreamEntry>,
) -> bool {
    owner.is_none_or(|o| o.moving_to.is_none())
        && owner_upstream(owner, table, target, "").is_ok_and(|u| Arc::ptr_eq(u, chosen))
}

/// The upstream that owns `account`'s writes; waits (until `deadline`) while it is being moved.
async fn owner_target<'t>(
    store: &Store,
    table: &'t RouteTable,
    account: &str,
    target: &'t Arc<UpstreamEntry>,
    deadline: Instant,
) -> Result<&'t Arc<UpstreamEntry>, Refused> {
    let mut pause = Duration::from_millis(2);
    loop {
        let owner = store.owner(account).await.map_err(Refused::Journal)?;
        match owner {
            Some(o) if o.moving_to.is_some() && Instant::now() < deadline => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Some(o) if o.moving_to.is_some() => {
                let to = o.moving_to.unwrap_or_default();
                return Err(Refusal::Moving { key: account.to_string(), to }.into());
            }
            o => return Ok(owner_upstream(o.as_ref(), table, target, account)?),
        }
    }
}

/// A duplicate of a journaled write: the first one's reply bytes, or why there are none.
/// `None` when the first one was given up unsent (its row is gone), so this one may be sent.
async fn duplicate(
    store: &Store,
    mut existing: Entry,
    x: Exchange<'_>,
    hash: &str,
    table: &RouteTable,
    deadline: Instant,
) -> Option<Result<Vec<u8>, GatewayError>> {
    let mut pause = Duration::from_millis(5);
    loop {
        if existing.op != x.op || existing.request_hash != hash {
            return Some(Err(Refusal::KeyReused { key: existing.key, op: existing.op }.into()));
        }
        let state = existing.state_at(crate::journal::now_ms());
        match (state, &existing.reply) {
            (EntryState::Done, Some(reply)) => {
                metrics::counter!("ficus_duplicates_total", "op" => x.op.to_string()).increment(1);
                info!(key = %existing.key, upstream = %existing.upstream, "duplicate write answered from the journal, not sent");
                return Some(Ok(original_reply(table, reply, x.message)));
            }
            (EntryState::Unknown, _) | (EntryState::Done, None) => {
                return Some(Err(Refusal::Unresolved { key: existing.key, op: existing.op, state: "unknown" }.into()))
            }
            (EntryState::InFlight, _) if Instant::now() >= deadline => {
                let state = "still in flight";
                return Some(Err(Refusal::Unresolved { key: existing.key, op: existing.op, state }.into()));
            }
            (EntryState::InFlight, _) => {}
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
        existing = match store.get(&existing.key).await {
            Ok(Some(e)) => e,
            Ok(None) => return None,
            Err(e) => return Some(Err(store_down(e))),
        };
    }
}

/// The original reply, as it was (length and all); only the message id is this request's,
/// when the journal key is not the message id and the two differ (a reply always carries its
/// request's id: the correlation rule).
fn original_reply(table: &RouteTable, reply: &[u8], request: &[u8]) -> Vec<u8> {
    let mut bytes = reply.to_vec();
    if let Some((at, len)) = table.header.message_id_span() {
        if let (Some(dst), Some(src)) = (bytes.get_mut(at..at + len), request.get(at..at + len)) {
            dst.copy_from_slice(src);
        }
    }
    bytes
}

/// SHA-256 (hex) of the operation and the body: what a resend must repeat exactly.
fn request_hash(op: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(op.as_bytes());
    h.update([0]);
    h.update(body);
    hex::encode(h.finalize())
}

/// A claim token unique across replicas and restarts: host, process, time and a counter.
fn claim_token() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let prefix = PREFIX.get_or_init(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_else(|_| "host".into());
        format!("{}:{}:{:x}", host.trim(), std::process::id(), crate::journal::now_ms())
    });
    format!("{prefix}:{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A claimed key until its outcome is written. Dropped unsettled (the channel went away, the
/// future was cancelled), it gives the claim back if the write never left, else marks it
/// unknown — in a spawned task, since a drop cannot wait.
struct ClaimGuard<'a> {
    store: Arc<Store>,
    key: String,
    claim: String,
    sent: Option<&'a AtomicBool>,
    settled: bool,
}

impl ClaimGuard<'_> {
    async fn finish(mut self, code: Option<&str>, reply: &[u8]) {
        self.settled = true;
        // Queued, not awaited: the reply goes to the channel while the batch commits. A failure
        // leaves the row in flight until its lease passes, then unknown: a duplicate is
        // refused, never posted twice.
        if let Err(e) = self.store.finish_later(&self.key, &self.claim, code, reply).await {
            warn!(key = %self.key, error = %e, "journal store failed recording a reply");
            metrics::counter!("ficus_journal_store_errors_total", "at" => "finish").increment(1);
        }
    }

    async fn unknown(mut self) {
        self.settled = true;
        if let Err(e) = self.store.mark_unknown(&self.key, &self.claim).await {
            warn!(key = %self.key, error = %e, "journal store failed marking an unknown outcome (its lease will)");
        }
    }

    async fn release(mut self) {
        self.settled = true;
        if let Err(e) = self.store.release(&self.key, &self.claim).await {
            warn!(key = %self.key, error = %e, "journal store failed giving back a claim (its lease will end it)");
        }
    }
}

impl Drop for ClaimGuard<'_> {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let sent = self.sent.is_none_or(|s| s.load(Ordering::Relaxed));
        let (store, key, claim) = (self.store.clone(), std::mem::take(&mut self.key), std::mem::take(&mut self.claim));
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let _ = if sent { store.mark_unknown(&key, &claim).await } else { store.release(&key, &claim).await };
            });
        }
    }
}

#[cfg(test)]
mod tests {
    /// The hash is compared with rows written by earlier builds (a resend after an upgrade):
    /// SHA-256 of operation, NUL, body, in lowercase hex, exactly as it always was.
    #[test]
    fn request_hash_is_stable_lowercase_sha256_hex() {
        let hash = super::request_hash("XFER", b"abc");
        assert_eq!(hash, "f53da7e54ce5768884edcbc1775a48f1f161a670c9988f406ebb291438c5dc10");
    }
}
