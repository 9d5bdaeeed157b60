//! Triggers for [`Reloader::reload`]: a watch on routes.toml's directory (so editors' rename-
//! over saves and Kubernetes ConfigMap symlink swaps are seen, not just in-place writes) and
//! SIGHUP. Bursts of events are coalesced: one reload after the directory has been quiet for
//! a moment.

use super::reload::{Reloader, Trigger};
use notify::{RecursiveMode, Watcher};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tracing::{debug, warn};

/// How long the directory must be quiet before a file-triggered reload.
pub const SETTLE: Duration = Duration::from_millis(150);

/// Keeps the watcher alive; dropping it stops watching.
pub struct WatchGuard {
    _watcher: notify::RecommendedWatcher,
}

/// Watches routes.toml's directory and reloads on changes to it. Needs a tokio runtime.
pub fn watch_file(reloader: Arc<Reloader>) -> Result<WatchGuard, String> {
    let path = reloader.path().to_path_buf();
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new(".")).to_path_buf();
    let name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        // The file itself, or a ConfigMap's `..data` symlink being swapped.
        let relevant =
            event.paths.iter().any(|p| p.file_name() == Some(&name) || p.file_name().is_some_and(|f| f == "..data"));
        if relevant && !event.kind.is_access() {
            let _ = tx.send(());
        }
    })
    .map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
    watcher.watch(&dir, RecursiveMode::NonRecursive).map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            // Coalesce a burst (write, chmod, rename…) into one reload.
            while let Ok(Some(())) = tokio::time::timeout(SETTLE, rx.recv()).await {}
            debug!("routes file changed");
            let reloader = reloader.clone();
            let _ = tokio::task::spawn_blocking(move || reloader.reload(Trigger::File)).await;
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
