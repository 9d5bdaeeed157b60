//! Heartbeats (link-test messages) of a channel, answered by the gateway itself: the request's
//! header with the configured response code, header-only. They never reach the route table's
//! upstreams, the shadow, the journal or the message metrics; they are counted on their own
//! (`ficus_heartbeats_total{listener}`) and logged at debug level only (a link test every few
//! seconds would drown everything else).

use super::Gateway;
use crate::reply::Reply;
use tracing::debug;

impl Gateway {
    /// The answer to `message` when it is a heartbeat of the default channel (`[gateway]
    /// heartbeat` in the table now serving), received on `listener`; `None` for every other
    /// message.
    pub fn heartbeat(&self, message: &[u8], listener: &str) -> Option<Reply> {
        let table = self.table.load();
        let heartbeat = table.heartbeat.as_ref()?;
        if table.header.operation(message).ok()? != heartbeat.op {
            return None;
        }
        metrics::counter!("ficus_heartbeats_total", "listener" => listener.to_string()).increment(1);
        let id = table.header.message_id(message);
        debug!(listener, op = %heartbeat.op, id = id.as_deref().unwrap_or("-"), "heartbeat answered");
        Some(Reply::new(heartbeat.reply(&table.header, message), 200).via(None, table.generation))
    }
}
