//! The TCP channel listener: persistent connections, many framed messages each, answered in
//! order. A frame that cannot be read — over the size limit (FC02), a length that is not one
//! (not digits, negative after the adjustment, shorter than the header), a missing or wrong
//! trailer, one that does not arrive in time (FC01) — gets an error reply and the connection is
//! closed: where the next message starts is no longer known. A reply the channel's length
//! cannot state gets an error reply in its place, and the connection stays open.
//!
//! Two clocks: between messages a connection may stay silent for `idle_timeout_ms`; once the
//! first byte of a frame has arrived, the whole frame must arrive within `read_timeout_ms` (a
//! slow sender cannot hold a connection and its buffer open). On shutdown a connection between
//! messages closes at once; one receiving or serving a message answers it first, as it does any
//! message whose bytes have already arrived (in its buffer or the kernel's), then closes. Once a
//! frame has started, nothing but the drain deadline comes between reading it and replying.
//!
//! With `[header] multipart`, each frame goes through the connection's reassembler first
//! ([`super::parts`]): parts are held (or passed to the host), and a message stopped mid-way
//! — no next part within the parts timeout — gets the FC43 reply and the connection is closed.

use super::parts::ConnectionParts;
use super::shutdown::{accept_loop, input_waiting};
use super::{Channel, Shutdown};
use crate::frame::{FrameError, Framing};
use crate::reply::GatewayError;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::OwnedSemaphorePermit;
use tracing::{debug, warn};

/// Serves framed TCP on `listener` until `shutdown` fires, then drains.
pub async fn serve(listener: TcpListener, channel: Channel, shutdown: Shutdown) {
    accept_loop(listener, channel, shutdown, "tcp", connection).await;
}

/// True when the peer has closed its side (end of stream is waiting to be read). Never waits.
fn peer_closed(stream: &tokio::net::TcpStream) -> bool {
    let mut one = [std::mem::MaybeUninit::<u8>::uninit(); 1];
    matches!(socket2::SockRef::from(stream).peek(&mut one), Ok(0))
}

/// Waits for the first byte of the next frame: `Ok(false)` when the peer closed instead.
async fn next_frame_started(read: &mut BufReader<OwnedReadHalf>) -> std::io::Result<bool> {
    Ok(!read.fill_buf().await?.is_empty())
}

/// True when part of a next frame has arrived: read into the buffer, or queued in the kernel.
fn arrived(read: &BufReader<OwnedReadHalf>) -> bool {
    !read.buffer().is_empty() || input_waiting(read.get_ref().as_ref())
}

async fn connection(stream: TcpStream, channel: Channel, mut shutdown: Shutdown, permit: OwnedSemaphorePermit) {
    let _permit = permit;
    let gateway = &channel.gateway;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    // A connection accepted while stopping still gets its first message served.
    let mut first = true;
    // The message whose parts are arriving, with `[header] multipart` (장전문).
    let mut parts = ConnectionParts::new(&channel);
    loop {
        // The channel's framing and limits as the current table has them (a reload may change them).
        let plan = channel.plan();
        let framing = plan.framing;
        let limits = plan.limits.clone();
        drop(plan);
        let stopping = *shutdown.borrow();
        let fresh = std::mem::replace(&mut first, false);
        // Stopping, between messages: close, unless a next message has started to arrive (its
        // client sent it before seeing the close, so it is answered). A connection that has not
        // had its first message yet was opened to send it (it may be on its way), so it gets it.
        if stopping && !fresh && !arrived(&read) {
            return;
        }
        // While stopping, a message is expected now, not after a long idle spell.
        let mut idle = Duration::from_millis(if stopping { limits.read_timeout_ms } else { limits.idle_timeout_ms });
        // Mid-message, the next part is due within the parts timeout.
        if parts.open.is_open() {
            let ms = gateway.table().header.multipart.as_ref().map(|p| p.settings.timeout_ms);
            idle = idle.min(Duration::from_millis(ms.unwrap_or(limits.read_timeout_ms)));
        }
        let read_timeout = Duration::from_millis(limits.read_timeout_ms);
        let started = tokio::select! {
            // Bytes already here are taken before the stop signal is looked at.
            biased;
            r = tokio::time::timeout(idle, next_frame_started(&mut read)) => r,
            _ = shutdown.changed(), if !stopping => {
                if !fresh && !arrived(&read) {
                    return;
                }
                tokio::time::timeout(read_timeout, next_frame_started(&mut read)).await
            }
        };
        match started {
            Err(_) => {
                // Stopped mid-message: told so (naming the part), then closed, so that no later
                // part can be taken for the start of a message.
                if let Some(reply) = channel.parts_timed_out(&mut parts.open) {
                    let _ = framing.write(&mut write, &reply.bytes).await;
                }
                debug!("idle timeout");
                return;
            }
            Ok(Ok(false)) => return,
            Ok(Err(e)) => {
                debug!(error = %e, "read failed");
                return;
            }
            Ok(Ok(true)) => {}
        }
        let ms = limits.read_timeout_ms;
        let frame = tokio::time::timeout(Duration::from_millis(ms), framing.read(&mut read, limits.max_message_bytes))
            .await
            .unwrap_or(Err(FrameError::Timeout { ms }));
        let message = match frame {
            Ok(None) => return,
            Ok(Some(m)) => m,
            Err(e @ (FrameError::Io(_) | FrameError::Broken { .. })) => {
                debug!(error = %e, "read failed");
                return;
            }
            Err(e) => {
                // Answer once, then close: after a bad frame the stream is out of step.
                let error = GatewayError::Frame(e);
                let wire = error.wire();
                warn!(code = wire.code, %error, "bad frame");
                let reply = channel.error_reply(&[], wire.code, &error.wire_message());
                let _ = framing.write(&mut write, &reply).await;
                return;
            }
        };
        for reply in channel.serve_parts(&mut parts.open, message).await {
            if deliver(&channel, framing, &mut write, &read, reply).await.is_err() {
                return;
            }
        }
    }
}

/// Writes one reply, or the error reply in its place when the channel's length cannot state it.
/// `Err` when the connection is done: the write failed, or the channel went away meanwhile.
async fn deliver(
    channel: &Channel,
    framing: Framing,
    write: &mut OwnedWriteHalf,
    read: &BufReader<OwnedReadHalf>,
    mut reply: crate::reply::Reply,
) -> Result<(), ()> {
    let gateway = &channel.gateway;
    if let Err(e) = framing.writable(reply.bytes.len()) {
        // A reply this channel's length cannot state (a host reply longer than its digits
        // reach) is replaced by an error reply; nothing was written, the stream stays in step.
        // A write's answer that cannot be delivered leaves its outcome unknown to the channel.
        let error = match reply.write.is_some() {
            true => GatewayError::OutcomeUnknown(Box::new(GatewayError::Frame(e))),
            false => GatewayError::Frame(e),
        };
        warn!(code = error.wire().code, %error, "reply cannot be framed for the channel");
        gateway.undelivered(&reply);
        let bytes = channel.error_reply(&reply.bytes, error.wire().code, &error.wire_message());
        reply = crate::reply::Reply::error(bytes, &error);
    }
    // A channel that closed while its write was served never reads the answer (a write to
    // its socket may still succeed, into the void): the outcome is unknown to it.
    let closed = reply.write.is_some() && peer_closed(read.get_ref().as_ref());
    let written = framing.write(write, &reply.bytes).await;
    if closed || written.is_err() {
        gateway.undelivered(&reply);
    }
    if let Err(e) = written {
        debug!(error = %e, "write failed");
        return Err(());
    }
    Ok(())
}
