//! The pipeline both listeners feed: header → route → upstream → (encode) → reply, then the
//! shadow mirror and capture, after the channel's reply is settled.
//!
//! Each message loads the route table once and is served wholly by it. Legacy targets get the
//! request bytes untouched and their reply passes back untouched; JSON targets get the decoded
//! request and their reply is encoded into the response copybook. Every failure becomes a
//! fixed-width error reply via [`crate::reply`]; nothing here panics on input.

use crate::codec::{Codec, Scratch};
use crate::header::Head;
use crate::reply::{GatewayError, Reply};
use crate::route::tally::{OpTally, Side, Tallies};
use crate::route::{bucket_keyed, Decision, Route, RouteTable, UpstreamEntry};
use crate::shadow::capture::CaptureRecord;
use crate::shadow::mirror::{secs, ShadowSettings, ShadowState};
use crate::upstream::{Call, Correlation, Lane, Upstream};
use arc_swap::ArcSwap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tracing::{info_span, warn, Instrument};

/// The running gateway: the current route table and what outlives tables (shadow state).
pub struct Gateway {
    table: ArcSwap<RouteTable>,
    /// Shadow counters, records and captures.
    pub shadow: Arc<ShadowState>,
    in_flight: AtomicUsize,
    /// `ficus_messages_in_flight`, made on the first message (the recorder is installed by then).
    in_flight_gauge: std::sync::OnceLock<metrics::Gauge>,
    unknown: AtomicU64,
    /// Cumulative per-operation tallies the dashboard's history samples (routes hold handles).
    pub tallies: Arc<Tallies>,
    /// The tally of messages without a route (`unknown`).
    unrouted: Option<Arc<OpTally>>,
}

mod channel;
mod conversation;
mod in_flight;
mod journaled;
mod mirror;
mod translate;
use in_flight::InFlight;
pub use translate::{encode_reply, JsonRequest};

impl Gateway {
    /// A gateway serving `table`; shadow records and captures go under `records` if given.
    pub fn new(table: RouteTable, records: Option<&Path>) -> Arc<Gateway> {
        let s = &table.file.shadow;
        let settings = ShadowSettings {
            max_in_flight: s.max_in_flight,
            max_record_bytes: s.max_record_bytes,
            keep_files: s.keep_files,
        };
        // `records = "postgres"`: the journal's PostgreSQL store (`ficus check` refuses it without one).
        let store = table.journal.as_ref().filter(|j| j.store.backend() == crate::journal::store::Backend::Postgres);
        let shadow = Arc::new(match store {
            Some(j) if s.records == crate::shadow::store::RECORDS_POSTGRES => {
                ShadowState::to_store(&settings, &j.store_spec.0, j.store.display(), j.retention)
            }
            _ => ShadowState::new(&settings, records),
        });
        start_links(&table);
        let tallies = Arc::new(Tallies::default());
        Arc::new(Gateway {
            table: ArcSwap::from_pointee(table),
            shadow,
            in_flight: AtomicUsize::new(0),
            in_flight_gauge: std::sync::OnceLock::new(),
            unknown: AtomicU64::new(0),
            unrouted: tallies.get("unknown"),
            tallies,
        })
    }

    /// The current table.
    pub fn table(&self) -> Arc<RouteTable> {
        self.table.load_full()
    }

    /// Swaps in a new table (already validated); returns the old one.
    pub fn swap(&self, table: RouteTable) -> Arc<RouteTable> {
        start_links(&table);
        self.table.swap(Arc::new(table))
    }

    /// Messages being served right now (in [`Gateway::handle`]).
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Writes whose outcome the channel could not be told since start: no reply in time, a
    /// reply not its own, or the channel gone while the upstream had the write
    /// (`ficus_unknown_outcomes_total`).
    pub fn unknown_outcomes(&self) -> u64 {
        self.unknown.load(Ordering::Relaxed)
    }

