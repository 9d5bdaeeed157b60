//! The shape of routes.toml, as serde reads it. Unknown keys are errors (`deny_unknown_fields`),
//! so a typo never silently changes routing. Meaning is checked later, in `build`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod channel;
mod link;
mod multipart;
pub use crate::telemetry::TelemetrySection;
pub use channel::ChannelSection;
pub use link::{HeartbeatSpec, PollSpec};
pub use multipart::MultipartSpec;

/// The whole file.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RoutesFile {
    /// Listeners, copybook directory, code page, channel framing.
    pub gateway: GatewaySection,
    /// The common header and the fields that name the operation.
    pub header: HeaderSection,
    /// Named upstreams: `legacy` and the new services.
    #[serde(default)]
    pub upstreams: BTreeMap<String, UpstreamSection>,
    /// Where unknown operations go.
    pub default: DefaultSection,
    /// One entry per operation code.
    #[serde(default)]
    pub routes: BTreeMap<String, RouteSection>,
    /// Limits on the channel side.
    #[serde(default)]
    pub limits: LimitsSection,
    /// Where shadow comparisons and captures are recorded, and how much may be in flight.
    #[serde(default)]
    pub shadow: ShadowSection,
    /// The transaction journal (duplicate writes, reversals, per-account owners); none: off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal: Option<JournalSection>,
    /// Channels besides `[gateway]`'s listeners (the channel named `default`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<ChannelSection>,
    /// OpenTelemetry traces (OTLP/HTTP); none: the `OTEL_*` variables, or off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telemetry: Option<TelemetrySection>,
}

/// `[journal]`: where transactions are journaled and how they are keyed.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct JournalSection {
    /// `"sqlite:FILE"` (relative to routes.toml; one machine) or `"postgres://USER@HOST:PORT/DB"`
    /// (one journal shared by every replica).
    pub store: String,
    /// Header fields whose values identify a transaction (default: `[header] message_id`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key: Vec<String>,
    /// Hours a finished transaction is kept (unknown outcomes stay until reconciled).
    #[serde(default = "default_retention_hours")]
    pub retention_hours: u64,
    /// `"refuse"` (default): a journaled write is refused while the store is unreachable;
    /// `"pass"`: it is sent unguarded, logged and counted.
    #[serde(default = "default_on_store_error")]
    pub on_store_error: String,
    /// Most connections to the store.
    #[serde(default = "default_journal_connections")]
    pub max_connections: u32,
    /// Longest an owner move waits for writes in flight, in milliseconds.
    #[serde(default = "default_move_wait_ms")]
    pub move_wait_ms: u64,
    /// A header flag marking a message as the reversal of an earlier transaction of the same
    /// operation: `{ field = "HDR-CAN-FLAG", values = ["2", "3"], original_key = ["HDR-ORG-SEQ-NO"] }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reversal_flag: Option<ReversalFlagSpec>,
}

/// `reversal_flag = { field, values, original_key }`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReversalFlagSpec {
    /// The header field holding the flag (정정취소구분).
    pub field: String,
    /// Its values that mean "reversal".
    pub values: Vec<String>,
    /// Header fields holding the original transaction's key (원거래 번호), as `[journal] key`.
    pub original_key: Vec<String>,
}

fn default_retention_hours() -> u64 {
    72
}
fn default_on_store_error() -> String {
    "refuse".into()
}
fn default_journal_connections() -> u32 {
    16
}
fn default_move_wait_ms() -> u64 {
    10_000
}

/// `[shadow]`: settings shared by every shadowed route.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ShadowSection {
    /// Most shadow requests in flight at once; beyond it, shadows are dropped (and counted).
    pub max_in_flight: usize,
    /// Directory for comparison records and captures, relative to routes.toml; or `"postgres"`:
    /// the `[journal]` PostgreSQL store, shared by every replica.
    pub records: String,
    /// A records file is rotated when it grows past this many bytes.
    pub max_record_bytes: u64,
    /// How many rotated files are kept.
    pub keep_files: usize,
}

impl Default for ShadowSection {
    fn default() -> Self {
        ShadowSection { max_in_flight: 256, records: "shadow".into(), max_record_bytes: 64 << 20, keep_files: 4 }
    }
}

