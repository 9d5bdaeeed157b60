//! The route table — one immutable snapshot of routes.toml with everything derived from it
//! (compiled layouts, upstream handles) — and the per-message decision of who serves it.
//!
//! The gateway holds the table in an `ArcSwap`; a message loads it once and is served wholly by
//! that snapshot, whatever reloads happen meanwhile.

pub mod channel;
pub mod counters;
pub mod file;
pub mod source;
pub mod tally;

use crate::codec::{Codec, CodecOptions};
use crate::frame::Framing;
use crate::header::HeaderLayout;
use crate::upstream::Upstream;
use file::{LimitsSection, RoutesFile};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A named upstream in the table (shared between tables when its settings did not change).
pub struct UpstreamEntry {
    /// Its name in routes.toml.
    pub name: String,
    /// The handle.
    pub upstream: Upstream,
    /// The settings it was built from (to reuse it on reload when unchanged).
    pub settings: file::UpstreamSection,
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
    /// A sticky share of traffic sent elsewhere.
    pub canary: Option<Canary>,
    /// Who answers a read-only operation when its target fails.
    pub fallback: Option<Arc<UpstreamEntry>>,
    /// The reply while disabled: (code, message).
    pub disabled_reply: Option<(String, String)>,
    /// Mirror to another upstream and compare.
    pub shadow: Option<ShadowRoute>,
    /// How replies are compared (for shadow and replay); needs a response layout.
    pub comparison: Option<Arc<crate::shadow::Comparison>>,
    /// Buckets (of 10,000) captured for replay.
    pub capture: Option<u32>,
    /// How the route uses the transaction journal (none: not journaled).
    pub journal: Option<crate::journal::RouteJournal>,
    /// A paged inquiry: the next page goes where the previous one was served (none: no paging).
    pub continuation: Option<crate::journal::Continuation>,
    /// Metric handles its messages count into (made on first use).
    pub counters: counters::RouteCounters,
}

impl Route {
    /// The canary percentage as written in routes.toml, if any.
    pub fn file_canary_percent(&self, table: &RouteTable) -> Option<f64> {
        table.file.routes.get(&self.op).and_then(|r| r.canary.as_ref()).map(|c| c.percent)
    }
}

/// A canary: `threshold` of every 10,000 hash buckets go to `to`.
pub struct Canary {
    /// Who receives the share.
    pub to: Arc<UpstreamEntry>,
    /// Buckets (of 10,000) that go to `to`: percent × 100.
    pub threshold: u32,
    /// Where the sticky value is in the message.
    pub sticky: StickyField,
}

/// Where a sticky field's bytes are: absolute offset and length in the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StickyField {
    /// Offset from the start of the message.
    pub offset: usize,
    /// Length in bytes.
    pub len: usize,
}

/// Number of hash buckets a canary percentage is cut from.
pub const BUCKETS: u32 = 10_000;

/// The bucket (0..10,000) of a sticky value: FNV-1a of the operation and the field's bytes
/// without trailing spaces or NULs. A customer keeps their bucket, so raising the percentage
/// only ever adds customers to the canary.
pub fn bucket(op: &str, value: &[u8]) -> u32 {
    bucket_keyed(&[op.as_bytes()], value)
}

/// [`bucket`] with the key given in parts, as if joined: `bucket_keyed(&[b"shadow:", op], v)`
/// is `bucket(&format!("shadow:{op}"), v)` without making the string (per message, on every
/// shadowed or captured route).
pub fn bucket_keyed(key: &[&[u8]], value: &[u8]) -> u32 {
    let end = value.iter().rposition(|&b| !matches!(b, 0x40 | 0x20 | 0x00)).map_or(0, |p| p + 1);
    let mut h = 0xcbf29ce484222325u64;
    for &b in key.iter().flat_map(|k| k.iter()).chain([0u8].iter()).chain(value[..end].iter()) {
        h = (h ^ b as u64).wrapping_mul(0x100000001b3);
    }
    // Fold the high bits in: FNV's low bits alone are weak for short keys.
    ((h ^ (h >> 32)) % BUCKETS as u64) as u32
}

