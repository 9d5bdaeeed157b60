//! A channel as the route table holds it: its code page, framing, heartbeat and limits, and —
//! when its code page is not the host's — the conversions of the common header and of each
//! route's layouts, compiled once per table.
//!
//! Everything here follows the table: a reload may change a channel's code page, framing,
//! heartbeat and limits (the listener reads them from the table each message serves), but not
//! its listener addresses, nor the set of channels (refused by the build with "only on a
//! restart"). `max_connections` and `max_in_flight` are taken at start, as `[limits]`' are.

use crate::codec::charset::CodePage;
use crate::codec::convert::Conversion;
use crate::frame::Framing;
use crate::header::Heartbeat;
use crate::route::file::LimitsSection;
use std::collections::HashMap;
use std::sync::Arc;

/// The name of the channel `[gateway] listen_http/listen_tcp` make.
pub const DEFAULT_CHANNEL: &str = "default";

/// Longest channel name (it is a metrics label).
pub const MAX_CHANNEL_NAME: usize = 32;

/// One channel of the table.
#[derive(Clone)]
pub struct ChannelPlan {
    /// Its name (`default` for `[gateway]`'s listeners): the `channel` label.
    pub name: Arc<str>,
    /// The code page it sends and expects back.
    pub codepage: CodePage,
    /// Its TCP framing.
    pub framing: Framing,
    /// Its heartbeat, answered by ficus.
    pub heartbeat: Option<Heartbeat>,
    /// Its limits (`[limits]` with the channel's own keys over them).
    pub limits: LimitsSection,
    /// How its messages are converted to and from the host's code page; `None` on the host's
    /// page (bytes pass through untouched).
    pub conversion: Option<Arc<ChannelConversion>>,
    /// `ficus_channel_messages_total{channel, outcome="ok"}`, made on first use.
    pub ok_messages: std::sync::OnceLock<metrics::Counter>,
}

/// The conversions between one channel code page and the host's, shared by the channels on
/// that page.
pub struct ChannelConversion {
    /// The channel's code page.
    pub channel: CodePage,
    /// The host's code page.
    pub host: CodePage,
    /// The common header, channel → host.
    pub header_to_host: Conversion,
    /// The common header, host → channel.
    pub header_to_channel: Conversion,
    /// Each route's layouts, by operation code.
    pub routes: HashMap<String, RouteConversion>,
}

/// One route's body conversions; `None` where the route has no such layout (its messages with
/// a body cannot be converted and get the no-layout error reply).
#[derive(Default)]
pub struct RouteConversion {
    /// The request layout, channel → host.
    pub request: Option<Conversion>,
    /// The response layout, host → channel.
    pub response: Option<Conversion>,
}
