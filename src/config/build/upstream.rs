//! Building the pieces that carry bytes: upstreams (TCP pools, HTTP clients, JSON services)
//! and the framing of byte streams (channel listener and TCP upstreams).

use super::Builder;
use crate::codec::charset::CodePage;
use crate::frame::Framing;
use crate::header::HeaderLayout;
use crate::route::file::{FramingSpec, UpstreamKind, UpstreamSection};
use crate::route::UpstreamEntry;
use crate::upstream::http::{HttpBytes, HttpClient};
use crate::upstream::modern::JsonService;
use crate::upstream::pool::TcpPool;
use crate::upstream::{Limits, Upstream};
use std::sync::Arc;
use std::time::Duration;

impl Builder<'_> {
    /// Where one message ends on a byte stream, from `spec`.
    pub(super) fn framing(
        &mut self,
        spec: &FramingSpec,
        header: Option<&HeaderLayout>,
        codepage: CodePage,
        section: &str,
        key: &str,
    ) -> Option<Framing> {
        match (spec.length_prefix, &spec.length_field) {
            (Some(w @ (1 | 2 | 4)), None) => Some(Framing::LengthPrefix { width: w }),
            (Some(w), None) => {
                self.problem(section, Some(key), format!("length_prefix = {w}: must be 1, 2 or 4 bytes"));
                None
            }
            // A header that did not build has said why; its fields are not a second problem.
            (None, Some(_)) if header.is_none() => None,
            (None, Some(field)) => {
                let leaf = header.map(|h| h.codec.plan().lookup(field).cloned())?;
                match leaf {
                    Ok(l) if matches!(l.kind, crate::codec::plan::LeafKind::Zoned { .. }) => {
                        Some(Framing::LengthField {
                            offset: l.offset as usize,
                            len: l.len as usize,
                            ebcdic: codepage.is_ebcdic(),
                        })
                    }
                    Ok(_) => {
                        self.problem(
                            section,
                            Some(key),
                            format!("length_field {field} must be a PIC 9 DISPLAY header field"),
                        );
                        None
                    }
                    Err(crate::codec::lookup::LookupError::NotFound { .. }) => {
                        self.problem(section, Some(key), format!("length_field {field} is not a field of the header"));
                        None
                    }
                    Err(e) => {
                        self.problem(section, Some(key), format!("length_field: {e}"));
                        None
                    }
                }
            }
            _ => {
                self.problem(section, Some(key), "framing needs exactly one of length_prefix or length_field".into());
                None
            }
        }
    }

    /// One upstream from its section; `None` (with the problem recorded) if it cannot be built.
    pub(super) fn upstream(
        &mut self,
        name: &str,
        s: &UpstreamSection,
        header: Option<&HeaderLayout>,
        codepage: CodePage,
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
                let framing =
                    self.framing(&s.framing.clone().unwrap_or_default(), header, codepage, &section, "framing")?;
                Upstream::Tcp(TcpPool::new(name, address, framing, limits))
            }
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
