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
pub use crate::drain::{input_waiting, take_queued, Connections};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::{info_span, warn, Instrument};

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
    let connections = Arc::new(Semaphore::new(channel.plan().limits.max_connections.max(1)));
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
