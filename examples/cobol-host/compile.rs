//! Compiles the COBOL host's programs with GnuCOBOL (`cobc`), once per set of sources.
//!
//! The programs are those in the sources' `programs/` ([`Sources::programs`]): `DISPATCH`
//! and `LEDGLOAD` become executables; every other program (`ACCTINQ`, `TXNHIST`, `XFER` as
//! shipped) becomes a module that `DISPATCH` loads on `CALL` (found through
//! `COB_LIBRARY_PATH`). Every program `COPY`s the gateway's copybooks — the layouts the
//! gateway reads — and this example's `copybooks/` (the ledger files, the COMMAREA, shared
//! paragraphs). The output lands in `<cache>/<hash>/`, where the hash covers every program's
//! name and text, every copybook, the options and the `cobc` version, so a second run reuses
//! it and a deleted program is gone from the next build. A missing `cobc` is an error with an
//! install hint, never a silent skip. Nothing here runs the programs.

use crate::sources::{absolute_dir, sorted_files, Sources};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The `cobc` options every program is compiled with: IBM binary sizes, IBM overpunch signs,
/// and `OCCURS DEPENDING ON` tables that slide what follows them (TXNHIST's table is the last
/// item of its record, so the option changes nothing there, but it is the gateway's reading).
pub const COBC_FLAGS: [&str; 3] = ["-fbinary-size=2-4-8", "-fsign=EBCDIC", "-fodoslide"];

/// Written last into a finished build directory.
const READY: &str = "READY";

/// A directory of compiled programs.
#[derive(Clone, Debug)]
pub struct Programs {
    /// Holds `DISPATCH`, `LEDGLOAD` and the `*.so` modules (absolute).
    pub dir: PathBuf,
    /// The transaction modules compiled, by name.
    pub modules: Vec<String>,
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
pub fn compile(sources: &Sources, cache: &Path) -> Result<Programs, String> {
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
    if dir.join(READY).exists() {
        return Ok(Programs { dir, modules });
    }
    // Build beside the final place and rename, so a half-built directory is never used.
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let tmp = cache.join(format!("building-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
    let mut children = Vec::new();
    for program in &programs {
        let mut cmd = Command::new("cobc");
        cmd.current_dir(&tmp).arg(if program.executable { "-x" } else { "-m" }).args(COBC_FLAGS);
        for inc in &includes {
            cmd.arg("-I").arg(inc);
        }
        let output = if program.executable { program.name.clone() } else { format!("{}.so", program.name) };
        cmd.arg("-o").arg(tmp.join(&output)).arg(&program.source);
        let child = spawn_captured(&mut cmd, &program.source)?;
        children.push((program, child));
    }
    let mut failures = Vec::new();
    for (program, child) in children {
        let source = program.source.display();
        let out = child.wait_with_output().map_err(|e| format!("cobc {source}: {e}"))?;
        if !out.status.success() {
            failures.push(format!("{source}:\n{}", String::from_utf8_lossy(&out.stderr)));
        }
    }
    if !failures.is_empty() {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(format!("cobc failed:\n{}", failures.join("\n")));
    }
    let ready = tmp.join(READY);
    std::fs::write(&ready, &version).map_err(|e| format!("cannot write {}: {e}", ready.display()))?;
    if std::fs::rename(&tmp, &dir).is_err() {
        // Another run finished first: use its build.
        let _ = std::fs::remove_dir_all(&tmp);
        if !dir.join(READY).exists() {
            return Err(format!("cannot place the compiled programs in {}", dir.display()));
        }
    }
    Ok(Programs { dir, modules })
}

/// Starts `cmd` with its output captured.
fn spawn_captured(cmd: &mut Command, source: &Path) -> Result<std::process::Child, String> {
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start cobc (on PATH) for {}: {e}", source.display()))
}
