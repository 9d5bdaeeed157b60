//! Paged inquiries (연속조회) in the pipeline: a page request carrying a continuation key goes
//! to the upstream that handed the key out — not where the route, a canary, an owner or a
//! fallback would send it now — and each page's reply pins the next one (or ends the
//! conversation). The pins are the journal store's ([`crate::journal::continuation`]).

use super::Gateway;
use crate::journal::{now_ms, Continuation, Issued, JournalPlan, OnStoreError, OnUnknownKey, Refusal};
use crate::reply::GatewayError;
use crate::route::{RouteTable, UpstreamEntry};
use std::sync::Arc;
use tracing::{info, warn};

/// Where a page request stands in its conversation.
pub(super) struct Page<'t> {
    /// The upstream the conversation is pinned to (a continued page with a live pin).
    pub pinned: Option<&'t Arc<UpstreamEntry>>,
    /// The key the request carries (none: a first page).
    pub key: Option<String>,
}

impl Page<'_> {
    /// A continued page (its request carries a key): its shadow would get a key the shadow's
    /// upstream never handed out, so it is not mirrored.
    pub fn continued(&self) -> bool {
        self.key.is_some()
    }
}

fn count(op: &str, result: &'static str) {
    metrics::counter!("ficus_continuation_total", "op" => op.to_string(), "result" => result).increment(1);
}

impl Gateway {
    /// Reads a page request's continuation key and finds its pin.
    ///
    /// Errors: the key unreadable (FC05); no live pin, an ambiguous one or one to an upstream no
    /// longer configured (FC26, unless `unknown = "route"` for the first); the store down with
    /// `on_store_error = "refuse"` (FC24).
    pub(super) async fn page<'t>(
        &self,
        table: &'t RouteTable,
        plan: &JournalPlan,
        c: &Continuation,
        op: &str,
        message: &[u8],
    ) -> Result<Page<'t>, GatewayError> {
        let Some(key) = c.requested(message, table.options).map_err(Refusal::Key)? else {
            return Ok(Page { pinned: None, key: None });
        };
        let pin_key = c.pin_key(op, message, table.header.size, &key).map_err(Refusal::Key)?;
        let refuse = |key: String, why: String| Err(Refusal::Continuation { op: op.to_string(), key, why }.into());
        let pin = match plan.store.pin(&pin_key, now_ms()).await {
            Ok(pin) => pin,
            Err(e) if plan.on_store_error == OnStoreError::Pass => {
                warn!(error = %e, "journal store unavailable: a continued page goes where its route says");
                count(op, "unguarded");
                return Ok(Page { pinned: None, key: Some(key) });
            }
            Err(e) => return Err(Refusal::Store(e.to_string()).into()),
        };
        let Some(pin) = pin else {
            if c.on_unknown == OnUnknownKey::Route {
                count(op, "routed");
                return Ok(Page { pinned: None, key: Some(key) });
            }
            count(op, "refused");
            return refuse(key, "is not known (expired, or not handed out through ficus)".into());
        };
        if pin.upstream.is_empty() {
            count(op, "refused");
            return refuse(key, "was handed out by two upstreams for this inquiry".into());
        }
        match table.upstreams.get(&pin.upstream) {
            Some(upstream) => {
                count(op, "pinned");
                Ok(Page { pinned: Some(upstream), key: Some(key) })
            }
            None => {
                count(op, "refused");
                refuse(key, format!("was handed out by {}, which is not an upstream now", pin.upstream))
            }
        }
    }

    /// After `served_by` answered a page: pins the next page to it (nothing on the last page). Awaited before the reply goes out, so the next page (on any replica)
    /// finds its pin.
    ///
    /// Errors: the store down with `on_store_error = "refuse"` (FC24: without its pin the next
    /// page could not be served right).
    #[allow(clippy::too_many_arguments)] // each is read once; a struct would only rename them
    pub(super) async fn turn_page(
        &self,
        table: &RouteTable,
        plan: &JournalPlan,
        c: &Continuation,
        op: &str,
        message: &[u8],
        page: &Page<'_>,
        reply: &[u8],
        served_by: &UpstreamEntry,
    ) -> Result<(), GatewayError> {
        let size = table.header.size;
        let done = match (c.issued(reply, table.options), &page.key) {
            // A first page starts a conversation: its key is this upstream's now, whoever handed
            // the same key out for the same inquiry before (a customer asking again after a
            // flip). A later page's key handed out by two upstreams at once turns ambiguous.
            (Issued::Next(next), key) => {
                let pin_key = c.pin_key(op, message, size, &next).map_err(Refusal::Key)?;
                let fresh = key.is_none();
                plan.store.pin_to(&pin_key, op, &served_by.name, now_ms(), c.ttl, fresh).await
            }
            // The last page: nothing more is pinned. The pins made stay until their time to
            // live, so the channel sending a page again (its answer lost, or an error reply that
            // left the key blank) still reaches the system that handed its key out.
            (Issued::Last, Some(key)) => {
                info!(key = %key, "the last page: the conversation ends");
                Ok(())
            }
            (Issued::Last, None) | (Issued::Nothing, _) => Ok(()),
        };
        match done {
            Ok(()) => Ok(()),
            Err(e) if plan.on_store_error == OnStoreError::Pass => {
                warn!(error = %e, "journal store unavailable: the next page is not pinned");
                count(op, "unguarded");
                Ok(())
            }
            Err(e) => Err(Refusal::Store(e.to_string()).into()),
        }
    }
}
