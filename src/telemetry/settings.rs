//! Where traces go, resolved from `[telemetry]` and the standard `OTEL_*` variables — pure: the
//! environment is passed in, so `ficus check`, `ficus serve` and the tests resolve alike.
//!
//! Precedence, key by key: routes.toml's `[telemetry]` wins; an `OTEL_*` variable fills in what
//! the file leaves out; then the defaults. `OTEL_SDK_DISABLED=true` turns traces off whatever
//! the file says (the operator's kill switch). No endpoint anywhere: no traces. A bad value in
//! the file is refused; a bad variable is ignored with a warning (it is the environment's,
//! often injected by a platform, and must never stop the gateway).

use super::section::TelemetrySection;
use thiserror::Error;

/// The path OTLP/HTTP collectors take traces on, added to a base URL.
pub const TRACES_PATH: &str = "/v1/traces";

/// Traces are on: where they go, under which service name, how many are kept.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceSettings {
    /// The full URL spans are POSTed to (`…/v1/traces`).
    pub endpoint: String,
    /// The `service.name` resource attribute.
    pub service_name: String,
    /// Which traces are recorded.
    pub sampler: Sampling,
}

/// Which traces are recorded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sampling {
    /// Fraction of new traces recorded, 0.0–1.0 (by trace id, so a whole trace or none of it).
    pub ratio: f64,
    /// A channel's `traceparent` decides for its own messages (its sampled flag).
    pub parent_based: bool,
}

/// A value that cannot configure traces; `key` is the routes.toml key, if the file said it.
#[derive(Clone, Debug, Error, PartialEq)]
#[error("{message}")]
pub struct TelemetryProblem {
    /// The `[telemetry]` key at fault, or `None` for an environment variable.
    pub key: Option<&'static str>,
    /// What is wrong, naming the key or variable and its value.
    pub message: String,
}

fn file_problem(key: &'static str, message: String) -> TelemetryProblem {
    TelemetryProblem { key: Some(key), message }
}

fn env_problem(message: String) -> TelemetryProblem {
    TelemetryProblem { key: None, message }
}

/// What traces will do: `settings` is `None` when they are off; `ignored` names each `OTEL_*`
/// variable whose value could not be used — it counted as unset (the OpenTelemetry
/// specification: an invalid environment value is warned about and ignored, never fatal), so a
/// variable injected by a cluster never stops the gateway or rejects a reload.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Resolved {
    /// Where traces go, or `None` (off).
    pub settings: Option<TraceSettings>,
    /// Variables ignored, each with its value and why.
    pub ignored: Vec<TelemetryProblem>,
}

