//! The global bound on messages in flight, shared by the HTTP and TCP listeners.
//!
//! A message over the bound is not queued: it is answered at once with the fixed-width busy
//! reply (FC20, HTTP 503), so memory and latency stay bounded however hard the channels push.
//! Per-upstream bounds (`max_connections`) live in [`crate::upstream`]; this is the total.

use crate::gateway::Gateway;
use crate::reply::{GatewayError, Reply};
use crate::route::RouteTable;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tracing::debug;

/// Admission control for messages.
#[derive(Debug)]
pub struct Admission {
    permits: Arc<Semaphore>,
    max: usize,
}

impl Admission {
    /// Admits up to `max` messages at once (at least one).
    pub fn new(max: usize) -> Admission {
        let max = max.max(1);
        Admission { permits: Arc::new(Semaphore::new(max)), max }
    }

    /// Messages being served right now.
    pub fn in_flight(&self) -> usize {
        self.max - self.permits.available_permits()
    }

    /// Serves `message` if there is room, else answers with the busy reply.
    /// `table` is the one the message was received (and converted) with; `channel` its channel.
    pub async fn serve(&self, gateway: &Gateway, table: Arc<RouteTable>, channel: &str, message: Vec<u8>) -> Reply {
        let Ok(_permit) = self.permits.clone().try_acquire_owned() else {
            return shed(&table, &message, self.max);
        };
        gateway.handle_in(table, channel, message).await
    }
}

/// The busy reply: the request's header with FC20, without touching any upstream.
fn shed(table: &RouteTable, message: &[u8], max: usize) -> Reply {
    metrics::counter!("ficus_messages_shed_total").increment(1);
    debug!(max_in_flight = max, "busy: shedding a message");
    let error = GatewayError::Busy;
    let wire = error.wire();
    let bytes = table.header.error_reply(message, wire.code, &error.wire_message());
    Reply::error(bytes, &error)
}
