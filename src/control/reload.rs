//! The one reload path. File watch, SIGHUP and the admin API all go through [`Reloader`]: read →
//! parse → validate → build → diff → audit → swap, and an admin change is read → patch → build →
//! write → audit → swap, each under ONE lock from the first read to the swap, so no change is lost
//! between another's read and swap, and no table serves before its audit entry is written. A file
//! that fails any step is rejected with its reason (logged, counted, kept for the admin API) and
//! the running table stays. Every swap gets the next generation number and exactly one audit
//! entry; nothing else is audited.
//!
//! The admin change itself (patching the running table's source) is in [`super::change`].

use crate::config::build::{build_with, fingerprint, ConfigError, ConfigProblem, CopybookCache};
use crate::config::diff::{diff, Diff};
use crate::control::audit::{AuditEntry, AuditLog};
use crate::gateway::Gateway;
use crate::route::RouteTable;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use tracing::{info, warn};

/// What asked for a reload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// routes.toml (or a copybook it uses) changed on disk.
    File,
    /// SIGHUP.
    Signal,
    /// The admin API, by the named token's holder.
    Api(String),
}

impl Trigger {
    pub(super) fn source(&self) -> &'static str {
        match self {
            Trigger::File => "file",
            Trigger::Signal => "sighup",
            Trigger::Api(_) => "api",
        }
    }
    pub(super) fn who(&self) -> String {
        match self {
            Trigger::Api(who) => who.clone(),
            Trigger::File => "file".into(),
            Trigger::Signal => "signal".into(),
        }
    }
}

/// Counters and the last rejection, for the admin API and metrics.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ReloadStatus {
    /// Reloads and changes that swapped in a new table.
    pub applied: u64,
    /// Reloads that found nothing changed.
    pub unchanged: u64,
    /// Reloads and changes rejected (the old table kept serving).
    pub rejected: u64,
    /// Why the files on disk were rejected, while they still differ from the running table.
    /// Cleared by the next reload that finds them valid (changed or not).
    pub last_error: Option<String>,
    /// Why the last applied change could not be written to the audit log (path and error);
    /// cleared by the next entry written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_error: Option<String>,
}

/// The result of a reload or change that did not fail.
#[derive(Clone, Debug, Serialize)]
pub struct ReloadOutcome {
    /// Generation now serving.
    pub generation: u64,
    /// Table hash now serving (routes.toml and the copybooks it uses).
    pub hash: String,
    /// What changed in routes.toml (empty when nothing did).
    pub diff: Diff,
    /// Copybooks whose content changed (used before and after).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub copybooks: Vec<String>,
    /// Nothing changed: no new generation, nothing audited.
    pub unchanged: bool,
    /// Where the invalid routes.toml found on disk was kept when a change replaced it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept_rejected: Option<String>,
    /// What else happened, for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The change runs but routes.toml could not be written (a read-only file): a reload from
    /// disk or a restart undoes it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub not_persisted: bool,
    /// Applied, but worth a look: shadows of the changed routes that compare nothing (or only
    /// part) because they point at the side now answering. Each says what to run about it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The change turned the route's shadow around (asked by `"shadow_follows": true`): what
    /// was turned, for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub turned: Option<String>,
    /// Applied and running, but NOT in the audit log: its path and the error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_error: Option<String>,
}

impl ReloadOutcome {
    pub(super) fn unchanged(table: &RouteTable) -> ReloadOutcome {
        ReloadOutcome {
            generation: table.generation,
            hash: table.hash.clone(),
            diff: Diff::default(),
            copybooks: Vec::new(),
            unchanged: true,
            kept_rejected: None,
            message: None,
            not_persisted: false,
            warnings: Vec::new(),
            turned: None,
            audit_error: None,
        }
    }
}

/// Why a reload or an admin change was not applied.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// `If-Match` named a table that is no longer the running one.
    #[error("the route table changed since it was read: it is now generation {generation}, hash {current}")]
    Stale {
        /// The running table's hash.
        current: String,
        /// The running table's generation.
        generation: u64,
    },
    /// The change is malformed (unknown key, not an operation code); nothing changed.
    #[error("{0}")]
    Invalid(String),
    /// The result does not validate; nothing changed.
    #[error(transparent)]
    Rejected(#[from] ConfigError),
    /// routes.toml could not be written; nothing changed.
    #[error("{0}")]
    Write(String),
}

