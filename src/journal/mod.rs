//! The transaction journal (거래 저널): what a bank's FEP keeps so that a write is never posted
//! twice, a reversal (취소) reaches the system that posted the original, and an account's writes
//! have one owner during a per-account cut-over.
//!
//! One row per journaled message, keyed by header fields (the channel's transaction number);
//! the first message with a key claims it atomically (a primary key, so across every replica
//! sharing the store), moves `in_flight` → `done` (with the reply bytes, returned to any
//! duplicate) or `unknown` (sent, no answer). An `in_flight` row whose lease passed (its
//! replica died) counts as `unknown`. The owner table maps an account to the upstream that owns
//! its writes ([`owners`]).
//!
//! Two stores behind one SQL dialect ([`store::Store`], sqlx's `Any` driver): SQLite, embedded
//! (one machine), and PostgreSQL (a fleet). This module does I/O only through the store; the
//! gateway decides what to do with what it answers.

mod batch;
mod batch_pg;
mod batch_sqlite;
pub mod continuation;
pub mod key;
pub mod owners;
pub mod pg_url;
mod reads;
pub mod refusal;
mod schema;
pub mod store;
pub mod sweep;

pub use continuation::{Continuation, Issued, OnUnknownKey};
pub use key::{KeyError, KeyField};
pub use refusal::Refusal;
pub use store::{Entry, EntryState, Store, StoreError};

use std::sync::Arc;
use std::time::Duration;

/// What to do with a journaled write when the store cannot be reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnStoreError {
    /// Refuse the write (not sent): the default. A write is never sent unguarded silently.
    Refuse,
    /// Send it unguarded, logged and counted (`ficus_journal_unguarded_total`).
    Pass,
}

/// The compiled `[journal]` section: the store and how keys are read.
pub struct JournalPlan {
    /// The store (shared with the previous table when `[journal] store` did not change).
    pub store: Arc<Store>,
    /// Header fields whose values, joined by `|`, make a transaction's key.
    pub key: Vec<KeyField>,
    /// What a store outage does to journaled writes.
    pub on_store_error: OnStoreError,
    /// Rows older than this (except `unknown` ones) are deleted.
    pub retention: Duration,
    /// Longest an owner move waits for writes in flight.
    pub move_wait: Duration,
    /// A reversal marked by a header flag on the original's own operation (정정취소구분).
    pub reversal_flag: Option<ReversalFlag>,
    /// `[journal] store` and `max_connections` as written (a reload reuses the store while they
    /// stay the same).
    pub store_spec: (String, u32),
}

impl JournalPlan {
    /// The journal key of `message`: the key fields' values joined by `|`.
    ///
    /// Errors: a field blank (or zero, for a number) is [`KeyError::Missing`]; bytes that are
    /// not valid for the field's picture are [`KeyError::Unreadable`].
    pub fn key_of(&self, message: &[u8], options: crate::codec::CodecOptions) -> Result<String, KeyError> {
        key::join(&self.key, message, options)
    }

    /// A key as an operator types it (`ficus journal show 0000004242`), in the form the gateway
    /// reads it from messages: a one-field numeric key without its leading zeros, as
    /// [`KeyField::canonical`] does for accounts. A key of several fields is taken as typed
    /// (the joined form `ficus journal unknown` prints).
    pub fn typed_key(&self, typed: &str) -> Result<String, String> {
        match self.key.as_slice() {
            [one] => one.canonical(typed),
            _ => Ok(typed.trim().to_string()),
        }
    }

    /// When `message` carries the reversal flag (`[journal] reversal_flag`), the reversal it
    /// asks for: of a transaction of its own operation `op`, found by the header's original key.
    pub fn flagged_reversal(&self, op: &str, message: &[u8], options: crate::codec::CodecOptions) -> Option<Reversal> {
        let flag = self.reversal_flag.as_ref()?;
        let value = flag.field.read(message, options.codepage).ok()?;
        flag.values.contains(&value).then(|| Reversal {
            op: op.to_string(),
            original_key: flag.original_key.clone(),
            missing_reply: None,
        })
    }
}

/// `[journal] reversal_flag`: a header field whose value marks a message as the reversal
/// (취소/정정) of an earlier transaction of the same operation, and the header fields holding
/// that transaction's key — the Korean 공통부 convention (정정취소구분 + 원거래 번호).
#[derive(Clone, Debug)]
pub struct ReversalFlag {
    /// The flag field (e.g. `HDR-CAN-FLAG`).
    pub field: KeyField,
    /// Its values that mean "reversal" (e.g. `["2", "3"]`: cancel, correction).
    pub values: Vec<String>,
    /// Header fields holding the original's key, in the order of `[journal] key`.
    pub original_key: Vec<KeyField>,
}

/// How a route uses the journal (compiled from its `dedupe`, `owner_key`, `reverses`).
#[derive(Clone, Debug)]
pub struct RouteJournal {
    /// Duplicates (same key) of a write are answered from the journal, never sent again.
    pub dedupe: bool,
    /// The request field naming the account whose owner serves this route.
    pub owner_key: Option<KeyField>,
    /// This route reverses another operation's transactions.
    pub reverses: Option<Reversal>,
}

/// A reversal route: `reverses = "XFER"`, `original_key = [..]`.
#[derive(Clone, Debug)]
pub struct Reversal {
    /// The operation whose transactions this one reverses.
    pub op: String,
    /// Request fields holding the original's key, in the order of `[journal] key`.
    pub original_key: Vec<KeyField>,
    /// The reply when the original is not in the journal: (code, message), if configured.
    pub missing_reply: Option<(String, String)>,
}

/// Milliseconds since the Unix epoch (the journal's clock).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}
