//! The per-layer filters of ficus's log and trace layers, asked on every span and event rather
//! than cached per callsite.
//!
//! Why (tokio-rs/tracing#2519, #2704): a per-layer filter hands its decision from `enabled` to
//! `on_new_span` / `on_event` through a thread-local. A callsite whose interest is cached as
//! "always" skips `enabled`, so its span reads whatever the last dynamic `enabled` call on that
//! thread left there — and `log::log_enabled!` through `tracing-log` is such a call, made by
//! sqlx after every query. The span then silently went missing from the trace (its calls
//! exported as roots) or from the log. Capping every interest these filters accept at
//! "sometimes" makes `enabled` run each time, so the decision read is always this span's.

use tracing::subscriber::Interest;
use tracing::Metadata;
use tracing_subscriber::filter::{DynFilterFn, EnvFilter, FilterExt};
use tracing_subscriber::layer::{Context, Filter};

/// The spans a collector gets: the pipeline's own, named as in ARCHITECTURE.md — the message,
/// every kind of upstream call (TCP or HTTP host, JSON service, asynchronous host link) and the
/// shadow. Never `conn`: a kept-alive connection would otherwise make one trace of its messages.
pub const TRACED_SPANS: [&str; 5] = ["msg", "legacy", "modern", "async_link", "shadow"];

/// Whether the trace layer takes `m`: ficus's traced spans, and its warnings and errors (as
/// span events).
fn traced(m: &Metadata<'_>) -> bool {
    m.target().starts_with("ficus")
        && if m.is_span() { TRACED_SPANS.contains(&m.name()) } else { *m.level() <= tracing::Level::WARN }
}

/// "Never" where `accept` refuses a callsite, else "sometimes" (never "always": see the module).
fn capped(accept: bool) -> Interest {
    if accept {
        Interest::sometimes()
    } else {
        Interest::never()
    }
}

/// The trace layer's filter ([`TRACED_SPANS`], warnings and errors of ficus).
pub fn trace_filter<S: 'static>() -> impl Filter<S> + Send + Sync + 'static {
    DynFilterFn::new(|m: &Metadata<'_>, _: &Context<'_, S>| traced(m)).with_callsite_filter(|m| capped(traced(m)))
}

/// The log layer's filter: `env` (`FICUS_LOG`), asked on every span and event it enables.
pub fn log_filter<S>(env: EnvFilter) -> impl Filter<S> + Send + Sync + 'static
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a> + 'static,
{
    env.and(DynFilterFn::new(|_: &Metadata<'_>, _: &Context<'_, S>| true).with_callsite_filter(|_| capped(true)))
}
