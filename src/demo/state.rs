//! The demo's state directory: its own copy of routes.toml and the copybooks, where flips,
//! the audit log and shadow records land — never the checkout, whose `routes.toml` is compiled
//! into the binary (editing it would rebuild `cargo run` and leave the next demo with the last
//! one's canary).
//!
//! Default: `target/ficus-demo` when run from the repository (`target/` is ignored by git),
//! else `ficus-demo` in the system's temporary directory. One fixed place, so runs never pile
//! up directories; each start clears it unless asked to resume. A directory is cleared only
//! when it carries the demo's marker file (or is empty), so `--state` pointed at anything
//! else is refused, never emptied.

use std::path::{Path, PathBuf};

/// Marks a directory as the demo's own, safe to clear.
pub const MARKER: &str = ".ficus-demo";

/// Why the state directory could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The directory holds files the demo did not put there.
    #[error(
        "{0}: not a ficus demo directory (it has files and no {MARKER} marker), so the demo will not clear \
         it; pick another with --state DIR"
    )]
    Foreign(PathBuf),
    /// A running demo holds the directory.
    #[error(
        "{0}: another ficus demo is running on this state directory; stop it first (Ctrl-C), or give this \
         one its own with --state DIR"
    )]
    Busy(PathBuf),
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The path tried.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StateError + '_ {
    move |source| StateError::Io { path: path.to_path_buf(), source }
}

/// Where the demo's files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A checkout of this repository: its `routes.toml` and `copybooks/` (as edited there).
    Checkout(PathBuf),
    /// The copies compiled into the binary.
    Embedded,
}

impl Source {
    /// The checkout in the current directory if it is one, else the embedded copies.
    pub fn find() -> Source {
        let here = Path::new(".");
        if here.join("routes.toml").is_file() && here.join("copybooks/COMMHDR.cpy").is_file() {
            Source::Checkout(here.to_path_buf())
        } else {
            Source::Embedded
        }
    }
}

/// The default state directory for `source` (see the module docs).
pub fn default_dir(source: &Source) -> PathBuf {
    match source {
        Source::Checkout(root) => root.join("target").join("ficus-demo"),
        Source::Embedded => std::env::temp_dir().join("ficus-demo"),
    }
}

/// A prepared state directory, locked for this process while the value lives.
#[derive(Debug)]
pub struct State {
    /// The directory (absolute).
    pub dir: PathBuf,
    /// Its routes.toml, the file the demo's gateway runs and watches.
    pub routes: PathBuf,
    /// True when the previous run's files were kept (`--resume` with something to resume).
    pub resumed: bool,
    /// The exclusive lock on `LOCK` (`None` for a routes file run in place).
    pub lock: Option<std::fs::File>,
}

/// The lock file: held by the running demo, so a second demo on the same directory is refused
/// before it clears anything.
pub const LOCK: &str = ".ficus-demo.lock";

/// Prepares `dir`: with `resume` and a routes.toml there, keeps everything; otherwise clears
/// it (refusing a directory that is not the demo's, or one a running demo holds) and copies
/// routes.toml and the copybooks from `source`.
pub fn prepare(dir: &Path, source: &Source, resume: bool) -> Result<State, StateError> {
    if has_foreign_files(dir)? {
        return Err(StateError::Foreign(dir.to_path_buf()));
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let dir = std::path::absolute(dir).map_err(io(dir))?;
    let lock = lock(&dir)?;
    let routes = dir.join("routes.toml");
    if resume && routes.is_file() && dir.join(MARKER).is_file() {
        return Ok(State { dir, routes, resumed: true, lock: Some(lock) });
    }
    clear(&dir)?;
    std::fs::create_dir_all(dir.join("copybooks")).map_err(io(&dir))?;
    std::fs::write(dir.join(MARKER), "ficus demo state: cleared on the next `ficus demo` (kept by --resume)\n")
        .map_err(io(&dir))?;
    match source {
        Source::Embedded => {
            crate::sim::write_defaults(&dir).map_err(io(&dir))?;
        }
        Source::Checkout(root) => {
            let from = root.join("routes.toml");
            std::fs::copy(&from, &routes).map_err(io(&from))?;
            let books = root.join("copybooks");
            for entry in std::fs::read_dir(&books).map_err(io(&books))? {
                let path = entry.map_err(io(&books))?.path();
                if path.is_file() {
                    let to = dir.join("copybooks").join(path.file_name().unwrap_or_default());
                    std::fs::copy(&path, &to).map_err(io(&path))?;
                }
            }
        }
    }
    Ok(State { dir, routes, resumed: false, lock: Some(lock) })
}

/// Takes the directory's lock, or says that another demo holds it.
fn lock(dir: &Path) -> Result<std::fs::File, StateError> {
    let path = dir.join(LOCK);
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(io(&path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StateError::Busy(dir.to_path_buf())),
        Err(std::fs::TryLockError::Error(e)) => Err(StateError::Io { path, source: e }),
    }
}

/// True when `dir` holds files but not the demo's marker.
fn has_foreign_files(dir: &Path) -> Result<bool, StateError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_some() && !dir.join(MARKER).is_file()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StateError::Io { path: dir.to_path_buf(), source: e }),
    }
}

