//! Keeping the admin port answerable when what is behind it is not: the heavy endpoints
//! (`GET /fleet` asks every peer, `GET /shadow` reads the record store) are computed once for
//! any number of concurrent callers ([`Flight`]: single-flight, with the last answer kept for a
//! few seconds — a failure too, so a store or peer that just failed is not asked again at
//! once), and never take more than [`HEAVY`] of the admin API's connections at a time
//! ([`Heavy::limit`]; callers beyond it are answered 503 at once), so `/healthz` and `/readyz`
//! are always answered.

use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Semaphore};

/// Calls to heavy endpoints (`/fleet`, `/shadow`) served at once; more are answered 503.
pub const HEAVY: usize = 16;

/// A peer that did not answer is not asked again for this long (its failure is shown, with its age).
pub const PEER_FAILED_FOR: Duration = Duration::from_secs(5);

/// A survey of the peers younger than this is answered again rather than made again.
pub const FLEET_FRESH: Duration = Duration::from_secs(1);

/// What the heavy endpoints share across calls (one per admin API).
pub struct Heavy {
    /// Permits for heavy calls ([`HEAVY`]).
    pub limit: Arc<Semaphore>,
    /// `GET /fleet`'s survey.
    pub fleet: Flight<Result<Value, String>>,
    /// `GET /shadow`'s read of the store: the store's URL and the summary, or why not.
    pub shadow: Flight<(String, Result<Value, String>)>,
    /// Peers that did not answer lately: address → (when, why).
    pub failed_peers: Arc<Mutex<HashMap<String, (Instant, String)>>>,
}

impl Default for Heavy {
    fn default() -> Heavy {
        Heavy {
            limit: Arc::new(Semaphore::new(HEAVY)),
            fleet: Flight::default(),
            shadow: Flight::default(),
            failed_peers: Arc::default(),
        }
    }
}

type Made<T> = Option<(Instant, T)>;

struct Inner<T> {
    last: Made<T>,
    running: Option<watch::Receiver<Made<T>>>,
}

/// One computation shared by every concurrent caller, its result kept while fresh.
pub struct Flight<T> {
    inner: Arc<Mutex<Inner<T>>>,
}

impl<T> Default for Flight<T> {
    fn default() -> Flight<T> {
        Flight { inner: Arc::new(Mutex::new(Inner { last: None, running: None })) }
    }
}

/// Clears the running computation if its task ends without an answer (a panic).
struct Clear<T>(Arc<Mutex<Inner<T>>>);

impl<T> Drop for Clear<T> {
    fn drop(&mut self) {
        if let Ok(mut g) = self.0.lock() {
            g.running = None;
        }
    }
}

impl<T: Clone + Send + Sync + 'static> Flight<T> {
    /// The last result and its age if `fresh` says it is still good; else the result of the
    /// computation already running; else of `make()`, run in a task of its own (a caller that
    /// goes away does not cancel it for the others). `None` only if the computation panicked.
    pub async fn get<Fut>(&self, fresh: impl Fn(&T) -> Duration, make: impl FnOnce() -> Fut) -> Option<(T, Duration)>
    where
        Fut: Future<Output = T> + Send + 'static,
    {
        let mut rx = {
            let mut g = self.inner.lock().ok()?;
            if let Some((at, v)) = &g.last {
                if at.elapsed() < fresh(v) {
                    return Some((v.clone(), at.elapsed()));
                }
            }
            match &g.running {
                Some(rx) => rx.clone(),
                None => {
                    let (tx, rx) = watch::channel(None);
                    g.running = Some(rx.clone());
                    let (work, inner) = (make(), self.inner.clone());
                    tokio::spawn(async move {
                        let clear = Clear(inner.clone());
                        let v = work.await;
                        let at = Instant::now();
                        if let Ok(mut g) = inner.lock() {
                            g.last = Some((at, v.clone()));
                        }
                        drop(clear);
                        let _ = tx.send(Some((at, v)));
                    });
                    rx
                }
            }
        };
        let made = rx.wait_for(Option::is_some).await.ok()?.clone();
        made.map(|(at, v)| (v, at.elapsed()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn concurrent_callers_share_one_computation_and_a_fresh_result_is_reused() {
        let flight: Arc<Flight<usize>> = Arc::default();
        let runs = Arc::new(AtomicUsize::new(0));
        let (go, wait) = watch::channel(false);
        let calls: Vec<_> = (0..50)
            .map(|_| {
                let (flight, runs, mut wait) = (flight.clone(), runs.clone(), wait.clone());
                tokio::spawn(async move {
                    flight
                        .get(
                            |_| Duration::from_secs(60),
                            move || async move {
                                let n = runs.fetch_add(1, Ordering::SeqCst) + 1;
                                let _ = wait.wait_for(|g| *g).await;
                                n
                            },
                        )
                        .await
                })
            })
            .collect();
        tokio::task::yield_now().await;
        go.send(true).unwrap();
        for c in calls {
            assert_eq!(c.await.unwrap().map(|(v, _)| v), Some(1));
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1, "one computation for every caller");
        let again = flight.get(|_| Duration::from_secs(60), || async { 99 }).await;
        assert_eq!(again.map(|(v, _)| v), Some(1), "fresh: not computed again");
        let stale = flight.get(|_| Duration::ZERO, || async { 7 }).await;
        assert_eq!(stale.map(|(v, _)| v), Some(7), "stale: computed again");
    }

    #[tokio::test]
    async fn a_computation_that_panics_is_not_waited_for_forever() {
        let flight: Flight<usize> = Flight::default();
        let lost = flight.get(|_| Duration::from_secs(60), || async { panic!("lost") }).await;
        assert!(lost.is_none());
        assert_eq!(flight.get(|_| Duration::from_secs(60), || async { 3 }).await.map(|(v, _)| v), Some(3));
    }
}
