//! The audit trail of route changes: JSON Lines next to routes.toml (`routes.audit.jsonl`) or
//! where `[gateway] audit_log` says (a writable volume when routes.toml is a read-only ConfigMap),
//! one entry per applied change — who, when, from where, the generation it produced, and each
//! changed route before and after (and each copybook whose content changed). Nothing else is
//! written here: a rejected file, a refused change and a reload that changed nothing leave no
//! entry, and every route change has its own generation (the reloader appends under its lock).
//! Replicas sharing one routes.toml share this file: a reload from the file to the table its
//! newest entry already records is not written again (one entry per change, not per replica).
//!
//! An applied owner move (`POST /owners/move`) is audited here too, with `owners` set: it
//! changes the journal's owner table, not the route table, so it carries the generation then
//! serving rather than a new one.

use crate::config::diff::{Diff, RouteChange};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One applied change.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AuditEntry {
    /// Seconds since the Unix epoch (UTC).
    pub time: u64,
    /// The token's name (API), or `file` / `signal`.
    pub who: String,
    /// `api`, `file` or `sighup`.
    pub source: String,
    /// Generation swapped in.
    pub generation: u64,
    /// Table hash swapped in (routes.toml and its copybooks).
    pub hash: String,
    /// Each changed route, before and after.
    pub changes: Vec<serde_json::Value>,
    /// Something outside the routes changed too.
    pub other: bool,
    /// Copybooks whose content changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub copybooks: Vec<String>,
    /// An owner move (per-account cut-over): `to` (null on a rollback), `rollback`,
    /// `requested`, `moved`, the first `keys` and `waited_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owners: Option<serde_json::Value>,
}

impl AuditEntry {
    /// An entry stamped now.
    pub fn now(who: String, source: &str, generation: u64, hash: &str, diff: &Diff) -> AuditEntry {
        let time = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let changes = diff.changes.iter().map(|c: &RouteChange| serde_json::to_value(c).unwrap_or_default()).collect();
        AuditEntry {
            time,
            who,
            source: source.into(),
            generation,
            hash: hash.into(),
            changes,
            other: diff.other,
            copybooks: Vec::new(),
            owners: None,
        }
    }
}

/// An append-only JSON Lines file.
pub struct AuditLog {
    path: Mutex<PathBuf>,
    lock: Mutex<()>,
}

impl AuditLog {
    /// The audit log beside a routes file: `routes.toml` → `routes.audit.jsonl`.
    pub fn beside(routes: &Path) -> AuditLog {
        AuditLog::at(Self::resolve(routes, None))
    }

    /// The audit log at `path`.
    pub fn at(path: PathBuf) -> AuditLog {
        AuditLog { path: Mutex::new(path), lock: Mutex::new(()) }
    }

    /// Where the audit log of `routes` is: `configured` (`[gateway] audit_log`, relative to
    /// routes.toml's directory) or `<stem>.audit.jsonl` beside it.
    pub fn resolve(routes: &Path, configured: Option<&str>) -> PathBuf {
        match configured {
            Some(file) => routes.parent().unwrap_or(Path::new(".")).join(file),
            None => {
                let stem = routes.file_stem().and_then(|s| s.to_str()).unwrap_or("routes");
                routes.with_file_name(format!("{stem}.audit.jsonl"))
            }
        }
    }

    /// Its path.
    pub fn path(&self) -> PathBuf {
        self.path.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Points it at `path` (a reload changed `audit_log`); entries already written stay where
    /// they are.
    pub fn repoint(&self, path: PathBuf) {
        *self.path.lock().unwrap_or_else(|p| p.into_inner()) = path;
    }

    /// Whether an entry could be appended now: a regular file (or none yet, then created
    /// empty) that opens for appending. The error names the path.
    pub fn writable(&self) -> std::io::Result<()> {
        open(&self.path(), false).map(drop)
    }

    /// Appends one entry (and syncs it to disk).
    pub fn append(&self, entry: &AuditEntry) -> std::io::Result<()> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut f = open(&self.path(), true)?;
        f.lock()?;
        let written = write_entry(&mut f, entry);
        f.unlock()?;
        written
    }

    /// Appends `entry` unless the newest entry already records its table (`hash`): under an
    /// exclusive lock on the file (`flock`), so replicas sharing it never both write one change.
    /// True when it was written.
    pub fn append_unless_recorded(&self, entry: &AuditEntry) -> std::io::Result<bool> {
        use std::io::{Read, Seek, SeekFrom};
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut f = open(&self.path(), true)?;
        f.lock()?;
        // The newest entry is in the file's tail (entries are small; a long one reads whole).
        let len = f.metadata()?.len();
        let mut tail = Vec::new();
        let mut from = len.saturating_sub(64 << 10);
        loop {
            f.seek(SeekFrom::Start(from))?;
            tail.clear();
            (&mut f).take(len - from).read_to_end(&mut tail)?;
            let lines = tail.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count();
            if from == 0 || lines >= 2 {
                break;
            }
            from = from.saturating_sub(1 << 20);
        }
        // The newest entry that reads (a line cut short by a full disk is not one).
        let newest = tail.split(|b| *b == b'\n').rev().find_map(|l| serde_json::from_slice::<AuditEntry>(l).ok());
        let recorded = newest.is_some_and(|e| e.hash == entry.hash);
        let written = if recorded { Ok(()) } else { write_entry(&mut f, entry) };
        f.unlock()?;
        written.map(|()| !recorded)
    }

    /// The last `n` entries, oldest first.
    pub fn recent(&self, n: usize) -> Vec<AuditEntry> {
        let text = std::fs::read_to_string(self.path()).unwrap_or_default();
        let entries: Vec<AuditEntry> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
        entries[entries.len().saturating_sub(n)..].to_vec()
    }
}

/// Opens the audit log at `path` for appending (and reading, for `read`), created if missing.
/// Only a regular file: a device never ends when its tail is read (`/dev/full`), a named pipe
/// blocks the open until someone reads it — either would hold the reload lock for ever. Errors
/// name the path.
fn open(path: &Path, read: bool) -> std::io::Result<std::fs::File> {
    let named = |e: std::io::Error| std::io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    if let Ok(meta) = std::fs::metadata(path) {
        if !meta.is_file() {
            return Err(named(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file (the audit log is a file of JSON lines)",
            )));
        }
    }
    std::fs::OpenOptions::new().create(true).read(read).append(true).open(path).map_err(named)
}

/// Appends `entry` as one line of `f` (open for reading and appending, locked), synced. A line
/// an earlier failed write left cut short is ended first, so this entry stands on its own line;
/// a write that fails is cut back off (as far as the disk allows), leaving the file as it was.
fn write_entry(f: &mut std::fs::File, entry: &AuditEntry) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let len = f.metadata()?.len();
    let mut line = Vec::new();
    if len > 0 {
        let mut last = [0u8];
        f.seek(SeekFrom::Start(len - 1))?;
        f.read_exact(&mut last)?;
        if last[0] != b'\n' {
            line.push(b'\n');
        }
    }
    serde_json::to_writer(&mut line, entry)?;
    line.push(b'\n');
    let written = f.write_all(&line).and_then(|()| f.sync_data());
    if written.is_err() {
        let _ = f.set_len(len);
    }
    written
}
