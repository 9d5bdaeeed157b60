//! Link management settings: a channel's `heartbeat` (answered by the gateway) and a `tcp`
//! upstream's `poll` (sent on its idle connections), each checked against the common header
//! — the operation must be writable into the operation fields and read back as itself, a
//! heartbeat's reply code must fit the response-code field — and a heartbeat against the
//! routes (an operation is either answered by ficus or routed, never both).

use super::Builder;
use crate::header::{HeaderLayout, Heartbeat};
use crate::route::file::{HeartbeatSpec, RouteSection, UpstreamKind, UpstreamSection};
use crate::route::UpstreamEntry;
use crate::upstream::poll::PollPlan;
use crate::upstream::Upstream;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

impl Builder<'_> {
    /// A channel's `heartbeat` (written in `[section]`: `gateway` for the default channel), or
    /// `None` with the problem recorded.
    pub(super) fn heartbeat(
        &mut self,
        spec: &HeartbeatSpec,
        header: Option<&HeaderLayout>,
        routes: &BTreeMap<String, RouteSection>,
        section: &str,
    ) -> Option<Heartbeat> {
        if routes.contains_key(&spec.op) {
            let why = format!(
                "heartbeat op {:?} is also routed ([routes.{}]): a heartbeat is answered by ficus and never \
                 routed; remove the route or choose another heartbeat op",
                spec.op, spec.op
            );
            self.problem(section, Some("heartbeat"), why);
            return None;
        }
        // A header that did not build has said why.
        match Heartbeat::new(header?, &spec.op, &spec.reply_code) {
            Ok(h) => Some(h),
            Err(e) => {
                self.problem(section, Some("heartbeat"), format!("heartbeat: {e}"));
                None
            }
        }
    }

    /// The `poll` of upstream `name`, built against the final header (its length rule adopted
    /// from the framings): `None` without one, or with the problem recorded (a poll on an
    /// upstream that is not `tcp` included).
    pub(super) fn poll(
        &mut self,
        name: &str,
        upstream: &UpstreamSection,
        header: Option<&HeaderLayout>,
    ) -> Option<PollPlan> {
        let spec = upstream.poll.as_ref()?;
        let section = &format!("upstreams.{name}");
        if upstream.kind != UpstreamKind::Tcp {
            let why = "poll is for tcp upstreams (a pooled link to the host); remove it here".to_string();
            self.problem(section, Some("poll"), why);
            return None;
        }
        let upstream_timeout_ms = upstream.timeout_ms;
        let problem = |b: &mut Self, m: String| b.problem(section, Some("poll"), format!("poll: {m}"));
        if spec.every_ms == 0 {
            problem(
                self,
                "every_ms must be at least 1 (milliseconds a connection stays idle before it is polled)".into(),
            );
            return None;
        }
        let timeout_ms = spec.timeout_ms.unwrap_or(upstream_timeout_ms);
        if timeout_ms == 0 {
            problem(self, "timeout_ms must be at least 1 (milliseconds the host has to answer a poll)".into());
            return None;
        }
        let header = header?.clone();
        let id_capacity = header.message_id_capacity().unwrap_or(1);
        // The smallest and the largest id: every poll message fits if these do.
        for id in [1, id_capacity] {
            if let Err(e) = header.link_message(&spec.op, id) {
                problem(self, e);
                return None;
            }
        }
        let correlation = header.message_id_span().map(|(offset, len)| crate::upstream::Correlation { offset, len });
        let op = spec.op.clone();
        let message = Arc::new(move |id: u64| header.link_message(&op, id).unwrap_or_default());
        Some(PollPlan {
            every: Duration::from_millis(spec.every_ms),
            timeout: Duration::from_millis(timeout_ms),
            op: spec.op.clone(),
            message,
            id_capacity,
            correlation,
        })
    }
}

/// True when a TCP upstream of an earlier table carries messages as one built now would: the
/// same framing and the same polls (other kinds: always).
pub(super) fn same_link(
    entry: &UpstreamEntry,
    framing: Option<crate::frame::Framing>,
    poll: Option<&PollPlan>,
) -> bool {
    let Upstream::Tcp(pool) = &entry.upstream else { return true };
    let same_poll = match (pool.poll_plan(), poll) {
        (None, None) => true,
        (Some(a), Some(b)) => a.same_as(b),
        _ => false,
    };
    Some(pool.framing()) == framing && same_poll
}
