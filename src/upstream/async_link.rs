//! Asynchronous host links (`kind = "tcp-async"`): requests go out on one connection (the
//! `send` side, [`send`]) and replies come back on another (the `receive` side, [`receive`]),
//! matched to their requests by header fields (`match`), as interbank and some host links do.
//!
//! The rules, the same as every upstream's where they apply ([`super::lane`]):
//!
//! - a request's key (the bytes of its `match` fields) must be free: a key with a request
//!   waiting, or held after one ([`table`]), is refused, not sent (FC45) — two requests with one
//!   key would get each other's replies. A blank or zero key is refused too (FC46);
//! - while the receive side is down, requests fail fast, not sent (FC10): a reply could not
//!   reach ficus. Requests already waiting keep their deadline (FC11);
//! - a reply is delivered only to the request with its key **and** its message id
//!   ([`super::Correlation`]); a late reply, a second copy, one with an unknown key or another
//!   message id is counted (`ficus_async_unmatched_total{upstream,cause}`), logged, and
//!   delivered to nobody;
//! - a write that failed part-way may have reached the host: for a read-only message it is
//!   sent once more on a new connection (the retry rule), otherwise it fails (FC10; a write's
//!   outcome is then unknown, as on any link).
//!
//! Each side reconnects on its own, with a backoff. `max_connections` bounds requests waiting
//! at once (the permits), not connections: there are always two.

mod receive;
mod send;
pub mod table;

pub use receive::Receive;

use super::lane::{Call, Correlation, Gate};
use super::{Limits, UpstreamError};
use crate::frame::Framing;
use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;
use table::{Busy, Table, Unmatched};
use tokio::sync::watch;
use tokio::time::{timeout_at, Instant};
use tracing::{warn, Instrument};

/// Default time a key stays reserved after its exchange ended (`hold_ms`).
pub const DEFAULT_HOLD: Duration = Duration::from_secs(30);

/// What a link needs to know about its messages, built from routes.toml.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkConfig {
    /// `host:port` ficus connects to and writes requests on.
    pub send: String,
    /// Where replies arrive.
    pub receive: Receive,
    /// Framing of both sides.
    pub framing: Framing,
    /// The match fields: (name, offset, length) in the header.
    pub key: Vec<(String, usize, usize)>,
    /// Where the message id is, when `[header] message_id` names one.
    pub correlation: Option<Correlation>,
    /// How long a key stays reserved after its exchange ended.
    pub hold: Duration,
    /// Largest reply read.
    pub max_reply_bytes: usize,
    /// Time to connect either side.
    pub connect_timeout: Duration,
}

impl LinkConfig {
    /// The match key of `message` (its match fields' bytes, in order), if long enough.
    pub fn key_of(&self, message: &[u8]) -> Option<Vec<u8>> {
        let mut key = Vec::new();
        for (_, offset, len) in &self.key {
            key.extend_from_slice(message.get(*offset..offset + len)?);
        }
        Some(key)
    }

    /// The key of `message` as `NAME=value` pairs, for errors and logs.
    pub fn show_key(&self, message: &[u8]) -> String {
        let field = |(name, offset, len): &(String, usize, usize)| {
            let bytes = message.get(*offset..offset + len).unwrap_or_default();
            format!("{name}={}", super::lane::show(bytes))
        };
        self.key.iter().map(field).collect::<Vec<_>>().join(" ")
    }
}

/// The state of one link shared by every route table that has it (a reload that keeps its
/// `receive` keeps its connections and its table of outstanding requests).
pub struct Core {
    name: String,
    config: ArcSwap<LinkConfig>,
    table: Mutex<Table>,
    send: send::SendSide,
    up: watch::Sender<bool>,
    bound: receive::Bound,
    unmatched: [AtomicU64; 5],
    /// Dropped with the core: ends the receive task.
    _stop: watch::Sender<()>,
}

type Registry = Mutex<HashMap<(String, Receive), Weak<Core>>>;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

impl Core {
    fn set_up(&self, up: bool) {
        self.up.send_replace(up);
    }

    /// Hands a reply to its request, or counts and logs why nobody gets it.
    fn dispatch(&self, reply: Vec<u8>) {
        let config = self.config.load();
        let Some(key) = config.key_of(&reply) else {
            return self.unmatched(Unmatched::Unreadable, &format!("reply of {} bytes", reply.len()));
        };
        let shown = config.show_key(&reply);
        let reply_id = config.correlation.and_then(|c| reply.get(c.offset..c.offset + c.len).map(<[u8]>::to_vec));
        let same_id = |id: &[u8]| config.correlation.is_none() || reply_id.as_deref() == Some(id);
        let result = match self.table.lock() {
            Ok(mut table) => table.deliver(&key, reply, same_id, Instant::now(), config.hold),
            Err(_) => Err(Unmatched::Unknown),
        };
        if let Err(cause) = result {
            self.unmatched(cause, &shown);
        }
    }

