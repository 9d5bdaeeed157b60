//! Compiles the COBOL host's programs with GnuCOBOL (`cobc`), once per set of sources.
//!
//! The programs are those in the sources' `programs/` ([`Sources::programs`]): `DISPATCH`
//! and `LEDGLOAD` become executables; every other program (`ACCTINQ`, `TXNHIST`, `XFER` as
//! shipped) becomes a module that `DISPATCH` loads on `CALL` (found through
//! `COB_LIBRARY_PATH`). Every program `COPY`s the gateway's copybooks — the layouts the
//! gateway reads — and this example's `copybooks/` (the ledger files, the COMMAREA, shared
//! paragraphs). The output lands in `<cache>/<hash>/`, where the hash covers every program's
//! name and text, every copybook, the options and the `cobc` version, so a second run reuses
//! it and a deleted program is gone from the next build. A build interrupted (Ctrl-C) leaves
//! nothing behind; builds no running host uses are pruned at start. A missing `cobc` is an error with an
//! install hint, never a silent skip. Nothing here runs the programs.

use crate::sources::{absolute_dir, sorted_files, Sources};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// The `cobc` options every program is compiled with: IBM binary sizes, IBM overpunch signs,
/// and `OCCURS DEPENDING ON` tables that slide what follows them (TXNHIST's table is the last
/// item of its record, so the option changes nothing there, but it is the gateway's reading).
pub const COBC_FLAGS: [&str; 3] = ["-fbinary-size=2-4-8", "-fsign=EBCDIC", "-fodoslide"];

/// Written last into a finished build directory; every host running its programs holds a
/// shared lock on it.
const READY: &str = "READY";
/// A directory being built is named `building-<pid>-<nanos>`.
const BUILDING_PREFIX: &str = "building-";
/// Locked exclusively by the process building a directory, as long as it builds.
const BUILDING_LOCK: &str = "BUILDING";

/// A directory of compiled programs.
#[derive(Clone, Debug)]
pub struct Programs {
    /// Holds `DISPATCH`, `LEDGLOAD` and the `*.so` modules (absolute).
    pub dir: PathBuf,
    /// The transaction modules compiled, by name.
    pub modules: Vec<String>,
    /// A shared lock on the directory's READY file: it is not pruned while these programs run.
    _in_use: Arc<File>,
}

