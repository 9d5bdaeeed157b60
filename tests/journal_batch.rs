//! The journal's batch writers (SQLite's thread, PostgreSQL's array statements) keep the kind
//! "one key, one winner" over a space of inputs: many tasks claim keys from a small set at
//! once — so batches hold a key twice, hold keys claimed by earlier batches, and mix claims with
//! finishes — with fixed seeds, on both stores. Whatever the batching:
//! - each key is won by exactly one claim; every other claim of it is told the winner's row;
//! - a finish lands for the winner's claim only, and the row then holds the winner's reply;
//! - a lost claim's row is the one stored (same claim token, request and hash).

#[path = "support/postgres.rs"]
mod postgres;

use ficus::journal::store::NewEntry;
use ficus::journal::{EntryState, Store};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// xorshift64*, so every run is the same.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// What one claimer saw.
struct Seen {
    key: String,
    claim: String,
    /// None: this claim won; else the claim token of the row it was shown.
    shown: Option<String>,
    /// For a winner: whether its finish landed.
    finished: Option<bool>,
}

/// 400 claims of keys from a set of 40–80 (named by `seed`), by tasks named `tag`, each winner
/// finishing at once.
async fn hammer(store: Arc<Store>, seed: u64, tag: &'static str) -> Vec<Seen> {
    store.ready().await.expect("schema");
    let mut rng = Rng(seed);
    let keys = 40 + rng.below(40);
    let mut tasks = Vec::new();
    for n in 0..400u64 {
        let key = format!("K{seed}-{}", rng.below(keys));
        let pause = rng.below(3);
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(pause)).await;
            let claim = format!("{tag}{n}");
            let request = format!("request of {claim}").into_bytes();
            let new = NewEntry {
                key: &key,
                op: "XFER",
                request_hash: &claim,
                route_key: (n % 2 == 0).then_some("ACCT"),
                upstream: "legacy",
                request: &request,
                claim: &claim,
                generation: 1,
                lease: Duration::from_secs(30),
            };
            match store.claim(&new).await.expect("claim") {
                None => {
                    let done = store.finish(&key, &claim, Some("0000"), claim.as_bytes()).await.expect("finish");
                    Seen { key, claim, shown: None, finished: Some(done) }
                }
                Some(row) => {
                    assert_eq!(row.request, format!("request of {}", row.claim).into_bytes(), "{key}");
                    assert_eq!(row.request_hash, row.claim, "{key}: the row shown is one claim's whole row");
                    Seen { key, claim, shown: Some(row.claim), finished: None }
                }
            }
        }));
    }
    let mut seen = Vec::new();
    for t in tasks {
        seen.push(t.await.expect("task"));
    }
    seen
}

/// The invariants over every claim made of one set of keys (by any number of replicas).
async fn check(store: &Store, seed: u64, seen: &[Seen]) {
    let mut winners: HashMap<&str, &str> = HashMap::new();
    for s in seen.iter().filter(|s| s.shown.is_none()) {
        assert_eq!(s.finished, Some(true), "{}: the winner's finish must land", s.key);
        if let Some(other) = winners.insert(&s.key, &s.claim) {
            panic!("seed {seed}: key {} won twice ({other} and {})", s.key, s.claim);
        }
    }
    for s in seen.iter().filter(|s| s.shown.is_some()) {
        let winner = winners.get(s.key.as_str()).unwrap_or_else(|| panic!("{}: lost, but nobody won", s.key));
        assert_eq!(s.shown.as_deref(), Some(*winner), "{}: shown another claim's row", s.key);
        assert_ne!(&s.claim, winner);
    }
    for (key, claim) in &winners {
        let row = store.get(key).await.expect("get").expect("row");
        assert_eq!(row.state, EntryState::Done, "{key}");
        assert_eq!(&row.claim, claim, "{key}");
        assert_eq!(row.reply.as_deref(), Some(claim.as_bytes()), "{key}: the winner's reply");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_batches_give_each_key_one_winner() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open("sqlite:journal.db", dir.path(), 4).unwrap());
    for seed in [1, 2, 3] {
        let seen = hammer(store.clone(), seed, "c").await;
        check(&store, seed, &seen).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_batches_give_each_key_one_winner() {
    let pg = postgres::Postgres::start();
    let url = pg.create_database("batch");
    // Two stores on one database: two replicas' writers racing for the same keys.
    let (a, b) = (Arc::new(Store::open(&url, dir(), 4).unwrap()), Arc::new(Store::open(&url, dir(), 4).unwrap()));
    for seed in [1, 2, 3] {
        let one = tokio::spawn(hammer(a.clone(), seed, "a"));
        let other = tokio::spawn(hammer(b.clone(), seed, "b"));
        let mut seen = one.await.expect("replica a");
        seen.extend(other.await.expect("replica b"));
        check(&a, seed, &seen).await;
    }
}

fn dir() -> &'static std::path::Path {
    std::path::Path::new(".")
}

/// Releases, unknown marks, expiry and forgets made while claims stream in (the writer thread
/// holding SQLite's write lock nearly all the time) all land, each on its own row.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_writes_beside_a_busy_writer_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open("sqlite:journal.db", dir.path(), 4).unwrap());
    store.ready().await.unwrap();
    // Background load: claims and finishes without pause.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for t in 0..8 {
        let (store, stop) = (store.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (key, claim) = (format!("load-{t}-{n}"), format!("l{t}-{n}"));
                let new = entry(&key, &claim, Duration::from_secs(30));
                assert!(store.claim(&new).await.expect("claim").is_none());
                assert!(store.finish(&key, &claim, Some("0000"), b"ok").await.expect("finish"));
                n += 1;
            }
            n
        }));
    }
    for n in 0..60 {
        let (key, claim) = (format!("side-{n}"), format!("s{n}"));
        // A lease already passed for every third, to be expired by the sweep's statement.
        let lease = if n % 3 == 2 { Duration::ZERO } else { Duration::from_secs(30) };
        assert!(store.claim(&entry(&key, &claim, lease)).await.unwrap().is_none());
        match n % 3 {
            0 => {
                assert!(store.release(&key, &claim).await.expect("release"), "{key}");
                assert!(store.get(&key).await.unwrap().is_none(), "{key}: released, gone");
            }
            1 => {
                assert!(store.mark_unknown(&key, &claim).await.expect("mark"), "{key}");
                assert_eq!(store.get(&key).await.unwrap().unwrap().state, EntryState::Unknown);
                assert!(store.forget(&key, ficus::journal::now_ms()).await.expect("forget"), "{key}");
                assert!(store.get(&key).await.unwrap().is_none(), "{key}: forgotten, gone");
            }
            _ => {
                tokio::time::sleep(Duration::from_millis(2)).await;
                assert!(store.expire(ficus::journal::now_ms()).await.expect("expire") >= 1, "{key}");
                assert_eq!(store.get(&key).await.unwrap().unwrap().state, EntryState::Unknown, "{key}");
            }
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut streamed = 0;
    for l in load {
        streamed += l.await.expect("load task");
    }
    assert!(streamed > 0, "the load ran");
}

fn entry<'a>(key: &'a str, claim: &'a str, lease: Duration) -> NewEntry<'a> {
    NewEntry {
        key,
        op: "XFER",
        request_hash: claim,
        route_key: None,
        upstream: "legacy",
        request: b"request",
        claim,
        generation: 1,
        lease,
    }
}
