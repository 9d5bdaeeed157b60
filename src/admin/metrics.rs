//! Prometheus metrics: the process-wide recorder behind the `metrics` facade and `GET /metrics`.
//!
//! The message path, the reload path and the upstreams emit through `metrics::counter!` and
//! friends; this module installs one `metrics-exporter-prometheus` recorder for the process
//! (idempotent: tests start many gateways in one process) and renders it. What only the live
//! table knows — generation, canary shares, pool connections, reload status — is set as gauges
//! at scrape time from the table of the gateway being scraped.
//!
//! Counters are per process, not per gateway: two gateways in one process (as in tests) share
//! them. Nothing here is on the message path.

use crate::control::reload::Reloader;
use crate::route::RouteTable;
use crate::upstream::Upstream;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;
use tracing::warn;

/// Latency histogram bounds in seconds: 0.5 ms to 5 s, roughly ×2.5 apart.
pub const LATENCY_BUCKETS: [f64; 13] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// How often histogram samples are folded into their buckets when nobody scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
static INSTALLED: OnceLock<std::time::Instant> = OnceLock::new();

/// When the recorder was installed: every counter was zero then.
pub fn installed_at() -> Option<std::time::Instant> {
    INSTALLED.get().copied()
}

/// Installs the process's Prometheus recorder (once; later calls return the same handle).
/// `None` if another recorder was installed first, or the exporter refused its settings.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets(&LATENCY_BUCKETS)
                .map_err(|e| warn!(error = %e, "metrics: bad histogram buckets"))
                .ok()?;
            let handle = builder
                .install_recorder()
                .map_err(|e| warn!(error = %e, "metrics: a recorder is already installed; /metrics is off"))
                .ok()?;
            describe();
            let _ = INSTALLED.set(std::time::Instant::now());
            let upkeep = handle.clone();
            let spawned = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkeep.run_upkeep();
            });
            if let Err(e) = spawned {
                warn!(error = %e, "metrics: no upkeep thread; histograms are folded at scrape time only");
            }
            Some(handle)
        })
        .as_ref()
}

/// The HELP text of every metric ficus emits (shown once the metric has a value).
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        "ficus_messages_total",
        "Messages served, by operation (unknown codes: op=\"unknown\") and target upstream."
    );
    describe_counter!(
        "ficus_message_outcomes_total",
        "Messages by operation and outcome (ok, or the error reply's cause)."
    );
    describe_histogram!(
        "ficus_message_seconds",
        Unit::Seconds,
        "Time from message received to reply ready, by operation and target."
    );
    describe_gauge!("ficus_messages_in_flight", "Messages being served right now.");
    describe_counter!("ficus_canary_messages_total", "Messages sent to a canary's upstream, by operation.");
    describe_counter!("ficus_fallbacks_total", "Read-only messages answered by the fallback after the target failed.");
    describe_counter!("ficus_upstream_errors_total", "Failed exchanges with an upstream, by upstream and cause.");
    describe_counter!(
        "ficus_async_unmatched_total",
        "Replies on an asynchronous link delivered to nobody, by upstream and cause (late, duplicate, unknown, wrong_id, unreadable)."
    );
    describe_counter!(
        "ficus_upstream_polls_total",
        "Polls of idle host links by upstream and outcome (ok; otherwise the connection was dropped)."
    );
    describe_counter!(
        "ficus_heartbeats_total",
        "Channel heartbeats answered by the gateway itself (never routed), by listener."
    );
    describe_counter!(
        "ficus_reloads_total",
        "Route reloads that were applied or rejected, by source (file, sighup, api)."
    );
    describe_counter!(
        "ficus_reload_attempts_total",
        "Reload attempts of the scraped gateway by result (applied, unchanged, rejected)."
    );
    describe_gauge!(
        "ficus_reload_last_rejected",
        "1 while the last reload attempt was rejected (the old table still serves)."
    );
    describe_gauge!("ficus_route_generation", "Generation of the route table now serving.");
    describe_gauge!(
        "ficus_route_canary_percent",
        "Share of customers a route's canary sends to the new side (0 without canary)."
    );
    describe_gauge!(
        "ficus_upstream_connections_in_use",
        "Pooled TCP connections to a legacy upstream held by an exchange."
    );
    describe_gauge!("ficus_upstream_connections_idle", "Pooled TCP connections to a legacy upstream open and idle.");
    describe_counter!(
        "ficus_shadow_total",
        "Shadow comparisons by operation and result (match, mismatch, error, dropped)."
    );
    describe_counter!("ficus_shadow_field_mismatches_total", "Shadow mismatches by operation and copybook field path.");
    describe_gauge!(
        "ficus_journal_unknown",
        "Journaled writes whose outcome is unknown (every replica's): reconcile with `ficus journal unknown`."
    );
    describe_gauge!("ficus_journal_store_up", "1 while the journal store answers, 0 while it does not.");
    describe_counter!(
        "ficus_duplicates_total",
        "Duplicate writes answered from the journal (never sent), by operation."
    );
    describe_counter!(
        "ficus_journal_unguarded_total",
        "Writes sent without the journal's guard because its store was down (on_store_error = \"pass\")."
    );
    describe_counter!(
        "ficus_journal_store_errors_total",
        "Journal store failures after a write was sent (its row turns unknown when its lease passes)."
    );
    describe_counter!(
        "ficus_owner_moves_total",
        "Owner moves through the admin API by result (applied, refused, rejected, failed)."
    );
    describe_counter!("ficus_owner_accounts_moved_total", "Accounts whose owner an applied move changed.");
}

