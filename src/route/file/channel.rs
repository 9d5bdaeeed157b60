//! `[[channels]]`: one listener (TCP or HTTP, or both) per counterparty, with its own code
//! page, framing, heartbeat and limits (checked and built in `config::build::channel`; see the
//! README's "Channels and framing").

use super::{FramingSpec, HeartbeatSpec};
use serde::{Deserialize, Serialize};

/// One `[[channels]]` entry. `[gateway] listen_http/listen_tcp` stay as the channel named
/// `default`; every key left out here takes `[gateway]`'s or `[limits]`' value.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ChannelSection {
    /// The channel's label in metrics, logs and records (letters, digits, `-`, `_`; up to 32).
    pub name: String,
    /// TCP listener address (framed messages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen_tcp: Option<String>,
    /// HTTP listener address (`POST` with a fixed-width body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen_http: Option<String>,
    /// The code page this channel sends and expects back (default: `[gateway] codepage`, the
    /// host's). Another page is converted field by field with the operation's layouts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codepage: Option<String>,
    /// Framing of the TCP listener (default: `[gateway] tcp_framing`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framing: Option<FramingSpec>,
    /// Heartbeats answered by ficus on this channel (see docs/links.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat: Option<HeartbeatSpec>,
    /// Largest message accepted, in bytes (default: `[limits]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_message_bytes: Option<usize>,
    /// Most connections at once, per listener (default: `[limits]`; taken at start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<usize>,
    /// Most messages in flight on this channel (default: `[limits]`; taken at start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<usize>,
    /// Time to receive a whole message once it has started, in ms (default: `[limits]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_timeout_ms: Option<u64>,
    /// Time a TCP connection may sit idle between messages, in ms (default: `[limits]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout_ms: Option<u64>,
}
