//! The legacy host over framed TCP: a bounded pool of persistent connections.
//!
//! A permit per exchange bounds connections; idle connections are reused after a liveness
//! check (a host that closed one is noticed before anything is written to it), and a
//! connection that failed or timed out is dropped, never pooled. A request is retried on a
//! fresh connection only when the caller says that is safe (read-only operations), the failure
//! happened on a reused connection before any reply byte arrived, and the retry budget allows.
//! The circuit breaker is asked before any connection is made.

use super::breaker::Breaker;
use super::retry::RetryBudget;
use super::{Limits, UpstreamError};
use crate::frame::{FrameError, Framing};
use std::sync::Mutex;
use tokio::io::BufReader;
use tokio::net::TcpStream;

/// A pooled connection: reads go through a buffer, so a reply's length prefix and body usually
/// arrive in one system call.
type Conn = BufReader<TcpStream>;
use tokio::sync::Semaphore;
use tokio::time::{timeout_at, Instant};
use tracing::{debug, Instrument};

/// A pool of framed TCP connections to one address.
pub struct TcpPool {
    name: String,
    address: String,
    framing: Framing,
    limits: Limits,
    idle: Mutex<Vec<Conn>>,
    permits: Semaphore,
    breaker: Breaker,
    budget: RetryBudget,
}

impl TcpPool {
    /// A pool for `address`; no connection is made until the first call.
    pub fn new(name: &str, address: &str, framing: Framing, limits: Limits) -> TcpPool {
        let permits = Semaphore::new(limits.max_connections.max(1));
        let breaker = Breaker::new(limits.breaker);
        let budget = RetryBudget::new(limits.retry_percent);
        TcpPool {
            name: name.into(),
            address: address.into(),
            framing,
            limits,
            idle: Mutex::new(Vec::new()),
            permits,
            breaker,
            budget,
        }
    }

    /// True while the circuit breaker fails calls fast.
    pub fn failing_fast(&self) -> bool {
        self.breaker.failing_fast()
    }

    /// The circuit breaker's state.
    pub fn breaker_state(&self) -> super::breaker::BreakerState {
        self.breaker.state()
    }

    /// Connections open and idle right now.
    pub fn idle_count(&self) -> usize {
        self.idle.lock().map_or(0, |v| v.len())
    }

    /// Exchanges currently holding a connection.
    pub fn in_use(&self) -> usize {
        self.limits.max_connections.max(1) - self.permits.available_permits()
    }

    fn take_idle(&self) -> Option<Conn> {
        let mut idle = self.idle.lock().ok()?;
        while let Some(conn) = idle.pop() {
            let mut probe = [0u8; 1];
            // Leftover bytes mean the host sent more than one reply: out of step, drop it.
            if !conn.buffer().is_empty() {
                continue;
            }
            match conn.get_ref().try_read(&mut probe) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Some(conn),
                _ => debug!(upstream = %self.name, "dropping idle connection the host closed"),
            }
        }
        None
    }

    /// Sends one message and returns the reply's bytes, untouched.
    pub async fn call(&self, message: &[u8], retry_safe: bool) -> Result<Vec<u8>, UpstreamError> {
        let admit = self.breaker.admit().map_err(|wait| {
            metrics::counter!("ficus_upstream_errors_total", "upstream" => self.name.clone(), "cause" => "open")
                .increment(1);
            UpstreamError::Open { upstream: self.name.clone(), retry_in_ms: wait.as_millis() as u64 }
        })?;
        self.budget.deposit();
        let result = self.call_admitted(message, retry_safe).await;
        self.breaker.record(admit, result.as_ref().err().is_some_and(UpstreamError::is_host_failure));
        result
    }

    async fn call_admitted(&self, message: &[u8], retry_safe: bool) -> Result<Vec<u8>, UpstreamError> {
        let deadline = Instant::now() + self.limits.timeout;
        let ms = self.limits.timeout.as_millis() as u64;
        let timeout = || UpstreamError::Timeout { upstream: self.name.clone(), ms };
        let _permit = match timeout_at(deadline, self.permits.acquire()).await {
            Ok(Ok(p)) => p,
            _ => return Err(UpstreamError::Busy { upstream: self.name.clone(), max: self.limits.max_connections }),
        };
        let span = tracing::debug_span!("legacy", addr = %self.address);
        async move {
            let mut attempts = 0;
            loop {
                attempts += 1;
                let (mut conn, reused) = match self.take_idle() {
                    Some(c) => (c, true),
                    None => (self.connect(deadline).await?, false),
                };
                match timeout_at(deadline, self.exchange(&mut conn, message)).await {
                    Err(_) => {
                        metrics::counter!("ficus_upstream_errors_total", "upstream" => self.name.clone(), "cause" => "timeout").increment(1);
                        return Err(timeout());
                    }
                    Ok(Ok(reply)) => {
                        if let Ok(mut idle) = self.idle.lock() {
                            idle.push(conn);
                        }
                        return Ok(reply);
                    }
                    Ok(Err((e, reply_started))) => {
                        metrics::counter!("ficus_upstream_errors_total", "upstream" => self.name.clone(), "cause" => error_cause(&e)).increment(1);
                        let retry =
                            retry_safe && reused && !reply_started && attempts < 2 && self.budget.withdraw();
                        debug!(upstream = %self.name, error = %e, retry, "exchange failed");
                        if !retry {
                            return Err(e);
                        }
                    }
                }
            }
        }
        .instrument(span)
        .await
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
    }
}
