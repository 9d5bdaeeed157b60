//! An admin change to one route, applied to the RUNNING table: under the reloader's one lock,
//! check `If-Match`, take in a valid edit waiting on disk, patch the running table's source,
//! build it (with the copybooks the running table was built from), write routes.toml, swap,
//! audit. An invalid routes.toml found on disk (a typo being edited) never blocks a change —
//! above all the emergency rollback: it is kept beside as `routes.toml.rejected`, and the
//! running table plus the change is written in its place.

use super::reload::{precondition, ChangeError, ReloadOutcome, Reloader, Trigger};
use crate::config::build::{build_with, fingerprint, ConfigError};
use crate::config::edit::{patch_route, write_atomically, TextStyle};
use crate::config::shadow_idle::{turn_around, SHADOW_FOLLOWS};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use tracing::{info, warn};

/// Where an invalid routes.toml is kept when a change replaces it: `routes.toml.rejected`.
pub fn rejected_path(routes: &Path) -> PathBuf {
    let mut name = routes.file_name().unwrap_or_default().to_os_string();
    name.push(".rejected");
    routes.with_file_name(name)
}

/// The problems of a refused change that sit on a line the change wrote, named by that key
/// (`routes.OP.capture (this change): …`) instead of a line of the patched text, which the
/// caller never saw.
fn name_changed_keys(mut e: ConfigError, text: &str, op: &str, patch: &Map<String, Value>) -> ConfigError {
    let lines: Vec<&str> = text.lines().collect();
    for p in &mut e.problems {
        let Some(line) = p.line.and_then(|n| lines.get(n.wrapping_sub(1))) else { continue };
        let key = patch.keys().find(|k| {
            line.trim_start().strip_prefix(k.as_str()).is_some_and(|rest| rest.trim_start().starts_with('='))
        });
        if let Some(key) = key {
            p.message = format!("routes.{op}.{key} (this change): {}", p.message);
            (p.line, p.column) = (None, None);
        }
    }
    e
}