/// Reloads one gateway from one file.
pub struct Reloader {
    pub(super) gateway: Arc<Gateway>,
    pub(super) path: PathBuf,
    lock: Mutex<()>,
    status: Mutex<ReloadStatus>,
    audit: AuditLog,
    rejections: super::rejections::Rejections,
    pub(super) cache: CopybookCache,
    generations: tokio::sync::watch::Sender<u64>,
    /// routes.toml's text as it was when a change could not be written over it: the disk is
    /// then behind the running table, not a new edit, until it changes.
    pub(super) behind: Mutex<Option<String>>,
}

impl Reloader {
    /// A reloader for `gateway` from `path`; the audit log goes where `[gateway] audit_log`
    /// says, or next to it. The running table's copybooks seed the parse cache.
    pub fn new(gateway: Arc<Gateway>, path: &Path) -> Reloader {
        let table = gateway.table();
        let audit = AuditLog::at(AuditLog::resolve(path, table.file.gateway.audit_log.as_deref()));
        let cache = CopybookCache::seeded(Some(&table.source));
        Reloader {
            gateway,
            path: path.to_path_buf(),
            lock: Mutex::new(()),
            status: Mutex::new(ReloadStatus::default()),
            audit,
            rejections: Default::default(),
            cache,
            generations: tokio::sync::watch::channel(table.generation).0,
            behind: Mutex::new(None),
        }
    }

    /// The last rejected reloads and refused changes (the audit log has only applied ones).
    pub fn rejections(&self) -> &super::rejections::Rejections {
        &self.rejections
    }

    /// The routes file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The gateway.
    pub fn gateway(&self) -> &Arc<Gateway> {
        &self.gateway
    }

    /// The audit log.
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    /// Counters and last error.
    pub fn status(&self) -> ReloadStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// How many copybook files this reloader has parsed (none for a reload that changed none).
    pub fn copybook_parses(&self) -> u64 {
        self.cache.parses()
    }

