//! `ficus check` and `ficus serve`: the gateway from the command line (`ficus send` is in
//! `send_cmds`, `ficus demo` in `demo_cmd`).

use super::CliError;
use std::path::Path;

pub(super) use super::config_path::load;

pub(super) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Runtime::new().map_err(|e| CliError::runtime(format!("cannot start the runtime: {e}")))
}

/// Ctrl-C (SIGINT) and SIGTERM, listened for from the moment this is made: make it before
/// anything says it is ready, so a signal sent on that word is never the default one (which
/// would end the process with no drain and no goodbye).
pub(super) struct StopSignals {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl StopSignals {
    /// Registers the handlers now (inside the runtime).
    pub(super) fn listen() -> StopSignals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let signals = signal(SignalKind::interrupt()).ok().zip(signal(SignalKind::terminate()).ok());
            StopSignals { signals }
        }
        #[cfg(not(unix))]
        StopSignals {}
    }

    /// Waits for either signal.
    pub(super) async fn wait(self) {
        #[cfg(unix)]
        if let Some((mut int, mut term)) = self.signals {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The `ficus check` line of a `tcp-async` upstream: where requests go, where replies arrive,
/// and what matches them.
fn describe_async_link(name: &str, c: &crate::upstream::async_link::LinkConfig) -> String {
    let fields: Vec<&str> = c.key.iter().map(|(f, _, _)| f.as_str()).collect();
    format!(
        "  upstream {name} asynchronous: requests to {}, replies on {} ({}), matched by {}; keys held {} ms after \
         their exchange",
        c.send,
        c.receive,
        c.framing,
        fields.join(" + "),
        c.hold.as_millis()
    )
}

/// Loads routes.toml as `ficus serve` does before it starts: every problem `serve` would
/// refuse the file for (exit 64), the token file's included.
fn load_to_serve(path: &Path) -> Result<crate::route::RouteTable, CliError> {
    if let Some(hint) = super::config_path::missing(path) {
        return Err(CliError::config(hint));
    }
    crate::config::build::load_to_serve(path).map_err(|e| CliError::config(e.to_string()))
}

/// `ficus check`: validate and summarise; refuses exactly what `ficus serve` refuses, but for
/// what only the machine it serves on can tell (a named audit log it cannot write), which it
/// says.
pub fn check(path: &Path) -> Result<(), CliError> {
    let table = load_to_serve(path)?;
    println!("{}: ok (hash {})", path.display(), table.hash);
    if let Some(log) = &table.file.gateway.audit_log {
        let at = crate::control::audit::AuditLog::resolve(path, Some(log));
        let here = at.parent().is_some_and(Path::is_dir);
        let note = if here { "" } else { "; its directory is not on this machine" };
        println!("  audit log {} (ficus serve refuses to start if it cannot write it{note})", at.display());
    }
    println!(
        "  header {} ({} bytes), operation from {}",
        table.file.header.copybook,
        table.header.size,
        table.file.header.operation.join(" + ")
    );
    let named = |spec: &crate::route::file::FramingSpec, f: &crate::frame::Framing| match &spec.length_field {
        Some(field) => f.to_string().replacen("in the header", &format!("in {field}"), 1),
        None => f.to_string(),
    };
    if table.file.gateway.listen_tcp.is_some() {
        println!("  tcp channel framing: {}", named(&table.file.gateway.tcp_framing, &table.tcp_framing));
    }
    if let Some(h) = &table.heartbeat {
        println!("  heartbeat {} answered by ficus with {} (header only, never routed)", h.op, h.reply_code);
    }
    // Where `ficus serve` would send traces, with this environment (load_to_serve refused bad values).
    let traces = crate::telemetry::resolve(table.file.telemetry.as_ref(), &|n| std::env::var(n).ok());
    for p in traces.iter().flat_map(|r| &r.ignored) {
        println!("  warning: traces ignore the environment's {p}");
    }
    if let Some(t) = traces.ok().and_then(|r| r.settings) {
        let parent = if t.sampler.parent_based { "; a channel's traceparent decides for its own" } else { "" };
        println!(
            "  traces: to {} as service {:?}, {}% of new traces{parent}",
            t.endpoint,
            t.service_name,
            t.sampler.ratio * 100.0
        );
    }
    if let (Some(m), Some(spec)) = (&table.header.multipart, &table.file.header.multipart) {
        let s = &m.settings;
        println!(
            "  multi-part messages: {} {}/{}/{}/{} (single/first/middle/last), part number in {}; next part within {} ms, \
             at most {} parts and {} bytes reassembled; intermediate parts answered: {}; replies split at {} body bytes a part",
            spec.flag,
            spec.single,
            spec.first,
            spec.middle,
            spec.last,
            spec.part_no,
            s.timeout_ms,
            m.max_parts(),
            s.max_bytes,
            if s.ack_each { format!("each, with {}", s.ack_code) } else { "none (until the last)".into() },
            s.reply_part_bytes
        );
    }
    for c in &table.file.channels {
        let Some(plan) = table.channel(&c.name) else { continue };
        let spec = c.framing.as_ref().unwrap_or(&table.file.gateway.tcp_framing);
        println!("{}", describe_channel(c, plan, table.options.codepage, &named(spec, &plan.framing)));
    }
    let mut upstreams: Vec<_> = table.upstreams.values().collect();
    upstreams.sort_by(|a, b| a.name.cmp(&b.name));
    for u in upstreams {
        if let crate::upstream::Upstream::Tcp(pool) = &u.upstream {
            let spec = u.settings.framing.clone().unwrap_or_default();
            println!("  upstream {} framing: {}", u.name, named(&spec, &pool.framing()));
            if let Some(p) = pool.poll_plan() {
                let (every, within) = (p.every.as_millis(), p.timeout.as_millis());
                println!(
                    "  upstream {} idle connections polled with {} after {every} ms (no answer in {within} ms: dropped)",
                    u.name, p.op
                );
            }
        }
    }
    for u in table.upstreams.values() {
        if let crate::upstream::Upstream::TcpAsync(link) = &u.upstream {
            println!("{}", describe_async_link(&u.name, link.config()));
        }
    }
    match table.header.message_id_name() {
        Some(id) => println!("  replies correlated with their requests by {id}"),
        None => println!(
            "  warning: [header] names no message_id, so replies cannot be correlated with their requests:\n  \
             a duplicate or late reply from a host could reach the wrong channel. Set message_id = \"<sequence field>\"."
        ),
    }
    if let Some(j) = &table.journal {
        let key: Vec<&str> = j.key.iter().map(|k| k.name.as_str()).collect();
        println!("  journal {} keyed by {}", j.store.display(), key.join(" + "));
    }
    let mut ops: Vec<_> = table.routes.values().collect();
    ops.sort_by(|a, b| a.op.cmp(&b.op));
    for r in ops {
        use crate::config::shadow_idle::{shadow_use, ShadowUse};
        let mut flags = vec![if r.enabled { "enabled".to_string() } else { "DISABLED".to_string() }];
        if r.read_only {
            flags.push("read-only".into());
        }
        if let Some(s) = &r.shadow {
            let state = match shadow_use(&table, &r.op) {
                Some(ShadowUse::Idle(_)) => "IDLE",
                Some(ShadowUse::Partial(_)) => "comparing part",
                None => "comparing",
            };
            flags.push(format!("shadow {} {}% {state}", s.to.name, s.threshold as f64 / 100.0));
        }
        if let Some(j) = &r.journal {
            if j.dedupe {
                flags.push("journaled (a resend is never sent twice)".into());
            }
            if let Some(o) = &j.owner_key {
                flags.push(format!("owner by {}", o.name));
            }
            if let Some(rv) = &j.reverses {
                flags.push(format!("reverses {} (goes where the original went)", rv.op));
            }
        }
        if let Some(c) = &r.continuation {
            flags.push(format!(
                "paged by {} (a next page goes where the page before was served, {} s)",
                c.request_key.name,
                c.ttl.as_secs()
            ));
        }
        println!("  {:<10} → {:<10} {}", r.op, r.target.name, flags.join(", "));
    }
    println!("  (anything else) → {}", table.default_target.name);
    for warning in crate::config::shadow_idle::shadow_warnings(&table) {
        println!("  warning: {warning}");
    }
    Ok(())
}

/// `ficus serve`: run until Ctrl-C / SIGTERM. With `options.takeover`, share the ports of a
/// ficus already running on them (the upgrade path); without it, a port in use is an error.
/// `options.listen` replaces `[gateway]`'s addresses.
pub fn serve(path: &Path, options: crate::server::Options) -> Result<(), CliError> {
    load_to_serve(path)?;
    runtime()?.block_on(async {
        let stop = StopSignals::listen();
        let running = crate::server::start(path, options).await.map_err(CliError::runtime)?;
        let generation = running.gateway.table().generation;
        tracing::info!(http = ?running.http, tcp = ?running.tcp, admin = ?running.admin, generation, config = %path.display(), "gateway listening");
        stop.wait().await;
        tracing::info!("stopping: finishing messages in flight");
        running.stop().await;
        Ok(())
    })
}

/// One `[[channels]]` entry as `ficus check` shows it: listeners, code page and whether its
/// messages are converted, framing (TCP only) and heartbeat.
fn describe_channel(
    c: &crate::route::file::ChannelSection,
    plan: &crate::route::channel::ChannelPlan,
    host: crate::codec::charset::CodePage,
    framing: &str,
) -> String {
    let mut listeners = Vec::new();
    if let Some(a) = &c.listen_tcp {
        listeners.push(format!("tcp {a}"));
    }
    if let Some(a) = &c.listen_http {
        listeners.push(format!("http {a}"));
    }
    let mut line = format!("  channel {}: {}, {}", plan.name, listeners.join(" + "), plan.codepage);
    line += &match plan.conversion {
        Some(_) => format!(" (converted to and from the host's {host} field by field with each operation's layouts)"),
        None => " (the host's: bytes pass through)".to_string(),
    };
    if c.listen_tcp.is_some() {
        line += &format!(", framing: {framing}");
    }
    if let Some(h) = &plan.heartbeat {
        line += &format!(", heartbeat {} answered with {}", h.op, h.reply_code);
    }
    line
}
