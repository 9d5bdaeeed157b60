//! `ficus demo`: the simulated legacy host, the sample `accounts` service and the gateway, in
//! one process, on the addresses routes.toml names.

use crate::codec::charset::CodePage;
use crate::codec::CodecOptions;
use crate::frame::Framing;
use crate::server::{self, Running};
use crate::sim::host::HostSim;
use crate::sim::ledger::Ledger;
use crate::sim::postings::Postings;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

pub mod state;

/// The demo's simulators, running.
pub struct Sims {
    /// The host's framed TCP address.
    pub host_tcp: SocketAddr,
    /// The host's HTTP address (for nginx in benchmarks), if started.
    pub host_http: Option<SocketAddr>,
    /// The `accounts` service's address.
    pub accounts: SocketAddr,
    /// The ledger both read.
    pub ledger: Arc<Ledger>,
    /// The host's own postings: the transfers it applied (and can cancel), with counts.
    pub host_postings: Arc<Postings>,
    /// The `accounts` service's own postings.
    pub accounts_postings: Arc<Postings>,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Sims {
    /// Stops the simulators.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }
}

/// Starts the host (4-byte length prefix, `codepage`) and `accounts` on the given addresses
/// (port 0 picks one), with copybooks from `copybooks`.
pub async fn start_sims(
    copybooks: &Path,
    codepage: CodePage,
    host_tcp: &str,
    host_http: Option<&str>,
    accounts: &str,
) -> Result<Sims, String> {
    let ledger = Arc::new(Ledger::seeded());
    let (host_postings, accounts_postings) = (Arc::new(Postings::default()), Arc::new(Postings::default()));
    let options = CodecOptions::for_codepage(codepage);
    let host = Arc::new(HostSim::with_postings(copybooks, options, ledger.clone(), host_postings.clone())?);
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let tcp = server::bind("legacy host", host_tcp).await?;
    let host_tcp = tcp.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(host.clone().serve_tcp(tcp, Framing::prefix(4), shutdown.clone()));
    let host_http = match host_http {
        Some(addr) => {
            let l = server::bind("legacy host (http)", addr).await?;
            let a = l.local_addr().map_err(|e| e.to_string())?;
            tokio::spawn(host.clone().serve_http(l, shutdown.clone()));
            Some(a)
        }
        None => None,
    };
    let acc = server::bind("accounts service", accounts).await?;
    let accounts = acc.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(crate::sim::accounts::serve_with(acc, ledger.clone(), accounts_postings.clone(), shutdown));
    Ok(Sims { host_tcp, host_http, accounts, ledger, host_postings, accounts_postings, stop })
}

/// Starts the sims where `table`'s upstreams expect them, then the gateway.
pub async fn start(config: &Path) -> Result<(Sims, Running), String> {
    let table = crate::config::load(config, None, 1).map_err(|e| e.to_string())?;
    let dir = config.parent().unwrap_or(Path::new(".")).join(&table.file.gateway.copybooks);
    let upstream_addr = |name: &str| -> Result<String, String> {
        let u = table.file.upstreams.get(name).ok_or_else(|| format!("the demo needs an upstream named {name}"))?;
        u.address
            .clone()
            .or_else(|| {
                u.url.as_ref().map(|url| url.trim_start_matches("http://").split('/').next().unwrap_or("").to_string())
            })
            .ok_or_else(|| format!("upstream {name} has no address"))
    };
    let sims =
        start_sims(&dir, table.options.codepage, &upstream_addr("legacy")?, None, &upstream_addr("accounts")?).await?;
    let running = server::start(config, server::Options::default()).await?;
    Ok((sims, running))
}