impl Programs {
    /// The path of executable `name`.
    pub fn executable(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

fn cobc_version() -> Result<String, String> {
    let out = Command::new("cobc").arg("--version").output().map_err(|e| {
        format!("cannot run cobc ({e}): the COBOL host needs GnuCOBOL 3 on PATH (apt-get install gnucobol3)")
    })?;
    if !out.status.success() {
        return Err(format!("cobc --version failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or_default().to_string())
}

/// FNV-1a, 64 bits: a stable content hash without another dependency.
fn fnv(hash: &mut u64, bytes: &[u8]) {
    for b in bytes {
        *hash ^= u64::from(*b);
        *hash = hash.wrapping_mul(0x0000_0100_0000_01B3);
    }
}

/// Compiles (or reuses) the programs of `sources` under `cache`; returns where they are.
///
/// Cancel-safe: dropping the future (Ctrl-C while compiling) kills the `cobc` processes and
/// removes the half-built directory. Builds of other sources that no running host holds, and
/// directories left by a build that was killed outright, are removed ([`prune`]).
pub async fn compile(sources: &Sources, cache: &Path) -> Result<Programs, String> {
    let version = cobc_version()?;
    let cache = absolute_dir(cache, "build")?;
    let programs = sources.programs()?;
    let includes = [sources.copybooks.clone(), sources.host_copybooks()];
    let mut hash = 0xCBF2_9CE4_8422_2325u64;
    fnv(&mut hash, version.as_bytes());
    fnv(&mut hash, COBC_FLAGS.join(" ").as_bytes());
    let mut inputs: Vec<PathBuf> = programs.iter().map(|p| p.source.clone()).collect();
    for dir in &includes {
        inputs.extend(sorted_files(dir, "cpy")?);
    }
    for file in &inputs {
        fnv(&mut hash, file.file_name().map(|n| n.as_encoded_bytes()).unwrap_or_default());
        fnv(&mut hash, &std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?);
    }
    let modules: Vec<String> = programs.iter().filter(|p| !p.executable).map(|p| p.name.clone()).collect();
    let dir = cache.join(format!("{hash:016x}"));
    if !dir.join(READY).exists() {
        build(&programs, &includes, &cache, &dir, &version).await?;
    }
    let in_use = hold(&dir)?;
    prune(&cache, &dir);
    Ok(Programs { dir, modules, _in_use: Arc::new(in_use) })
}

/// Compiles `programs` beside `dir` and renames the result into place, so a half-built
/// directory is never used.
async fn build(
    programs: &[crate::sources::Program],
    includes: &[PathBuf],
    cache: &Path,
    dir: &Path,
    version: &str,
) -> Result<(), String> {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let tmp = Building::create(cache.join(format!("{BUILDING_PREFIX}{}-{nanos}", std::process::id())))?;
    tracing::info!(dir = %tmp.path.display(), programs = programs.len(), "compiling the programs");
    let mut children = Vec::new();
    for program in programs {
        let mut cmd = tokio::process::Command::new("cobc");
        cmd.current_dir(&tmp.path).arg(if program.executable { "-x" } else { "-m" }).args(COBC_FLAGS);
        for inc in includes {
            cmd.arg("-I").arg(inc);
        }
        let output = if program.executable { program.name.clone() } else { format!("{}.so", program.name) };
        cmd.arg("-o").arg(tmp.path.join(&output)).arg(&program.source);
        // Killed if this future is dropped (Ctrl-C while compiling).
        cmd.kill_on_drop(true);
        let child = spawn_captured(&mut cmd, &program.source)?;
        children.push((program, child));
    }
    let mut failures = Vec::new();
    for (program, child) in children {
        let source = program.source.display();
        let out = child.wait_with_output().await.map_err(|e| format!("cobc {source}: {e}"))?;
        if !out.status.success() {
            failures.push(format!("{source}:\n{}", String::from_utf8_lossy(&out.stderr)));
        }
    }
    if !failures.is_empty() {
        return Err(format!("cobc failed:\n{}", failures.join("\n")));
    }
    let ready = tmp.path.join(READY);
    std::fs::write(&ready, version).map_err(|e| format!("cannot write {}: {e}", ready.display()))?;
    let _ = std::fs::remove_file(tmp.path.join(BUILDING_LOCK));
    if std::fs::rename(&tmp.path, dir).is_ok() {
        tmp.placed();
    } else if !dir.join(READY).exists() {
        // Another run finished first (and `tmp` is removed on drop), or the place is taken.
        return Err(format!("cannot place the compiled programs in {}", dir.display()));
    }
    Ok(())
}

/// A build directory being filled: removed when dropped unless [`Building::placed`]. Holds an
/// exclusive lock on its [`BUILDING_LOCK`] file, so [`prune`] tells a live build from one whose
/// process was killed.
struct Building {
    path: PathBuf,
    _lock: Option<File>,
}

impl Building {
    fn create(path: PathBuf) -> Result<Building, String> {
        std::fs::create_dir_all(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        let lock_path = path.join(BUILDING_LOCK);
        let lock = File::create(&lock_path).map_err(|e| format!("cannot create {}: {e}", lock_path.display()))?;
        lock.lock().map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;
        Ok(Building { path, _lock: Some(lock) })
    }

    /// The directory was renamed into place: nothing to remove.
    fn placed(mut self) {
        self.path = PathBuf::new();
    }
}

impl Drop for Building {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// A shared lock on `dir`'s READY file, held as long as the programs may run.
fn hold(dir: &Path) -> Result<File, String> {
    let ready = dir.join(READY);
    let file = File::open(&ready).map_err(|e| format!("cannot open {}: {e}", ready.display()))?;
    file.lock_shared().map_err(|e| format!("cannot lock {}: {e}", ready.display()))?;
    Ok(file)
}

/// Removes from `cache` every finished build other than `keep` that no running host holds, and
/// every half-built directory whose build is no longer running. Best effort: what cannot be
/// removed is left for the next start.
pub fn prune(cache: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(cache) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        let lock = if path == keep || !path.is_dir() {
            continue;
        } else if name.starts_with(BUILDING_PREFIX) {
            path.join(BUILDING_LOCK)
        } else if name.len() == 16 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
            path.join(READY)
        } else {
            continue;
        };
        // Unused when its lock can be taken exclusively (the lock goes with the file).
        let unused = File::open(&lock).map(|f| f.try_lock().is_ok()).unwrap_or(false);
        if unused && std::fs::remove_dir_all(&path).is_ok() {
            tracing::info!(dir = %path.display(), "removed an unused build");
        }
    }
}

/// Starts `cmd` with its output captured.
fn spawn_captured(cmd: &mut tokio::process::Command, source: &Path) -> Result<tokio::process::Child, String> {
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start cobc (on PATH) for {}: {e}", source.display()))
}
