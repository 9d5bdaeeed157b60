//! One host per data directory: an exclusive lock on `<data>/cobol-host.lock`, taken before
//! anything in the directory is touched and held until the process exits.
//!
//! Seeding rewrites the ledger files, so a second host started on the same `--data` must stop
//! before it seeds — else it would undo the first one's transfers under its feet (and, with
//! `--accounts`, leave the first one's replica apart from its ledger). The lock file holds the
//! owner's pid, for the message. The lock is the operating system's (`flock`), so a host
//! killed outright leaves no stale lock behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

/// The lock file's name in the data directory.
pub const LOCK_FILE: &str = "cobol-host.lock";

/// The data directory, owned by this process while this lives.
pub struct DataLock {
    _file: File,
}

impl DataLock {
    /// Takes `data` (an existing directory) for this process, or says who has it.
    pub fn take(data: &Path) -> Result<DataLock, String> {
        let path = data.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| format!("cannot open the lock file {}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut owner = String::new();
                let _ = file.read_to_string(&mut owner);
                let owner = match owner.trim() {
                    "" => "another cobol-host".to_string(),
                    pid => format!("another cobol-host (pid {pid})"),
                };
                return Err(format!(
                    "the data directory {} is in use by {owner}: nothing was changed. Stop that host first, \
                     or give this one a directory of its own with --data DIR",
                    data.display()
                ));
            }
            Err(TryLockError::Error(e)) => return Err(format!("cannot lock {}: {e}", path.display())),
        }
        let pid = std::process::id().to_string();
        let written = file.set_len(0).and_then(|_| file.rewind()).and_then(|_| file.write_all(pid.as_bytes()));
        written.map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(DataLock { _file: file })
    }
}
