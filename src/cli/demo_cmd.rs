//! `ficus demo`: the gateway, a simulated host and the sample `accounts` service, on the demo's
//! own copy of routes.toml (see [`crate::demo::state`]), with a banner that says what to type
//! next and a goodbye that says what was kept.

use super::gateway_cmds::{load, runtime, StopSignals};
use super::CliError;
use crate::demo::state::{self, Source, State};
use std::path::{Path, PathBuf};

/// Options of `ficus demo`.
pub struct DemoArgs {
    /// Run on this routes.toml in place instead of the demo's own copy.
    pub config: Option<PathBuf>,
    /// The state directory (default: see [`state::default_dir`]).
    pub state: Option<PathBuf>,
    /// Keep the last run's routes, audit log and records.
    pub resume: bool,
}

/// A path as the user would type it: relative to the current directory when under it.
fn shown(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let rel = cwd.as_deref().and_then(|c| path.strip_prefix(c).ok()).unwrap_or(path);
    rel.strip_prefix(".").unwrap_or(rel).display().to_string()
}

/// The demo's admin token: `FICUS_ADMIN_TOKEN` if set, else one made up now (and set, so the
/// gateway accepts it).
fn token() -> String {
    std::env::var(crate::admin::auth::TOKEN_ENV).ok().filter(|t| !t.is_empty()).unwrap_or_else(|| {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let token = format!("demo-{:08x}", nanos ^ std::process::id().rotate_left(16));
        // Safe: no other thread exists yet.
        std::env::set_var(crate::admin::auth::TOKEN_ENV, &token);
        token
    })
}

/// `ficus demo`.
pub fn demo(args: DemoArgs) -> Result<(), CliError> {
    let own = args.config.is_none();
    let state = match args.config {
        Some(path) => State {
            dir: path.parent().unwrap_or(Path::new(".")).to_path_buf(),
            routes: path,
            resumed: true,
            lock: None,
        },
        None => {
            let source = Source::find();
            let dir = args.state.unwrap_or_else(|| state::default_dir(&source));
            state::prepare(&dir, &source, args.resume).map_err(|e| CliError::runtime(e.to_string()))?
        }
    };
    load(&state.routes)?;
    let token = token();
    runtime()?.block_on(async {
        let stop = StopSignals::listen();
        let (sims, running) = crate::demo::start(&state.routes).await.map_err(CliError::runtime)?;
        banner(&state, &sims, &running, &token);
        stop.wait().await;
        let generation = running.gateway.table().generation;
        sims.stop();
        running.stop().await;
        goodbye(&state, own, generation);
        Ok(())
    })
}

fn banner(state: &State, sims: &crate::demo::Sims, running: &crate::server::Running, token: &str) {
    let table = running.gateway.table();
    let show = |a: Option<std::net::SocketAddr>| a.map_or("-".to_string(), |a| a.to_string());
    let cfg = shown(&state.routes);
    println!("ficus demo — the gateway in front of a simulated core-banking host\n");
    println!(
        "  legacy host (simulated)  tcp  {}   EBCDIC {}, 4-byte length prefix",
        sims.host_tcp,
        table.options.codepage.name()
    );
    println!("  accounts (new service)   http {}   JSON", sims.accounts);
    println!("  gateway                  http {}   tcp {}", show(running.http), show(running.tcp));
    for c in &running.channels {
        let Some(plan) = table.channel(&c.name) else { continue };
        let (tcp, http) = (show(c.tcp), show(c.http));
        println!(
            "  channel {:<16} tcp {tcp}   http {http}   {}, framing {}",
            c.name,
            plan.codepage.name(),
            plan.framing
        );
    }
    if let Some(admin) = running.admin {
        println!("  admin API                http://{admin}/   (dashboard: open it in a browser)");
    }
    let how = if state.resumed { "resumed: the last run's routes and records" } else { "fresh copy" };
    println!("  routes                   {cfg} (generation {}, {how})", table.generation);
    println!("  state                    {}/ (routes, routes.audit.jsonl, shadow/, journal.db)\n", shown(&state.dir));
    println!("In another terminal, first:\n");
    println!("  export FICUS_ADMIN_TOKEN={token} FICUS_CONFIG={}\n", state.routes.display());
    println!("Accounts 1000000000000001 … 1000000000000010:\n");
    println!("  ficus send ACCTINQ '{{\"ACCT-NO\":\"1000000000000001\"}}'");
    println!("  ficus send --tcp TXNHIST '{{\"ACCT-NO\":\"1000000000000003\",\"FROM-DATE\":20260101,\"TO-DATE\":20261231,\"MAX-ROWS\":5}}'");
    println!("  ficus send XFER '{{\"FROM-ACCT\":\"1000000000000001\",\"TO-ACCT\":\"1000000000000002\",\"AMOUNT\":150.25,\"MEMO\":\"RENT\"}}'");
    if let Some(c) = running.channels.first() {
        println!("\nThe same through the {} channel, in its own code page and framing:\n", c.name);
        println!("  ficus send --channel {} ACCTINQ '{{\"ACCT-NO\":\"1000000000000001\"}}'", c.name);
    }
    println!("\nMove ACCTINQ to the new service — a slice first, then all of it, then back:\n");
    println!("  ficus route ACCTINQ --canary 10 --to accounts --sticky ACCT-NO");
    println!("  ficus route ACCTINQ --target accounts");
    println!("  ficus routes");
    println!("  ficus route ACCTINQ --rollback");
    println!("\nWrites are journaled: send the same XFER twice with --header '{{\"HDR-SEQ-NO\":4242}}' and it is");
    println!("posted once; move an account's writes to the new service and back:\n");
    println!("  echo 1000000000000001 | ficus owners move --to accounts --keys -");
    println!("  ficus owners show 1000000000000001");
    println!("  echo 1000000000000001 | ficus owners move --rollback --keys -");
    println!("  ficus journal unknown");
    println!("\nTXNHIST pages (NEXT-KEY); a flip between pages never sends page 2 to the other system:\n");
    println!("  ficus send TXNHIST '{{\"ACCT-NO\":\"1000000000000003\",\"MAX-ROWS\":2}}'");
    println!("  ficus route TXNHIST --target accounts");
    println!("  ficus send TXNHIST '{{\"ACCT-NO\":\"1000000000000003\",\"MAX-ROWS\":2,\"NEXT-KEY\":\"H0000010\"}}'");
    println!("\nOr edit {cfg} (it is watched) and save; the reply bytes stay the same either way\n(TXNHIST's NEXT-KEY aside: each system hands out its own).");
    println!("Ctrl-C stops.");
}

fn goodbye(state: &State, own: bool, generation: u64) {
    println!("\nficus demo stopped (route table generation {generation}).");
    if !own {
        return;
    }
    println!("Kept in {}/: routes.toml as you left it, routes.audit.jsonl, shadow/.", shown(&state.dir));
    println!("`ficus demo --resume` continues from there; `ficus demo` starts clean.");
}
