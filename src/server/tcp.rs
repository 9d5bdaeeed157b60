//! The TCP channel listener: persistent connections, many framed messages each, answered in
//! order. A frame over the size limit, or one that does not arrive in time, gets an error reply
//! and the connection is closed (its stream can no longer be trusted to be in step).

use super::Shutdown;
use crate::frame::FrameError;
use crate::gateway::Gateway;
use crate::reply::GatewayError;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::BufReader;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tracing::{debug, info_span, warn, Instrument};

/// Serves framed TCP on `listener` until `shutdown` fires.
pub async fn serve(listener: TcpListener, gateway: Arc<Gateway>, mut shutdown: Shutdown) {
    let connections = Arc::new(Semaphore::new(gateway.table().limits.max_connections.max(1)));
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => { warn!(error = %e, "accept failed"); continue; }
            },
            _ = shutdown.changed() => break,
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            warn!(%peer, "too many connections: refusing");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let gateway = gateway.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(
            async move {
                connection(stream, gateway, shutdown).await;
                drop(permit);
            }
            .instrument(info_span!("conn", %peer, proto = "tcp")),
        );
    }
}

async fn connection(stream: TcpStream, gateway: Arc<Gateway>, mut shutdown: Shutdown) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    loop {
        let table = gateway.table();
        let framing = table.tcp_framing;
        let limits = table.limits.clone();
        drop(table);
        let idle = Duration::from_millis(limits.idle_timeout_ms);
        let frame = tokio::select! {
            r = tokio::time::timeout(idle, framing.read(&mut read, limits.max_message_bytes)) => r,
            _ = shutdown.changed() => return,
        };
        let message = match frame {
            Err(_) => {
                debug!("idle timeout");
                return;
            }
            Ok(Ok(None)) => return,
            Ok(Ok(Some(m))) => m,
            Ok(Err(FrameError::Io(e))) => {
                debug!(error = %e, "read failed");
                return;
            }
            Ok(Err(e)) => {
                // Answer once, then close: after a bad frame the stream is out of step.
                let error = GatewayError::Frame(e);
                let wire = error.wire();
                warn!(code = wire.code, %error, "bad frame");
                let reply = gateway.table().header.error_reply(&[], wire.code, &error.wire_message());
                let _ = framing.write(&mut write, &reply).await;
                return;
            }
        };
        let reply = gateway.handle(message).await;
        if let Err(e) = framing.write(&mut write, &reply.bytes).await {
            debug!(error = %e, "write failed");
            return;
        }
    }
}
