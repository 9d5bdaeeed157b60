//! The legacy host over framed TCP: a bounded pool of persistent connections.
//!
//! A pooled connection remembers the message id of its last exchange and is never reused for
//! a message with the same id — a late duplicate of that reply could not be told from the
//! answer — and one whose id was blank or zero (a channel that does not number its messages) is
//! not pooled at all.
//!
//! A permit per exchange bounds connections ([`super::lane::Gate`]); idle connections are
//! reused after a liveness check (a host that closed one, or sent bytes nobody asked for, is
//! noticed before anything is written to it), and a connection that failed, timed out or
//! answered with another message's id is dropped, never pooled. Retries follow the one rule in
//! [`super::lane::Gate::may_retry`]. The circuit breaker is asked before any connection is made.
//! With a [`PollPlan`], connections idle that long are polled ([`super::poll`]) and dropped if
//! the host does not answer.

use super::lane::{Call, Correlation, Gate};
use super::poll::PollPlan;
use super::{Limits, UpstreamError};
use crate::frame::{FrameError, Framing};
use std::sync::{Arc, Mutex, Once};
use tokio::io::BufReader;
use tokio::net::TcpStream;

/// A pooled connection: reads go through a buffer, so a reply's length prefix and body usually
/// arrive in one system call.
pub(super) type Conn = BufReader<TcpStream>;
use tokio::time::{timeout_at, Instant};
use tracing::{debug, Instrument};

/// A pool of framed TCP connections to one address.
pub struct TcpPool {
    name: String,
    address: String,
    framing: Framing,
    limits: Limits,
    /// Shared with the poller, which takes connections out while it polls them.
    idle: Arc<Mutex<Vec<Idle>>>,
    gate: Arc<Gate>,
    poll: Option<PollPlan>,
    /// The poller starts with the first pooled connection (inside the runtime, never at build).
    poller: Once,
    /// Without a poll plan, idle connections older than this are not used ([`super::IDLE_LIMIT`];
    /// shorter in tests).
    idle_limit: std::time::Duration,
}

/// An idle connection, the message id of its last exchange (empty without correlation) and
/// when it went idle (or was last polled).
pub(super) struct Idle {
    pub(super) conn: Conn,
    /// Inline up to 32 bytes (every message id field seen is shorter): no allocation per exchange.
    pub(super) last_id: smallvec::SmallVec<[u8; 32]>,
    pub(super) since: Instant,
}

/// Why an idle connection cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Unusable {
    /// The host closed it (or it failed).
    Closed,
    /// Bytes arrived that nobody asked for: the connection is out of step.
    Stray,
}

/// Looks at an idle connection without waiting: usable, closed by the host, or out of step
/// (bytes left in its buffer, or arrived since — a duplicate, a late answer).
pub(super) fn check_idle(conn: &Conn) -> Result<(), Unusable> {
    let mut probe = [0u8; 1];
    let stray = !conn.buffer().is_empty();
    match conn.get_ref().try_read(&mut probe) {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && !stray => Ok(()),
        Ok(0) | Err(_) if !stray => Err(Unusable::Closed),
        _ => Err(Unusable::Stray),
    }
}

/// Pools `entry`, keeping at most `max` idle: the least recently used goes first.
pub(super) fn put_idle(idle: &Mutex<Vec<Idle>>, max: usize, entry: Idle) {
    if let Ok(mut idle) = idle.lock() {
        if idle.len() >= max.max(1) {
            idle.remove(0);
        }
        idle.push(entry);
    }
}

/// True for ids that number nothing: blank (spaces in EBCDIC or ASCII, NULs) or zero in any
/// form — zoned digits in EBCDIC or ASCII with or without a sign zone (`C0`, `D0`, ASCII `p`
/// overpunch aside), packed zeros with any sign nibble (`0C`, `0D`, `0F`).
pub(super) fn uncountable(id: &[u8]) -> bool {
    id.iter().all(|b| matches!(b, 0x00 | 0x40 | 0x20 | 0xF0 | 0x30 | 0xC0 | 0xD0 | 0x0C | 0x0D | 0x0F))
}

impl TcpPool {
    /// A pool for `address`; no connection is made until the first call.
    pub fn new(name: &str, address: &str, framing: Framing, limits: Limits) -> TcpPool {
        let gate = Arc::new(Gate::new(name, &limits));
        let idle = Arc::new(Mutex::new(Vec::new()));
        TcpPool {
            name: name.into(),
            address: address.into(),
            framing,
            limits,
            idle,
            gate,
            poll: None,
            poller: Once::new(),
            idle_limit: super::IDLE_LIMIT,
        }
    }

    /// This pool, polling its idle connections as `plan` says.
    pub fn with_poll(self, plan: PollPlan) -> TcpPool {
        TcpPool { poll: Some(plan), ..self }
    }

    /// How idle connections are polled, if they are.
    pub fn poll_plan(&self) -> Option<&PollPlan> {
        self.poll.as_ref()
    }