    /// The generation now serving, updated on every swap (the file watcher follows it).
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.generations.subscribe()
    }

    /// Re-reads routes.toml and its copybooks and swaps them in if valid and changed.
    pub fn reload(&self, trigger: Trigger) -> Result<ReloadOutcome, ConfigError> {
        match self.reload_if(trigger, None) {
            Ok(outcome) => Ok(outcome),
            Err(ChangeError::Rejected(e)) => Err(e),
            Err(other) => Err(self.config_error(other.to_string())),
        }
    }

    /// [`Reloader::reload`], refused with [`ChangeError::Stale`] unless the running table's hash
    /// matches `if_match` (an HTTP `If-Match` value) when one is given.
    pub fn reload_if(&self, trigger: Trigger, if_match: Option<&str>) -> Result<ReloadOutcome, ChangeError> {
        let _guard = self.lock();
        let current = self.gateway.table();
        precondition(if_match, &current)?;
        Ok(self.reload_locked(&trigger, &current)?)
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn config_error(&self, message: String) -> ConfigError {
        ConfigError {
            file: self.path.display().to_string(),
            problems: vec![ConfigProblem { line: None, column: None, message }],
        }
    }

    /// The reload itself; the caller holds the lock and passes the running table.
    pub(super) fn reload_locked(
        &self,
        trigger: &Trigger,
        current: &Arc<RouteTable>,
    ) -> Result<ReloadOutcome, ConfigError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) => return Err(self.rejected(self.config_error(format!("cannot read: {e}")), trigger)),
        };
        if fingerprint(&text, &self.path, &self.cache).as_deref() == Some(current.hash.as_str()) {
            // What is on disk is what runs: whatever was rejected before has been fixed.
            self.bump(|s| s.unchanged += 1);
            self.set_last_error(None);
            return Ok(ReloadOutcome::unchanged(current));
        }
        let table = build_with(&text, &self.path, Some(current), current.generation + 1, &self.cache, None)
            .map_err(|e| self.rejected(e, trigger))?;
        let outcome = self.swap_in(table, current, trigger);
        self.set_last_error(None);
        Ok(outcome)
    }

    /// Audits `table`, then swaps it in over `current`, logs and counts it. The caller holds the lock.
    pub(super) fn swap_in(&self, table: RouteTable, current: &RouteTable, trigger: &Trigger) -> ReloadOutcome {
        let changes = diff(&current.file, &table.file);
        let copybooks = table.source.changed_copybooks(&current.source);
        let (generation, hash) = (table.generation, table.hash.clone());
        // Upstream settings (shadow_connections…) touch every route; else only the changed ones.
        let warnings: Vec<String> = if changes.other {
            crate::config::shadow_idle::shadow_warnings(&table)
        } else {
            changes.changes.iter().filter_map(|c| crate::config::shadow_idle::shadow_warning(&table, &c.op)).collect()
        };
        for warning in &warnings {
            warn!(generation, %warning, "shadow compares nothing or only part");
        }
        // Audited before it serves: whoever sees the new generation (`GET /routes`, a reply's
        // Ficus-Generation) finds its entry in the audit log. The swap itself cannot fail.
        let mut entry = AuditEntry::now(trigger.who(), trigger.source(), generation, &hash, &changes);
        entry.copybooks = copybooks.clone();
        // Replicas sharing one routes.toml share its audit log: a reload that only follows the
        // file to a table another replica has recorded (its admin change wrote the file, or it
        // reloaded the same edit first) is that change, not a new one.
        self.audit.repoint(AuditLog::resolve(&self.path, table.file.gateway.audit_log.as_deref()));
        let written = match trigger.source() {
            "api" => self.audit.append(&entry).map(|()| true),
            _ => self.audit.append_unless_recorded(&entry),
        };
        let audit_error = self.audited(written.map(|w| {
            if !w {
                info!(generation, %hash, "already the audit log's newest entry (a replica sharing the file recorded it)")
            }
        }));
        self.gateway.swap(table);
        info!(generation, %hash, source = trigger.source(), added = ?changes.added, removed = ?changes.removed,
            retargeted = ?changes.retargeted, changed = changes.changes.len(), other = changes.other,
            copybooks = ?copybooks, "routes reloaded");
        self.bump(|s| s.applied += 1);
        metrics::counter!("ficus_reloads_total", "result" => "applied", "source" => trigger.source()).increment(1);
        metrics::gauge!("ficus_route_generation").set(generation as f64);
        self.generations.send_replace(generation);
        ReloadOutcome {
            generation,
            hash,
            diff: changes,
            copybooks,
            unchanged: false,
            kept_rejected: None,
            message: None,
            not_persisted: false,
            warnings,
            turned: None,
            audit_error,
        }
    }

    /// Records how writing an audit entry went: a failure is logged, counted
    /// (`ficus_audit_failures_total`) and kept in the status until an entry is written; it is
    /// returned (path and error) for the reply.
    pub fn audited(&self, written: std::io::Result<()>) -> Option<String> {
        let error = written.err().map(|e| format!("{}: {e}", self.audit.path().display()));
        if let Some(error) = &error {
            warn!(%error, "cannot write the audit log: the change is applied but not audited");
            metrics::counter!("ficus_audit_failures_total").increment(1);
        }
        self.bump(|s| s.audit_error = error.clone());
        error
    }

    /// The files on disk were rejected: counted, and kept as the last error.
    pub(super) fn rejected(&self, e: ConfigError, trigger: &Trigger) -> ConfigError {
        warn!(source = trigger.source(), error = %e, "routes rejected; the running table stays");
        self.count_rejected(trigger, &e);
        self.set_last_error(Some(e.to_string()));
        e
    }

    /// An admin change was refused: counted, but the files on disk are not what was refused,
    /// so the last error (about them) stays as it was.
    pub(super) fn refused(&self, e: ConfigError, trigger: &Trigger) -> ConfigError {
        warn!(source = trigger.source(), error = %e, "route change refused; the running table stays");
        self.count_rejected(trigger, &e);
        e
    }

    fn count_rejected(&self, trigger: &Trigger, e: &ConfigError) {
        self.rejections.add(trigger.who(), trigger.source(), e.to_string());
        metrics::counter!("ficus_reloads_total", "result" => "rejected", "source" => trigger.source()).increment(1);
        self.bump(|s| s.rejected += 1);
    }

    /// Sets or clears the "last reload rejected" state and its gauge.
    pub(super) fn set_last_error(&self, error: Option<String>) {
        metrics::gauge!("ficus_reload_last_rejected").set(if error.is_some() { 1.0 } else { 0.0 });
        self.bump(|s| s.last_error = error);
    }

    fn bump(&self, f: impl FnOnce(&mut ReloadStatus)) {
        if let Ok(mut s) = self.status.lock() {
            f(&mut s);
        }
    }
}

/// Checks an HTTP `If-Match` value (`*`, or one or more quoted or bare hashes, weak or not)
/// against the running table.
pub fn precondition(if_match: Option<&str>, table: &RouteTable) -> Result<(), ChangeError> {
    let Some(value) = if_match else { return Ok(()) };
    // Strong comparison (RFC 9110 §13.1.1): a weak tag (`W/"…"`) never matches.
    let matches = value
        .split(',')
        .map(str::trim)
        .filter(|t| !t.starts_with("W/"))
        .map(|t| t.trim_matches('"'))
        .any(|t| t == "*" || t == table.hash);
    if matches {
        Ok(())
    } else {
        Err(ChangeError::Stale { current: table.hash.clone(), generation: table.generation })
    }
}