/// Sets the gauges only the live table and reloader know, for `gateway`'s scrape.
pub fn refresh_live(table: &RouteTable, reloader: &Reloader) {
    metrics::gauge!("ficus_route_generation").set(table.generation as f64);
    for (name, entry) in &table.upstreams {
        if let Upstream::TcpAsync(link) = &entry.upstream {
            let (waiting, held) = link.outstanding();
            metrics::gauge!("ficus_async_waiting", "upstream" => name.clone()).set(waiting as f64);
            metrics::gauge!("ficus_async_held_keys", "upstream" => name.clone()).set(held as f64);
            let up = |b: bool| if b { 1.0 } else { 0.0 };
            metrics::gauge!("ficus_async_link_up", "upstream" => name.clone(), "side" => "send")
                .set(up(link.send_up()));
            metrics::gauge!("ficus_async_link_up", "upstream" => name.clone(), "side" => "receive")
                .set(up(link.receive_up()));
        }
        if let Upstream::Tcp(pool) = &entry.upstream {
            metrics::gauge!("ficus_upstream_connections_in_use", "upstream" => name.clone()).set(pool.in_use() as f64);
            metrics::gauge!("ficus_upstream_connections_idle", "upstream" => name.clone())
                .set(pool.idle_count() as f64);
        }
    }
    for route in table.routes.values() {
        let percent = route.canary.as_ref().map_or(0.0, |c| c.threshold as f64 / 100.0);
        metrics::gauge!("ficus_route_canary_percent", "op" => route.op.clone()).set(percent);
    }
    let status = reloader.status();
    for (result, n) in [("applied", status.applied), ("unchanged", status.unchanged), ("rejected", status.rejected)] {
        metrics::counter!("ficus_reload_attempts_total", "result" => result).absolute(n);
    }
    metrics::gauge!("ficus_reload_last_rejected").set(if status.last_error.is_some() { 1.0 } else { 0.0 });
}

/// The Prometheus text exposition for a scrape of this gateway, or `None` if metrics are off.
pub fn render(table: &RouteTable, reloader: &Reloader) -> Option<String> {
    let handle = install()?;
    refresh_live(table, reloader);
    Some(handle.render())
}

/// The text exposition as it stands, without refreshing live gauges (for [`super::stats`]).
pub fn render_raw() -> Option<String> {
    install().map(PrometheusHandle::render)
}

/// One sample of the text format: metric name, labels in order, value.
pub type Sample<'a> = (&'a str, Vec<(String, String)>, f64);

/// One sample line of the text format: `name{k="v",…} value`. `None` for comments, blank
/// lines and anything malformed.
pub fn parse_sample(line: &str) -> Option<Sample<'_>> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let name_end = line.find(['{', ' '])?;
    let name = &line[..name_end];
    let mut labels = Vec::new();
    let mut rest = &line[name_end..];
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices();
        let mut key = String::new();
        loop {
            let (_, c) = chars.next()?;
            match c {
                '}' => break,
                ',' | ' ' => continue,
                '=' => {
                    if chars.next()?.1 != '"' {
                        return None;
                    }
                    let mut value = String::new();
                    loop {
                        match chars.next()?.1 {
                            '"' => break,
                            '\\' => match chars.next()?.1 {
                                'n' => value.push('\n'),
                                other => value.push(other),
                            },
                            other => value.push(other),
                        }
                    }
                    labels.push((std::mem::take(&mut key), value));
                }
                other => key.push(other),
            }
        }
        let consumed = chars.next().map_or(inner.len(), |(i, _)| i);
        rest = &inner[consumed..];
    }
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some((name, labels, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_lines_parse() {
        let (n, l, v) = parse_sample(r#"ficus_messages_total{op="ACCTINQ",target="legacy"} 12"#).unwrap();
        assert_eq!((n, v), ("ficus_messages_total", 12.0));
        assert_eq!(l, vec![("op".into(), "ACCTINQ".into()), ("target".into(), "legacy".into())]);
        let (_, l, v) = parse_sample(r#"x_bucket{le="+Inf",q="a\"b"} 3"#).unwrap();
        assert_eq!((l[1].1.as_str(), v), ("a\"b", 3.0));
        assert_eq!(parse_sample("ficus_route_generation 4").map(|s| s.2), Some(4.0));
        assert!(parse_sample("# TYPE x counter").is_none());
        assert!(parse_sample("x{a=\"1\"").is_none());
    }
}
