//! OpenTelemetry traces, end to end: `ficus serve` (the real binary) exports to a collector in
//! this process that decodes the OTLP/HTTP protobuf. A channel's `traceparent` is the message
//! span's parent, the upstream call and the shadow are its children, the JSON service gets a
//! `traceparent` in the same trace; with no configuration nothing is sent; a collector that is
//! down never costs a message its reply; `ficus check` names a bad value's line; a bad `OTEL_*`
//! variable is ignored with a warning, never a stopped gateway.

#[path = "support/otlp.rs"]
mod otlp;

mod common;

use common::*;
use otlp::{Got, Receiver};
use serde_json::json;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT: &str = "00f067aa0ba902b7";

/// `ficus serve` on `toml` with `env`: the child, its HTTP and TCP channel addresses, and its log.
struct Serve {
    child: tokio::process::Child,
    http: SocketAddr,
    tcp: SocketAddr,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    table: std::sync::Arc<ficus::route::RouteTable>,
    _dir: tempfile::TempDir,
}

fn addr_in(line: &str, key: &str) -> SocketAddr {
    let at = line.find(&format!("{key}=Some(")).unwrap_or_else(|| panic!("no {key} in {line}")) + key.len() + 6;
    line[at..].split(')').next().unwrap().parse().unwrap()
}

async fn serve(toml: &str, env: &[(&str, &str)]) -> Serve {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("routes.toml");
    std::fs::write(&path, toml).unwrap();
    std::fs::write(dir.path().join("tokens"), format!("{ADMIN_NAME}:{ADMIN_TOKEN}\n")).unwrap();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_ficus"));
    command.args(["serve", "--config"]).arg(&path).env("NO_COLOR", "1");
    for name in [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_SDK_DISABLED",
        "OTEL_TRACES_SAMPLER",
        "OTEL_TRACES_SAMPLER_ARG",
    ] {
        command.env_remove(name);
    }
    let mut child = command
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let line = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            log.lock().unwrap().push(line.clone());
            if line.contains("gateway listening") {
                return line;
            }
        }
        panic!("ficus serve exited before listening:\n{}", log.lock().unwrap().join("\n"));
    })
    .await
    .expect("ficus serve starts");
    let l = log.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            l.lock().unwrap().push(line);
        }
    });
    let table = std::sync::Arc::new(ficus::config::load(&path, None, 1).unwrap());
    Serve { child, http: addr_in(&line, "http"), tcp: addr_in(&line, "tcp"), log, table, _dir: dir }
}

impl Serve {
    /// SIGTERM, then the exit: whatever the exporter had queued has been sent (or given up).
    async fn stop(mut self) -> Vec<String> {
        let pid = self.child.id().unwrap().to_string();
        let status = std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success());
        let exit =
            tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await.expect("ficus exits").unwrap();
        assert!(exit.success(), "{exit:?}");
        let log = self.log.lock().unwrap().clone();
        log
    }
}

/// A POST with `headers` on a fresh connection: (status, reply).
async fn post_with(addr: SocketAddr, message: &[u8], headers: &str) -> (u16, Vec<u8>) {
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: t\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        message.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(message).await.unwrap();
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).await.unwrap();
    parse_response(&raw)
}

fn toml(up: &Upstreams, telemetry: &str) -> String {
    let toml = routes_toml(up, "accounts", "legacy", "");
    let shadowed = toml.replacen(
        "target   = \"accounts\"\nread_only = true\n",
        "target   = \"accounts\"\nread_only = true\nshadow = \"legacy\"\n",
        1,
    );
    assert_ne!(toml, shadowed, "ACCTINQ is shadowed to the host");
    format!("{shadowed}\n{telemetry}")
}

fn acctinq(table: &ficus::route::RouteTable, seq: u64) -> Vec<u8> {
    ficus::cli::build_request(
        table,
        "ACCTINQ",
        &json!({ "ACCT-NO": "1000000000000003" }),
        &json!({ "HDR-SEQ-NO": seq }),
    )
    .unwrap()
}

