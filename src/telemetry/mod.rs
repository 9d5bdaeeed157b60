//! OpenTelemetry traces: ficus's `tracing` spans — `msg` per message, `legacy` / `modern` per
//! upstream call (`async_link` on an asynchronous host link), `shadow` per shadow copy — exported over OTLP/HTTP (protobuf) to a collector,
//! and the W3C trace context taken from HTTP channels and passed on to HTTP upstreams.
//!
//! Off unless `[telemetry]` or an `OTEL_*` variable names a collector: then there is no layer,
//! no exporter and no thread, and the message path asks one relaxed atomic ([`on`]) before doing
//! anything for traces. Fed by the pipeline, never feeding it: an export that fails or a
//! collector that is down drops spans, never a message.
//!
//! Not here: metrics (Prometheus, `admin/metrics.rs`) and logs (stderr, `main.rs`).

mod client;
pub mod filters;
mod propagate;
mod section;
pub mod settings;

pub use propagate::{
    adopt_parent, call_ended, extract_http, finish_msg, trace_headers, with_channel_parent, TraceHeaders,
};
pub use section::TelemetrySection;
pub use settings::{resolve, Resolved, Sampling, TelemetryProblem, TraceSettings};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tracing_subscriber::{Layer, Registry};

static ON: AtomicBool = AtomicBool::new(false);

/// How long one export may take before it is given up (its spans dropped).
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether traces are being exported (one relaxed load: the whole cost when they are not).
#[inline]
pub fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Why traces could not be started.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The exporter's thread or client could not be made.
    #[error("cannot start the trace exporter to {endpoint}: {why}")]
    Exporter {
        /// The collector URL.
        endpoint: String,
        /// The cause.
        why: String,
    },
}

/// The running exporter; [`Tracing::shutdown`] sends what is still queued.
pub struct Tracing {
    provider: SdkTracerProvider,
    /// Where spans go, for the start-up line.
    pub endpoint: String,
}

impl Tracing {
    /// Sends the spans still queued (up to the export timeout) and stops the exporter.
    pub fn shutdown(self) {
        ON.store(false, Ordering::Relaxed);
        if let Err(e) = self.provider.shutdown_with_timeout(EXPORT_TIMEOUT) {
            tracing::warn!(collector = %self.endpoint, error = %e, "traces still queued at exit were not delivered");
        }
    }
}

/// A boxed layer on the registry, as `main` stacks them.
pub type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// Starts the exporter for `settings` and returns the layer that feeds it ficus's spans (and
/// its warnings and errors, as span events). Installs the W3C trace-context propagator.
pub fn start(settings: &TraceSettings) -> Result<(Tracing, BoxedLayer), TelemetryError> {
    let fail = |why: String| TelemetryError::Exporter { endpoint: settings.endpoint.clone(), why };
    let client = client::OtlpClient::new(EXPORT_TIMEOUT).map_err(|e| fail(e.to_string()))?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(client)
        .with_endpoint(settings.endpoint.clone())
        .with_timeout(EXPORT_TIMEOUT)
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let Sampling { ratio, parent_based } = settings.sampler;
    let root = if ratio >= 1.0 {
        Sampler::AlwaysOn
    } else if ratio <= 0.0 {
        Sampler::AlwaysOff
    } else {
        Sampler::TraceIdRatioBased(ratio)
    };
    let sampler = if parent_based { Sampler::ParentBased(Box::new(root)) } else { root };
    let resource = opentelemetry_sdk::Resource::builder().with_service_name(settings.service_name.clone()).build();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(sampler)
        .with_resource(resource)
        .build();
    let tracer = provider.tracer("ficus");
    opentelemetry::global::set_text_map_propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new());
    let filter = filters::trace_filter();
    // Parents come from tracing's own span tree (the message span for its calls and shadows),
    // never from OpenTelemetry's thread-local current context: tasks interleave on a worker
    // thread, and under load a span then took another task's context as its parent, or none.
    let layer =
        tracing_opentelemetry::layer().with_tracer(tracer).with_context_activation(false).with_filter(filter).boxed();
    ON.store(true, Ordering::Relaxed);
    Ok((Tracing { provider, endpoint: settings.endpoint.clone() }, layer))
}

/// The settings `ficus serve --config path` will trace with: routes.toml's `[telemetry]` (read
/// on its own, so a file with other problems still says where traces go) and the process's
/// `OTEL_*` variables, with the variables ignored (to be logged once the log is up). Off when
/// the section cannot be resolved — `serve` then reports the problem with its line when it
/// builds the table, and exits 64.
pub fn for_config(path: &std::path::Path) -> settings::Resolved {
    #[derive(serde::Deserialize)]
    struct Only {
        telemetry: Option<TelemetrySection>,
    }
    let section = match std::fs::read_to_string(path) {
        Ok(text) => match toml::from_str::<Only>(&text) {
            Ok(only) => only.telemetry,
            Err(_) => return settings::Resolved::default(),
        },
        Err(_) => None,
    };
    resolve(section.as_ref(), &|name| std::env::var(name).ok()).unwrap_or_default()
}
