//! Upstreams: the legacy host (fixed-width bytes over framed TCP or HTTP, passed through
//! untouched) and new services (JSON over HTTP, translated by the gateway).
//!
//! Each upstream bounds its connections and requests in flight, every exchange has a
//! deadline, a circuit breaker ([`breaker`]) stops calls to a host that keeps failing, and a
//! retry budget ([`retry`]) caps retries. Nothing here knows about routes or copybooks.
//!
//! Every kind of upstream follows the same rules, in [`lane`]: a reply is accepted only when it
//! carries the request's message id ([`Correlation`]); a read-only message is retried once on
//! another connection when nothing was answered (or the answer belonged to another message),
//! within the retry budget; a shadow ([`Lane::Shadow`]) only uses spare capacity and never takes
//! the breaker's probe. Every permit, slot and probe is held by a guard released on drop, so a
//! cancelled call (a channel that went away, a shadow past its deadline) leaves nothing behind.

pub mod async_link;
pub mod breaker;
mod h1;
pub mod http;
pub mod lane;
pub mod modern;
pub mod poll;
pub mod pool;
pub mod retry;

pub use lane::{Call, Correlation, Lane};

use std::time::Duration;

/// A pooled connection idle longer than this is closed, not used (unless a poll proves it alive
/// meanwhile: [`poll`]): a firewall or NAT between ficus and the upstream may have forgotten it
/// without a word, and a message written to it would wait for its deadline — for a write, an
/// unknown outcome. 90 s is hyper-util's pooled client's default, which the HTTP upstreams used
/// before [`h1`]; both pools keep it.
pub(crate) const IDLE_LIMIT: Duration = Duration::from_secs(90);

/// Why an exchange with an upstream failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// Could not connect.
    #[error("{upstream}: cannot connect: {reason}")]
    Connect {
        /// Upstream name.
        upstream: String,
        /// Why.
        reason: String,
    },
    /// The connection failed during the exchange.
    #[error("{upstream}: {reason}")]
    Io {
        /// Upstream name.
        upstream: String,
        /// Why.
        reason: String,
    },
    /// No reply within the deadline.
    #[error("{upstream}: no reply within {ms} ms")]
    Timeout {
        /// Upstream name.
        upstream: String,
        /// The deadline.
        ms: u64,
    },
    /// The reply is not a valid frame / JSON / shape.
    #[error("{upstream}: {reason}")]
    BadReply {
        /// Upstream name.
        upstream: String,
        /// Why.
        reason: String,
    },
    /// The service answered with an error status.
    #[error("{upstream}: HTTP {status}")]
    Status {
        /// Upstream name.
        upstream: String,
        /// The status.
        status: u16,
    },
    /// The circuit breaker is open: the host failed repeatedly; nothing was sent.
    #[error("{upstream}: circuit open after repeated failures (next probe in {retry_in_ms} ms)")]
    Open {
        /// Upstream name.
        upstream: String,
        /// Time until the breaker lets a probe through.
        retry_in_ms: u64,
    },
    /// Every connection is busy and none freed up in time.
    #[error("{upstream}: all {max} connections busy")]
    Busy {
        /// Upstream name.
        upstream: String,
        /// The connection limit.
        max: usize,
    },
    /// The reply carries another message's id (a duplicate or late reply on a reused
    /// connection): it was not delivered, and the connection was dropped.
    #[error("{upstream}: reply carries message id {got:?}, not {sent:?}")]
    Uncorrelated {
        /// Upstream name.
        upstream: String,
        /// The request's message id (as bytes, lossily shown).
        sent: String,
        /// What the reply carried.
        got: String,
    },
    /// The request could not be made (e.g. a header value HTTP cannot carry): nothing was sent,
    /// and it says nothing about the upstream.
    #[error("{upstream}: request not sendable: {reason}")]
    Unsendable {
        /// Upstream name.
        upstream: String,
        /// Why.
        reason: String,
    },
    /// A shadow found no spare capacity (connections or breaker probe): nothing was sent.
    #[error("{upstream}: no spare capacity for a shadow")]
    NoSpare {
        /// Upstream name.
        upstream: String,
    },
    /// An asynchronous link ([`async_link`]) has a request with the same match key waiting, or
    /// held for its late reply: nothing was sent (its reply could not be told from the other's).
    #[error("{upstream}: match key {key} in use: {why}")]
    MatchKeyInUse {
        /// Upstream name.
        upstream: String,
        /// The key, as `FIELD=value` pairs.
        key: String,
        /// Why it is in use.
        why: &'static str,
    },
    /// An asynchronous link's receive side has no connection, so no reply could arrive: nothing
    /// was sent.
    #[error("{upstream}: receive side down: {reason}; not sent")]
    ReceiveDown {
        /// Upstream name.
        upstream: String,
        /// Where replies were expected.
        reason: String,
    },
    /// An asynchronous link's match key is blank or zero: a reply could not be matched to this
    /// request rather than another; nothing was sent.
    #[error("{upstream}: match key {key} is blank or zero: a reply could not be matched to it")]
    MatchKeyBlank {
        /// Upstream name.
        upstream: String,
        /// The key, as `FIELD=value` pairs.
        key: String,
    },
}

