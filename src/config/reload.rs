//! The one reload path. File watch, SIGHUP and the admin API all call [`Reloader::reload`]:
//! read → parse → validate → build → diff → swap, under one lock. A file that fails any step is
//! rejected with its reason (logged, counted, kept for the admin API) and the running table
//! stays. Every swap gets the next generation number and is written to the audit log.

use super::build::{build, content_hash, ConfigError};
use super::diff::{diff, Diff};
use crate::admin::audit::{AuditEntry, AuditLog};
use crate::gateway::Gateway;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tracing::{info, warn};

/// What asked for a reload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// routes.toml changed on disk.
    File,
    /// SIGHUP.
    Signal,
    /// The admin API, by the named token's holder.
    Api(String),
}

impl Trigger {
    fn source(&self) -> &'static str {
        match self {
            Trigger::File => "file",
            Trigger::Signal => "sighup",
            Trigger::Api(_) => "api",
        }
    }
    fn who(&self) -> String {
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
    /// Reloads that swapped in a new table.
    pub applied: u64,
    /// Reloads that found nothing changed.
    pub unchanged: u64,
    /// Reloads rejected (the old table kept serving).
    pub rejected: u64,
    /// Why the last rejection happened, if the last attempt was rejected.
    pub last_error: Option<String>,
}

/// The result of a reload that did not fail.
#[derive(Clone, Debug, Serialize)]
pub struct ReloadOutcome {
    /// Generation now serving.
    pub generation: u64,
    /// Hash of the file now serving.
    pub hash: String,
    /// What changed (empty when nothing did).
    pub diff: Diff,
}

/// Writes a validated file before it is swapped in (the admin API's atomic write).
pub type WriteBack<'a> = &'a dyn Fn(&str) -> std::io::Result<()>;

/// Reloads one gateway from one file.
pub struct Reloader {
    gateway: Arc<Gateway>,
    path: PathBuf,
    lock: Mutex<()>,
    status: Mutex<ReloadStatus>,
    audit: AuditLog,
}

impl Reloader {
    /// A reloader for `gateway` from `path`; the audit log goes next to it.
    pub fn new(gateway: Arc<Gateway>, path: &Path) -> Reloader {
        let audit = AuditLog::beside(path);
        Reloader {
            gateway,
            path: path.to_path_buf(),
            lock: Mutex::new(()),
            status: Mutex::new(ReloadStatus::default()),
            audit,
        }
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

    /// Re-reads the file and swaps it in if valid and changed.
    pub fn reload(&self, trigger: Trigger) -> Result<ReloadOutcome, ConfigError> {
        let text = std::fs::read_to_string(&self.path).map_err(|e| ConfigError {
            file: self.path.display().to_string(),
            problems: vec![super::ConfigProblem { line: None, message: format!("cannot read: {e}") }],
        });
        let text = match text {
            Ok(t) => t,
            Err(e) => return Err(self.rejected(e, &trigger)),
        };
        self.apply_text(&text, trigger, None)
    }

    /// Validates `text`; if valid, optionally writes it to the file first (atomically, via
    /// `write`), then swaps it in. Used by the admin API, which edits the file.
    pub fn apply_text(
        &self,
        text: &str,
        trigger: Trigger,
        write: Option<WriteBack>,
    ) -> Result<ReloadOutcome, ConfigError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let current = self.gateway.table();
        if content_hash(text) == current.hash {
            self.bump(|s| s.unchanged += 1);
            return Ok(ReloadOutcome {
                generation: current.generation,
                hash: current.hash.clone(),
                diff: Diff::default(),
            });
        }
        let table = match build(text, &self.path, Some(&current), current.generation + 1) {
            Ok(t) => t,
            Err(e) => return Err(self.rejected(e, &trigger)),
        };
        if let Some(write) = write {
            if let Err(e) = write(text) {
                let problem = super::ConfigProblem { line: None, message: format!("cannot write: {e}") };
                return Err(self.rejected(
                    ConfigError { file: self.path.display().to_string(), problems: vec![problem] },
                    &trigger,
                ));
            }
        }
        let changes = diff(&current.file, &table.file);
        let (generation, hash) = (table.generation, table.hash.clone());
        self.gateway.swap(table);
        info!(generation, %hash, source = trigger.source(), added = ?changes.added, removed = ?changes.removed,
            retargeted = ?changes.retargeted, changed = changes.changes.len(), other = changes.other, "routes reloaded");
        self.bump(|s| {
            s.applied += 1;
            s.last_error = None;
        });
        metrics::counter!("ficus_reloads_total", "result" => "applied", "source" => trigger.source()).increment(1);
        metrics::gauge!("ficus_route_generation").set(generation as f64);
        let entry = AuditEntry::now(trigger.who(), trigger.source(), generation, &hash, &changes);
        if let Err(e) = self.audit.append(&entry) {
            warn!(error = %e, "cannot write the audit log");
        }
        Ok(ReloadOutcome { generation, hash, diff: changes })
    }

    fn rejected(&self, e: ConfigError, trigger: &Trigger) -> ConfigError {
        warn!(source = trigger.source(), error = %e, "routes rejected; the running table stays");
        metrics::counter!("ficus_reloads_total", "result" => "rejected", "source" => trigger.source()).increment(1);
        self.bump(|s| {
            s.rejected += 1;
            s.last_error = Some(e.to_string());
        });
        e
    }

    fn bump(&self, f: impl FnOnce(&mut ReloadStatus)) {
        if let Ok(mut s) = self.status.lock() {
            f(&mut s);
        }
    }
}