    /// A write's answer could not be written to its channel (the channel went away): the write
    /// was applied or refused by the upstream, and the channel will never know which. Logged
    /// and counted as an unknown outcome, for reconciliation.
    pub fn undelivered(&self, reply: &Reply) {
        let Some(op) = &reply.write else { return };
        let table = self.table();
        let code = table.header.response_code(&reply.bytes).unwrap_or_default();
        let id = table.header.message_id(&reply.bytes).unwrap_or_default();
        warn!(op = %op, id = %id, response_code = %code, outcome = "unknown", "a write's answer could not be delivered: the channel went away");
        metrics::counter!("ficus_unknown_outcomes_total", "op" => op.clone(), "cause" => "reply_undelivered")
            .increment(1);
        self.unknown.fetch_add(1, Ordering::Relaxed);
    }

    /// Serves one message of the default channel. Cancel-safe: dropping the future releases
    /// everything it held.
    pub async fn handle(&self, message: Vec<u8>) -> Reply {
        self.handle_in(self.table.load_full(), crate::route::channel::DEFAULT_CHANNEL, message).await
    }

    /// Serves one message (in the host's code page) received on `channel`, by `table` (the one
    /// the channel's listener converted it with). Cancel-safe.
    pub async fn handle_in(&self, table: Arc<RouteTable>, channel: &str, message: Vec<u8>) -> Reply {
        let started = Instant::now();
        // The header is read and the routing decision made once, here; serve() uses both.
        let head = table.header.read(&message);
        let decision = head.op.as_deref().ok().map(|o| table.decide(o, &message));
        // Label sets stay bounded: an operation without a route is "unknown", whatever it says.
        let op_label = decision.as_ref().and_then(|d| d.route).map_or("unknown", |r| r.op.as_str());
        let target = decision.as_ref().map_or("-", |d| d.target.name.as_str());
        let canary = decision.as_ref().is_some_and(|d| d.canary);
        let route = decision.as_ref().and_then(|d| d.route);
        let side = match &decision {
            Some(d) if !d.target.upstream.is_bytes() => Side::New,
            _ => Side::Legacy,
        };
        let span_op = head.op.as_deref().unwrap_or("?");
        let span = info_span!("msg", channel, op = span_op, route = %target, generation = table.generation, id = head.id.as_deref().unwrap_or("-"), outcome = tracing::field::Empty, code = tracing::field::Empty);
        // Traced: the channel's trace context (if it sent one) is the parent; the span is kept to
        // record the outcome on. Off: nothing (one relaxed load).
        let traced = crate::telemetry::on().then(|| {
            crate::telemetry::adopt_parent(&span);
            span.clone()
        });
        // A write (an operation not known to be read-only) whose channel goes away once the
        // upstream may have it is an unknown outcome: the guard says so if this future is dropped.
        let write = decision.as_ref().is_some_and(|d| d.route.is_none_or(|r| !r.read_only));
        let sent = AtomicBool::new(false);
        let gauge = self.in_flight_gauge.get_or_init(|| metrics::gauge!("ficus_messages_in_flight"));
        // The history's tally: a handle the route holds (looked up once per table and operation).
        let tally = match route {
            Some(r) => r.counters.tally(&r.op, &self.tallies),
            None => self.unrouted.as_deref(),
        };
        let in_flight =
            InFlight::enter(&self.in_flight, gauge, &self.unknown, op_label, head.id.as_deref(), write, &sent)
                .tallied(tally, side);
        // Who answered (or failed), as serve() tried them: the channel is told on HTTP.
        let mut served_by = None;
        let (reply, outcome) = async {
            match self.serve(&table, channel, &message, &head, decision, &sent, &mut served_by).await {
                Ok(bytes) => {
                    let write = (write && sent.load(Ordering::Relaxed)).then(|| op_label.to_string());
                    (Reply { write, ..Reply::new(bytes, 200) }, "ok")
                }
                Err(error) => {
                    let wire = error.wire();
                    warn!(code = wire.code, cause = wire.cause, %error, "error reply");
                    if let Some(span) = &traced {
                        crate::telemetry::finish_msg(span, wire.cause, Some(wire.code));
                    }
                    let (code, text) = error.wire_reply();
                    let bytes = table.header.error_reply(&message, &code, &text);
                    (Reply::error(bytes, &error), wire.cause)
                }
            }
        }
        .instrument(span)
        .await;
        if let (Some(span), "ok") = (&traced, outcome) {
            crate::telemetry::finish_msg(span, outcome, None);
        }
        in_flight.done();
        let elapsed = started.elapsed();
        count(&table, route, channel, op_label, target, outcome, elapsed);
        // The history: two or three relaxed increments.
        if let Some(t) = tally {
            t.record(side, outcome != "ok", u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX));
        }
        if let (true, Some(route)) = (canary, route) {
            route.counters.canary(&route.op).increment(1);
        }
        reply.via(served_by, table.generation)
    }

    /// Serves one message by `decision`; `served_by` names each upstream as it is tried, so it
    /// ends as the one that answered or the last one that failed (none if none was tried).
    #[allow(clippy::too_many_arguments)] // each is read once here; a struct would only rename them
    async fn serve<'t>(
        &self,
        table: &'t Arc<RouteTable>,
        channel: &str,
        message: &[u8],
        head: &Head,
        decision: Option<Decision<'t>>,
        sent: &AtomicBool,
        served_by: &mut Option<&'t str>,
    ) -> Result<Vec<u8>, GatewayError> {
        let max = table.limits.max_message_bytes;
        if message.len() > max {
            return Err(GatewayError::TooLarge { len: message.len(), max });
        }
        // Borrowed from the header read once: an owned copy only where an error or label keeps it.
        let op: &str = head.op.as_deref().map_err(Clone::clone)?;
        // Every header field must be valid for its picture, whoever serves the message.
        head.valid.clone()?;
        // A readable operation always has a decision (made by handle()).
        let Some(decision) = decision else { return Err(GatewayError::Disabled(op.to_string())) };
        let correlation = correlation(table);
        let Some(route) = decision.route else {
            // No route: the default target, bytes untouched; not known to be read-only.
            let call = Call { message, read_only: false, lane: Lane::Primary, correlation, sent: Some(sent) };
            *served_by = Some(&decision.target.name);
            return self.settle(op, false, call_bytes(decision.target, call).await);
        };
        if !route.enabled {
            if let Some((code, message)) = &route.disabled_reply {
                return Err(GatewayError::DisabledWith {
                    op: op.to_string(),
                    code: code.clone(),
                    message: message.clone(),
                });
            }
            return Err(GatewayError::Disabled(op.to_string()));
        }
        let started = Instant::now();
        let table_ref: &'t RouteTable = table;
        let mut target = decision.target;
        // A message that does not fit its layout never reaches an upstream. Bound for a JSON
        // service, the message is decoded once, into the JSON that service gets.
        let json = match &route.request {
            Some(request) if target.upstream.is_json() && route.response.is_some() => {
                Some(JsonRequest::build(table, op, request, message)?)
            }
            Some(request) => {
                validate(request, &message[table.header.size..])?;
                None
            }
            None => None,
        };
        // A paged inquiry's next page goes where its previous page was served, whatever the
        // route, a canary or an owner says now.
        let paging = table_ref.journal.as_deref().zip(route.continuation.as_ref());
        let page = match paging {
            Some((plan, c)) => Some(self.page(table_ref, plan, c, op, message).await?),
            None => None,
        };
        let pinned = page.as_ref().and_then(|p| p.pinned);
        if let Some(p) = pinned {
            if !Arc::ptr_eq(p, target) {
                metrics::counter!("ficus_continuation_total", "op" => op.to_string(), "result" => "kept_from_route")
                    .increment(1);
            }
            target = p;
        }
        let journal = table.journal.as_deref().zip(route.journal.as_ref());
        // A read on a route with an owner_key follows the account's owner.
        if let (Some((plan, rj)), true, None) = (journal, route.read_only, pinned) {
            if let Some(field) = &rj.owner_key {
                target = self.owner_for_read(table_ref, plan, field, message, target).await?;
            }
        }
        let mut answered_by = target;
        *served_by = Some(&answered_by.name);
        let x = Exchange {
            table,
            route,
            op,
            message,
            id: head.id.as_deref(),
            channel: Some(channel),
            sent: Some(sent),
            json: json.as_ref(),
        };
        let result = match journal {
            Some(j) if !route.read_only => {
                let done = self.journaled(x, table_ref, target, j, served_by).await;
                // Answered by the journal (a duplicate, a refusal): nothing to capture or mirror.
                // No upstream saw it: journaled() named the journal (a duplicate) or nobody (refused).
                let Some(sent_to) = done.sent_to else { return done.result };
                answered_by = sent_to;
                done.result
            }
            _ => {
                let mut result = call(x, target, Lane::Primary, false).await;
                if let (Err(error), Some(fallback)) = (&result, &route.fallback) {
                    // A pinned page has one source: another system's page would skip or repeat rows.
                    if route.read_only && !Arc::ptr_eq(fallback, target) && pinned.is_none() {
                        warn!(%error, fallback = %fallback.name, "target failed; answering from the fallback");
                        metrics::counter!("ficus_fallbacks_total", "op" => route.op.clone()).increment(1);
                        answered_by = fallback;
                        *served_by = Some(&fallback.name);
                        result = call(x, fallback, Lane::Primary, false).await;
                    }
                }
                self.settle(op, route.read_only, result)
            }
        };
        if let (Ok(reply), Some((plan, c)), Some(page)) = (&result, paging, &page) {
            self.turn_page(table_ref, plan, c, op, message, page, reply, answered_by).await?;
        }
        if let Ok(reply) = &result {
            let primary_secs = secs(started);
            self.capture(x, reply, answered_by);
            match &page {
                // Its key is the primary's: the shadow's upstream never handed it out.
                Some(p) if p.continued() && route.shadow.is_some() => {
                    metrics::counter!("ficus_shadow_total", "op" => op.to_string(), "result" => "continued_page")
                        .increment(1);
                }
                _ => self.mirror(table, x, reply, answered_by, primary_secs),
            }
        }
        result
    }

    /// A write whose upstream may have received it but whose answer the channel will not get has
    /// an unknown outcome: it is marked so on the wire, logged and counted, for reconciliation.
    fn settle(
        &self,
        op: &str,
        read_only: bool,
        result: Result<Vec<u8>, GatewayError>,
    ) -> Result<Vec<u8>, GatewayError> {
        match result {
            Err(e) if !read_only && e.maybe_applied() => {
                warn!(outcome = "unknown", error = %e, "a write may have been applied: its outcome is unknown");
                metrics::counter!("ficus_unknown_outcomes_total", "op" => op.to_string(), "cause" => "no_answer")
                    .increment(1);
                self.unknown.fetch_add(1, Ordering::Relaxed);
                Err(GatewayError::OutcomeUnknown(Box::new(e)))
            }
            other => other,
        }
    }

    /// Records request and reply bytes for replay, for the sampled share.
    fn capture(&self, x: Exchange<'_>, reply: &[u8], served_by: &UpstreamEntry) {
        let (Some(threshold), Some(captures)) = (x.route.capture, &self.shadow.captures) else { return };
        if bucket_keyed(&[b"capture:", x.op.as_bytes()], x.message) < threshold {
            let mut record = CaptureRecord::new(x.op, x.id, &served_by.name, x.table.generation, x.message, reply);
            record.channel = x.channel.map(String::from);
            captures.write(&record);
        }
    }
}

