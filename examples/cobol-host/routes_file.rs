//! The gateway's routes file for this host, `<data>/routes.toml`: written once, then kept.
//!
//! On the first start the host fills in the sources' `routes.toml` (the gateway's copybooks as
//! an absolute path, the addresses it bound) and writes it into the data directory. From then
//! on the file belongs to the gateway and its operator: flips, canaries and shadows are
//! written into it, so the host never overwrites it — a restart must not send a migrated
//! operation back to the COBOL host. When the kept file names other addresses than the ones
//! bound now, the host says so, naming the file and both addresses; deleting the file and
//! restarting writes a fresh one.

use crate::sources::Sources;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// What happened to the routes file on this start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// There was none: it was written from the template.
    Written,
    /// There was one: it was left as it was.
    Kept,
}

/// The routes file, what happened to it, and anything in it that does not match this host.
#[derive(Debug)]
pub struct RoutesFile {
    /// `<data>/routes.toml`, absolute.
    pub path: PathBuf,
    /// Written or kept.
    pub outcome: Outcome,
    /// One sentence per mismatch (an address, a missing copybook directory).
    pub warnings: Vec<String>,
}

/// The URL the gateway calls the `accounts` service at when it listens on `addr`.
pub fn accounts_url(addr: &str) -> String {
    format!("http://{addr}/ops")
}

/// Writes `<data>/routes.toml` if there is none, else keeps it; then checks that it points at
/// `host` (and at `accounts`, when the service runs).
pub fn ensure(sources: &Sources, data: &Path, host: &str, accounts: Option<&str>) -> Result<RoutesFile, String> {
    let path = data.join("routes.toml");
    let outcome = if path.exists() {
        Outcome::Kept
    } else {
        let text = fill_in(sources, host, accounts)?;
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut file) => {
                file.write_all(text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                Outcome::Written
            }
            // Another start wrote it in between: keep that one.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Outcome::Kept,
            Err(e) => return Err(format!("cannot create {}: {e}", path.display())),
        }
    };
    let warnings = check(&path, host, accounts);
    Ok(RoutesFile { path, outcome, warnings })
}

/// The template with absolute copybooks and the bound addresses.
fn fill_in(sources: &Sources, host: &str, accounts: Option<&str>) -> Result<String, String> {
    let template = sources.routes_template();
    let text = std::fs::read_to_string(&template).map_err(|e| format!("cannot read {}: {e}", template.display()))?;
    let copybooks = sources.copybooks.display().to_string().replace('\\', "/");
    let mut text = text
        .replace(
            "\"../../copybooks\"      # relative to this file",
            &format!("{copybooks:?}  # the gateway's copybooks"),
        )
        .replace("\"../../copybooks\"", &format!("{copybooks:?}"))
        .replace("address = \"127.0.0.1:7001\"", &format!("address = \"{host}\""));
    if let Some(accounts) = accounts {
        text = text.replace(&accounts_url("127.0.0.1:7002"), &accounts_url(accounts));
    }
    Ok(text)
}

/// What in the file at `path` does not match this host: the legacy address, the `accounts`
/// URL (when it runs), the copybook directory.
fn check(path: &Path, host: &str, accounts: Option<&str>) -> Vec<String> {
    let file = path.display();
    let config: toml::Value = match std::fs::read_to_string(path).map(|t| t.parse()) {
        Ok(Ok(config)) => config,
        Ok(Err(e)) => return vec![format!("{file} is not valid TOML ({e}); the gateway will refuse it")],
        Err(e) => return vec![format!("cannot read {file}: {e}")],
    };
    let fix = "edit it, or delete it and restart this host to have it written afresh";
    let mut warnings = Vec::new();
    let upstream = |name: &str, key: &str| config.get("upstreams")?.get(name)?.get(key)?.as_str().map(str::to_string);
    match upstream("legacy", "address") {
        Some(address) if address == host => {}
        Some(address) => warnings.push(format!(
            "{file} sends the COBOL host's traffic to {address} ([upstreams.legacy] address), but this host \
             listens on {host}: {fix}"
        )),
        None => warnings.push(format!("{file} has no [upstreams.legacy] address; this host listens on {host}")),
    }
    if accounts.is_none() {
        if let Some(url) = upstream("accounts", "url") {
            let at = url.trim_start_matches("http://").split('/').next().unwrap_or_default().to_string();
            warnings.push(format!(
                "{file} calls the accounts service at {url}, which this host is not running: \
                 start it with --accounts {at} if any route or shadow uses it"
            ));
        }
    }
    if let Some(accounts) = accounts {
        let want = accounts_url(accounts);
        match upstream("accounts", "url") {
            Some(url) if url == want => {}
            Some(url) => warnings.push(format!(
                "{file} calls the accounts service at {url} ([upstreams.accounts] url), but it listens on \
                 {accounts} ({want}): {fix}"
            )),
            None => warnings.push(format!("{file} has no [upstreams.accounts] url; the service listens at {want}")),
        }
    }
    let books = config.get("gateway").and_then(|g| g.get("copybooks")).and_then(|c| c.as_str());
    if let Some(books) = books {
        let dir = path.parent().unwrap_or(Path::new(".")).join(books);
        if !dir.is_dir() {
            warnings.push(format!("{file} reads copybooks from {}, which is not a directory: {fix}", dir.display()));
        }
    }
    warnings
}
