//! `cobol-host`: the demo's operations as real COBOL, behind a TCP front end.
//!
//! ```text
//! cargo run --example cobol-host -- --listen 127.0.0.1:7001 --accounts 127.0.0.1:7002
//! cargo run -- serve --config examples/cobol-host/routes.toml
//! ```
//!
//! Compiles the programs with `cobc` (cached under `--build`), seeds the ledger files in
//! `--data` with `Ledger::seeded()`, and serves framed messages. With `--accounts` it also
//! runs the sample new service, on a replica of the ledger that follows every transfer the
//! COBOL host accepts, so both sides answer from the same data. It writes a gateway config
//! for both into `--data` (this directory's routes.toml, copybooks and addresses filled in).
//! Stop it with Ctrl-C.

mod compile;
mod front;
mod seed;

use clap::Parser;
use ficus::sim::ledger::Ledger;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The COBOL legacy host for ficus's demo operations (ACCTINQ, TXNHIST, XFER).
#[derive(Parser, Debug)]
#[command(name = "cobol-host")]
struct Args {
    /// Where the host listens for framed messages (4-byte length prefix).
    #[arg(long, default_value = "127.0.0.1:7001")]
    listen: String,
    /// Directory of the ledger files (ACCOUNTS, TXNS, CONTROL).
    #[arg(long, default_value = "target/cobol-host/data")]
    data: PathBuf,
    /// Where compiled programs are cached.
    #[arg(long, default_value = "target/cobol-host/build")]
    build: PathBuf,
    /// Keep the ledger from the last run instead of reseeding it.
    #[arg(long, conflicts_with = "accounts")]
    keep: bool,
    /// Also serve the sample `accounts` service here, on a replica kept in step with the host.
    #[arg(long)]
    accounts: Option<String>,
}

/// Writes `<data>/routes.toml`: the example's routes with absolute copybooks and the addresses
/// actually bound. Route changes, the audit log and shadow records then live beside it.
fn write_routes(data: &Path, host: &str, accounts: Option<&str>) -> Result<PathBuf, String> {
    let template = compile::example_dir().join("routes.toml");
    let text = std::fs::read_to_string(&template).map_err(|e| format!("{}: {e}", template.display()))?;
    let copybooks = compile::repo_copybooks().display().to_string().replace('\\', "/");
    let mut text = text
        .replace("\"../../copybooks\"", &format!("{copybooks:?}"))
        .replace("address = \"127.0.0.1:7001\"", &format!("address = \"{host}\""));
    if let Some(accounts) = accounts {
        text = text.replace("http://127.0.0.1:7002/ops", &format!("http://{accounts}/ops"));
    }
    let path = data.join("routes.toml");
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

async fn run(args: Args) -> Result<(), String> {
    let programs = compile::compile(&args.build)?;
    tracing::info!(dir = %programs.dir.display(), "programs compiled");
    if !args.keep || !args.data.join("ACCOUNTS").exists() {
        let records = seed::seed(&programs, &args.data, &Ledger::seeded())?;
        tracing::info!(records, data = %args.data.display(), "ledger seeded");
    }
    let replica = args.accounts.as_ref().map(|_| Arc::new(Ledger::seeded()));
    let host = Arc::new(front::CobolHost::new(programs, &args.data, &compile::repo_copybooks(), replica.clone())?);
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let listener = ficus::server::bind("cobol host", &args.listen).await?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(host.clone().serve(listener, shutdown.clone()));
    tracing::info!(%addr, "cobol host listening");
    let mut accounts = None;
    if let (Some(at), Some(ledger)) = (&args.accounts, replica) {
        let listener = ficus::server::bind("accounts service", at).await?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        tokio::spawn(ficus::sim::accounts::serve(listener, ledger, shutdown));
        tracing::info!(%addr, "accounts service listening (replica of the COBOL ledger)");
        accounts = Some(addr.to_string());
    }
    let routes = args.data.join("routes.toml");
    if !args.keep || !routes.exists() {
        write_routes(&args.data, &addr.to_string(), accounts.as_deref())?;
    }
    println!("COBOL host on {addr}. Start the gateway in front of it:");
    println!("  cargo run -- serve --config {}", routes.display());
    tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
    let _ = stop.send(true);
    tracing::info!(served = host.served(), replica_mismatches = host.replica_mismatches(), "stopped");
    Ok(())
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    if let Err(e) = run(Args::parse()).await {
        eprintln!("cobol-host: {e}");
        std::process::exit(1);
    }
}