/// Counts one message: through the route's and channel's cached handles when it was answered
/// without error (the common case: no label strings made), else through the macros.
fn count(
    table: &RouteTable,
    route: Option<&Route>,
    channel: &str,
    op: &str,
    target: &str,
    outcome: &'static str,
    elapsed: std::time::Duration,
) {
    let secs = elapsed.as_secs_f64();
    let served = route.filter(|_| outcome == "ok").and_then(|r| r.counters.served(op, target));
    match served {
        Some(served) => {
            served.messages.increment(1);
            served.outcomes.increment(1);
            served.seconds.record(secs);
        }
        None => {
            let (op, target) = (op.to_string(), target.to_string());
            metrics::counter!("ficus_messages_total", "op" => op.clone(), "target" => target.clone(), "outcome" => outcome)
                .increment(1);
            metrics::counter!("ficus_message_outcomes_total", "op" => op.clone(), "outcome" => outcome).increment(1);
            metrics::histogram!("ficus_message_seconds", "op" => op, "target" => target).record(secs);
        }
    }
    match table.channels.iter().find(|c| &*c.name == channel).filter(|_| outcome == "ok") {
        Some(plan) => plan
            .ok_messages
            .get_or_init(|| metrics::counter!("ficus_channel_messages_total", "channel" => channel.to_string(), "outcome" => "ok"))
            .increment(1),
        None => metrics::counter!("ficus_channel_messages_total", "channel" => channel.to_string(), "outcome" => outcome)
            .increment(1),
    }
}

