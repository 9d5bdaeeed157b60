//! `cobol-host`: the demo's operations as real COBOL, behind a TCP front end.
//!
//! ```text
//! cargo run --example cobol-host -- --listen 127.0.0.1:7001 --accounts 127.0.0.1:7002
//! cargo run --release -- serve --config target/cobol-host/data/routes.toml
//! ```
//!
//! Finds its sources at run time (`--sources`, [`sources`]), compiles the programs in their
//! `programs/` with `cobc` (cached under `--build`), seeds the ledger files in `--data` with
//! `Ledger::seeded()`, and serves framed messages. With `--accounts` it also runs the sample
//! new service, on a replica of the ledger that follows every transfer the COBOL host accepts,
//! so both sides answer from the same data. On its first start it writes a gateway config for
//! both into `--data` ([`routes_file`]) and never overwrites it. Every path is made absolute
//! once, at start. One host per data directory ([`lock`]): the directory is locked and the
//! ports bound before the ledger is reseeded, so a second start changes nothing of a running
//! host's. Ctrl-C or SIGTERM stops it — while compiling too — with a word on what it served.

mod compile;
mod front;
mod lock;
mod routes_file;
mod seed;
mod sources;

use clap::Parser;
use ficus::sim::ledger::Ledger;
use sources::{absolute_dir, Sources};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The COBOL legacy host for ficus's demo operations (ACCTINQ, TXNHIST, XFER).
///
/// Compiles the COBOL programs in <SOURCES>/programs with GnuCOBOL (DISPATCH and LEDGLOAD are
/// executables, every other *.cbl a transaction module), seeds the ledger in <DATA>, serves
/// framed messages (4-byte length prefix) on --listen and, with --accounts, the sample new
/// service on a replica of the ledger. On its first start it writes <DATA>/routes.toml for the
/// gateway; later starts keep that file (your flips live there) and warn if its addresses
/// differ from the ones bound. It prints the command that starts the gateway. Relative paths
/// are taken from the directory it is started in (the README runs it from the repository root).
///
/// Retire a program by deleting its .cbl (and its line in DISPATCH's program table) and
/// restarting this host: messages for it then get E998 (not in the table) or E995 (in the
/// table, but no program installed).
#[derive(Parser, Debug)]
#[command(name = "cobol-host")]
struct Args {
    /// Where the host listens for framed messages (4-byte length prefix).
    #[arg(long, default_value = "127.0.0.1:7001")]
    listen: String,
    /// Also serve the sample `accounts` service here, on a replica kept in step with the host.
    #[arg(long)]
    accounts: Option<String>,
    /// Directory of the ledger files (ACCOUNTS, TXNS, CONTROL) and the gateway's routes.toml.
    #[arg(long, default_value = "target/cobol-host/data")]
    data: PathBuf,
    /// Where compiled programs are cached.
    #[arg(long, default_value = "target/cobol-host/build")]
    build: PathBuf,
    /// The example's sources: programs/, copybooks/, routes.toml. [default: examples/cobol-host
    /// under the current directory if there is one, else the checkout this was built from]
    #[arg(long, value_name = "DIR")]
    sources: Option<PathBuf>,
    /// The gateway's copybooks (COMMHDR.cpy, …), which the programs COPY. [default:
    /// <SOURCES>/../../copybooks if there, else the checkout this was built from]
    #[arg(long, value_name = "DIR")]
    copybooks: Option<PathBuf>,
    /// Keep the ledger from the last run instead of reseeding it (not with --accounts: the
    /// replica always starts from the seed).
    #[arg(long, conflicts_with = "accounts")]
    keep: bool,
}

/// `path` as the user would type it: relative to the current directory when under it.
fn shown(path: &Path) -> String {
    let cwd = std::env::current_dir().and_then(std::fs::canonicalize);
    let text = match cwd.as_ref().ok().and_then(|cwd| path.strip_prefix(cwd).ok()) {
        Some(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
        _ => path.display().to_string(),
    };
    quoted(&text)
}

/// `arg` quoted for a POSIX shell if it needs to be.
fn quoted(arg: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:=@,+".contains(c);
    if !arg.is_empty() && arg.chars().all(plain) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

/// Ctrl-C and SIGTERM, watched from creation on: a signal that arrives before [`Stop::wait`]
/// is not lost (and does not kill the process unannounced).
struct Stop {
    #[cfg(unix)]
    signals: (tokio::signal::unix::Signal, tokio::signal::unix::Signal),
}

impl Stop {
    fn watch() -> Result<Stop, String> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let watch = |kind, name| signal(kind).map_err(|e| format!("cannot watch {name}: {e}"));
            Ok(Stop {
                signals: (watch(SignalKind::interrupt(), "SIGINT")?, watch(SignalKind::terminate(), "SIGTERM")?),
            })
        }
        #[cfg(not(unix))]
        Ok(Stop {})
    }

    /// Waits for Ctrl-C or SIGTERM; returns which.
    async fn wait(&mut self) -> Result<&'static str, String> {
        #[cfg(unix)]
        {
            let (interrupt, terminate) = &mut self.signals;
            tokio::select! {
                _ = interrupt.recv() => Ok("Ctrl-C"),
                _ = terminate.recv() => Ok("SIGTERM"),
            }
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c().await.map(|_| "Ctrl-C").map_err(|e| e.to_string())
    }
}

