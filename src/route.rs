//! The route table — one immutable snapshot of routes.toml with everything derived from it
//! (compiled layouts, upstream handles) — and the per-message decision of who serves it.
//!
//! The gateway holds the table in an `ArcSwap`; a message loads it once and is served wholly by
//! that snapshot, whatever reloads happen meanwhile.

use crate::codec::{Codec, CodecOptions};
use crate::config::file::{LimitsSection, RoutesFile};
use crate::frame::Framing;
use crate::header::HeaderLayout;
use crate::upstream::Upstream;
use std::collections::HashMap;
use std::sync::Arc;

/// A named upstream in the table (shared between tables when its settings did not change).
pub struct UpstreamEntry {
    /// Its name in routes.toml.
    pub name: String,
    /// The handle.
    pub upstream: Upstream,
    /// The settings it was built from (to reuse it on reload when unchanged).
    pub settings: crate::config::file::UpstreamSection,
}

/// How one operation is served.
pub struct Route {
    /// The operation code.
    pub op: String,
    /// Who serves it.
    pub target: Arc<UpstreamEntry>,
    /// Request body layout (after the header).
    pub request: Option<Arc<Codec>>,
    /// Response body layout (after the header).
    pub response: Option<Arc<Codec>>,
    /// Changes nothing: safe to retry.
    pub read_only: bool,
    /// `false` answers with an error reply.
    pub enabled: bool,
}

/// One immutable snapshot of the configuration.
pub struct RouteTable {
    /// Increases by one with every table swapped in.
    pub generation: u64,
    /// Hash of the file's content (hex), to tell tables apart.
    pub hash: String,
    /// The file as read (for the admin API and diffs).
    pub file: RoutesFile,
    /// The common header.
    pub header: HeaderLayout,
    /// Codec options (code page, sign style) of every message.
    pub options: CodecOptions,
    /// Channel-side TCP framing.
    pub tcp_framing: Framing,
    /// Channel-side limits.
    pub limits: LimitsSection,
    /// Upstreams by name.
    pub upstreams: HashMap<String, Arc<UpstreamEntry>>,
    /// Routes by operation code.
    pub routes: HashMap<String, Route>,
    /// Who serves operations without a route.
    pub default_target: Arc<UpstreamEntry>,
}

/// The decision for one message.
pub struct Decision<'t> {
    /// The route, if the operation has one.
    pub route: Option<&'t Route>,
    /// Who serves it.
    pub target: &'t Arc<UpstreamEntry>,
}

impl RouteTable {
    /// Decides who serves operation `op`.
    pub fn decide(&self, op: &str) -> Decision<'_> {
        match self.routes.get(op) {
            Some(route) => Decision {
                route: Some(route),
                target: &route.target,
            },
            None => Decision {
                route: None,
                target: &self.default_target,
            },
        }
    }
}
