//! The journal's tables, created (and later migrated) on start: one DDL text per backend, the
//! only SQL that differs between SQLite and PostgreSQL (binary columns are `BLOB` / `BYTEA`).
//! Every other statement is shared and written with `$1`-style parameters, which both take.

/// The schema version this build writes; a store with a newer one is refused. Tables added
/// since (`ficus_continuations`) are created if missing and change no existing table, so they
/// did not change it: an older ficus on the same store only ignores them.
pub const VERSION: i64 = 1;

/// Statements creating version 1, for SQLite (`blob`) or PostgreSQL (`bytea`).
pub fn create(blob: &str) -> Vec<String> {
    vec![
        "CREATE TABLE IF NOT EXISTS ficus_schema (version BIGINT NOT NULL)".into(),
        format!(
            "CREATE TABLE IF NOT EXISTS ficus_journal (
                txn_key TEXT PRIMARY KEY,
                op TEXT NOT NULL,
                request_hash TEXT NOT NULL,
                route_key TEXT,
                upstream TEXT NOT NULL,
                state TEXT NOT NULL,
                response_code TEXT,
                request {blob} NOT NULL,
                reply {blob},
                claim TEXT NOT NULL,
                generation BIGINT NOT NULL,
                created_ms BIGINT NOT NULL,
                updated_ms BIGINT NOT NULL,
                lease_ms BIGINT NOT NULL
            )"
        ),
        // Partial indexes: a finished row leaves them, a write without an account never enters
        // the second, so the common write touches as few pages as it can. Queries repeat each
        // index's condition word for word (SQLite uses a partial index only then).
        "CREATE INDEX IF NOT EXISTS ficus_journal_open ON ficus_journal (state, lease_ms) WHERE state <> 'done'".into(),
        "CREATE INDEX IF NOT EXISTS ficus_journal_route_key ON ficus_journal (route_key) WHERE route_key IS NOT NULL \
         AND state = 'in_flight'"
            .into(),
        "CREATE INDEX IF NOT EXISTS ficus_journal_created ON ficus_journal (created_ms)".into(),
        "CREATE TABLE IF NOT EXISTS ficus_owners (
            owner_key TEXT PRIMARY KEY,
            upstream TEXT NOT NULL,
            previous TEXT,
            moving_to TEXT,
            updated_ms BIGINT NOT NULL,
            changed_by TEXT NOT NULL
        )"
        .into(),
        // Paged inquiries: which upstream serves a conversation's next page (empty: two issued
        // its key, ambiguous). See `continuation.rs`.
        "CREATE TABLE IF NOT EXISTS ficus_continuations (
            conv_key TEXT PRIMARY KEY,
            op TEXT NOT NULL,
            upstream TEXT NOT NULL,
            expires_ms BIGINT NOT NULL,
            updated_ms BIGINT NOT NULL
        )"
        .into(),
        "CREATE INDEX IF NOT EXISTS ficus_continuations_expires ON ficus_continuations (expires_ms)".into(),
    ]
}