/// Resolves the settings. `Err` holds the problems of routes.toml's `[telemetry]` (a file the
/// gateway owns: it is refused); the environment's problems are in [`Resolved::ignored`].
/// `env` reads one variable (empty values count as unset, as the OpenTelemetry specification
/// says). `OTEL_SDK_DISABLED=true` turns traces off and no other variable is read.
pub fn resolve(
    file: Option<&TelemetrySection>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Resolved, Vec<TelemetryProblem>> {
    let var = |name: &str| env(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let section = file.cloned().unwrap_or_default();
    let file = from_file(&section)?;
    let mut ignored = Vec::new();
    let mut ignore = |message: String| ignored.push(env_problem(message));
    match var("OTEL_SDK_DISABLED").as_deref() {
        Some(v) if v.eq_ignore_ascii_case("true") => return Ok(Resolved::default()),
        None => {}
        Some(v) if v.eq_ignore_ascii_case("false") => {}
        Some(v) => ignore(format!("OTEL_SDK_DISABLED = {v:?}: use true or false (taken as false)")),
    }
    let mut wrong_protocol = false;
    for name in ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"] {
        if let Some(p) = var(name).filter(|p| !p.eq_ignore_ascii_case("http/protobuf")) {
            wrong_protocol = true;
            ignore(format!(
                "{name} = {p:?}: ficus exports OTLP over HTTP with protobuf only (\"http/protobuf\", a \
                 collector's port 4318); an endpoint from the environment is not used"
            ));
        }
    }
    let from_env = |name: &str, full: bool, ignore: &mut dyn FnMut(String)| {
        let url = var(name)?;
        match check_url(&url) {
            Ok(()) if full => Some(url),
            Ok(()) => with_traces_path(&url),
            Err(why) => {
                ignore(format!("{name} = {:?}: {why}", shown(&url)));
                None
            }
        }
    };
    let endpoint = match file.endpoint {
        Some(url) => Some(url),
        None => from_env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", true, &mut ignore)
            .or_else(|| from_env("OTEL_EXPORTER_OTLP_ENDPOINT", false, &mut ignore))
            .filter(|_| !wrong_protocol),
    };
    let service_name = section.service_name.clone().or_else(|| var("OTEL_SERVICE_NAME")).unwrap_or("ficus".into());
    let sampler = file.sampler.or_else(|| {
        env_sampler(&var).unwrap_or_else(|p| {
            ignore(format!("{} (the default, parentbased_always_on, is used)", p.message));
            None
        })
    });
    let settings = endpoint.map(|endpoint| TraceSettings {
        endpoint,
        service_name,
        sampler: sampler.unwrap_or(Sampling { ratio: 1.0, parent_based: true }),
    });
    Ok(Resolved { settings, ignored })
}

/// What `[telemetry]` itself says, checked.
struct FromFile {
    endpoint: Option<String>,
    sampler: Option<Sampling>,
}

fn from_file(section: &TelemetrySection) -> Result<FromFile, Vec<TelemetryProblem>> {
    let mut problems = Vec::new();
    let endpoint = section.otlp.as_ref().and_then(|base| match check_url(base) {
        Ok(()) => with_traces_path(base),
        Err(why) => {
            problems.push(file_problem("otlp", format!("otlp = {:?}: {why}", shown(base))));
            None
        }
    });
    if section.service_name.as_ref().is_some_and(|n| n.trim().is_empty()) {
        problems.push(file_problem("service_name", "service_name = \"\": name the service, e.g. \"ficus\"".into()));
    }
    let sampler = match section.sample_percent {
        Some(p) if !(0.0..=100.0).contains(&p) => {
            problems.push(file_problem(
                "sample_percent",
                format!("sample_percent = {p}: a percentage from 0 to 100 (100 records every trace)"),
            ));
            None
        }
        Some(p) => Some(Sampling { ratio: p / 100.0, parent_based: true }),
        None => None,
    };
    if problems.is_empty() {
        Ok(FromFile { endpoint, sampler })
    } else {
        Err(problems)
    }
}

/// `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`, as the specification names them.
fn env_sampler(var: &dyn Fn(&str) -> Option<String>) -> Result<Option<Sampling>, TelemetryProblem> {
    let Some(name) = var("OTEL_TRACES_SAMPLER") else {
        if let Some(arg) = var("OTEL_TRACES_SAMPLER_ARG") {
            return Err(env_problem(format!(
                "OTEL_TRACES_SAMPLER_ARG = {arg:?} without OTEL_TRACES_SAMPLER: set OTEL_TRACES_SAMPLER=parentbased_traceidratio too"
            )));
        }
        return Ok(None);
    };
    let ratio = || -> Result<f64, TelemetryProblem> {
        let Some(arg) = var("OTEL_TRACES_SAMPLER_ARG") else { return Ok(1.0) };
        match arg.parse::<f64>() {
            Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
            _ => Err(env_problem(format!(
                "OTEL_TRACES_SAMPLER_ARG = {arg:?}: a ratio from 0 to 1 (0.25 records one trace in four)"
            ))),
        }
    };
    let s = |ratio, parent_based| Ok(Some(Sampling { ratio, parent_based }));
    // Values are case-insensitive (OpenTelemetry specification, "Environment Variable Specification").
    match name.to_ascii_lowercase().as_str() {
        "always_on" => s(1.0, false),
        "always_off" => s(0.0, false),
        "traceidratio" => s(ratio()?, false),
        "parentbased_always_on" => s(1.0, true),
        "parentbased_always_off" => s(0.0, true),
        "parentbased_traceidratio" => s(ratio()?, true),
        other => Err(env_problem(format!(
            "OTEL_TRACES_SAMPLER = {other:?}: use always_on, always_off, traceidratio, parentbased_always_on \
             (the default), parentbased_always_off or parentbased_traceidratio"
        ))),
    }
}

/// `url` as messages may show it: user information (`user:secret@`) masked.
pub fn shown(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://***@{host}{}", &rest[end..]),
        None => url.to_string(),
    }
}

/// A collector URL ficus can send to: `http://host[:port][/path]`.
fn check_url(url: &str) -> Result<(), String> {
    if url.contains('#') {
        return Err("a fragment (#…) is not part of a collector URL".into());
    }
    let uri: hyper::Uri = url.parse().map_err(|e| format!("not a URL ({e}); e.g. \"http://collector:4318\""))?;
    if let Some(authority) = uri.authority() {
        if authority.as_str().contains('@') {
            return Err("user information is not part of a collector URL (it would be shown and sent as is); \
                        give credentials as headers with the collector's own settings"
                .into());
        }
        if authority.as_str().rsplit_once(':').is_some_and(|(_, p)| !p.ends_with(']')) && uri.port_u16().is_none() {
            return Err("the port is not a number from 1 to 65535".into());
        }
    }
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err("https is not supported: send to a collector (or sidecar) over http on the pod network".into())
        }
        _ => return Err("write the scheme and host, e.g. \"http://collector:4318\"".into()),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err("no host; e.g. \"http://collector:4318\"".into());
    }
    if uri.query().is_some() {
        return Err("a query string is not part of a collector URL".into());
    }
    Ok(())
}

/// A base URL with `/v1/traces` added (once).
fn with_traces_path(base: &str) -> Option<String> {
    let trimmed = base.trim_end_matches('/');
    if trimmed.ends_with(TRACES_PATH) {
        return Some(trimmed.to_string());
    }
    Some(format!("{trimmed}{TRACES_PATH}"))
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
