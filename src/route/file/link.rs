//! The link management keys of routes.toml: a channel's `heartbeat` and a `tcp` upstream's
//! `poll` (checked against the header in `config::build::link`; see docs/links.md).

use serde::{Deserialize, Serialize};

/// `heartbeat = { op = "HEARTBT", reply_code = "0000" }`: a channel's link-test message, answered
/// by ficus with the request's header and `reply_code` — never routed, shadowed or journaled.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatSpec {
    /// The operation key of a heartbeat (as `[header] operation` reads it; several fields: joined by `.`).
    pub op: String,
    /// The response code of the answer (default `"0000"`); it must fit `[header] response_code`.
    #[serde(default = "default_heartbeat_code")]
    pub reply_code: String,
}

fn default_heartbeat_code() -> String {
    "0000".into()
}

/// `poll = { every_ms = 30000, op = "HEARTBT" }` on a `tcp` upstream: a header-only message sent
/// on every pooled connection idle that long; one that is not answered in time (with its own
/// message id) is dropped from the pool, so a dead host link is found before a customer's
/// message is sent on it.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PollSpec {
    /// A connection idle this long, in milliseconds, is polled.
    pub every_ms: u64,
    /// The operation key of the poll message.
    pub op: String,
    /// Time for the host to answer a poll, in milliseconds (default: the upstream's `timeout_ms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}
