//! Names of files changed in watched directories, as the config watcher needs them: a file
//! saved (closed after writing), renamed in or out, created, removed, or its attributes
//! changed. On Linux through inotify with exactly those events (inotify(7): `IN_CLOSE_WRITE`,
//! `IN_MOVED_TO`, `IN_MOVED_FROM`, `IN_CREATE`, `IN_DELETE`, `IN_ATTRIB`) — not `IN_MODIFY`, so a
//! file being written continuously in the same directory (the journal's SQLite WAL, a log)
//! never wakes the watcher; elsewhere through `notify`'s portable watcher.

use std::ffi::OsString;
use std::io;
use std::path::Path;
use tokio::sync::mpsc;

/// A watch on directories; dropping it stops watching.
pub struct DirEvents {
    #[cfg(target_os = "linux")]
    watches: inotify::Watches,
    #[cfg(target_os = "linux")]
    reader: tokio::task::AbortHandle,
    #[cfg(not(target_os = "linux"))]
    watcher: notify::RecommendedWatcher,
}

#[cfg(target_os = "linux")]
impl DirEvents {
    /// A watch on no directory yet, and the names of changed files as they come. Needs a tokio
    /// runtime.
    pub fn new() -> io::Result<(DirEvents, mpsc::UnboundedReceiver<OsString>)> {
        use futures_util::StreamExt;
        let inotify = inotify::Inotify::init()?;
        let watches = inotify.watches();
        let mut stream = inotify.into_event_stream(vec![0u8; 4096])?;
        let (tx, rx) = mpsc::unbounded_channel();
        let reader = tokio::spawn(async move {
            while let Some(Ok(event)) = stream.next().await {
                if let Some(name) = event.name {
                    if tx.send(name).is_err() {
                        return;
                    }
                }
            }
        })
        .abort_handle();
        Ok((DirEvents { watches, reader }, rx))
    }

    /// Adds `dir` (its direct children; not recursive).
    pub fn watch(&mut self, dir: &Path) -> io::Result<()> {
        use inotify::WatchMask;
        let mask = WatchMask::CLOSE_WRITE
            | WatchMask::MOVED_TO
            | WatchMask::MOVED_FROM
            | WatchMask::CREATE
            | WatchMask::DELETE
            | WatchMask::ATTRIB
            | WatchMask::ONLYDIR;
        self.watches.add(dir, mask).map(|_| ())
    }
}

#[cfg(target_os = "linux")]
impl Drop for DirEvents {
    fn drop(&mut self) {
        // The reader owns the inotify descriptor: ending it closes the descriptor.
        self.reader.abort();
    }
}

#[cfg(not(target_os = "linux"))]
impl DirEvents {
    /// A watch on no directory yet, and the names of changed files as they come.
    pub fn new() -> io::Result<(DirEvents, mpsc::UnboundedReceiver<OsString>)> {
        let (tx, rx) = mpsc::unbounded_channel();
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else { return };
            if event.kind.is_access() {
                return;
            }
            for name in event.paths.iter().filter_map(|p| p.file_name()) {
                let _ = tx.send(name.to_os_string());
            }
        })
        .map_err(io::Error::other)?;
        Ok((DirEvents { watcher }, rx))
    }

    /// Adds `dir` (its direct children; not recursive).
    pub fn watch(&mut self, dir: &Path) -> io::Result<()> {
        use notify::{RecursiveMode, Watcher};
        self.watcher.watch(dir, RecursiveMode::NonRecursive).map_err(io::Error::other)
    }
}