    fn unmatched(&self, cause: Unmatched, key: &str) {
        let i = Unmatched::ALL.iter().position(|c| *c == cause).unwrap_or(0);
        self.unmatched[i].fetch_add(1, Ordering::Relaxed);
        metrics::counter!("ficus_async_unmatched_total", "upstream" => self.name.clone(), "cause" => cause.label())
            .increment(1);
        warn!(upstream = %self.name, cause = cause.label(), key, "reply matches no waiting request: delivered to nobody");
    }
}

/// An upstream of `kind = "tcp-async"`.
pub struct AsyncLink {
    name: String,
    config: Arc<LinkConfig>,
    limits: Limits,
    gate: Gate,
    core: OnceLock<Arc<Core>>,
}

impl AsyncLink {
    /// A link as configured; nothing connects or listens until [`AsyncLink::start`].
    pub fn new(name: &str, config: LinkConfig, limits: Limits) -> AsyncLink {
        let gate = Gate::new(name, &limits);
        AsyncLink { name: name.into(), config: Arc::new(config), limits, gate, core: OnceLock::new() }
    }

    /// Its configuration.
    pub fn config(&self) -> &LinkConfig {
        &self.config
    }

    /// Its breakers, permits and retry budget.
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// Starts listening or connecting for replies (once; a link with the same name and
    /// `receive` already running in this process is taken over, connections and outstanding
    /// requests included). Outside a runtime it does nothing; the first call starts it then.
    pub fn start(&self) -> Option<&Arc<Core>> {
        if let Some(core) = self.core.get() {
            return Some(core);
        }
        tokio::runtime::Handle::try_current().ok()?;
        Some(self.core.get_or_init(|| {
            let mut registry = registry().lock().unwrap_or_else(|p| p.into_inner());
            registry.retain(|_, weak| weak.strong_count() > 0);
            let id = (self.name.clone(), self.config.receive.clone());
            // Port 0 is a new port each time: nothing to take over.
            let shared = !matches!(&self.config.receive, Receive::Listen(a) if a.ends_with(":0"));
            if let Some(core) = registry.get(&id).filter(|_| shared).and_then(Weak::upgrade) {
                core.config.store(self.config.clone());
                return core;
            }
            let (stop, stopped) = watch::channel(());
            let core = Arc::new(Core {
                name: self.name.clone(),
                config: ArcSwap::new(self.config.clone()),
                table: Mutex::new(Table::default()),
                send: send::SendSide::default(),
                up: watch::channel(false).0,
                bound: watch::channel(None).0,
                unmatched: Default::default(),
                _stop: stop,
            });
            if shared {
                registry.insert(id, Arc::downgrade(&core));
            }
            tokio::spawn(receive::run(Arc::downgrade(&core), self.config.receive.clone(), stopped));
            core
        }))
    }

    /// True while the receive side has a connection.
    pub fn receive_up(&self) -> bool {
        self.core.get().is_some_and(|c| *c.up.borrow())
    }

    /// Waits (at most `limit`) until the receive side has a connection; true if it has.
    pub async fn receive_ready(&self, limit: Duration) -> bool {
        self.receive_becomes(true, limit).await
    }

    /// Waits (at most `limit`) until the receive side is up (`true`) or down; true if it is.
    pub async fn receive_becomes(&self, up: bool, limit: Duration) -> bool {
        let Some(core) = self.start() else { return false };
        let mut state = core.up.subscribe();
        tokio::time::timeout(limit, state.wait_for(|u| *u == up)).await.is_ok_and(|r| r.is_ok())
    }

    /// True while the send side has a connection open.
    pub fn send_up(&self) -> bool {
        self.core.get().is_some_and(|c| c.send.is_up())
    }

    /// The address the receive side listens on, once listening (`receive = { listen }`).
    pub fn listening_on(&self) -> Option<SocketAddr> {
        *self.core.get()?.bound.borrow()
    }

    /// Waits (at most `limit`) until the receive side listens, and says where (`receive =
    /// { listen }`; port 0 picks a free port).
    pub async fn listening(&self, limit: Duration) -> Option<SocketAddr> {
        let mut bound = self.start()?.bound.subscribe();
        let at = tokio::time::timeout(limit, bound.wait_for(Option::is_some)).await.ok()?.ok()?;
        *at
    }

    /// Requests waiting for their replies now, and keys held after their exchange.
    pub fn outstanding(&self) -> (usize, usize) {
        self.core.get().and_then(|c| c.table.lock().ok().map(|t| (t.waiting(), t.held()))).unwrap_or_default()
    }

    /// Replies delivered to nobody since start, by cause.
    pub fn unmatched(&self, cause: Unmatched) -> u64 {
        let i = Unmatched::ALL.iter().position(|c| *c == cause).unwrap_or(0);
        self.core.get().map_or(0, |c| c.unmatched[i].load(Ordering::Relaxed))
    }