/// Empties the demo's `dir`, all but its lock.
fn clear(dir: &Path) -> Result<(), StateError> {
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        if path.file_name().is_some_and(|n| n == LOCK) {
            continue;
        }
        let removed = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        removed.map_err(io(&path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_start_clears_the_last_run_and_resume_keeps_it() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("state");
        let first = prepare(&dir, &Source::Embedded, false).unwrap();
        assert!(!first.resumed);
        std::fs::write(&first.routes, "# flipped\n").unwrap();
        std::fs::write(dir.join("routes.audit.jsonl"), "{}\n").unwrap();
        drop(first); // the first demo stops
        let resumed = prepare(&dir, &Source::Embedded, true).unwrap();
        assert!(resumed.resumed);
        assert_eq!(std::fs::read_to_string(&resumed.routes).unwrap(), "# flipped\n");
        drop(resumed);
        let fresh = prepare(&dir, &Source::Embedded, false).unwrap();
        assert!(!fresh.resumed);
        assert_eq!(std::fs::read_to_string(&fresh.routes).unwrap(), crate::sim::ROUTES_TOML);
        assert!(!dir.join("routes.audit.jsonl").exists(), "the last run's audit log is gone");
        assert!(dir.join("copybooks/COMMHDR.cpy").is_file());
    }

    #[test]
    fn a_directory_that_is_not_the_demos_is_never_cleared() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("precious.txt"), "keep me").unwrap();
        let err = prepare(tmp.path(), &Source::Embedded, false).unwrap_err();
        assert!(matches!(err, StateError::Foreign(_)), "{err}");
        assert!(err.to_string().contains("--state"), "{err}");
        assert_eq!(std::fs::read_to_string(tmp.path().join("precious.txt")).unwrap(), "keep me");
    }

    #[test]
    fn a_directory_a_running_demo_holds_is_never_cleared() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("state");
        let running = prepare(&dir, &Source::Embedded, false).unwrap();
        std::fs::write(dir.join("routes.audit.jsonl"), "{}\n").unwrap();
        for resume in [false, true] {
            let err = prepare(&dir, &Source::Embedded, resume).unwrap_err();
            assert!(matches!(err, StateError::Busy(_)), "{err}");
        }
        assert!(dir.join("routes.audit.jsonl").is_file(), "the running demo's files are kept");
        drop(running);
        assert!(prepare(&dir, &Source::Embedded, false).is_ok(), "free once the first demo has stopped");
    }

    #[test]
    fn the_current_directory_can_be_the_state_when_empty() {
        let tmp = tempfile::tempdir().unwrap();
        let state = prepare(tmp.path(), &Source::Embedded, false).unwrap();
        assert!(state.routes.is_file() && state.dir.is_absolute());
        // And again, now that it is the demo's.
        drop(state);
        assert!(prepare(tmp.path(), &Source::Embedded, false).is_ok());
    }

    #[test]
    fn resume_with_nothing_to_resume_starts_clean() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("new");
        let state = prepare(&dir, &Source::Embedded, true).unwrap();
        assert!(!state.resumed);
        assert!(state.routes.is_file());
    }

    #[test]
    fn a_checkout_is_copied_as_edited_there() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("repo");
        std::fs::create_dir_all(root.join("copybooks")).unwrap();
        std::fs::write(root.join("routes.toml"), "# mine\n").unwrap();
        std::fs::write(root.join("copybooks/EXTRA.cpy"), "01 X PIC X.\n").unwrap();
        let state = prepare(&tmp.path().join("s"), &Source::Checkout(root.clone()), false).unwrap();
        assert_eq!(std::fs::read_to_string(&state.routes).unwrap(), "# mine\n");
        assert!(state.dir.join("copybooks/EXTRA.cpy").is_file());
        assert_eq!(std::fs::read_to_string(root.join("routes.toml")).unwrap(), "# mine\n", "checkout untouched");
    }
}