impl Reloader {
    /// Changes route `op` by `patch` (keys of `[routes.OP]`; `null` removes one) and swaps the
    /// result in, refused with [`ChangeError::Stale`] if `if_match` is given and is not the
    /// running table's hash. See the module doc for what happens to the file on disk.
    ///
    /// `"shadow_follows": true` in `patch` (not a route key) asks for the shadow to be turned
    /// around when the change makes it the target, decided here, under the lock, on the table
    /// the change applies to ([`turn_around`]); the reply's `turned` says what was turned.
    pub fn edit(
        &self,
        op: &str,
        patch: &Map<String, Value>,
        trigger: Trigger,
        if_match: Option<&str>,
    ) -> Result<ReloadOutcome, ChangeError> {
        let mut patch = patch.clone();
        let follows = match patch.remove(SHADOW_FOLLOWS) {
            None | Some(Value::Bool(false)) | Some(Value::Null) => false,
            Some(Value::Bool(true)) => true,
            Some(other) => {
                return Err(ChangeError::Invalid(format!("\"{SHADOW_FOLLOWS}\" is true or false, not {other}")))
            }
        };
        let _guard = self.lock();
        let running = self.gateway.table();
        precondition(if_match, &running)?;
        let mut notes = Vec::new();

        // 1. The disk: a valid edit not yet reloaded goes in first (its own generation and audit
        // entry); an invalid one is remembered, to keep it aside.
        let disk = std::fs::read_to_string(&self.path).ok();
        let mut disk_rejected = None;
        let behind = {
            let mut behind = self.behind.lock().unwrap_or_else(|p| p.into_inner());
            // Once the file changes, it is someone's edit again.
            if behind.is_some() && behind.as_deref() != disk.as_deref() {
                *behind = None;
            }
            behind.is_some()
        };
        let base = match &disk {
            Some(text) if fingerprint(text, &self.path, &self.cache).as_deref() == Some(running.hash.as_str()) => {
                running
            }
            // A change could not be written over this text: the disk is behind what runs, not an
            // edit to take in (taking it would silently undo that change).
            Some(_) if behind => {
                notes.push(
                    "routes.toml on disk is still behind the running table (an earlier change could not be written)"
                        .into(),
                );
                running
            }
            Some(text) => {
                match build_with(text, &self.path, Some(&running), running.generation + 1, &self.cache, None) {
                    Ok(table) => {
                        let taken = self.swap_in(table, &running, &Trigger::File);
                        self.set_last_error(None);
                        notes.push(format!(
                            "routes.toml on disk held changes not yet reloaded: reloaded first as generation {}",
                            taken.generation
                        ));
                        let base = self.gateway.table();
                        if if_match.is_some() && taken.diff.changes.iter().any(|c| c.op == op) {
                            // Someone changed this very route on disk: the caller's view is stale.
                            return Err(ChangeError::Stale { current: base.hash.clone(), generation: base.generation });
                        }
                        base
                    }
                    Err(e) => {
                        warn!(error = %e, "routes.toml on disk does not validate; the change applies to the running table");
                        disk_rejected = Some(e);
                        running
                    }
                }
            }
            None => running,
        };

        // 2. The change, on the running table's own source and copybooks.
        let turned = if follows { turn_around(&base, op, &patch) } else { None };
        if let Some((shadow, _)) = &turned {
            patch.insert("shadow".into(), Value::from(shadow.as_str()));
        }
        let new_text = patch_route(&base.source.text, op, &patch).map_err(ChangeError::Invalid)?;
        // Written in the style of the file it replaces (BOM, CRLF), even when that file is an
        // invalid edit kept aside: patch_route keeps the running text's own.
        let new_text = match &disk {
            Some(text) => TextStyle::of(text).apply(&new_text),
            None => new_text,
        };
        info!(%op, who = %trigger.who(), "route change requested");
        let table = if new_text == base.source.text {
            None
        } else {
            let built =
                build_with(&new_text, &self.path, Some(&base), base.generation + 1, &self.cache, Some(&base.source));
            Some(built.map_err(|e| self.refused(name_changed_keys(e, &new_text, op, &patch), &trigger))?)
        };

        // 3. routes.toml becomes what will run; an invalid file found there is kept beside it.
        let mut kept = None;
        if let (Some(text), Some(_)) = (&disk, &disk_rejected) {
            if text != &new_text {
                let aside = rejected_path(&self.path);
                match write_atomically(&aside, text) {
                    Ok(()) => {
                        notes.push(format!(
                            "routes.toml on disk did not validate; it was kept as {} and routes.toml now holds the \
                             running table with this change",
                            aside.display()
                        ));
                        kept = Some(aside.display().to_string());
                    }
                    Err(e) => notes.push(format!(
                        "routes.toml on disk did not validate and could not be kept as {} ({e})",
                        aside.display()
                    )),
                }
            }
        }
        // A change (above all a rollback) is never refused because the file cannot be written
        // (a read-only ConfigMap): it runs, and the reply says it is not persisted.
        let mut not_persisted = false;
        if disk.as_deref() != Some(new_text.as_str()) {
            if let Err(e) = write_atomically(&self.path, &new_text) {
                warn!(error = %e, path = %self.path.display(), "routes.toml cannot be written: the change runs in memory only");
                notes.push(format!(
                    "NOT PERSISTED: cannot write {} ({e}); the change runs in memory only, and a reload from disk or \
                     a restart undoes it: make the same change where routes.toml comes from",
                    self.path.display()
                ));
                not_persisted = true;
                *self.behind.lock().unwrap_or_else(|p| p.into_inner()) = disk.clone();
            }
        }
        let mut outcome = match table {
            Some(table) => self.swap_in(table, &base, &trigger),
            None => ReloadOutcome::unchanged(&base),
        };

        // 4. "Last reload rejected" clears only once the disk holds what runs.
        if not_persisted {
            // The disk still holds what it held; its verdict stands.
        } else if fingerprint(&new_text, &self.path, &self.cache).as_deref() == Some(outcome.hash.as_str()) {
            self.set_last_error(None);
        } else if let Some(e) = disk_rejected {
            notes.push(format!(
                "the copybooks on disk do not validate; the running table keeps the ones it was built from: {e}"
            ));
            self.set_last_error(Some(e.to_string()));
        }
        // Said for the changed route even when nothing changed: the caller asked about it.
        let now = self.gateway.table();
        outcome.warnings = crate::config::shadow_idle::shadow_warning(&now, op).into_iter().collect();
        outcome.turned = turned.map(|(_, said)| said);
        outcome.kept_rejected = kept;
        outcome.not_persisted = not_persisted;
        outcome.message = (!notes.is_empty()).then(|| notes.join("; "));
        Ok(outcome)
    }
}