/// One message on its way to an upstream: what every call needs to know about it.
#[derive(Clone, Copy)]
pub struct Exchange<'a> {
    /// The table the message is served by.
    pub table: &'a RouteTable,
    /// Its route.
    pub route: &'a Route,
    /// Its operation code.
    pub op: &'a str,
    /// The request bytes.
    pub message: &'a [u8],
    /// The message id.
    pub id: Option<&'a str>,
    /// The channel it came in on (none when a replay's capture did not say).
    pub channel: Option<&'a str>,
    /// Set when the message is about to leave for an upstream (none for shadows and replay).
    pub sent: Option<&'a AtomicBool>,
    /// The message's JSON for a service, when already built (see [`JsonRequest`]).
    pub json: Option<&'a JsonRequest>,
}

/// Where replies must carry the request's message id, when routes.toml names the field.
pub fn correlation(table: &RouteTable) -> Option<Correlation> {
    table.header.message_id_span().map(|(offset, len)| Correlation { offset, len })
}

/// Sends one message to `target`: bytes as they are for legacy, translated for JSON.
/// `dry_run` marks a shadowed write for the new service. Whatever the upstream kind, the reply
/// returned carries the request's message id (when one is configured); any other is refused —
/// by [`call_bytes`] for fixed-width upstreams, by [`translate`] for JSON services.
pub async fn call(x: Exchange<'_>, target: &UpstreamEntry, lane: Lane, dry_run: bool) -> Result<Vec<u8>, GatewayError> {
    let correlation = correlation(x.table);
    match &target.upstream {
        Upstream::Json(service) => translate::translate(x, service, lane, dry_run).await,
        _ => {
            let call = Call { message: x.message, read_only: x.route.read_only, lane, correlation, sent: x.sent };
            call_bytes(target, call).await
        }
    }
}