impl UpstreamError {
    /// True when the request certainly did not reach the upstream (safe to send elsewhere).
    pub fn not_sent(&self) -> bool {
        matches!(
            self,
            UpstreamError::Connect { .. }
                | UpstreamError::Busy { .. }
                | UpstreamError::Open { .. }
                | UpstreamError::NoSpare { .. }
                | UpstreamError::Unsendable { .. }
                | UpstreamError::MatchKeyInUse { .. }
                | UpstreamError::MatchKeyBlank { .. }
                | UpstreamError::ReceiveDown { .. }
        )
    }

    /// True for failures that say the host is unwell (they count towards opening the breaker).
    pub fn is_host_failure(&self) -> bool {
        match self {
            UpstreamError::Connect { .. }
            | UpstreamError::Io { .. }
            | UpstreamError::Timeout { .. }
            | UpstreamError::ReceiveDown { .. } => true,
            UpstreamError::Status { status, .. } => *status >= 500,
            UpstreamError::BadReply { .. }
            | UpstreamError::Busy { .. }
            | UpstreamError::Open { .. }
            | UpstreamError::Uncorrelated { .. }
            | UpstreamError::NoSpare { .. }
            | UpstreamError::Unsendable { .. }
            | UpstreamError::MatchKeyInUse { .. }
            | UpstreamError::MatchKeyBlank { .. } => false,
        }
    }
}

/// Settings common to every upstream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deadline for a whole exchange.
    pub timeout: Duration,
    /// Deadline to connect.
    pub connect_timeout: Duration,
    /// Most connections / requests in flight.
    pub max_connections: usize,
    /// Largest reply accepted.
    pub max_reply_bytes: usize,
    /// When the circuit breaker opens and for how long.
    pub breaker: breaker::BreakerSettings,
    /// Retries allowed, as a percentage of requests (read-only operations only).
    pub retry_percent: u32,
    /// Connections shadows may hold at once (`None`: [`lane::shadow_share`]).
    pub shadow_connections: Option<usize>,
}

impl Limits {
    /// Limits with the given deadlines and connection bound, and default breaker and budget.
    pub fn new(timeout: Duration, connect_timeout: Duration, max_connections: usize, max_reply_bytes: usize) -> Limits {
        Limits {
            timeout,
            connect_timeout,
            max_connections,
            max_reply_bytes,
            breaker: breaker::BreakerSettings::default(),
            retry_percent: 10,
            shadow_connections: None,
        }
    }
}

/// One upstream, ready to call.
pub enum Upstream {
    /// Legacy host over framed TCP.
    Tcp(pool::TcpPool),
    /// Legacy host over HTTP (bytes in, bytes out).
    Http(http::HttpBytes),
    /// A new service speaking JSON.
    Json(modern::JsonService),
    /// Legacy host or interbank link sending replies on a connection of their own, matched to
    /// requests by header fields ([`async_link`]).
    TcpAsync(async_link::AsyncLink),
}

impl Upstream {
    /// Its breakers, permits and retry budget: one [`lane::Gate`] whatever the kind.
    pub fn gate(&self) -> &lane::Gate {
        match self {
            Upstream::Tcp(pool) => pool.gate(),
            Upstream::Http(http) => http.0.gate(),
            Upstream::Json(service) => service.0.gate(),
            Upstream::TcpAsync(link) => link.gate(),
        }
    }

    /// Starts what runs on its own (an asynchronous link's receive side); called when a table
    /// goes live. Other kinds start on their first call.
    pub fn start(&self) {
        if let Upstream::TcpAsync(link) = self {
            link.start();
        }
    }

    /// True while its circuit breaker fails calls fast (a dead upstream).
    pub fn failing_fast(&self) -> bool {
        self.gate().breaker().failing_fast()
    }

    /// True while a shadow to it would fail fast (its breakers say it is down).
    pub fn shadows_failing_fast(&self) -> bool {
        self.gate().shadows_failing_fast()
    }

    /// A shadow to it ran out of its own deadline: counted by the shadows' breaker.
    pub fn shadow_timed_out(&self) {
        self.gate().shadow_timed_out()
    }

    /// True when a shadow could be sent now without taking anything a primary may need
    /// (a cheap look; the call itself enforces it).
    pub fn has_spare(&self) -> bool {
        self.gate().has_spare()
    }

    /// True for upstreams that take fixed-width bytes (the legacy side).
    pub fn is_bytes(&self) -> bool {
        !self.is_json()
    }

    /// True for a new service speaking JSON.
    pub fn is_json(&self) -> bool {
        matches!(self, Upstream::Json(_))
    }
}
