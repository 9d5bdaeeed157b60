//! The log and trace layers' filters never drop a span because of a `log_enabled!` call made
//! just before it (tokio-rs/tracing#2519): sqlx asks `log::log_enabled!` after every query,
//! `tracing-log` turns that into a dynamic `enabled` call, and a per-layer filter cached as
//! "always" then read that call's decision for the next span. Seen as shadow spans missing from
//! exported traces (their calls exported as roots) with a PostgreSQL record store.

use std::sync::{Arc, Mutex};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::{EnvFilter, Layer};

/// Records the name of every span it is given.
struct Seen(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> Layer<S> for Seen {
    fn on_new_span(&self, attrs: &tracing::span::Attributes<'_>, _: &tracing::span::Id, _: Context<'_, S>) {
        self.0.lock().unwrap().push(attrs.metadata().name().to_string());
    }
}

#[test]
fn a_log_enabled_call_never_takes_the_next_span_away_from_either_layer() {
    let (traced, logged) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(Vec::new())));
    let subscriber = tracing_subscriber::registry()
        .with(Seen(logged.clone()).with_filter(ficus::telemetry::filters::log_filter(EnvFilter::new("info"))))
        .with(Seen(traced.clone()).with_filter(ficus::telemetry::filters::trace_filter()));
    tracing::subscriber::set_global_default(subscriber).unwrap();
    tracing_log::LogTracer::init().unwrap();
    const N: usize = 50;
    for _ in 0..N {
        // What sqlx's QueryLogger asks after a statement (below info, not ficus's: both layers refuse it).
        let _ = log::log_enabled!(target: "sqlx::query", log::Level::Debug);
        let _shadow = tracing::info_span!(target: "ficus::gateway::mirror", "shadow").entered();
        let _ = log::log_enabled!(target: "sqlx::query", log::Level::Trace);
        let _msg = tracing::info_span!(target: "ficus::gateway", "msg").entered();
    }
    let count = |seen: &Arc<Mutex<Vec<String>>>, name: &str| seen.lock().unwrap().iter().filter(|n| *n == name).count();
    assert_eq!((count(&traced, "shadow"), count(&traced, "msg")), (N, N), "the trace layer saw every span");
    assert_eq!((count(&logged, "shadow"), count(&logged, "msg")), (N, N), "the log layer saw every span");
}
