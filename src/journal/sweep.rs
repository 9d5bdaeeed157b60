//! The journal's housekeeping, run beside the listeners: leases that passed become `unknown`
//! (their replica died mid-write), the `ficus_journal_unknown` gauge follows the store (every
//! replica's rows, not only this one's), rows older than the retention go (never `unknown`
//! ones: they wait for reconciliation), and SQLite's WAL is checkpointed here rather than in a
//! commit the channels wait for.

use super::store::Store;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::warn;

/// How often leases are checked and the gauge refreshed.
pub const EVERY: Duration = Duration::from_secs(1);
/// How often old rows are purged.
const PURGE_EVERY: Duration = Duration::from_secs(600);
/// Longest one round of housekeeping may take: a store that accepts connections and never
/// answers (hung, stopped) is then logged as unreachable (`ficus_journal_store_up` 0) rather
/// than waited for in silence.
pub const ROUND: Duration = Duration::from_secs(10);

/// Runs until `stop` turns true. `current` gives the store and retention of the table in force
/// (none when routes.toml has no `[journal]`).
pub async fn run(current: impl Fn() -> Option<(Arc<Store>, Duration)>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut last_purge: Option<Instant> = None;
    let mut failing = false;
    loop {
        if let Some((store, retention)) = current() {
            let now = super::now_ms();
            let round = async {
                let expired = store.expire(now).await?;
                if expired > 0 {
                    warn!(
                        expired,
                        store = store.display(),
                        "journaled writes whose replica stopped mid-write: outcome unknown"
                    );
                }
                store.checkpoint().await?;
                let unknown = store.count_unknown(now).await?;
                metrics::gauge!("ficus_journal_unknown").set(unknown as f64);
                if last_purge.is_none_or(|t| t.elapsed() >= PURGE_EVERY) {
                    last_purge = Some(Instant::now());
                    store.purge(now - retention.as_millis() as i64).await?;
                    store.purge_pins(now).await?;
                }
                Ok::<(), super::StoreError>(())
            };
            let result = match tokio::time::timeout(ROUND, round).await {
                Ok(done) => done,
                Err(_) => Err(super::StoreError::Failed {
                    store: store.display().to_string(),
                    message: format!(
                        "housekeeping got no answer within {} s (is the server hung or stopped?)",
                        ROUND.as_secs()
                    ),
                }),
            };
            match result {
                Err(e) if !failing => {
                    failing = true;
                    warn!(error = %e, "journal store unreachable");
                }
                Ok(()) => failing = false,
                Err(_) => {}
            }
            metrics::gauge!("ficus_journal_store_up").set(if failing { 0.0 } else { 1.0 });
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}
