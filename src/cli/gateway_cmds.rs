//! `ficus check`, `ficus serve`, `ficus demo`, `ficus send`: the gateway from the command line.

use super::CliError;
use crate::config;
use crate::route::RouteTable;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn load(path: &Path) -> Result<RouteTable, CliError> {
    config::load(path, None, 1).map_err(|e| CliError::config(e.to_string()))
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Runtime::new().map_err(|e| CliError::runtime(format!("cannot start the runtime: {e}")))
}

/// Waits for Ctrl-C or SIGTERM.
async fn wait_for_stop() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// `ficus check`: validate and summarise.
pub fn check(path: &Path) -> Result<(), CliError> {
    let table = load(path)?;
    println!("{}: ok (hash {})", path.display(), table.hash);
    println!(
        "  header {} ({} bytes), operation from {}",
        table.file.header.copybook,
        table.header.size,
        table.file.header.operation.join(" + ")
    );
    match table.header.message_id_name() {
        Some(id) => println!("  replies correlated with their requests by {id}"),
        None => println!(
            "  warning: [header] names no message_id, so replies cannot be correlated with their requests:\n  \
             a duplicate or late reply from a host could reach the wrong channel. Set message_id = \"<sequence field>\"."
        ),
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
        println!("  {:<10} → {:<10} {}", r.op, r.target.name, flags.join(", "));
    }
    println!("  (anything else) → {}", table.default_target.name);
    for warning in crate::config::shadow_idle::shadow_warnings(&table) {
        println!("  warning: {warning}");
    }
    Ok(())
}

/// `ficus serve`: run until Ctrl-C / SIGTERM. With `takeover`, share the ports of a ficus
/// already running on them (the upgrade path); without it, a port in use is an error.
pub fn serve(path: &Path, takeover: bool) -> Result<(), CliError> {
    load(path)?;
    runtime()?.block_on(async {
        let options = crate::server::Options { takeover, ..Default::default() };
        let running = crate::server::start(path, options).await.map_err(CliError::runtime)?;
        let generation = running.gateway.table().generation;
        tracing::info!(http = ?running.http, tcp = ?running.tcp, admin = ?running.admin, generation, config = %path.display(), "gateway listening");
        wait_for_stop().await;
        tracing::info!("stopping: finishing messages in flight");
        running.stop().await;
        Ok(())
    })
}

/// Where `ficus demo` takes its configuration from.
fn demo_config(given: Option<PathBuf>) -> Result<PathBuf, CliError> {
    if let Some(p) = given {
        return Ok(p);
    }
    let local = PathBuf::from("routes.toml");
    if local.exists() && Path::new("copybooks/COMMHDR.cpy").exists() {
        return Ok(local);
    }
    let dir = std::env::temp_dir().join(format!("ficus-demo-{}", std::process::id()));
    crate::sim::write_defaults(&dir)
        .map_err(|e| CliError::runtime(format!("writing the demo files to {}: {e}", dir.display())))
}

/// `ficus demo`.
pub fn demo(given: Option<PathBuf>) -> Result<(), CliError> {
    let path = demo_config(given)?;
    load(&path)?;
    // Flips need an admin token; the demo makes one up if none is set.
    let token = std::env::var(crate::admin::auth::TOKEN_ENV).ok().filter(|t| !t.is_empty()).unwrap_or_else(|| {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let token = format!("demo-{:08x}", nanos ^ std::process::id().rotate_left(16));
        // Safe: no other thread exists yet.
        std::env::set_var(crate::admin::auth::TOKEN_ENV, &token);
        token
    });
    runtime()?.block_on(async {
        let (sims, running) = crate::demo::start(&path).await.map_err(CliError::runtime)?;
        let table = running.gateway.table();
        let show = |a: Option<std::net::SocketAddr>| a.map_or("-".to_string(), |a| a.to_string());
        println!("ficus demo — the gateway in front of a simulated core-banking host\n");
        println!("  legacy host (simulated)  tcp  {}   EBCDIC {}, 4-byte length prefix", sims.host_tcp, table.options.codepage.name());
        println!("  accounts (new service)   http {}   JSON", sims.accounts);
        println!("  gateway                  http {}   tcp {}", show(running.http), show(running.tcp));
        println!("  routes                   {} (generation {})\n", path.display(), table.generation);
        println!("Accounts 1000000000000001 … 1000000000000010. In another terminal:\n");
        let cfg = path.display();
        println!("  ficus send --config {cfg} ACCTINQ '{{\"ACCT-NO\":\"1000000000000001\"}}'");
        println!("  ficus send --config {cfg} --tcp TXNHIST '{{\"ACCT-NO\":\"1000000000000003\",\"FROM-DATE\":20260101,\"TO-DATE\":20261231,\"MAX-ROWS\":5}}'");
        println!("  ficus send --config {cfg} XFER '{{\"FROM-ACCT\":\"1000000000000001\",\"TO-ACCT\":\"1000000000000002\",\"AMOUNT\":150.25,\"MEMO\":\"RENT\"}}'");
        println!("\nMove ACCTINQ to the new service — a slice first, then all of it, then back:\n");
        println!("  export FICUS_ADMIN_TOKEN={token}");
        println!("  ficus route ACCTINQ --canary 10 --to accounts --sticky ACCT-NO");
        println!("  ficus route ACCTINQ --target accounts");
        println!("  ficus routes");
        println!("  ficus route ACCTINQ --rollback");
        println!("\nOr edit {cfg} (it is watched) and save; the reply bytes stay the same either way.");
        println!("Ctrl-C stops.");
        wait_for_stop().await;
        sims.stop();
        running.stop().await;
        Ok(())
    })
}

