//! Conversations that span messages: paged inquiries (연속조회). A reply carrying a
//! continuation key (`NEXT-KEY`) pins the conversation to the upstream that produced it; the
//! request that carries the key back goes there, whatever the route, a canary or a flip says
//! now, until the pin's time to live passes; a page without a key pins nothing more.
//!
//! A key alone does not name a conversation: two systems may both hand out `R00000020`. A pin is
//! kept under the operation, the inquiry's *scope* (the request body without its key field, or
//! the `scope` fields) and the key, hashed. A first page's key replaces an older pin of the
//! same name (the customer asked again); if two upstreams hand out one key for one scope from
//! later pages while the first pin lives, the pin turns *ambiguous* (its upstream is empty) and
//! the next page is refused rather than sent to a guess.
//!
//! Pins live in the journal's store (`ficus_continuations`), so every replica sharing it agrees.

use super::batch::Value;
use super::key::{KeyError, KeyField};
use super::store::{Store, StoreError};
use crate::codec::CodecOptions;
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::time::Duration;

/// What happens to a request carrying a key ficus holds no pin for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnUnknownKey {
    /// Refused (FC26): the channel starts the inquiry again. The default.
    Refuse,
    /// Sent where the route says now.
    Route,
}

/// A route's compiled `continuation`.
#[derive(Clone, Debug)]
pub struct Continuation {
    /// The request field carrying the key back (offset in the whole request).
    pub request_key: KeyField,
    /// The response field holding the next page's key (offset in the whole reply).
    pub reply_key: KeyField,
    /// How long a pin lives after its page.
    pub ttl: Duration,
    /// Request fields naming the inquiry; empty: the request body without `request_key`.
    pub scope: Vec<KeyField>,
    /// A key without a pin.
    pub on_unknown: OnUnknownKey,
}

/// What a reply says of the conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Issued {
    /// The next page's key.
    Next(String),
    /// No key: the last page; the conversation ends.
    Last,
    /// The reply does not hold the field (an error reply): nothing changes.
    Nothing,
}

/// A pin as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pin {
    /// The upstream that issued the key; empty when two did (ambiguous).
    pub upstream: String,
    /// Milliseconds since the epoch after which the pin is gone.
    pub expires_ms: i64,
}

impl Continuation {
    /// The key `message` carries: `None` for a first page (blank or zero).
    ///
    /// Errors: the field's bytes are not valid for its picture ([`KeyError::Unreadable`]).
    pub fn requested(&self, message: &[u8], options: CodecOptions) -> Result<Option<String>, KeyError> {
        absent_is_none(self.request_key.read(message, options.codepage))
    }

    /// What a reply says of the next page: a key, the last page (blank or zero), or nothing
    /// (a reply too short to hold the field, such as an error reply, or a field not valid for
    /// its picture).
    pub fn issued(&self, reply: &[u8], options: CodecOptions) -> Issued {
        match self.reply_key.read(reply, options.codepage) {
            Ok(k) => Issued::Next(k),
            Err(KeyError::Missing { .. }) => Issued::Last,
            Err(KeyError::Unreadable { .. }) => Issued::Nothing,
        }
    }

    /// The stored name of conversation `key` of `op` for `message`: SHA-256 over the
    /// operation, the scope and the key, hex (the key is inside, never shown on its own).
    ///
    /// Errors: a `scope` field that cannot be read.
    pub fn pin_key(&self, op: &str, message: &[u8], header_size: usize, key: &str) -> Result<String, KeyError> {
        let mut h = Sha256::new();
        h.update(op.as_bytes());
        h.update([0]);
        if self.scope.is_empty() {
            let body = message.get(header_size..).unwrap_or_default();
            // A key in the header (a `tr_cont_key`-style field) leaves the whole body as scope:
            // cutting "its" bytes out of the body would drop the account from the inquiry.
            let (at, end) = match self.request_key.offset.checked_sub(header_size) {
                Some(at) => (at.min(body.len()), (at + self.request_key.len).min(body.len())),
                None => (body.len(), body.len()),
            };
            h.update(&body[..at]);
            h.update([0xFF]);
            h.update(&body[end..]);
        } else {
            for field in &self.scope {
                let bytes =
                    message.get(field.offset..field.offset + field.len).ok_or_else(|| KeyError::Unreadable {
                        field: field.name.clone(),
                        why: format!(
                            "the message is {} bytes, the field ends at {}",
                            message.len(),
                            field.offset + field.len
                        ),
                    })?;
                h.update((bytes.len() as u32).to_be_bytes());
                h.update(bytes);
            }
        }
        h.update([0]);
        h.update(key.as_bytes());
        Ok(hex::encode(h.finalize()))
    }
}

