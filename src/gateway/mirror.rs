//! The shadow mirror: a copy of a served message sent to the route's shadow upstream in a
//! spawned task — sampled, on spare capacity only, bounded — and its reply compared with the
//! primary's. Nothing here can delay or change the channel's reply.

use super::{call, Exchange, Gateway};
use crate::reply::GatewayError;
use crate::route::{bucket_keyed, RouteTable, UpstreamEntry};
use crate::shadow::mirror::{secs, Primary, ShadowState};
use crate::shadow::stats::Outcome;
use crate::upstream::{Lane, UpstreamError};
use std::sync::Arc;
use std::time::Instant;
use tracing::{info_span, Instrument};

impl Gateway {
    /// Sends a copy to the route's shadow in a spawned task, if sampled and under the cap.
    pub(super) fn mirror(
        &self,
        table: &Arc<RouteTable>,
        x: Exchange<'_>,
        reply: &[u8],
        served_by: &Arc<UpstreamEntry>,
        primary_secs: f64,
    ) {
        let Some(shadow) = &x.route.shadow else { return };
        if Arc::ptr_eq(&shadow.to, served_by)
            || bucket_keyed(&[b"shadow:", x.op.as_bytes()], x.message) >= shadow.threshold
        {
            return;
        }
        // A shadow whose upstream is known dead would only fail: count it, spend nothing on it.
        if shadow.to.upstream.shadows_failing_fast() {
            self.shadow.skip(x.op, &shadow.to.name);
            return;
        }
        // Shadows use spare capacity only: never the connections a primary may need.
        if !shadow.to.upstream.has_spare() {
            no_spare(&self.shadow, x.op);
            return;
        }
        let Some(permit) = self.shadow.admit(x.op) else { return };
        let (table, state) = (table.clone(), self.shadow.clone());
        let (op, message, reply, id) = (x.op.to_string(), x.message.to_vec(), reply.to_vec(), x.id.map(String::from));
        let channel = x.channel.map(String::from);
        let (primary, is_legacy) = (served_by.name.clone(), served_by.upstream.is_bytes());
        tokio::spawn(
            async move {
                let _permit = permit;
                // A task spawned from a worker runs next, ahead of every primary already
                // waiting (the runtime's LIFO slot): the shadow steps aside first, so channels'
                // messages ready now go before it.
                tokio::task::yield_now().await;
                let Some(route) = table.routes.get(&op) else { return };
                let (Some(shadow), Some(cmp)) = (&route.shadow, &route.comparison) else { return };
                let started = Instant::now();
                let x = Exchange {
                    table: &table,
                    route,
                    op: &op,
                    message: &message,
                    id: id.as_deref(),
                    channel: channel.as_deref(),
                    sent: None,
                    json: None,
                };
                let other =
                    match tokio::time::timeout(shadow.timeout, call(x, &shadow.to, Lane::Shadow, shadow.dry_run)).await
                    {
                        Ok(Ok(bytes)) => Ok((bytes, secs(started))),
                        Ok(Err(GatewayError::Upstream(UpstreamError::NoSpare { .. }))) => {
                            no_spare(&state, &op);
                            return;
                        }
                        Ok(Err(e)) => Err(e.to_string()),
                        Err(_) => {
                            shadow.to.upstream.shadow_timed_out();
                            Err(format!("no reply within {} ms", shadow.timeout.as_millis()))
                        }
                    };
                let other = other.as_ref().map(|(b, s)| (b.as_slice(), *s)).map_err(Clone::clone);
                let primary = Primary {
                    name: &primary,
                    is_legacy,
                    reply: &reply,
                    secs: primary_secs,
                    request: &message,
                    channel: channel.as_deref(),
                };
                state.conclude(&op, id, cmp, &shadow.to.name, primary, other);
            }
            .instrument(info_span!("shadow", op = %x.op)),
        );
    }
}

/// Counts a shadow dropped for want of spare capacity on its upstream.
fn no_spare(state: &ShadowState, op: &str) {
    state.stats.record(op, &Outcome::Dropped);
    metrics::counter!("ficus_shadow_total", "op" => op.to_string(), "result" => "no_spare").increment(1);
}
