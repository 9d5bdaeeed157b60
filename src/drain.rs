//! Draining on stop, for every listener (the channel listeners and the admin API): the
//! connection tasks of one listener ([`Connections`], reaped as they end, drained within a
//! deadline), the connections the kernel had already queued ([`take_queued`]), and whether a
//! peer has sent bytes not yet read ([`input_waiting`]). Plain tokio; nothing here knows HTTP,
//! frames or the gateway.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tracing::{info, warn};

/// The connection tasks of one listener.
#[derive(Default)]
pub struct Connections {
    set: JoinSet<()>,
}

impl Connections {
    /// Starts serving one connection.
    pub fn spawn<F: Future<Output = ()> + Send + 'static>(&mut self, connection: F) {
        self.set.spawn(connection);
    }

    /// Waits for one connection to end (pending while there are none): select on it in the
    /// accept loop so finished tasks do not pile up.
    pub async fn reap(&mut self) {
        if self.set.join_next().await.is_none() {
            std::future::pending::<()>().await;
        }
    }

    /// Connections still open.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// True when no connection is open.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// Waits up to `deadline` for every connection to end, then aborts the rest.
    pub async fn drain(mut self, deadline: Duration, what: &str) {
        let open = self.set.len();
        let drained = tokio::time::timeout(deadline, async { while self.set.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            warn!(listener = what, aborted = self.set.len(), "drain deadline passed: closing connections");
            self.set.abort_all();
            while self.set.join_next().await.is_some() {}
        } else if open > 0 {
            info!(listener = what, connections = open, "drained");
        }
    }
}

/// True when bytes from the peer wait in the kernel's receive queue, not yet read: part of a
/// message is here, so the connection is not idle and closing it would lose (and reset) what its
/// client already sent. End of stream and errors are not input. Never waits: the socket is
/// non-blocking, and the kernel is asked directly (the reactor may not have seen the bytes yet).
pub fn input_waiting(stream: &TcpStream) -> bool {
    let mut one = [std::mem::MaybeUninit::<u8>::uninit(); 1];
    matches!(socket2::SockRef::from(stream).peek(&mut one), Ok(n) if n > 0)
}

/// Takes the connections already queued on `listener` without waiting, then closes it.
pub fn take_queued(listener: TcpListener) -> Vec<(TcpStream, SocketAddr)> {
    let mut queued = Vec::new();
    let Ok(std_listener) = listener.into_std() else { return queued };
    // A direct accept() sees the kernel's queue as it is now, whatever the reactor has noticed.
    while let Ok((stream, peer)) = std_listener.accept() {
        if stream.set_nonblocking(true).is_err() {
            continue;
        }
        if let Ok(stream) = TcpStream::from_std(stream) {
            queued.push((stream, peer));
        }
    }
    queued
}
