//! `ficus check`, `ficus serve`, `ficus demo`: the gateway from the command line (`ficus send`
//! is in `send_cmds`).

use super::CliError;
use crate::config;
use crate::route::RouteTable;
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
        let flags = [(!r.enabled).then_some("DISABLED"), r.read_only.then_some("read-only")];
        let flags: Vec<_> = flags.into_iter().flatten().collect();
        println!("  {:<10} → {:<10} {}", r.op, r.target.name, flags.join(", "));
    }
    println!("  (anything else) → {}", table.default_target.name);
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