/// One immutable snapshot of the configuration.
pub struct RouteTable {
    /// Increases by one with every table swapped in.
    pub generation: u64,
    /// Hash of everything the table was built from: routes.toml and the copybooks it uses
    /// (hex; see [`source::table_hash`]).
    pub hash: String,
    /// What it was built from: routes.toml's text and the copybooks as read (admin changes
    /// apply to this, and reloads reuse its parsed copybooks).
    pub source: Arc<source::TableSource>,
    /// The file as read (for the admin API and diffs).
    pub file: RoutesFile,
    /// The common header.
    pub header: HeaderLayout,
    /// Codec options (code page, sign style) of every message.
    pub options: CodecOptions,
    /// Channel-side TCP framing.
    pub tcp_framing: Framing,
    /// The default channel's heartbeat (`[gateway] heartbeat`): answered by the gateway itself.
    pub heartbeat: Option<crate::header::Heartbeat>,
    /// Channel-side limits.
    pub limits: LimitsSection,
    /// Upstreams by name.
    pub upstreams: HashMap<String, Arc<UpstreamEntry>>,
    /// Routes by operation code.
    pub routes: HashMap<String, Route>,
    /// Who serves operations without a route.
    pub default_target: Arc<UpstreamEntry>,
    /// The transaction journal, when routes.toml has a `[journal]`.
    pub journal: Option<Arc<crate::journal::JournalPlan>>,
    /// The channels: `default` (`[gateway]`'s listeners) first, then `[[channels]]` in order.
    pub channels: Vec<Arc<channel::ChannelPlan>>,
}

/// The decision for one message.
pub struct Decision<'t> {
    /// The route, if the operation has one.
    pub route: Option<&'t Route>,
    /// Who serves it.
    pub target: &'t Arc<UpstreamEntry>,
    /// It was sent by a canary's share.
    pub canary: bool,
}

impl RouteTable {
    /// The channel named `name`, if this table has it.
    pub fn channel(&self, name: &str) -> Option<&Arc<channel::ChannelPlan>> {
        self.channels.iter().find(|c| &*c.name == name)
    }

    /// Decides who serves operation `op` for `message`.
    pub fn decide(&self, op: &str, message: &[u8]) -> Decision<'_> {
        let Some(route) = self.routes.get(op) else {
            return Decision { route: None, target: &self.default_target, canary: false };
        };
        if let Some(c) = &route.canary {
            let value = message.get(c.sticky.offset..c.sticky.offset + c.sticky.len).unwrap_or_default();
            if bucket(op, value) < c.threshold {
                return Decision { route: Some(route), target: &c.to, canary: true };
            }
        }
        Decision { route: Some(route), target: &route.target, canary: false }
    }
}

/// A route's shadow settings, compiled.
pub struct ShadowRoute {
    /// Who is shadowed.
    pub to: Arc<UpstreamEntry>,
    /// Buckets (of 10,000) mirrored: shadow_percent × 100.
    pub threshold: u32,
    /// The shadow request carries `Ficus-Shadow: dry-run` (writes).
    pub dry_run: bool,
    /// Time budget of one shadow request.
    pub timeout: Duration,
}

#[cfg(test)]
mod bucket_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Sampling must not move: the parts hash exactly as the joined string did.
        #[test]
        fn a_key_in_parts_is_the_joined_key(prefix in "[a-z:]{0,8}", op in "[A-Z.]{0,10}", value in prop::collection::vec(any::<u8>(), 0..40)) {
            prop_assert_eq!(bucket_keyed(&[prefix.as_bytes(), op.as_bytes()], &value), bucket(&format!("{prefix}{op}"), &value));
        }
    }
}