    /// How messages are framed on its connections.
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// Its breakers, permits and retry budget (see [`super::lane::Gate`]).
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// The circuit breaker's state.
    pub fn breaker_state(&self) -> super::breaker::BreakerState {
        self.gate.breaker().state()
    }

    /// Connections open and idle right now.
    pub fn idle_count(&self) -> usize {
        self.idle.lock().map_or(0, |v| v.len())
    }

    /// Exchanges currently holding a connection.
    pub fn in_use(&self) -> usize {
        self.gate.in_use()
    }

    /// The most recently used idle connection that is alive, in step, and did not last carry
    /// message id `id`.
    fn take_idle(&self, id: &[u8]) -> Option<Conn> {
        let mut idle = self.idle.lock().ok()?;
        let mut i = idle.len();
        while i > 0 {
            i -= 1;
            if !id.is_empty() && idle[i].last_id.as_slice() == id {
                continue;
            }
            let Idle { conn, since, .. } = idle.remove(i);
            // Polled connections are proven alive by the poller; others only by being recent.
            if self.poll.is_none() && since.elapsed() > self.idle_limit {
                debug!(upstream = %self.name, "dropping a connection idle too long to trust");
                continue;
            }
            match check_idle(&conn) {
                Ok(()) => return Some(conn),
                Err(Unusable::Closed) => debug!(upstream = %self.name, "dropping idle connection the host closed"),
                Err(Unusable::Stray) => {
                    metrics::counter!("ficus_upstream_errors_total", "upstream" => self.name.clone(), "cause" => "stray_bytes").increment(1);
                    tracing::warn!(upstream = %self.name, "bytes arrived on an idle connection: dropped");
                }
            }
        }
        None
    }

    /// Pools a connection after an exchange that carried message id `id`, unless the id numbers
    /// nothing (then its late duplicates could not be told apart). At most `max_connections`
    /// stay idle; the least recently used goes first.
    fn give_back(&self, conn: Conn, id: &[u8], correlated: bool) {
        if correlated && uncountable(id) {
            metrics::counter!("ficus_upstream_unpooled_total", "upstream" => self.name.clone(), "cause" => "blank_message_id")
                .increment(1);
            return;
        }
        put_idle(&self.idle, self.limits.max_connections, Idle { conn, last_id: id.into(), since: Instant::now() });
        if let Some(plan) = &self.poll {
            self.poller.call_once(|| {
                let link = super::poll::Link {
                    name: self.name.clone(),
                    framing: self.framing,
                    max_idle: self.limits.max_connections,
                    max_reply_bytes: self.limits.max_reply_bytes,
                    idle: Arc::downgrade(&self.idle),
                    gate: Arc::downgrade(&self.gate),
                };
                tokio::spawn(super::poll::run(link, plan.clone()));
            });
        }
    }

    /// Sends one message and returns the reply's bytes, untouched. A reply that does not carry
    /// the request's message id is never returned (see [`Call`]).
    pub async fn call(&self, call: Call<'_>) -> Result<Vec<u8>, UpstreamError> {
        // A message this link's length cannot state is refused before a connection is used:
        // nothing is sent, and it says nothing about the host.
        if let Err(e) = self.framing.writable(call.message.len()) {
            return Err(UpstreamError::Unsendable { upstream: self.name.clone(), reason: e.to_string() });
        }
        let deadline = Instant::now() + self.limits.timeout;
        let pass = self.gate.enter(call.lane, deadline).await?;
        let span = tracing::debug_span!("legacy", addr = %self.address);
        let traced = crate::telemetry::on().then(|| span.clone());
        let result = self.call_admitted(call, deadline).instrument(span).await;
        crate::telemetry::call_ended(traced.as_ref(), &result);
        pass.finish(result.as_ref().err().is_some_and(UpstreamError::is_host_failure));
        result
    }

    async fn call_admitted(&self, call: Call<'_>, deadline: Instant) -> Result<Vec<u8>, UpstreamError> {
        let ms = self.limits.timeout.as_millis() as u64;
        let id = call.correlation.and_then(|c| call.message.get(c.offset..c.offset + c.len)).unwrap_or_default();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let mut conn = match self.take_idle(id) {
                Some(c) => c,
                None => self.connect(deadline).await?,
            };
            if let Some(sent) = call.sent {
                sent.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            let (error, nothing_answered) = match timeout_at(deadline, self.exchange(&mut conn, call.message)).await {
                Err(_) => {
                    metrics::counter!("ficus_upstream_errors_total", "upstream" => self.name.clone(), "cause" => "timeout").increment(1);
                    return Err(UpstreamError::Timeout { upstream: self.name.clone(), ms });
                }
                Ok(Ok(reply)) => match call.correlation.map_or(Ok(()), |c| c.check(call.message, &reply)) {
                    Ok(()) => {
                        self.give_back(conn, id, call.correlation.is_some());
                        return Ok(reply);
                    }
                    // Another message's reply: the connection is out of step and is dropped;
                    // this message's own reply never came, so for a read-only one nothing was
                    // answered.
                    Err(ids) => (Correlation::error(&self.name, ids), true),
                },
                Ok(Err((e, reply_started))) => {
                    metrics::counter!("ficus_upstream_errors_total", "upstream" => self.name.clone(), "cause" => error_cause(&e)).increment(1);
                    (e, !reply_started)
                }
            };
            let retry = self.gate.may_retry(&call, attempts, nothing_answered);
            debug!(upstream = %self.name, %error, retry, "exchange failed");
            if !retry {
                return Err(error);
            }
        }
    }