    /// Sends one message and waits for the reply matched to it (see the module doc).
    pub async fn call(&self, call: Call<'_>) -> Result<Vec<u8>, UpstreamError> {
        let unsendable = |reason: String| UpstreamError::Unsendable { upstream: self.name.clone(), reason };
        self.config.framing.writable(call.message.len()).map_err(|e| unsendable(e.to_string()))?;
        let key =
            self.config.key_of(call.message).ok_or_else(|| unsendable("too short for its match fields".into()))?;
        if super::pool::uncountable(&key) {
            let key = self.config.show_key(call.message);
            return Err(UpstreamError::MatchKeyBlank { upstream: self.name.clone(), key });
        }
        let deadline = Instant::now() + self.limits.timeout;
        let pass = self.gate.enter(call.lane, deadline).await?;
        let span = tracing::debug_span!("async_link", send = %self.config.send, receive = %self.config.receive);
        let traced = crate::telemetry::on().then(|| span.clone());
        let result = self.call_admitted(call, key, deadline).instrument(span).await;
        crate::telemetry::call_ended(traced.as_ref(), &result);
        pass.finish(result.as_ref().err().is_some_and(UpstreamError::is_host_failure));
        if let Err(e) = &result {
            let cause = super::pool::error_cause(e);
            metrics::counter!("ficus_upstream_errors_total", "upstream" => self.name.clone(), "cause" => cause)
                .increment(1);
        }
        result
    }

    async fn call_admitted(&self, call: Call<'_>, key: Vec<u8>, deadline: Instant) -> Result<Vec<u8>, UpstreamError> {
        let name = &self.name;
        let Some(core) = self.start() else {
            return Err(UpstreamError::Connect { upstream: name.clone(), reason: "no runtime to run the link".into() });
        };
        if !*core.up.borrow() {
            let reason = match (self.listening_on(), &self.config.receive) {
                (Some(at), _) => format!("no connection from the host on {at}"),
                (None, Receive::Listen(at)) => format!("not listening on {at} yet"),
                (None, Receive::Connect(at)) => format!("no connection to {at}"),
            };
            return Err(UpstreamError::ReceiveDown { upstream: name.clone(), reason });
        }
        let id = call.correlation.and_then(|c| call.message.get(c.offset..c.offset + c.len)).unwrap_or_default();
        let reserved = core
            .table
            .lock()
            .map_err(|_| UpstreamError::Io { upstream: name.clone(), reason: "link table poisoned".into() })?
            .reserve(&key, id, Instant::now());
        let (ticket, reply) = reserved.map_err(|busy| UpstreamError::MatchKeyInUse {
            upstream: name.clone(),
            key: self.config.show_key(call.message),
            why: match busy {
                Busy::Waiting => "a request with it is waiting for its reply",
                Busy::AwaitingLate => "a request with it timed out and its reply may still come",
                Busy::RecentlyAnswered => "it was answered moments ago and a second copy may still come",
            },
        })?;
        let reservation = Reservation { core, key: &key, ticket, written: AtomicBool::new(false) };
        let mut attempts = 0;
        loop {
            attempts += 1;
            let about_to_send = || {
                reservation.written.store(true, Ordering::Relaxed);
                if let Some(sent) = call.sent {
                    sent.store(true, Ordering::Relaxed);
                }
            };
            let target = (name.as_str(), self.config.send.as_str());
            let times = (deadline, self.limits.connect_timeout);
            match core.send.write(target, self.config.framing, call.message, times, about_to_send).await {
                Ok(()) => break,
                Err(send::SendFailure::NotSent(reason)) if attempts == 1 => {
                    return Err(UpstreamError::Connect { upstream: name.clone(), reason })
                }
                // A retry that could not be sent: the first copy may still be answered.
                Err(send::SendFailure::NotSent(reason) | send::SendFailure::Broken(reason)) => {
                    let error = UpstreamError::Io { upstream: name.clone(), reason };
                    if !self.gate.may_retry(&call, attempts, true) {
                        return Err(error);
                    }
                    tracing::debug!(upstream = %name, %error, "write failed: sent again");
                }
                Err(send::SendFailure::TimedOut) => return Err(self.timeout()),
            }
        }
        match timeout_at(deadline, reply).await {
            Ok(Ok(bytes)) => Ok(bytes),
            Ok(Err(_)) => Err(UpstreamError::Io { upstream: name.clone(), reason: "the link was dropped".into() }),
            Err(_) => Err(self.timeout()),
        }
    }

    fn timeout(&self) -> UpstreamError {
        UpstreamError::Timeout { upstream: self.name.clone(), ms: self.limits.timeout.as_millis() as u64 }
    }
}

/// A key reserved for one request; dropped, it frees the key if nothing was written, or holds
/// it for the late reply if something may have been (a timeout, a failure, a caller gone).
struct Reservation<'a> {
    core: &'a Core,
    key: &'a [u8],
    ticket: u64,
    written: AtomicBool,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let Ok(mut table) = self.core.table.lock() else { return };
        if self.written.load(Ordering::Relaxed) {
            table.give_up(self.key, self.ticket, Instant::now(), self.core.config.load().hold);
        } else {
            table.release(self.key, self.ticket);
        }
    }
}
