//! Building the pieces that carry bytes: upstreams (TCP pools, HTTP clients, JSON services)
//! (the framing of their byte streams is built in `framing`).

use super::Builder;
use crate::frame::Framing;
use crate::route::file::{UpstreamKind, UpstreamSection};
use crate::route::UpstreamEntry;
use crate::upstream::http::{HttpBytes, HttpClient};
use crate::upstream::modern::JsonService;
use crate::upstream::poll::PollPlan;
use crate::upstream::pool::TcpPool;
use crate::upstream::{Limits, Upstream};
use std::sync::Arc;
use std::time::Duration;

impl Builder<'_> {
    /// One upstream from its section, with its link's framing and polls (`tcp`, built before);
    /// `None` (with the problem recorded) if it cannot be built.
    pub(super) fn upstream(
        &mut self,
        name: &str,
        s: &UpstreamSection,
        (framing, poll): (Option<Framing>, Option<PollPlan>),
        max_bytes: usize,
    ) -> Option<Arc<UpstreamEntry>> {
        let section = format!("upstreams.{name}");
        let mut limits = Limits::new(
            Duration::from_millis(s.timeout_ms),
            Duration::from_millis(s.connect_timeout_ms),
            s.max_connections,
            max_bytes.max(1 << 20),
        );
        limits.breaker.failures = s.breaker_failures.unwrap_or(limits.breaker.failures);
        limits.breaker.cooldown = s.breaker_cooldown_ms.map_or(limits.breaker.cooldown, Duration::from_millis);
        limits.retry_percent = s.retry_budget_percent.unwrap_or(limits.retry_percent);
        limits.shadow_connections = s.shadow_connections;
        if s.retry_budget_percent.is_some_and(|p| p > 100) {
            self.problem(&section, Some("retry_budget_percent"), "retry_budget_percent must be 0–100".into());
        }
        if s.max_connections == 0 {
            self.problem(&section, Some("max_connections"), "max_connections must be at least 1".into());
        }
        let upstream = match s.kind {
            UpstreamKind::Tcp => {
                let Some(address) = &s.address else {
                    self.problem(&section, Some("kind"), "a tcp upstream needs address = \"host:port\"".into());
                    return None;
                };
                if address.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok()).is_none() {
                    self.problem(&section, Some("address"), format!("address = {address:?} is not host:port"));
                    return None;
                }
                // A framing that did not build has said why.
                let pool = TcpPool::new(name, address, framing?, limits);
                Upstream::Tcp(match poll {
                    Some(plan) => pool.with_poll(plan),
                    None => pool,
                })
            }
            // A framing that did not build has said why.
            UpstreamKind::TcpAsync => self.async_link(name, s, framing, limits)?,
            UpstreamKind::Http | UpstreamKind::HttpJson => {
                let Some(url) = &s.url else {
                    self.problem(
                        &section,
                        Some("kind"),
                        "an http upstream needs url = \"http://host:port/path\"".into(),
                    );
                    return None;
                };
                let client = match HttpClient::new(name, url, limits) {
                    Ok(c) => c,
                    Err(e) => {
                        self.problem(&section, Some("url"), e);
                        return None;
                    }
                };
                if s.kind == UpstreamKind::Http {
                    Upstream::Http(HttpBytes(client))
                } else {
                    Upstream::Json(JsonService(client))
                }
            }
        };
        Some(Arc::new(UpstreamEntry { name: name.to_string(), upstream, settings: s.clone() }))
    }
}