fn one<'a>(spans: &'a [Got], what: &str, pick: impl Fn(&Got) -> bool) -> &'a Got {
    let found: Vec<_> = spans.iter().filter(|s| pick(s)).collect();
    assert_eq!(found.len(), 1, "one {what} in {spans:#?}");
    found[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channels_trace_runs_through_the_message_its_upstream_call_its_shadow_and_the_json_service() {
    let sims = sims().await;
    let (seen, proxy) = otlp::recording_proxy(sims.accounts).await;
    let (receiver, collector) = Receiver::start().await;
    let up = Upstreams { legacy: sims.host_tcp.to_string(), accounts: format!("http://{proxy}/ops") };
    let telemetry = format!("[telemetry]\notlp = \"http://{collector}\"\nservice_name = \"ficus-test\"\n");
    let ficus = serve(&toml(&up, &telemetry), &[("OTEL_BSP_SCHEDULE_DELAY", "50")]).await;

    let traceparent = format!("traceparent: 00-{TRACE}-{PARENT}-01\r\ntracestate: bank=core\r\n");
    let (status, reply) = post_with(ficus.http, &acctinq(&ficus.table, 42), &traceparent).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&reply));

    let spans = receiver
        .until("the message, its call and its shadow's call", |s| {
            s.iter().any(|g| g.name == "msg")
                && s.iter().any(|g| g.name == "modern")
                && s.iter().any(|g| g.name == "shadow")
                && s.iter().filter(|g| g.name == "legacy").count() >= 1
        })
        .await;
    let msg = one(&spans, "message span", |g| g.name == "msg");
    assert_eq!(
        (msg.trace_id.as_str(), msg.parent.as_str()),
        (TRACE, PARENT),
        "the channel's traceparent is the parent"
    );
    assert_eq!(msg.service, "ficus-test");
    for (key, value) in [
        ("op", "ACCTINQ"),
        ("route", "accounts"),
        ("channel", "default"),
        ("generation", "1"),
        ("id", "42"),
        ("outcome", "ok"),
    ] {
        assert_eq!(msg.attrs.get(key).map(String::as_str), Some(value), "{key} on {msg:#?}");
    }
    let call = one(&spans, "upstream call", |g| g.name == "modern");
    assert_eq!(
        (call.trace_id.as_str(), call.parent.as_str()),
        (TRACE, msg.span_id.as_str()),
        "the call is the message's child"
    );
    let shadow = one(&spans, "shadow", |g| g.name == "shadow");
    assert_eq!(
        (shadow.trace_id.as_str(), shadow.parent.as_str()),
        (TRACE, msg.span_id.as_str()),
        "the shadow is a child too"
    );
    let host = one(&spans, "shadow's call to the host", |g| g.name == "legacy");
    assert_eq!(host.parent, shadow.span_id, "the shadow's own call is under the shadow");
    // The JSON service was told the trace, with the call's span as its parent.
    assert_eq!(*seen.lock().unwrap(), vec![format!("00-{TRACE}-{}-01", call.span_id)]);

    // A message that fails says how on its span: the cause, the reply's code, an error status.
    let (status, _) = post_with(ficus.http, b"TOO SHORT", &traceparent).await;
    assert_ne!(status, 200);
    let spans = receiver.until("the failed message", |s| s.iter().filter(|g| g.name == "msg").count() >= 2).await;
    let failed = one(&spans, "failed message", |g| g.name == "msg" && g.span_id != msg.span_id);
    assert_eq!(failed.status, 2, "an error status: {failed:#?}");
    assert!(failed.attrs.get("code").is_some_and(|c| c.starts_with("FC")), "{failed:#?}");
    assert!(failed.attrs.get("outcome").is_some_and(|o| !o.is_empty() && o != "ok"), "{failed:#?}");
    assert_eq!(msg.status, 0, "ok messages leave the status unset");

    // A TCP channel has no headers: its message starts a trace of its own.
    let replies = tcp_exchange(ficus.tcp, &[acctinq(&ficus.table, 43)]).await;
    assert_eq!(replies.len(), 1);
    let spans = receiver
        .until("the TCP message", |s| s.iter().any(|g| g.name == "msg" && g.attrs.get("id").is_some_and(|i| i == "43")))
        .await;
    let tcp = one(&spans, "TCP message", |g| g.name == "msg" && g.attrs["id"] == "43");
    assert!(tcp.trace_id != TRACE && tcp.parent.is_empty(), "a new trace, a root span: {tcp:#?}");
    assert_eq!(tcp.attrs["channel"], "default");
    let log = ficus.stop().await;
    assert!(
        log.iter().any(|l| l.contains("traces: exporting spans over OTLP/HTTP") && l.contains(&collector.to_string())),
        "{log:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_collector_configured_nothing_is_exported_and_nothing_propagated() {
    let sims = sims().await;
    let (seen, proxy) = otlp::recording_proxy(sims.accounts).await;
    let (receiver, collector) = Receiver::start().await;
    let up = Upstreams { legacy: sims.host_tcp.to_string(), accounts: format!("http://{proxy}/ops") };
    // The variables name the collector, and the kill switch is on: off, like no configuration.
    let endpoint = format!("http://{collector}");
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_SDK_DISABLED", "true"),
        ("OTEL_BSP_SCHEDULE_DELAY", "50"),
    ];
    let ficus = serve(&toml(&up, ""), &env).await;
    let traceparent = format!("traceparent: 00-{TRACE}-{PARENT}-01\r\n");
    for seq in 0..3 {
        let (status, _) = post_with(ficus.http, &acctinq(&ficus.table, seq), &traceparent).await;
        assert_eq!(status, 200);
    }
    let log = ficus.stop().await;
    assert_eq!(*receiver.requests.lock().unwrap(), 0, "nothing exported, even at exit");
    assert_eq!(*seen.lock().unwrap(), vec!["-"; 3], "no traceparent to the JSON service");
    assert!(!log.iter().any(|l| l.contains("traces:")), "{log:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_that_is_down_never_costs_a_message_its_reply() {
    let sims = sims().await;
    let up = sim_upstreams(&sims);
    let down = dead_address().await;
    let telemetry = format!("[telemetry]\notlp = \"http://{down}\"\n");
    let ficus = serve(&toml(&up, &telemetry), &[("OTEL_BSP_SCHEDULE_DELAY", "10")]).await;
    let traceparent = format!("traceparent: 00-{TRACE}-{PARENT}-01\r\n");
    for seq in 0..40 {
        let (status, reply) = post_with(ficus.http, &acctinq(&ficus.table, seq), &traceparent).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&reply));
        let code = ficus.table.header.response_code(&reply).unwrap_or_default();
        assert!(code.trim().is_empty() || code.trim_start_matches('0').is_empty(), "message {seq}: code {code:?}");
    }
    let replies = tcp_exchange(ficus.tcp, &[acctinq(&ficus.table, 99)]).await;
    assert_eq!(replies.len(), 1);
    let log = ficus.stop().await;
    let failed: Vec<_> = log.iter().filter(|l| l.contains("traces not delivered")).collect();
    assert!(!failed.is_empty(), "the operator is told: {log:#?}");
    assert!(failed.len() <= 2, "once, not per export: {failed:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_otel_variables_are_ignored_with_a_warning_never_a_stopped_gateway() {
    let sims = sims().await;
    let (receiver, collector) = Receiver::start().await;
    let up = sim_upstreams(&sims);
    // What a platform may inject: a sampler this SDK does not know, a bad ratio. The endpoint is
    // good: traces go there with the default sampler.
    let endpoint = format!("http://{collector}");
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_TRACES_SAMPLER", "jaeger_remote"),
        ("OTEL_SDK_DISABLED", "no"),
        ("OTEL_BSP_SCHEDULE_DELAY", "50"),
    ];
    let ficus = serve(&toml(&up, ""), &env).await;
    let (status, _) = post_with(ficus.http, &acctinq(&ficus.table, 7), "").await;
    assert_eq!(status, 200);
    receiver.until("the message span", |s| s.iter().any(|g| g.name == "msg")).await;
    let log = ficus.stop().await;
    for variable in ["OTEL_TRACES_SAMPLER = \"jaeger_remote\"", "OTEL_SDK_DISABLED = \"no\""] {
        assert!(log.iter().any(|l| l.contains("ignored") && l.contains(variable)), "{variable}: {log:#?}");
    }

    // The kill switch wins over every other variable, however wrong.
    let env = [("OTEL_SDK_DISABLED", "true"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"), ("OTEL_TRACES_SAMPLER", "x")];
    let ficus = serve(&toml(&up, ""), &env).await;
    let (status, _) = post_with(ficus.http, &acctinq(&ficus.table, 8), "").await;
    assert_eq!(status, 200);
    let log = ficus.stop().await;
    assert!(!log.iter().any(|l| l.contains("OTEL_")), "nothing read, nothing said: {log:#?}");

    // `ficus check` passes and says what it ignores.
    let dir = tempfile::tempdir().unwrap();
    let path = check_file(dir.path(), "");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_ficus"))
        .args(["check", "--config", path.to_str().unwrap()])
        .env_remove("FICUS_CONFIG")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318")
        .output()
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("warning: traces ignore") && said.contains("OTEL_EXPORTER_OTLP_ENDPOINT"), "{said}");
    sims.stop();
}

