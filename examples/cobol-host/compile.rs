//! Compiles the COBOL host's programs with GnuCOBOL (`cobc`), once per set of sources.
//!
//! `DISPATCH` and `LEDGLOAD` become executables; the transaction programs (`ACCTINQ`,
//! `TXNHIST`, `XFER`) become modules that `DISPATCH` loads on `CALL` (found through
//! `COB_LIBRARY_PATH`). Every program `COPY`s the repository's `copybooks/` — the layouts the
//! gateway reads — and this example's `copybooks/` (the ledger files, the COMMAREA, shared
//! paragraphs). The output lands in `<cache>/<hash>/`, where the hash covers every source,
//! copybook, option and the `cobc` version, so a second run reuses it. A missing `cobc` is an
//! error with an install hint, never a silent skip. Nothing here runs the programs.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `cobc` options every program is compiled with: IBM binary sizes, IBM overpunch signs,
/// and `OCCURS DEPENDING ON` tables that slide what follows them (TXNHIST's table is the last
/// item of its record, so the option changes nothing there, but it is the gateway's reading).
pub const COBC_FLAGS: [&str; 3] = ["-fbinary-size=2-4-8", "-fsign=EBCDIC", "-fodoslide"];

/// Executables (`cobc -x`).
const EXECUTABLES: [&str; 2] = ["DISPATCH", "LEDGLOAD"];
/// Transaction programs, loaded by `DISPATCH` (`cobc -m`).
pub const MODULES: [&str; 3] = ["ACCTINQ", "TXNHIST", "XFER"];
/// Written last into a finished build directory.
const READY: &str = "READY";

/// A directory of compiled programs.
#[derive(Clone, Debug)]
pub struct Programs {
    /// Holds `DISPATCH`, `LEDGLOAD` and the `*.so` modules.
    pub dir: PathBuf,
}

impl Programs {
    /// The path of executable `name`.
    pub fn executable(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// Where this example's sources live (`programs/`, `copybooks/`, `routes.toml`).
pub fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cobol-host")
}

/// The repository's copybooks (the gateway's layouts).
pub fn repo_copybooks() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("copybooks")
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

fn sorted_files(dir: &Path, ext: &str) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    Ok(files)
}

/// Compiles (or reuses) the programs under `cache`; returns where they are.
pub fn compile(cache: &Path) -> Result<Programs, String> {
    let version = cobc_version()?;
    let sources = example_dir().join("programs");
    let includes = [repo_copybooks(), example_dir().join("copybooks")];
    let mut hash = 0xCBF2_9CE4_8422_2325u64;
    fnv(&mut hash, version.as_bytes());
    fnv(&mut hash, COBC_FLAGS.join(" ").as_bytes());
    let mut inputs = sorted_files(&sources, "cbl")?;
    for dir in &includes {
        inputs.extend(sorted_files(dir, "cpy")?);
    }
    for file in &inputs {
        fnv(&mut hash, file.file_name().map(|n| n.as_encoded_bytes()).unwrap_or_default());
        fnv(&mut hash, &std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?);
    }
    let dir = cache.join(format!("{hash:016x}"));
    if dir.join(READY).exists() {
        return Ok(Programs { dir });
    }
    // Build beside the final place and rename, so a half-built directory is never used.
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let tmp = cache.join(format!("building-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let jobs: Vec<(&str, bool)> =
        EXECUTABLES.iter().map(|n| (*n, true)).chain(MODULES.iter().map(|n| (*n, false))).collect();
    let mut children = Vec::new();
    for (name, executable) in &jobs {
        let mut cmd = Command::new("cobc");
        cmd.current_dir(&tmp).arg(if *executable { "-x" } else { "-m" }).args(COBC_FLAGS);
        for inc in &includes {
            cmd.arg("-I").arg(inc);
        }
        let output = if *executable { name.to_string() } else { format!("{name}.so") };
        cmd.arg("-o").arg(&output).arg(sources.join(format!("{name}.cbl")));
        let child = spawn_captured(&mut cmd, name)?;
        children.push((name, child));
    }
    let mut failures = Vec::new();
    for (name, child) in children {
        let out = child.wait_with_output().map_err(|e| format!("cobc {name}: {e}"))?;
        if !out.status.success() {
            failures.push(format!("{name}.cbl:\n{}", String::from_utf8_lossy(&out.stderr)));
        }
    }
    if !failures.is_empty() {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(format!("cobc failed:\n{}", failures.join("\n")));
    }
    std::fs::write(tmp.join(READY), &version).map_err(|e| e.to_string())?;
    if std::fs::rename(&tmp, &dir).is_err() {
        // Another run finished first: use its build.
        let _ = std::fs::remove_dir_all(&tmp);
        if !dir.join(READY).exists() {
            return Err(format!("cannot place the compiled programs in {}", dir.display()));
        }
    }
    Ok(Programs { dir })
}

/// Starts `cmd` with its output captured.
fn spawn_captured(cmd: &mut Command, what: &str) -> Result<std::process::Child, String> {
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start cobc for {what}: {e}"))
}
