//! The send side of an asynchronous link: one connection ficus opens to the host's `send`
//! address and writes requests on, one whole frame at a time (writes are serialized).
//!
//! It connects when a request needs it; after a failed connect it waits out a backoff (doubling
//! from [`FIRST_BACKOFF`] up to [`MAX_BACKOFF`]) during which requests fail fast, not sent. Before
//! each write the connection is looked at without waiting: one the host closed is replaced, bytes
//! the host sent on it (this side carries no replies) are read and dropped. A write that failed,
//! timed out or was cancelled half-way closes the connection: the host would read the rest of
//! the stream out of step.

use crate::frame::Framing;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio::time::{timeout_at, Instant};
use tracing::{debug, info, warn};

/// Wait after the first failed connect.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between connects.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Why a request could not be written.
#[derive(Debug)]
pub enum SendFailure {
    /// Nothing was written: no connection (refused, backing off) or the side was busy past the
    /// deadline.
    NotSent(String),
    /// The connection failed during the write: the host may have read some or all of it.
    Broken(String),
    /// The deadline passed during the write.
    TimedOut,
}

#[derive(Default)]
struct State {
    conn: Option<TcpStream>,
    /// A write started and did not finish (its caller was cancelled): the stream is out of step.
    writing: bool,
    /// After a failed connect: no new attempt before this.
    retry_at: Option<Instant>,
    backoff: Duration,
    last_error: String,
    /// Where `conn` goes: a reload that moved `send` replaces it.
    address: String,
}

/// The send connection of one link.
#[derive(Default)]
pub struct SendSide {
    state: Mutex<State>,
}

impl SendSide {
    /// True while a connection is open (as far as is known without writing).
    pub fn is_up(&self) -> bool {
        self.state.try_lock().map_or(true, |s| s.conn.is_some())
    }

    /// Writes `message` framed to `address`, connecting first if needed. `about_to_send` is
    /// called once the first byte may leave.
    pub async fn write(
        &self,
        (name, address): (&str, &str),
        framing: Framing,
        message: &[u8],
        (deadline, connect_timeout): (Instant, Duration),
        about_to_send: impl FnOnce(),
    ) -> Result<(), SendFailure> {
        let frame = framing.frame(message).map_err(|e| SendFailure::NotSent(e.to_string()))?;
        let Ok(mut state) = timeout_at(deadline, self.state.lock()).await else {
            return Err(SendFailure::NotSent("the send connection stayed busy until the deadline".into()));
        };
        if std::mem::take(&mut state.writing) {
            warn!(upstream = name, "a write was cut off half-way: the send connection is closed");
            state.conn = None;
        }
        if state.conn.is_some() && state.address != address {
            info!(upstream = name, from = %state.address, to = %address, "send address changed: reconnecting");
            state.conn = None;
            state.retry_at = None;
        }
        if let Some(conn) = &state.conn {
            if !alive(conn, name) {
                info!(upstream = name, %address, "the host closed the send connection: reconnecting");
                state.conn = None;
            }
        }
        if state.conn.is_none() {
            let now = Instant::now();
            if let Some(at) = state.retry_at.filter(|at| *at > now) {
                let why = format!(
                    "send connection to {address} down ({}); next attempt in {} ms",
                    state.last_error,
                    (at - now).as_millis()
                );
                return Err(SendFailure::NotSent(why));
            }
            let connect_deadline = deadline.min(now + connect_timeout);
            let result = match timeout_at(connect_deadline, TcpStream::connect(address)).await {
                Ok(Ok(conn)) => Ok(conn),
                Ok(Err(e)) => Err(format!("cannot connect to {address}: {e}")),
                Err(_) => {
                    Err(format!("cannot connect to {address}: no answer within {} ms", connect_timeout.as_millis()))
                }
            };
            match result {
                Ok(conn) => {
                    let _ = conn.set_nodelay(true);
                    info!(upstream = name, %address, "send connection open");
                    state.conn = Some(conn);
                    state.address = address.to_string();
                    state.retry_at = None;
                    state.backoff = Duration::ZERO;
                }
                Err(why) => {
                    state.backoff = (state.backoff * 2).clamp(FIRST_BACKOFF, MAX_BACKOFF);
                    state.retry_at = Some(Instant::now() + state.backoff);
                    state.last_error.clone_from(&why);
                    warn!(upstream = name, %address, error = %why, backoff_ms = state.backoff.as_millis() as u64, "send connection failed");
                    return Err(SendFailure::NotSent(why));
                }
            }
        }
        about_to_send();
        state.writing = true;
        let Some(conn) = state.conn.as_mut() else { unreachable!("connected above") };
        let outcome = timeout_at(deadline, async {
            conn.write_all(&frame).await?;
            conn.flush().await
        })
        .await;
        state.writing = false;
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                state.conn = None;
                warn!(upstream = name, %address, error = %e, "send connection failed during a write");
                Err(SendFailure::Broken(format!("sending to {address}: {e}")))
            }
            Err(_) => {
                state.conn = None;
                Err(SendFailure::TimedOut)
            }
        }
    }
}

/// Looks at the send connection without waiting: false when the host closed it. Bytes the host
/// sent on it are read and dropped (nothing is answered on this side).
fn alive(conn: &TcpStream, name: &str) -> bool {
    let mut buf = [0u8; 512];
    loop {
        match conn.try_read(&mut buf) {
            Ok(0) => return false,
            Ok(n) => debug!(upstream = name, bytes = n, "bytes on the send connection ignored"),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return true,
            Err(_) => return false,
        }
    }
}