/// Arguments of `ficus send`.
pub struct SendArgs {
    /// routes.toml (for copybooks, header and addresses).
    pub config: PathBuf,
    /// Use the TCP listener instead of HTTP.
    pub tcp: bool,
    /// Override the address to send to.
    pub to: Option<String>,
    /// Operation code.
    pub op: String,
    /// Body JSON.
    pub body: String,
    /// Header field overrides (JSON object).
    pub header: Option<String>,
    /// Print the raw reply as hex too.
    pub hex: bool,
}

/// Builds the fixed-width request for `args` from the table's copybooks.
pub fn build_request(table: &RouteTable, op: &str, body: &Value, header_overrides: &Value) -> Result<Vec<u8>, String> {
    let route = table
        .routes
        .get(op)
        .ok_or_else(|| format!("no route for {op} in routes.toml, so no request layout to encode with"))?;
    let request = route.request.as_ref().ok_or_else(|| format!("route {op} has no request layout"))?;
    let mut header = table.header.codec.plan().blank_json();
    if let (Value::Object(h), Some(first)) = (&mut header, table.file.header.operation.first()) {
        h.insert(first.clone(), Value::from(op));
        if let Some(id) = &table.file.header.message_id {
            let seq = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_micros() % 10_000_000_000);
            h.insert(id.clone(), Value::from(seq as u64));
        }
        if let Value::Object(o) = header_overrides {
            for (k, v) in o {
                h.insert(k.clone(), v.clone());
            }
        }
    }
    let mut bytes = table.header.codec.encode_json(&header).map_err(|e| format!("header: {e}"))?;
    bytes.extend(request.encode_json(body).map_err(|e| format!("body: {e}"))?);
    table.header.set_length(&mut bytes);
    Ok(bytes)
}

/// Decodes a reply into `{"header": .., "response": ..}` (response absent if header-only).
pub fn decode_reply(table: &RouteTable, op: &str, reply: &[u8]) -> Value {
    let header =
        table.header.codec.decode_json(reply).map(|(v, _)| v).unwrap_or_else(|e| json!({ "error": e.to_string() }));
    let body = reply.get(table.header.size..).unwrap_or_default();
    let response = match table.routes.get(op).and_then(|r| r.response.as_ref()) {
        Some(codec) if !body.is_empty() => {
            codec.decode_json(body).map(|(v, _)| v).unwrap_or_else(|e| json!({ "error": e.to_string() }))
        }
        _ => Value::Null,
    };
    json!({ "header": header, "response": response })
}

/// `ficus send`.
pub fn send(args: SendArgs) -> Result<(), CliError> {
    let table = load(&args.config)?;
    let body: Value =
        serde_json::from_str(&args.body).map_err(|e| CliError::runtime(format!("body is not JSON: {e}")))?;
    let overrides: Value = match &args.header {
        Some(h) => serde_json::from_str(h).map_err(|e| CliError::runtime(format!("--header is not JSON: {e}")))?,
        None => Value::Null,
    };
    let request = build_request(&table, &args.op, &body, &overrides).map_err(CliError::runtime)?;
    let (status, reply) = runtime()?.block_on(async {
        if args.tcp {
            let addr = args
                .to
                .clone()
                .or(table.file.gateway.listen_tcp.clone())
                .ok_or_else(|| CliError::runtime("no TCP address"))?;
            let mut conn = tokio::net::TcpStream::connect(&addr)
                .await
                .map_err(|e| CliError::runtime(format!("connecting to {addr}: {e}")))?;
            table.tcp_framing.write(&mut conn, &request).await.map_err(|e| CliError::runtime(e.to_string()))?;
            let reply =
                table.tcp_framing.read(&mut conn, 1 << 20).await.map_err(|e| CliError::runtime(e.to_string()))?;
            Ok::<_, CliError>((None, reply.unwrap_or_default()))
        } else {
            let addr = args
                .to
                .clone()
                .or(table.file.gateway.listen_http.clone())
                .ok_or_else(|| CliError::runtime("no HTTP address"))?;
            let url = if addr.starts_with("http://") { addr } else { format!("http://{addr}/") };
            let limits = crate::upstream::Limits::new(
                std::time::Duration::from_secs(10),
                std::time::Duration::from_secs(2),
                1,
                1 << 20,
            );
            let client = crate::upstream::http::HttpClient::new("gateway", &url, limits).map_err(CliError::runtime)?;
            let (status, body) = client
                .post(
                    request.clone().into(),
                    "application/octet-stream",
                    &[],
                    crate::upstream::http::PostKind::primary(),
                )
                .await
                .map_err(|e| CliError::runtime(e.to_string()))?;
            Ok((Some(status), body.to_vec()))
        }
    })?;
    let decoded = decode_reply(&table, &args.op, &reply);
    if let Some(s) = status {
        eprintln!("HTTP {s}, {} bytes", reply.len());
    } else {
        eprintln!("{} bytes", reply.len());
    }
    println!("{}", serde_json::to_string_pretty(&decoded).unwrap_or_default());
    if args.hex {
        for chunk in reply.chunks(32) {
            eprintln!("{}", chunk.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" "));
        }
    }
    Ok(())
}