    async fn connect(&self, deadline: Instant) -> Result<Conn, UpstreamError> {
        let connect_deadline = deadline.min(Instant::now() + self.limits.connect_timeout);
        let err = |reason: String| UpstreamError::Connect { upstream: self.name.clone(), reason };
        match timeout_at(connect_deadline, TcpStream::connect(&self.address)).await {
            Ok(Ok(conn)) => {
                let _ = conn.set_nodelay(true);
                Ok(BufReader::new(conn))
            }
            Ok(Err(e)) => Err(err(e.to_string())),
            Err(_) => Err(err(format!("no answer within {} ms", self.limits.connect_timeout.as_millis()))),
        }
    }

    /// Writes the request and reads one reply; on failure, says whether reply bytes had arrived.
    async fn exchange(&self, conn: &mut Conn, message: &[u8]) -> Result<Vec<u8>, (UpstreamError, bool)> {
        let io = |reason: String| UpstreamError::Io { upstream: self.name.clone(), reason };
        self.framing.write(conn, message).await.map_err(|e| (io(format!("sending: {e}")), false))?;
        match self.framing.read(conn, self.limits.max_reply_bytes).await {
            Ok(Some(reply)) => Ok(reply),
            Ok(None) => Err((io("connection closed before the reply".into()), false)),
            Err(FrameError::Io(e)) => Err((io(format!("receiving: {e}")), false)),
            Err(e @ (FrameError::Truncated { .. } | FrameError::Broken { .. })) => Err((io(e.to_string()), true)),
            Err(e) => Err((UpstreamError::BadReply { upstream: self.name.clone(), reason: e.to_string() }, true)),
        }
    }
}

/// A short label for an upstream error, for metrics.
pub fn error_cause(e: &UpstreamError) -> &'static str {
    match e {
        UpstreamError::Connect { .. } => "connect",
        UpstreamError::Io { .. } => "io",
        UpstreamError::Timeout { .. } => "timeout",
        UpstreamError::BadReply { .. } => "bad_reply",
        UpstreamError::Status { .. } => "status",
        UpstreamError::Busy { .. } => "busy",
        UpstreamError::Open { .. } => "open",
        UpstreamError::Uncorrelated { .. } => "uncorrelated",
        UpstreamError::NoSpare { .. } => "no_spare",
        UpstreamError::Unsendable { .. } => "unsendable",
        UpstreamError::MatchKeyInUse { .. } => "match_key_in_use",
        UpstreamError::MatchKeyBlank { .. } => "match_key_blank",
        UpstreamError::ReceiveDown { .. } => "receive_down",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// A framed echo host on 127.0.0.1; returns its address and how many connections it took.
    async fn echo_host(framing: Framing) -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counted = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    while let Ok(Some(m)) = framing.read(&mut conn, 1 << 16).await {
                        if framing.write(&mut conn, &m).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (addr, accepted)
    }

    #[tokio::test]
    async fn an_unpolled_connection_idle_past_the_limit_is_not_used() {
        let framing = Framing::prefix(4);
        let (addr, accepted) = echo_host(framing).await;
        let limits = Limits::new(Duration::from_secs(2), Duration::from_secs(1), 4, 1 << 16);
        let mut pool = TcpPool::new("host", &addr, framing, limits);
        pool.idle_limit = Duration::from_millis(30);
        // Back to back: the pooled connection is reused.
        for _ in 0..3 {
            assert_eq!(pool.call(Call::primary(b"PING")).await.unwrap(), b"PING");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
        // Idle past the limit: a new connection, never the old one.
        tokio::time::sleep(Duration::from_millis(90)).await;
        assert_eq!(pool.call(Call::primary(b"PING")).await.unwrap(), b"PING");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn blank_and_zero_ids_in_every_form_number_nothing() {
        for id in
            [&b"          "[..], b"0000000000", &[0x40; 4], &[0xF0, 0xF0, 0xC0], &[0xF0, 0xD0], &[0, 0, 0x0C], &[0; 3]]
        {
            assert!(uncountable(id), "{id:02X?}");
        }
        for id in [&b"0000000001"[..], &[0xF0, 0xF1], &[0x00, 0x1C]] {
            assert!(!uncountable(id), "{id:02X?}");
        }
    }
}
