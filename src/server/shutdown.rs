//! Graceful shutdown: the connections a listener has spawned, reaped as they end, and drained
//! within a deadline when the listener stops.
//!
//! On the stop signal a listener stops accepting, takes the connections the kernel had already
//! queued for it (so none is reset when the socket closes while a new process shares the port
//! with `SO_REUSEPORT`), then lets every connection finish the message it is serving. Whatever
//! is still running at the drain deadline is aborted. This file does not decide *how* a
//! connection ends its work; the HTTP and TCP loops do, by one rule: from the stop signal on, a
//! connection closes as soon as it is between messages with nothing of a next one received
//! ([`input_waiting`]), and a message already received is always answered first.

use super::{Channel, Shutdown};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tracing::{info, info_span, warn, Instrument};

/// The accept loop both channel listeners share: bounded connections (refused at accept beyond
/// `max_connections`), finished connections reaped, and on the stop signal the kernel's queue
/// taken and every connection drained. `connection` serves one accepted stream.
pub async fn accept_loop<F, Fut>(
    listener: TcpListener,
    channel: Channel,
    mut shutdown: Shutdown,
    proto: &'static str,
    connection: F,
) where
    F: Fn(TcpStream, Channel, Shutdown, OwnedSemaphorePermit) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let connections = Arc::new(Semaphore::new(channel.gateway.table().limits.max_connections.max(1)));
    let mut open = Connections::default();
    // Connections get their own receiver; the loop keeps `shutdown` to wait on.
    let for_connections = shutdown.clone();
    let start = |open: &mut Connections, stream: TcpStream, peer: SocketAddr| {
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            warn!(%peer, "too many connections: refusing");
            return;
        };
        let _ = stream.set_nodelay(true);
        let conn = connection(stream, channel.clone(), for_connections.clone(), permit);
        open.spawn(conn.instrument(info_span!("conn", %peer, proto)));
    };
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors, most likely: back off instead of spinning.
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = open.reap() => continue,
            _ = shutdown.changed() => break,
        };
        start(&mut open, stream, peer);
    }
    // Already queued by the kernel: serve them rather than reset them by closing the socket.
    for (stream, peer) in take_queued(listener) {
        start(&mut open, stream, peer);
    }
    open.drain(channel.drain, proto).await;
}

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