/// Blank or zero is no key; anything else is the error it was.
fn absent_is_none(read: Result<String, KeyError>) -> Result<Option<String>, KeyError> {
    match read {
        Ok(k) => Ok(Some(k)),
        Err(KeyError::Missing { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

impl Store {
    /// The pin of conversation `pin_key`, if one is stored and alive at `now` (ms).
    pub async fn pin(&self, pin_key: &str, now: i64) -> Result<Option<Pin>, StoreError> {
        self.ready().await?;
        let row = sqlx::query(
            "SELECT upstream, expires_ms FROM ficus_continuations WHERE conv_key = $1 AND expires_ms >= $2",
        )
        .bind(pin_key)
        .bind(now)
        .fetch_optional(self.pool().await?)
        .await
        .map_err(|e| self.sql_error(e))?;
        row.map(|r| Ok(Pin { upstream: r.try_get("upstream")?, expires_ms: r.try_get("expires_ms")? }))
            .transpose()
            .map_err(|e: sqlx::Error| self.sql_error(e))
    }

    /// Pins `pin_key` to `upstream` until `now + ttl`. Handed out by a first page (`fresh`), the
    /// key is `upstream`'s whatever was pinned before; by a later page, a live pin to another
    /// upstream turns ambiguous (empty upstream): two systems handed out one key for one inquiry
    /// in two conversations at once.
    pub async fn pin_to(
        &self,
        pin_key: &str,
        op: &str,
        upstream: &str,
        now: i64,
        ttl: Duration,
        fresh: bool,
    ) -> Result<(), StoreError> {
        const LATER: &str = "INSERT INTO ficus_continuations (conv_key, op, upstream, expires_ms, updated_ms) \
                   VALUES ($1, $2, $3, $4, $5) ON CONFLICT (conv_key) DO UPDATE SET \
                   upstream = CASE WHEN ficus_continuations.upstream = excluded.upstream \
                   OR ficus_continuations.expires_ms < excluded.updated_ms THEN excluded.upstream ELSE '' END, \
                   expires_ms = excluded.expires_ms, updated_ms = excluded.updated_ms";
        const FRESH: &str = "INSERT INTO ficus_continuations (conv_key, op, upstream, expires_ms, updated_ms) \
                   VALUES ($1, $2, $3, $4, $5) ON CONFLICT (conv_key) DO UPDATE SET \
                   upstream = excluded.upstream, expires_ms = excluded.expires_ms, updated_ms = excluded.updated_ms";
        let sql = if fresh { FRESH } else { LATER };
        let expires = now.saturating_add(ttl.as_millis() as i64);
        let args = vec![
            Value::Text(pin_key.into()),
            Value::Text(op.into()),
            Value::Text(upstream.into()),
            Value::Int(expires),
            Value::Int(now),
        ];
        self.write(sql, args).await.map(|_| ())
    }

    /// Forgets pin `pin_key` (an operator's tool; the gateway lets pins expire).
    pub async fn unpin(&self, pin_key: &str) -> Result<(), StoreError> {
        let sql = "DELETE FROM ficus_continuations WHERE conv_key = $1";
        self.write(sql, vec![Value::Text(pin_key.into())]).await.map(|_| ())
    }

    /// Deletes pins that expired before `now`; how many.
    pub async fn purge_pins(&self, now: i64) -> Result<u64, StoreError> {
        self.write("DELETE FROM ficus_continuations WHERE expires_ms < $1", vec![Value::Int(now)]).await
    }

    /// Live pins per upstream (for `ficus journal` and the dashboard).
    pub async fn count_pins(&self, now: i64) -> Result<Vec<(String, u64)>, StoreError> {
        self.ready().await?;
        let rows = sqlx::query(
            "SELECT upstream, COUNT(*) AS n FROM ficus_continuations WHERE expires_ms >= $1 GROUP BY upstream \
             ORDER BY upstream",
        )
        .bind(now)
        .fetch_all(self.pool().await?)
        .await
        .map_err(|e| self.sql_error(e))?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>("upstream")?, r.try_get::<i64, _>("n")? as u64)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| self.sql_error(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::charset::CodePage;
    use crate::codec::ops::LeafKind;

    fn text(name: &str, offset: usize, len: usize) -> KeyField {
        KeyField { name: name.into(), offset, len, kind: LeafKind::Text { justified: false } }
    }

    fn paging() -> Continuation {
        // header 4 bytes; body: ACCT(4) KEY(3) ROWS(2)
        Continuation {
            request_key: text("KEY", 8, 3),
            reply_key: text("NEXT", 8, 3),
            ttl: Duration::from_secs(600),
            scope: vec![],
            on_unknown: OnUnknownKey::Refuse,
        }
    }

    #[test]
    fn blank_keys_are_first_and_last_pages() {
        let c = paging();
        let o = CodecOptions::for_codepage(CodePage::Ascii);
        assert_eq!(c.requested(b"HDR1ACCT   05", o), Ok(None));
        assert_eq!(c.requested(b"HDR1ACCTK1 05", o), Ok(Some("K1".into())));
        assert_eq!(c.issued(b"HDR1ACCT   ", o), Issued::Last);
        assert_eq!(c.issued(b"HDR1AC", o), Issued::Nothing, "too short: an error reply");
        assert_eq!(c.issued(b"HDR1ACCTK2 ", o), Issued::Next("K2".into()));
    }

    #[test]
    fn a_pin_names_operation_scope_and_key_but_not_the_header() {
        let c = paging();
        let p1 = c.pin_key("HIST", b"HDR1ACCTK1 05", 4, "K1").unwrap();
        assert_eq!(p1, c.pin_key("HIST", b"xxxxACCTK1 05", 4, "K1").unwrap(), "another header, one conversation");
        assert_eq!(p1, c.pin_key("HIST", b"HDR1ACCT   05", 4, "K1").unwrap(), "the key field itself is not scope");
        assert_ne!(p1, c.pin_key("HIST", b"HDR1ACCUK1 05", 4, "K1").unwrap(), "another account");
        assert_ne!(p1, c.pin_key("HIST", b"HDR1ACCTK1 07", 4, "K1").unwrap(), "other rows per page");
        assert_ne!(p1, c.pin_key("HIST", b"HDR1ACCTK1 05", 4, "K2").unwrap(), "another key");
        assert_ne!(p1, c.pin_key("HIS2", b"HDR1ACCTK1 05", 4, "K1").unwrap(), "another operation");
        let scoped = Continuation { scope: vec![text("ACCT", 4, 4)], ..paging() };
        assert_eq!(
            scoped.pin_key("HIST", b"HDR1ACCTK1 05", 4, "K1").unwrap(),
            scoped.pin_key("HIST", b"HDR1ACCTK1 07", 4, "K1").unwrap(),
            "with scope = [ACCT], rows per page may change between pages"
        );
    }

    #[test]
    fn a_key_in_the_header_leaves_the_whole_body_in_the_scope() {
        // header 8 bytes with the key at 4..8; body: ACCT(4) ROWS(2)
        let c = Continuation { request_key: text("KEY", 4, 4), reply_key: text("NEXT", 4, 4), ..paging() };
        let p1 = c.pin_key("HIST", b"HDR1K1  ACCT05", 8, "K1").unwrap();
        assert_eq!(p1, c.pin_key("HIST", b"xxxxK1  ACCT05", 8, "K1").unwrap(), "the header is not scope");
        assert_ne!(p1, c.pin_key("HIST", b"HDR1K1  ACCU05", 8, "K1").unwrap(), "another account");
        assert_ne!(p1, c.pin_key("HIST", b"HDR1K1  ACCT07", 8, "K1").unwrap(), "other rows per page");
    }
}
