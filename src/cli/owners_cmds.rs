//! `ficus owners …`: per-account cut-over through a running gateway's admin API — move a file
//! of accounts' writes to an upstream (in batches, a progress line each), roll them back, and
//! show who owns an account. The admin address and token are found as for `ficus route`.

use super::admin_cmds::{call, failure, runtime};
use super::CliError;
use serde_json::{json, Value};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Accounts sent in one `POST /owners/move` unless `--batch` says otherwise.
pub const DEFAULT_BATCH: u64 = 1000;

/// `ficus owners …`.
#[derive(clap::Subcommand, Debug)]
pub enum OwnersCommand {
    /// Move accounts' writes to an upstream (per-account cut-over), or back with --rollback.
    ///
    /// Every route with an owner_key (e.g. XFER's FROM-ACCT) then sends these accounts' messages
    /// to the owner, whatever its target or canary says. Writes in flight for them finish first
    /// and new ones wait (up to [journal] move_wait_ms) while the owner changes; the move is
    /// audited with your token's name. Accounts already owned by the upstream are left as they
    /// are, so a file can be sent again after a batch was refused.
    ///
    /// --keys names a file with one account per line (blank lines and '#' comments skipped),
    /// or '-' for standard input. Large files go in batches (--batch), a progress line each;
    /// a refused batch stops the run, and the lines already moved are said.
    ///
    /// --rollback moves each account back to the owner it had before its last move (the route,
    /// if it had none). Rolling back twice is rolling back once: an undone move has nothing left to undo.
    /// Examples:
    ///   ficus owners move --to accounts --keys accounts.txt
    ///   grep '^1000' customers.txt | ficus owners move --to accounts --keys -
    ///   ficus owners move --rollback --keys accounts.txt
    /// Exit codes: 0 moved, 1 refused (writes still in flight, an unknown upstream, no
    /// [journal]) or the gateway cannot be reached; needs FICUS_ADMIN_TOKEN.
    #[command(verbatim_doc_comment)]
    Move {
        /// The upstream to move the accounts to (one of routes.toml's [upstreams]).
        #[arg(long, required_unless_present = "rollback", conflicts_with = "rollback")]
        to: Option<String>,
        /// Back to each account's previous owner instead.
        #[arg(long)]
        rollback: bool,
        /// The accounts: a file, one per line, or '-' for standard input.
        #[arg(long, value_name = "FILE")]
        keys: PathBuf,
        /// Accounts per request.
        #[arg(long, default_value_t = DEFAULT_BATCH, value_parser = clap::value_parser!(u64).range(1..=5000))]
        batch: u64,
        /// The admin API's base URL (default: `[gateway] admin` of --config).
        #[arg(long, env = "FICUS_ADMIN")]
        admin: Option<String>,
        /// The routes.toml the gateway runs, to find its admin address.
        #[arg(long, env = "FICUS_CONFIG", default_value = "routes.toml")]
        config: PathBuf,
    },
    /// Show who owns accounts' writes: the owner table's upstream, or the route's decision.
    ///
    /// Examples:
    ///   ficus owners show 1000000000000001
    ///   ficus owners show 1000000000000001 1000000000000002 --json
    #[command(verbatim_doc_comment)]
    Show {
        /// The accounts.
        #[arg(required = true)]
        accounts: Vec<String>,
        /// JSON (one object per account, in an array) instead of lines.
        #[arg(long)]
        json: bool,
        /// The admin API's base URL (default: `[gateway] admin` of --config).
        #[arg(long, env = "FICUS_ADMIN")]
        admin: Option<String>,
        /// The routes.toml the gateway runs, to find its admin address.
        #[arg(long, env = "FICUS_CONFIG", default_value = "routes.toml")]
        config: PathBuf,
    },
}