/// `[gateway]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GatewaySection {
    /// HTTP listener address (`POST` with a fixed-width body).
    pub listen_http: Option<String>,
    /// TCP listener address (framed messages).
    pub listen_tcp: Option<String>,
    /// Admin API address (loopback unless a token is configured).
    pub admin: Option<String>,
    /// Copybook directory, relative to routes.toml.
    #[serde(default = "default_copybooks")]
    pub copybooks: String,
    /// Code page of messages: ascii, cp037, cp1047, cp949, cp933, cp1364.
    #[serde(default = "default_codepage")]
    pub codepage: String,
    /// Framing of the TCP channel listener.
    #[serde(default)]
    pub tcp_framing: FramingSpec,
    /// File of admin tokens, one `name:secret` a line (relative to this file). The environment
    /// variable `FICUS_ADMIN_TOKEN` (`secret`, or `name:secret,name:secret`) adds more.
    pub admin_token_file: Option<String>,
    /// The audit log of applied changes (JSON Lines), relative to this file. Default:
    /// `<routes stem>.audit.jsonl` beside it. Set it to a writable volume where routes.toml is
    /// read-only (a Kubernetes ConfigMap): `audit_log = "/var/lib/ficus/routes.audit.jsonl"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_log: Option<String>,
    /// Heartbeats of the default channel, answered by the gateway itself:
    /// `heartbeat = { op = "HEARTBT", reply_code = "0000" }` (see docs/links.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat: Option<HeartbeatSpec>,
}

fn default_copybooks() -> String {
    "copybooks".into()
}
fn default_codepage() -> String {
    "cp037".into()
}

/// Where one message ends on a byte stream, for the channel listener (`[gateway] tcp_framing`)
/// and `tcp` upstreams (`framing`) alike: exactly one of `length_prefix` or `length_field`, and
/// how its length is written (see docs/framing.md).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FramingSpec {
    /// A length of this many bytes before each message.
    pub length_prefix: Option<u8>,
    /// A header field holding the length (the message is passed on whole).
    pub length_field: Option<String>,
    /// `"binary"` (big-endian; a prefix's default), `"binary-le"`, `"ascii"`, `"ebcdic"`, `"bcd"`
    /// (a field's default: the code page's digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digits: Option<String>,
    /// What the length counts: `"after"` (the bytes after it; a prefix's default), `"all"` (its
    /// own bytes too), `"message"` (a field's default: the whole message), `"body"` (after the
    /// header; a field only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<String>,
    /// Added to the stated length to get the bytes it counts (`-2`: it counts a 2-byte trailer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjust: Option<i64>,
    /// Bytes after every message, checked and stripped on read, written on send: text in the
    /// link's code page (`"ZZ"`) or hex (`"0x03"`, `"0x0D0A"`). Never counted by the length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trailer: Option<String>,
}

impl Default for FramingSpec {
    fn default() -> Self {
        FramingSpec {
            length_prefix: Some(4),
            length_field: None,
            digits: None,
            counts: None,
            adjust: None,
            trailer: None,
        }
    }
}

/// `[header]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HeaderSection {
    /// The header copybook file (in the copybook directory).
    pub copybook: String,
    /// The 01 record in it (default: the first).
    pub record: Option<String>,
    /// Header field(s) whose values, joined by `.`, name the operation.
    pub operation: Vec<String>,
    /// Where the gateway's own error replies put their code.
    pub response_code: String,
    /// Where the gateway's own error replies put their message.
    pub response_message: String,
    /// A header field holding the whole message's length, kept right on every reply ficus builds.
    pub length_field: Option<String>,
    /// A header field that identifies a message (its sequence number), for logs and records.
    pub message_id: Option<String>,
    /// Long messages sent in parts (장전문): the part indicator and part number fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multipart: Option<MultipartSpec>,
}

/// Kinds of upstream.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum UpstreamKind {
    /// Fixed-width bytes over framed TCP (the legacy host).
    Tcp,
    /// Fixed-width bytes POSTed over HTTP.
    Http,
    /// A new service: JSON over HTTP, translated by the gateway.
    HttpJson,
    /// Fixed-width bytes over two TCP connections: requests on `send`, replies on `receive`,
    /// matched by the `match` header fields (an asynchronous host or interbank link).
    TcpAsync,
}