/// Seeds the ledger in `data` unless `keep` and it is all there; says which.
fn ledger(programs: &compile::Programs, sources: &Sources, data: &Path, keep: bool) -> Result<String, String> {
    if keep && seed::LEDGER_FILES.iter().all(|f| data.join(f).exists()) {
        tracing::info!(data = %data.display(), "ledger kept from the last run (--keep)");
        return Ok("kept from the last run (--keep)".into());
    }
    let records = seed::seed(programs, sources, data, &Ledger::seeded())?;
    tracing::info!(records, data = %data.display(), "ledger seeded");
    Ok(format!("reseeded: {records} records of the sample ledger"))
}

async fn run(args: Args) -> Result<(), String> {
    // Watched from the start: Ctrl-C while compiling says goodbye and leaves no half-built
    // directory behind.
    let mut stop_signal = Stop::watch()?;
    let sources = Sources::resolve(args.sources.as_deref(), args.copybooks.as_deref())?;
    tracing::info!(dir = %sources.dir.display(), from = sources.dir_from, "sources");
    tracing::info!(dir = %sources.copybooks.display(), from = sources.copybooks_from, "the gateway's copybooks");
    let (build, data) = (absolute_dir(&args.build, "build")?, absolute_dir(&args.data, "data")?);
    // Nothing destructive before we know the place is ours: the data directory is locked and
    // both ports are bound before the ledger is reseeded.
    let _data_lock = lock::DataLock::take(&data)?;
    let listener = ficus::server::bind("cobol host", &args.listen).await?;
    let accounts_listener = match &args.accounts {
        Some(at) => Some(ficus::server::bind("accounts service", at).await?),
        None => None,
    };
    let startup = async {
        let programs = compile::compile(&sources, &build).await?;
        tracing::info!(dir = %programs.dir.display(), modules = %programs.modules.join(" "), "programs compiled");
        let ledger_state = ledger(&programs, &sources, &data, args.keep)?;
        Ok::<_, String>((programs, ledger_state))
    };
    let (programs, ledger_state) = tokio::select! {
        started = startup => started?,
        signal = stop_signal.wait() => {
            let signal = signal?;
            tracing::info!(signal, "stopped while starting");
            println!("cobol-host stopped ({signal}) while starting: nothing was served, no half-built programs are left.");
            return Ok(());
        }
    };
    let replica = args.accounts.as_ref().map(|_| Arc::new(Ledger::seeded()));
    let host = Arc::new(front::CobolHost::new(programs.clone(), &data, &sources.copybooks, replica.clone())?);
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let addr = listener.local_addr().map_err(|e| e.to_string())?.to_string();
    tokio::spawn(host.clone().serve(listener, shutdown.clone()));
    tracing::info!(%addr, "cobol host listening");
    let mut accounts = None;
    if let (Some(listener), Some(ledger)) = (accounts_listener, replica) {
        let addr = listener.local_addr().map_err(|e| e.to_string())?.to_string();
        tokio::spawn(ficus::sim::accounts::serve(listener, ledger, shutdown));
        tracing::info!(%addr, "accounts service listening (replica of the COBOL ledger)");
        accounts = Some(addr);
    }
    let routes = routes_file::ensure(&sources, &data, &addr, accounts.as_deref())?;
    for warning in &routes.warnings {
        tracing::warn!("{warning}");
    }
    let routes_state = match routes.outcome {
        routes_file::Outcome::Written => "written for this host",
        routes_file::Outcome::Kept => "kept from the last run, not rewritten",
    };
    tracing::info!(path = %routes.path.display(), "routes file {routes_state}");

    println!();
    println!("  COBOL host    {addr}   (transactions: {})", programs.modules.join(" "));
    match &accounts {
        Some(at) => println!("  accounts      {at}   (the new service, on a replica of the COBOL ledger)"),
        None => println!("  accounts      not started (add --accounts 127.0.0.1:7002 to serve the new service)"),
    }
    println!("  ledger        {}   ({ledger_state})", shown(&data));
    println!("  routes file   {}   ({routes_state})", shown(&routes.path));
    for warning in &routes.warnings {
        println!("  WARNING       {warning}");
    }
    println!();
    println!("Start the gateway in front of it, in another terminal:");
    println!("  cargo run --release -- serve --config {}", shown(&routes.path));
    println!();

    let signal = stop_signal.wait().await?;
    let _ = stop.send(true);
    let (served, mismatches) = (host.served(), host.replica_mismatches());
    tracing::info!(signal, served, replica_mismatches = mismatches, "stopped");
    goodbye(signal, served, mismatches, &data, &routes.path, accounts.is_some());
    Ok(())
}

/// What the host did and how to start it again.
fn goodbye(signal: &str, served: u64, mismatches: u64, data: &Path, routes: &Path, with_accounts: bool) {
    let again: Vec<String> = std::env::args().skip(1).map(|a| quoted(&a)).collect();
    let command = format!("cargo run --example cobol-host -- {}", again.join(" "));
    println!();
    println!("cobol-host stopped ({signal}): served {served} messages, {mismatches} replica mismatches.");
    println!("  ledger        {}", shown(data));
    println!("  routes file   {}   (kept: a restart does not rewrite it)", shown(routes));
    if again.iter().any(|a| a == "--keep") {
        println!("Start it again with the same ledger and routes file:");
        println!("  {}", command.trim_end());
    } else if with_accounts {
        println!("Start it again (the ledger and its replica are reseeded; the routes file is kept):");
        println!("  {}", command.trim_end());
    } else {
        println!("Start it again with the same ledger (the routes file is always kept):");
        println!("  {} --keep", command.trim_end());
    }
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    if let Err(e) = run(Args::parse()).await {
        eprintln!("cobol-host: {e}");
        std::process::exit(1);
    }
}
