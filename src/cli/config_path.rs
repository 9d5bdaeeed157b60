//! Finding routes.toml for a command that reads it: when it is not there, say which path was
//! tried, where that path came from, and the two ways to name another (`--config`,
//! `FICUS_CONFIG`).

use super::CliError;
use crate::route::RouteTable;
use std::path::Path;

/// The environment variable that names routes.toml for commands that read it (`--config`'s
/// default when set). `ficus demo` prints an `export` line for it.
pub const CONFIG_ENV: &str = "FICUS_CONFIG";

/// Why `path` cannot be used, when it does not exist: the path tried (absolute), where it came
/// from, and what to do.
pub fn missing(path: &Path) -> Option<String> {
    if path.exists() {
        return None;
    }
    let shown = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let from = match std::env::var_os(CONFIG_ENV) {
        Some(v) if Path::new(&v) == path => format!("from {CONFIG_ENV}"),
        _ if path == Path::new("routes.toml") => "the default: routes.toml in the current directory".to_string(),
        _ => "from --config".to_string(),
    };
    Some(format!(
        "cannot find routes.toml: tried {} ({from}).\n  \
         Name the gateway's routes file with --config PATH, or once for every command:\n    \
         export {CONFIG_ENV}=PATH\n  \
         (`ficus demo` prints the path it runs on.)",
        shown.display()
    ))
}

/// Loads and validates routes.toml at `path`; a missing file gets [`missing`]'s hint, an invalid
/// one exits 64 with its problems.
pub fn load(path: &Path) -> Result<RouteTable, CliError> {
    if let Some(hint) = missing(path) {
        return Err(CliError::config(hint));
    }
    crate::config::load(path, None, 1).map_err(|e| CliError::config(e.to_string()))
}
