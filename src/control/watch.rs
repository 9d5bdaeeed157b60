//! Triggers for [`Reloader::reload`]: a watch on routes.toml's directory and on every directory
//! holding a copybook (or COPY member) the running table uses — directories, so editors'
//! rename-over saves and Kubernetes ConfigMap symlink swaps are seen, not just in-place writes —
//! and SIGHUP. Bursts of events are coalesced: one reload after the files have been quiet for a
//! moment. The set of watched directories follows the running table after every swap.

use super::dir_events::DirEvents;
use super::reload::{Reloader, Trigger};
use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tracing::{debug, warn};

/// How long the files must be quiet before a file-triggered reload.
pub const SETTLE: Duration = Duration::from_millis(150);

/// Keeps the watcher alive; dropping it stops watching.
pub struct WatchGuard {
    task: tokio::task::AbortHandle,
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        // The task owns the watch: ending it closes it.
        self.task.abort();
    }
}

fn parent(path: &Path) -> PathBuf {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf()
}

/// The file names whose change means a reload: routes.toml, a ConfigMap's `..data` symlink, and
/// every copybook file of the running table.
fn relevant_names(reloader: &Reloader) -> HashSet<OsString> {
    let mut names: HashSet<OsString> = [OsString::from("..data")].into();
    names.extend(reloader.path().file_name().map(|n| n.to_os_string()));
    let table = reloader.gateway().table();
    names.extend(table.source.files().filter_map(|f| f.file_name().map(|n| n.to_os_string())));
    names
}

/// Directories to watch for the running table: routes.toml's and every copybook file's.
fn wanted_dirs(reloader: &Reloader) -> HashSet<PathBuf> {
    let table = reloader.gateway().table();
    let mut dirs: HashSet<PathBuf> = table.source.files().map(parent).collect();
    dirs.insert(parent(reloader.path()));
    dirs
}

/// Starts watching any directory the running table needs that is not watched yet.
fn sync_dirs(events: &mut DirEvents, watched: &mut HashSet<PathBuf>, reloader: &Reloader) {
    for dir in wanted_dirs(reloader) {
        if watched.contains(&dir) {
            continue;
        }
        match events.watch(&dir) {
            Ok(()) => {
                debug!(dir = %dir.display(), "watching");
                watched.insert(dir);
            }
            Err(e) => warn!(dir = %dir.display(), error = %e, "cannot watch"),
        }
    }
}

/// Watches routes.toml's directory and the running table's copybook directories, and reloads
/// on changes to the files in them that the table uses. Needs a tokio runtime.
pub fn watch_file(reloader: Arc<Reloader>) -> Result<WatchGuard, String> {
    let routes_dir = parent(reloader.path());
    let cannot = |e: std::io::Error| format!("cannot watch {}: {e}", routes_dir.display());
    let (mut events, mut changed_files) = DirEvents::new().map_err(cannot)?;
    events.watch(&routes_dir).map_err(cannot)?;
    let mut watched = HashSet::from([routes_dir.clone()]);
    sync_dirs(&mut events, &mut watched, &reloader);
    let mut names = relevant_names(&reloader);
    let mut generations = reloader.subscribe();
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                name = changed_files.recv() => {
                    let Some(name) = name else { return };
                    if !names.contains(&name) {
                        continue;
                    }
                    // Coalesce a burst (write, chmod, rename…) into one reload.
                    while let Ok(Some(_)) = tokio::time::timeout(SETTLE, changed_files.recv()).await {}
                    debug!("routes or copybook files changed");
                    let r = reloader.clone();
                    let _ = tokio::task::spawn_blocking(move || r.reload(Trigger::File)).await;
                }
                changed = generations.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
            }
            // A new table may use other copybooks, in other directories.
            names = relevant_names(&reloader);
            sync_dirs(&mut events, &mut watched, &reloader);
        }
    })
    .abort_handle();
    Ok(WatchGuard { task })
}

/// Reloads on every SIGHUP, for as long as the runtime runs.
#[cfg(unix)]
pub fn reload_on_sighup(reloader: Arc<Reloader>) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        warn!("cannot listen for SIGHUP");
        return;
    };
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            let reloader = reloader.clone();
            let _ = tokio::task::spawn_blocking(move || reloader.reload(Trigger::Signal)).await;
        }
    });
}
