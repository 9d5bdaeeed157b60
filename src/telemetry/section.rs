//! `[telemetry]` of routes.toml, as serde reads it (re-exported by `route::file`, kept here so
//! the upstreams that use this module do not import the route table): where ficus sends its
//! OpenTelemetry traces. Absent (and no `OTEL_*` variables): no traces, and no cost. Meaning is
//! checked in [`super::settings`].

use serde::{Deserialize, Serialize};

/// `[telemetry]` as written; every key may be left out (the standard `OTEL_*` variables fill in).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySection {
    /// The OTLP/HTTP collector's base URL, e.g. `http://collector:4318` (`/v1/traces` is added
    /// unless the URL already ends with it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otlp: Option<String>,
    /// The `service.name` resource attribute of every span (default `ficus`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    /// Percent of traces started here that are recorded, 0–100 (default 100). A channel's
    /// `traceparent` decides for its own messages (sampled or not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_percent: Option<f64>,
}