/// `[upstreams.NAME]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UpstreamSection {
    /// tcp | http | http-json | tcp-async.
    pub kind: UpstreamKind,
    /// `host:port`, for `tcp`.
    pub address: Option<String>,
    /// `http://host:port/path`, for `http` and `http-json`.
    pub url: Option<String>,
    /// Framing, for `tcp` (default: 4-byte length prefix).
    pub framing: Option<FramingSpec>,
    /// Time for the whole exchange, in milliseconds.
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    /// Time to connect, in milliseconds.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_ms: u64,
    /// Most connections (and requests in flight) to this upstream.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Consecutive failures (cannot connect, broken, timeout, 5xx) that open the circuit
    /// breaker (default 5; 0 disables it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breaker_failures: Option<u32>,
    /// How long an open breaker fails calls fast before one probe goes through (default 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breaker_cooldown_ms: Option<u64>,
    /// Retries of read-only messages allowed, as a percentage of requests (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_budget_percent: Option<u32>,
    /// Connections shadows may hold at once (default: half of `max_connections`; never the
    /// last one, so at most `max_connections - 1`; 0 sends this upstream no shadows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow_connections: Option<usize>,
    /// For `tcp`: poll idle connections so a dead link is dropped before a customer uses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<PollSpec>,
    /// For `tcp-async`: `host:port` ficus connects to and writes requests on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send: Option<String>,
    /// For `tcp-async`: where replies arrive, `{ listen = "0.0.0.0:7002" }` or
    /// `{ connect = "10.0.0.9:7002" }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receive: Option<ReceiveSpec>,
    /// For `tcp-async`: header fields whose bytes match a reply to its request.
    #[serde(default, rename = "match", skip_serializing_if = "Vec::is_empty")]
    pub match_fields: Vec<String>,
    /// For `tcp-async`: how long a match key stays reserved after its exchange ended, so a late
    /// reply or a second copy is recognised (default 30000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_ms: Option<u64>,
}

/// `receive = { listen = "0.0.0.0:7002" }` or `{ connect = "10.0.0.9:7002" }`: exactly one.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ReceiveSpec {
    /// ficus listens here and the host connects (its newest connection replacing an older one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// ficus connects here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<String>,
}

fn default_timeout() -> u64 {
    3000
}
fn default_connect_timeout() -> u64 {
    1000
}
fn default_max_connections() -> usize {
    64
}

/// `[default]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DefaultSection {
    /// The upstream that serves operations without a route.
    pub target: String,
}

/// `[routes.OP]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RouteSection {
    /// Request body layout after the header: `FILE.cpy#01-RECORD`.
    pub request: Option<String>,
    /// Response body layout after the header: `FILE.cpy#01-RECORD`.
    pub response: Option<String>,
    /// The upstream that serves this operation.
    pub target: String,
    /// The operation changes nothing (inquiries): safe to retry, fall back and shadow.
    #[serde(default)]
    pub read_only: bool,
    /// `false` answers every message with an error reply (a kill switch).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// A share of traffic sent to another upstream, sticky per customer.
    pub canary: Option<CanarySpec>,
    /// For read-only operations: who answers when the target fails (e.g. `"legacy"`).
    pub fallback: Option<String>,
    /// The reply sent while `enabled = false` (default: code FC04, "DISABLED").
    pub disabled_reply: Option<ErrorReplySpec>,
    /// Mirror this operation to another upstream and compare the replies field by field.
    pub shadow: Option<String>,
    /// Share of messages mirrored, 0–100 (default 100).
    pub shadow_percent: Option<f64>,
    /// For operations that are not read_only: `"dry-run"` (the only way to shadow a write; the
    /// shadow request carries `Ficus-Shadow: dry-run`, which the new service must honour).
    pub shadow_writes: Option<String>,
    /// Time budget of a shadow request in milliseconds (default: the shadow upstream's timeout).
    pub shadow_timeout_ms: Option<u64>,
    /// Field paths left out of comparisons; `*` matches within a name, `[*]` any index:
    /// `["HDR-TIMESTAMP", "TXN-ROW[*].TXN-TIME"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<String>,
    /// Numeric tolerances by field path: `{ "INT-RATE" = 0.0001 }`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tolerance: BTreeMap<String, f64>,
    /// Sensitive field paths whose values records show only as a keyed hash.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mask: Vec<String>,
    /// Record this share of requests and replies for later replay: `{ percent = 5 }`.
    pub capture: Option<CaptureSpec>,
    /// When a JSON service's reply is encoded into the response layout, a field the reply
    /// leaves out is written as its VALUE clause says (or spaces / zero without one) instead of
    /// failing the message. FILLER always gets its VALUE. Default: a missing field is an error.
    #[serde(default, skip_serializing_if = "is_false")]
    pub fill_missing: bool,
    /// When a JSON service's reply is encoded, text longer than its field is cut at the last
    /// whole character (never half a Korean character, never SO without SI) instead of
    /// failing the message. Default: an error naming the field and both lengths.
    #[serde(default, skip_serializing_if = "is_false")]
    pub truncate_text: bool,
    /// For writes, with a `[journal]`: answer a duplicate (same key) from the journal, never
    /// send it again (default true for writes; false turns it off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedupe: Option<bool>,
    /// The request field holding the account whose owner (the owner table) serves this route,
    /// overriding target and canary: `owner_key = "FROM-ACCT"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_key: Option<String>,
    /// This operation reverses (취소) another one's transactions: it goes to the upstream that
    /// served the original, whatever the route says now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverses: Option<String>,
    /// Request fields holding the original's key, in the order of `[journal] key`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub original_key: Vec<String>,
    /// The reply when the original is not in the journal (default: code FC23).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_missing: Option<ErrorReplySpec>,
    /// A paged inquiry (연속조회): the next page goes to the upstream that served the previous
    /// one, whatever the route says now (needs a `[journal]`, where the pins are kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuation: Option<ContinuationSpec>,
}