fn check_file(dir: &Path, telemetry: &str) -> std::path::PathBuf {
    let up = Upstreams { legacy: "127.0.0.1:9".into(), accounts: "http://127.0.0.1:9/ops".into() };
    let path = dir.join("routes.toml");
    std::fs::write(&path, toml(&up, telemetry)).unwrap();
    std::fs::write(dir.join("tokens"), format!("{ADMIN_NAME}:{ADMIN_TOKEN}\n")).unwrap();
    path
}

#[tokio::test]
async fn ficus_check_names_a_bad_telemetry_value_and_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = check_file(dir.path(), "[telemetry]\notlp = \"collector:4318\"\nsample_percent = 250\n");
    let text = std::fs::read_to_string(&path).unwrap();
    let line_of = |key: &str| text.lines().position(|l| l.starts_with(key)).unwrap() + 1;
    let (code, _, err) = ficus_cli(&["check", "--config", path.to_str().unwrap()]).await;
    assert_eq!(code, 64, "{err}");
    assert!(err.contains(&format!(":{}", line_of("otlp"))) && err.contains("otlp = \"collector:4318\""), "{err}");
    assert!(err.contains(&format!(":{}", line_of("sample_percent"))) && err.contains("sample_percent = 250"), "{err}");
    let path = check_file(dir.path(), "[telemetry]\notlp = \"http://collector:4318\"\nsample_percent = 25\n");
    let (code, _, err) = ficus_cli(&["check", "--config", path.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{err}");
}

#[tokio::test]
async fn the_readmes_telemetry_example_passes_ficus_check() {
    let readme = include_str!("../README.md");
    let part = readme.split("**Traces (OpenTelemetry).**").nth(1).expect("the README part");
    let example = part.split("```toml\n").nth(1).and_then(|b| b.split("```").next()).expect("its toml block");
    assert!(example.starts_with("[telemetry]"), "{example}");
    let dir = tempfile::tempdir().unwrap();
    let path = check_file(dir.path(), example);
    let (code, out, err) = ficus_cli(&["check", "--config", path.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{err}");
    let said = "traces: to http://otel-collector:4318/v1/traces as service \"ficus\", 10% of new traces";
    assert!(out.contains(said), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_upstream_call_is_an_error_on_its_span_and_on_the_message() {
    let sims = sims().await;
    let (receiver, collector) = Receiver::start().await;
    let down = dead_address().await;
    let up = Upstreams { legacy: sims.host_tcp.to_string(), accounts: format!("http://{down}/ops") };
    let telemetry = format!("[telemetry]\notlp = \"http://{collector}\"\n");
    let ficus = serve(&toml(&up, &telemetry), &[("OTEL_BSP_SCHEDULE_DELAY", "50")]).await;
    let (status, _) = post_with(ficus.http, &acctinq(&ficus.table, 7), "").await;
    assert_ne!(status, 200, "the service is down");
    let spans = receiver.until("the failed call", |s| s.iter().any(|g| g.name == "msg")).await;
    let msg = one(&spans, "message", |g| g.name == "msg");
    assert!(msg.parent.is_empty(), "no traceparent: a root span");
    assert_eq!(msg.status, 2, "{msg:#?}");
    let calls: Vec<_> = spans.iter().filter(|g| g.name == "modern").collect();
    assert!(!calls.is_empty(), "{spans:#?}");
    assert!(calls.iter().all(|c| c.status == 2 && c.parent == msg.span_id), "{calls:#?}");
    ficus.stop().await;
}