/// Runs one `ficus owners` command against the admin API at `admin`.
pub fn run(command: OwnersCommand, admin: &str) -> Result<(), CliError> {
    match command {
        OwnersCommand::Move { to, rollback, keys, batch, .. } => {
            let accounts = read_keys(&keys)?;
            move_accounts(admin, to.as_deref().filter(|_| !rollback), &accounts, batch as usize, &keys)
        }
        OwnersCommand::Show { accounts, json, .. } => show(admin, &accounts, json),
    }
}

/// The admin flags of a command, for finding the gateway.
pub fn admin_args(command: &OwnersCommand) -> (Option<String>, &Path) {
    match command {
        OwnersCommand::Move { admin, config, .. } | OwnersCommand::Show { admin, config, .. } => {
            (admin.clone(), config.as_path())
        }
    }
}

/// Accounts from `path` (or stdin for `-`): one a line, trimmed; blank lines and `#` comments
/// (whole lines, or after the account) skipped.
pub fn parse_keys(reader: impl BufRead, shown: &str) -> Result<Vec<String>, CliError> {
    let mut keys = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| CliError::runtime(format!("{shown} line {}: {e}", n + 1)))?;
        let key = line.split('#').next().unwrap_or("").trim();
        if key.is_empty() {
            continue;
        }
        if key.contains(char::is_whitespace) {
            return Err(CliError::runtime(format!(
                "{shown} line {}: {key:?} has a space inside: one account per line",
                n + 1
            )));
        }
        keys.push(key.to_string());
    }
    Ok(keys)
}

fn read_keys(path: &Path) -> Result<Vec<String>, CliError> {
    let keys = if path == Path::new("-") {
        parse_keys(std::io::stdin().lock(), "standard input")?
    } else {
        let file =
            std::fs::File::open(path).map_err(|e| CliError::runtime(format!("--keys {}: {e}", path.display())))?;
        parse_keys(std::io::BufReader::new(file), &path.display().to_string())?
    };
    if keys.is_empty() {
        return Err(CliError::runtime(format!(
            "--keys {}: no accounts in it (one per line; blank lines and '#' comments are skipped)",
            path.display()
        )));
    }
    Ok(keys)
}

fn move_accounts(
    admin: &str,
    to: Option<&str>,
    accounts: &[String],
    batch: usize,
    file: &Path,
) -> Result<(), CliError> {
    let rt = runtime()?;
    let url = format!("{admin}/owners/move");
    let batches = accounts.len().div_ceil(batch);
    let whither = to.map_or("back to their previous owners".to_string(), |t| format!("to {t}"));
    let (mut moved, mut already, mut waited) = (0u64, 0u64, 0u64);
    let mut unaudited = Vec::new();
    for (i, chunk) in accounts.chunks(batch).enumerate() {
        let body = match to {
            Some(t) => json!({ "to": t, "keys": chunk }),
            None => json!({ "rollback": true, "keys": chunk }),
        };
        let (status, v) = rt.block_on(call(hyper::Method::POST, &url, Some(body)))?;
        if status != 200 {
            let done = i * batch;
            let mut e = failure(status, &v);
            e.message = format!(
                "batch {}/{batches} (accounts {}–{} of {}) not moved: {}\n  {}",
                i + 1,
                done + 1,
                done + chunk.len(),
                file.display(),
                e.message,
                if i == 0 {
                    "nothing was moved".to_string()
                } else {
                    format!("the {done} account(s) before it were moved ({moved} changed owner); those after it were not sent")
                }
            );
            return Err(e);
        }
        if let Some(why) = v["audit_error"].as_str() {
            unaudited.push(format!("batch {}: {why}", i + 1));
        }
        let n = |k: &str| v[k].as_u64().unwrap_or(0);
        (moved, already, waited) = (moved + n("moved"), already + n("already"), waited.max(n("waited_ms")));
        eprintln!(
            "batch {}/{batches}: {} account(s) {whither}: {} moved, {} already there, writes waited {} ms ({} of {} sent)",
            i + 1,
            chunk.len(),
            n("moved"),
            n("already"),
            n("waited_ms"),
            i * batch + chunk.len(),
            accounts.len()
        );
    }
    let audited = if unaudited.is_empty() { "audited" } else { "NOT all audited (see below)" };
    println!(
        "{} account(s) {whither}: {moved} changed owner, {already} already there (longest wait for writes in flight: \
         {waited} ms); {audited}.",
        accounts.len()
    );
    for why in &unaudited {
        println!("  moved but NOT in the audit log: {why}");
    }
    if to.is_none() && moved < accounts.len() as u64 {
        println!("  ({} had no move to roll back)", accounts.len() as u64 - moved);
    }
    Ok(())
}

