//! Triggers for [`Reloader::reload`]: a watch on routes.toml's directory and on every directory
//! holding a copybook (or COPY member) the running table uses — directories, so editors'
//! rename-over saves and Kubernetes ConfigMap symlink swaps are seen, not just in-place writes —
//! and SIGHUP. Bursts of events are coalesced: one reload after the files have been quiet for a
//! moment. The set of watched directories follows the running table after every swap.

use super::reload::{Reloader, Trigger};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;
use tokio::sync::mpsc;
use tracing::{debug, warn};

/// How long the files must be quiet before a file-triggered reload.
pub const SETTLE: Duration = Duration::from_millis(150);

/// Keeps the watcher alive; dropping it stops watching.
pub struct WatchGuard {
    _watcher: Arc<Mutex<RecommendedWatcher>>,
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
fn sync_dirs(watcher: &Mutex<RecommendedWatcher>, watched: &mut HashSet<PathBuf>, reloader: &Reloader) {
    let mut watcher = watcher.lock().unwrap_or_else(|p| p.into_inner());
    for dir in wanted_dirs(reloader) {
        if watched.contains(&dir) {
            continue;
        }
        match watcher.watch(&dir, RecursiveMode::NonRecursive) {
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
    let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    // Made once per table, not per event: the directory may hold busy files (the journal's
    // SQLite WAL is written on every batch), and each of their writes is an event here.
    let names = Arc::new(RwLock::new(relevant_names(&reloader)));
    let on_event = names.clone();
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if event.kind.is_access() {
            return;
        }
        let names = on_event.read().unwrap_or_else(|p| p.into_inner());
        if event.paths.iter().any(|p| p.file_name().is_some_and(|n| names.contains(n))) {
            let _ = tx.send(());
        }
    })
    .map_err(|e| format!("cannot watch {}: {e}", routes_dir.display()))?;
    let watcher = Arc::new(Mutex::new(watcher));
    let mut watched = HashSet::new();
    watcher
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .watch(&routes_dir, RecursiveMode::NonRecursive)
        .map_err(|e| format!("cannot watch {}: {e}", routes_dir.display()))?;
    watched.insert(routes_dir);
    sync_dirs(&watcher, &mut watched, &reloader);
    let weak: Weak<Mutex<RecommendedWatcher>> = Arc::downgrade(&watcher);
    let mut generations = reloader.subscribe();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                event = rx.recv() => {
                    if event.is_none() {
                        return;
                    }
                    // Coalesce a burst (write, chmod, rename…) into one reload.
                    while let Ok(Some(())) = tokio::time::timeout(SETTLE, rx.recv()).await {}
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
            *names.write().unwrap_or_else(|p| p.into_inner()) = relevant_names(&reloader);
            let Some(watcher) = weak.upgrade() else { return };
            sync_dirs(&watcher, &mut watched, &reloader);
        }
    });
    Ok(WatchGuard { _watcher: watcher })
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