/// `continuation = { reply_key = "NEXT-KEY", request_key = "NEXT-KEY", ttl_s = 600 }`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ContinuationSpec {
    /// The response field holding the continuation key (blank or zero: the last page).
    pub reply_key: String,
    /// The request field carrying it back (blank or zero: a first page).
    pub request_key: String,
    /// Seconds a conversation stays pinned after its last page (default 600).
    #[serde(default = "default_continuation_ttl")]
    pub ttl_s: u64,
    /// Request fields naming the inquiry (e.g. `["ACCT-NO"]`); default: the whole request body
    /// except `request_key`, so every page must repeat the first page's other fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<String>,
    /// A key ficus has no pin for (expired, or issued before the route had `continuation`):
    /// `"refuse"` (default: FC26, the channel starts the inquiry again) or `"route"` (sent where
    /// the route says now).
    #[serde(default = "default_continuation_unknown")]
    pub unknown: String,
}

fn default_continuation_ttl() -> u64 {
    600
}
fn default_continuation_unknown() -> String {
    "refuse".into()
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// `capture = { percent = N }`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CaptureSpec {
    /// Share of messages captured, 0–100.
    pub percent: f64,
}

/// `canary = { to = "accounts", percent = 10, sticky = "ACCT-NO" }`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CanarySpec {
    /// The upstream that receives the share.
    pub to: String,
    /// Share of customers, 0–100 (fractions allowed, e.g. 0.5).
    pub percent: f64,
    /// The request field (body or header) whose value picks the side; one value, one side.
    pub sticky: String,
}

/// A configured error reply.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ErrorReplySpec {
    /// Response code written into the header.
    pub code: String,
    /// Response message written into the header.
    pub message: String,
}

fn yes() -> bool {
    true
}

/// `[limits]`: protection on the channel side.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsSection {
    /// Largest message accepted, in bytes.
    pub max_message_bytes: usize,
    /// Most channel connections at once (HTTP and TCP each).
    pub max_connections: usize,
    /// Time allowed to receive a whole message once it has started, in milliseconds.
    pub read_timeout_ms: u64,
    /// Time a TCP connection may sit idle between messages, in milliseconds.
    pub idle_timeout_ms: u64,
    /// Most messages in flight at once on the default channel (its HTTP and TCP listeners
    /// together; a `[[channels]]` entry has its own bound, this by default); beyond it, messages are
    /// answered at once with the busy reply (FC20, HTTP 503) instead of queueing.
    pub max_in_flight: usize,
    /// On shutdown, time allowed for messages in flight to finish, in milliseconds.
    pub drain_timeout_ms: u64,
}

impl Default for LimitsSection {
    fn default() -> Self {
        LimitsSection {
            max_message_bytes: 64 * 1024,
            max_connections: 4096,
            read_timeout_ms: 5000,
            idle_timeout_ms: 300_000,
            max_in_flight: 1024,
            drain_timeout_ms: 10_000,
        }
    }
}