/// One account's owner as people read it.
fn describe(v: &Value) -> String {
    let routes: Vec<String> = v["routes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| format!("{} ({})", r["op"].as_str().unwrap_or("?"), r["owner_key"].as_str().unwrap_or("?")))
        .collect();
    let follows = if routes.is_empty() {
        "no route has an owner_key: the owner is not used".to_string()
    } else {
        format!("followed by {}", routes.join(", "))
    };
    let moving = v["moving_to"].as_str().map(|m| format!(", MOVING to {}", if m.is_empty() { "the route" } else { m }));
    let when = v["updated_ms"].as_i64().map(|ms| {
        let offset = super::clock::local_offset(ms).seconds;
        format!(" by {} at {}", v["changed_by"].as_str().unwrap_or("?"), super::clock::format_ms(ms, offset))
    });
    match v["owner"].as_str() {
        Some(owner) => format!(
            "owner {owner}{} (before: {}){}; {follows}",
            when.unwrap_or_default(),
            v["previous"].as_str().unwrap_or("the route"),
            moving.unwrap_or_default()
        ),
        None if v["updated_ms"].is_null() => format!("no owner: each route decides; {follows}"),
        None => format!(
            "no owner: each route decides (rolled back{}){}; {follows}",
            when.unwrap_or_default(),
            moving.unwrap_or_default()
        ),
    }
}

fn show(admin: &str, accounts: &[String], as_json: bool) -> Result<(), CliError> {
    let rt = runtime()?;
    let mut all = Vec::new();
    for account in accounts {
        let path: String = account
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let (status, v) = rt.block_on(call(hyper::Method::GET, &format!("{admin}/owners/{path}"), None))?;
        if status != 200 {
            return Err(failure(status, &v));
        }
        if !as_json {
            println!("{account}  {}", describe(&v));
        }
        all.push(v);
    }
    if as_json {
        super::journal_cmds::print_json(&Value::Array(all))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_files_skip_blanks_and_comments() {
        let text = "# accounts moving on day 1\n1000000000000001\n\n  1000000000000002  # VIP\n#1000000000000003\n";
        assert_eq!(parse_keys(text.as_bytes(), "t").unwrap(), ["1000000000000001", "1000000000000002"]);
        let err = parse_keys("1000 0001\n".as_bytes(), "accounts.txt").unwrap_err().message;
        assert!(err.contains("accounts.txt line 1"), "{err}");
    }

    #[test]
    fn an_owner_is_said_with_who_moved_it_and_which_routes_follow() {
        let v = json!({ "owner": "accounts", "previous": null, "moving_to": null, "updated_ms": 0, "changed_by": "ops",
                        "routes": [{ "op": "XFER", "owner_key": "FROM-ACCT" }] });
        let line = describe(&v);
        assert!(line.starts_with("owner accounts by ops at 1970-01-01"), "{line}");
        assert!(line.contains("(before: the route)") && line.ends_with("followed by XFER (FROM-ACCT)"), "{line}");
        let none = json!({ "owner": null, "updated_ms": null, "routes": [] });
        assert!(describe(&none).starts_with("no owner: each route decides"), "{}", describe(&none));
    }
}
