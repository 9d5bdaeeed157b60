//! Why the journal refused to let a message through. Each is "not sent" — the upstream never saw
//! this message — and the reply module gives each its own code (FC05, FC21–FC26).

use super::KeyError;

/// A journaled message answered by the gateway itself, without sending it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The key (or account, or original's key) cannot be read from the message (FC05).
    #[error("journal key: {0}")]
    Key(#[from] KeyError),
    /// A duplicate of a write whose outcome is not known: still in flight after the wait, or
    /// sent without an answer. Sending it again could post it twice (FC21).
    #[error("transaction {key} ({op}) is {state}: outcome unknown, do not resend; reconcile first")]
    Unresolved {
        /// The key.
        key: String,
        /// The operation.
        op: String,
        /// "still in flight" or "unknown".
        state: &'static str,
    },
    /// The key was already used by a different request (another operation or other body
    /// bytes): answering with that one's reply would be a wrong answer (FC22).
    #[error("transaction key {key} was already used by {op} with a different request; a key names one transaction")]
    KeyReused {
        /// The key.
        key: String,
        /// The operation that used it first.
        op: String,
    },
    /// A reversal whose original is not in the journal (never journaled, purged, or another
    /// operation's key): it goes nowhere rather than to a guess (FC23, or `original_missing`).
    #[error("original {op} transaction {key} is not in the journal: the reversal was not sent")]
    OriginalMissing {
        /// The original's operation.
        op: String,
        /// The original's key as read from the reversal.
        key: String,
        /// The configured reply (code, message), if any.
        configured: Option<(String, String)>,
    },
    /// The original was served by an upstream the table no longer has (FC23).
    #[error("original transaction {key} was served by {upstream}, which is not an upstream now: not sent")]
    OriginalTargetGone {
        /// The original's key.
        key: String,
        /// Who served it.
        upstream: String,
    },
    /// The journal store cannot be reached (`on_store_error = "refuse"`): not sent (FC24).
    #[error("journal store unavailable ({0}): the write was not sent")]
    Store(String),
    /// The account is being moved to another owner and the move outlasted the wait (FC25).
    #[error("account {key} is being moved to {to}: not sent, send it again shortly")]
    Moving {
        /// The account.
        key: String,
        /// Where it goes.
        to: String,
    },
    /// A page request whose continuation key has no live pin: expired, never handed out
    /// through ficus, issued by two upstreams at once, or by one no longer configured. Sent to a
    /// guess, it would skip or repeat rows: not sent (FC26).
    #[error("{op} continuation key {key} {why}: not sent; start the inquiry again")]
    Continuation {
        /// The operation.
        op: String,
        /// The key as the request carried it.
        key: String,
        /// Why there is no pin ("is not known (expired or never issued here)", …).
        why: String,
    },
    /// The owner table names an upstream this table does not have (FC25).
    #[error("account {key} is owned by {upstream}, which is not an upstream here: not sent")]
    OwnerGone {
        /// The account.
        key: String,
        /// The owner named.
        upstream: String,
    },
}
