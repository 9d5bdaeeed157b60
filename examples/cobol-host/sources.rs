//! Where the COBOL host's sources are, found at run time, and which programs they hold.
//!
//! The sources directory holds `programs/` (one `*.cbl` per program), `copybooks/` (the
//! ledger files, the COMMAREA, shared paragraphs) and `routes.toml` (the gateway's routes for
//! this host). By default it is `examples/cobol-host` under the current directory if there is
//! one there — so a user's edits to their checkout count — else the directory this example was
//! built from. The gateway's copybooks (the repository's `copybooks/`) default to the ones
//! beside the sources (`<sources>/../../copybooks`), else those of the build's checkout.
//!
//! The programs are whatever `programs/` holds: `DISPATCH` and `LEDGLOAD` are executables and
//! must be there; every other `*.cbl` is a transaction module that `DISPATCH` may `CALL`.
//! Delete one and restart the host, and it is no longer installed. Every path here is
//! absolute, and every error names the path it tried.

use std::path::{Path, PathBuf};

/// The checkout this example was compiled from: the fallback for every source path.
const BUILT_FROM: &str = env!("CARGO_MANIFEST_DIR");
/// The sources directory inside a checkout.
const IN_CHECKOUT: &str = "examples/cobol-host";
/// Programs that become executables (`cobc -x`); the host cannot run without them.
pub const EXECUTABLES: [&str; 2] = ["DISPATCH", "LEDGLOAD"];

/// The sources the host compiles and reads, all absolute.
#[derive(Clone, Debug)]
pub struct Sources {
    /// The example's directory: `programs/`, `copybooks/`, `routes.toml`.
    pub dir: PathBuf,
    /// The gateway's copybooks (`COMMHDR.cpy`, `ACCTINQ.cpy`, …), which the programs `COPY`.
    pub copybooks: PathBuf,
    /// How `dir` was chosen, for the log (`--sources`, `the current directory`, …).
    pub dir_from: &'static str,
    /// How `copybooks` was chosen.
    pub copybooks_from: &'static str,
}

/// One program source: its name (the file stem, which `DISPATCH` `CALL`s) and file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// The program name, e.g. `ACCTINQ`.
    pub name: String,
    /// The absolute path of its `.cbl` file.
    pub source: PathBuf,
    /// An executable (`DISPATCH`, `LEDGLOAD`) rather than a module.
    pub executable: bool,
}

/// `path` made absolute against the current directory, for messages about a path that may not
/// exist (so it cannot be canonicalized).
pub fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    std::env::current_dir().map(|cwd| cwd.join(path)).unwrap_or_else(|_| path.to_path_buf())
}

/// Creates directory `path` if needed and returns its canonical absolute form.
pub fn absolute_dir(path: &Path, what: &str) -> Result<PathBuf, String> {
    let shown = absolute(path);
    std::fs::create_dir_all(path)
        .map_err(|e| format!("cannot create the {what} directory {}: {e}", shown.display()))?;
    std::fs::canonicalize(path).map_err(|e| format!("{what} directory {}: {e}", shown.display()))
}

/// An existing directory's canonical absolute form, or an error naming it.
fn existing_dir(path: &Path, what: &str) -> Result<PathBuf, String> {
    let shown = absolute(path);
    let dir = std::fs::canonicalize(path).map_err(|e| format!("{what} directory {}: {e}", shown.display()))?;
    if !dir.is_dir() {
        return Err(format!("{what} {} is not a directory", dir.display()));
    }
    Ok(dir)
}

impl Sources {
    /// Resolves the sources: `sources` and `copybooks` if given, else the defaults above.
    pub fn resolve(sources: Option<&Path>, copybooks: Option<&Path>) -> Result<Sources, String> {
        let in_cwd = absolute(Path::new(IN_CHECKOUT));
        let (dir, dir_from) = match sources {
            Some(dir) => (dir.to_path_buf(), "--sources"),
            None if in_cwd.join("programs").is_dir() => (in_cwd, "the current directory"),
            None => (Path::new(BUILT_FROM).join(IN_CHECKOUT), "the checkout this example was built from"),
        };
        let dir = existing_dir(&dir, "sources")?;
        let beside = dir.join("../../copybooks");
        let (books, copybooks_from) = match copybooks {
            Some(books) => (books.to_path_buf(), "--copybooks"),
            None if beside.join("COMMHDR.cpy").is_file() => (beside, "beside the sources"),
            None => (Path::new(BUILT_FROM).join("copybooks"), "the checkout this example was built from"),
        };
        let copybooks = existing_dir(&books, "copybooks")?;
        Ok(Sources { dir, copybooks, dir_from, copybooks_from })
    }

    /// The directory of the `*.cbl` programs.
    pub fn programs_dir(&self) -> PathBuf {
        self.dir.join("programs")
    }

    /// This example's own copybooks (the ledger records, the COMMAREA, shared paragraphs).
    pub fn host_copybooks(&self) -> PathBuf {
        self.dir.join("copybooks")
    }

    /// The routes template the host fills in for the gateway.
    pub fn routes_template(&self) -> PathBuf {
        self.dir.join("routes.toml")
    }

    /// The programs in `programs/`, sorted by name: the two executables, which must be there,
    /// and every other `*.cbl` as a module.
    pub fn programs(&self) -> Result<Vec<Program>, String> {
        let dir = self.programs_dir();
        let mut programs: Vec<Program> = sorted_files(&dir, "cbl")?
            .into_iter()
            .filter_map(|source| {
                let name = source.file_stem()?.to_str()?.to_string();
                let executable = EXECUTABLES.contains(&name.as_str());
                Some(Program { name, source, executable })
            })
            .collect();
        programs.sort_by(|a, b| a.name.cmp(&b.name));
        for name in EXECUTABLES {
            if !programs.iter().any(|p| p.name == name) {
                return Err(format!(
                    "{} is missing: the host needs DISPATCH (the dispatcher) and LEDGLOAD (the ledger loader) in {}",
                    dir.join(format!("{name}.cbl")).display(),
                    dir.display()
                ));
            }
        }
        for p in programs.iter().filter(|p| !p.executable && p.name != p.name.to_ascii_uppercase()) {
            tracing::warn!(
                source = %p.source.display(),
                "module {} is not upper case: DISPATCH CALLs upper-case names, so it will not be found",
                p.name
            );
        }
        Ok(programs)
    }
}

/// The files in `dir` whose extension is `ext` (any case), sorted by path.
pub fn sorted_files(dir: &Path, ext: &str) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x.eq_ignore_ascii_case(ext)))
        .collect();
    files.sort();
    Ok(files)
}