async fn call_bytes(target: &UpstreamEntry, call: Call<'_>) -> Result<Vec<u8>, GatewayError> {
    let reply = match &target.upstream {
        Upstream::Tcp(pool) => pool.call(call).await?,
        Upstream::Http(http) => http.call(call).await?,
        Upstream::TcpAsync(link) => link.call(call).await?,
        Upstream::Json(_) => {
            return Err(GatewayError::Disabled(format!("(no route, and {} speaks JSON)", target.name)))
        }
    };
    if let Some(c) = call.correlation {
        c.check(call.message, &reply).map_err(|ids| Correlation::error(&target.name, ids))?;
    }
    Ok(reply)
}

/// Starts what `table`'s upstreams run on their own (an asynchronous link's receive side)
/// as the table goes live; a table only checked, never served, starts nothing.
fn start_links(table: &RouteTable) {
    for entry in table.upstreams.values() {
        entry.upstream.start();
    }
}

/// Checks that `body` decodes with `codec` (strict) without building anything.
fn validate(codec: &Codec, body: &[u8]) -> Result<(), GatewayError> {
    let mut sink = crate::codec::json::NullSink;
    Scratch::with_local(|scratch| codec.plan().decode(body, &mut sink, scratch)).map(|_| ()).map_err(GatewayError::Body)
}
