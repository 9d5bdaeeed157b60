//! What a table is built from — routes.toml's text and the content of every copybook (and COPY
//! member) it reads — and the table hash over all of it. Copybooks are parsed through a cache
//! keyed by path and content, so a reload whose copybooks did not change parses none of them.
//!
//! Only this module and `copybook::DirResolver` read copybook files for a table; nothing here
//! builds codecs or upstreams.

use super::file::RoutesFile;
use crate::copybook::{self, CopyResolver, Copybook, CopybookError, DirResolver};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A SHA-256 digest.
pub type Digest32 = [u8; 32];

fn sha(bytes: &[u8]) -> Digest32 {
    Sha256::digest(bytes).into()
}

/// One `COPY` member a copybook included, as resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Member {
    name: String,
    path: PathBuf,
    digest: Digest32,
}

/// One copybook file as read and parsed: its content digest (the file and its COPY members)
/// and the parse result, which depends on nothing else.
#[derive(Debug)]
pub struct CachedCopybook {
    /// The file read (the copybook directory joined with the name in routes.toml).
    pub path: PathBuf,
    /// SHA-256 over the file's bytes and every COPY member's name and bytes.
    pub digest: Digest32,
    main: Digest32,
    members: Vec<Member>,
    /// The parsed copybook, or why it could not be parsed.
    pub parsed: Result<Arc<Copybook>, CopybookError>,
}

impl CachedCopybook {
    /// Every file this copybook was read from: itself, then its COPY members.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        std::iter::once(self.path.as_path()).chain(self.members.iter().map(|m| m.path.as_path()))
    }

    /// True if the files on disk still hold what this entry was parsed from.
    fn still_current(&self, main: &Digest32) -> bool {
        if &self.main != main {
            return false;
        }
        let resolver = DirResolver(self.path.parent().map(Path::to_path_buf).unwrap_or_default());
        self.members.iter().all(|m| match resolver.resolve(&m.name) {
            Some((p, text)) => Path::new(&p) == m.path && sha(text.as_bytes()) == m.digest,
            None => false,
        })
    }
}

/// Records every COPY member the parser asks for, with what it got.
struct Recording {
    inner: DirResolver,
    seen: RefCell<Vec<Member>>,
}

impl CopyResolver for Recording {
    fn resolve(&self, name: &str) -> Option<(String, String)> {
        let found = self.inner.resolve(name)?;
        let member = Member { name: name.to_string(), path: PathBuf::from(&found.0), digest: sha(found.1.as_bytes()) };
        self.seen.borrow_mut().push(member);
        Some(found)
    }
}

/// Parsed copybooks by path, reused while their content (and their COPY members') is the same.
/// Kept by the reloader across reloads; one entry per path.
#[derive(Default)]
pub struct CopybookCache {
    entries: Mutex<HashMap<PathBuf, Arc<CachedCopybook>>>,
    parses: AtomicU64,
}

impl CopybookCache {
    /// An empty cache.
    pub fn new() -> CopybookCache {
        CopybookCache::default()
    }

    /// A cache holding the copybooks `source` was built from.
    pub fn seeded(source: Option<&TableSource>) -> CopybookCache {
        let cache = CopybookCache::new();
        if let Some(s) = source {
            cache.seed(s);
        }
        cache
    }

    /// Adds the copybooks `source` was built from (still checked against the disk on use).
    pub fn seed(&self, source: &TableSource) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        for c in source.copybooks.values() {
            entries.entry(c.path.clone()).or_insert_with(|| c.clone());
        }
    }

    /// How many copybook files this cache has parsed (a reload that changes nothing adds none).
    pub fn parses(&self) -> u64 {
        self.parses.load(Ordering::Relaxed)
    }

    /// Reads `path` and returns its parsed copybook, parsing only if the file or one of its
    /// COPY members changed since it was last parsed. Fails only if the file cannot be read;
    /// a copybook that does not parse is an entry with an error (its content still counts).
    pub fn load(&self, path: &Path) -> Result<Arc<CachedCopybook>, CopybookError> {
        let file = path.display().to_string();
        let error = |message: String| CopybookError { file: file.clone(), line: 0, column: 0, message };
        let meta = std::fs::metadata(path).map_err(|e| error(format!("cannot read: {e}")))?;
        if !meta.is_file() || meta.len() > copybook::MAX_COPYBOOK_BYTES {
            return Err(error(format!("not a regular file of at most {} bytes", copybook::MAX_COPYBOOK_BYTES)));
        }
        let bytes = std::fs::read(path).map_err(|e| error(format!("cannot read: {e}")))?;
        let main = sha(&bytes);
        let cached = self.entries.lock().unwrap_or_else(|p| p.into_inner()).get(path).cloned();
        if let Some(entry) = cached.filter(|e| e.still_current(&main)) {
            return Ok(entry);
        }
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let resolver = Recording { inner: DirResolver(dir), seen: RefCell::new(Vec::new()) };
        let parsed = copybook::parse_copybook(&String::from_utf8_lossy(&bytes), &file, &resolver).map(Arc::new);
        self.parses.fetch_add(1, Ordering::Relaxed);
        let members = resolver.seen.into_inner();
        let mut h = Sha256::new();
        h.update(main);
        for m in &members {
            h.update(m.name.as_bytes());
            h.update([0]);
            h.update(m.digest);
        }
        let entry =
            Arc::new(CachedCopybook { path: path.to_path_buf(), digest: h.finalize().into(), main, members, parsed });
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).insert(path.to_path_buf(), entry.clone());
        Ok(entry)
    }
}

/// Everything a table was built from: routes.toml's text and its copybooks by the name routes.toml
/// gives them. An admin change is applied to this, not to whatever the disk holds now.
#[derive(Debug, Default)]
pub struct TableSource {
    /// The text of routes.toml.
    pub text: String,
    /// Each copybook file named in routes.toml (`FILE` of `FILE#RECORD`), as read.
    pub copybooks: BTreeMap<String, Arc<CachedCopybook>>,
}

impl TableSource {
    /// The table hash: see [`table_hash`].
    pub fn hash(&self) -> String {
        table_hash(&self.text, self.copybooks.iter().map(|(n, c)| (n.as_str(), &c.digest)))
    }

    /// Names of copybooks whose content differs between `self` and `other` (used by both).
    pub fn changed_copybooks(&self, other: &TableSource) -> Vec<String> {
        self.copybooks
            .iter()
            .filter(|(name, c)| other.copybooks.get(*name).is_some_and(|o| o.digest != c.digest))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Every file the table read: routes.toml is not included; copybooks and their members are.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.copybooks.values().flat_map(|c| c.files())
    }
}

/// The copybook files a routes file uses: the header's and every route's request and response.
pub fn copybook_files(file: &RoutesFile) -> BTreeSet<String> {
    let mut names = BTreeSet::from([file.header.copybook.clone()]);
    for r in file.routes.values() {
        for spec in [&r.request, &r.response].into_iter().flatten() {
            names.insert(spec.split_once('#').map_or(spec.as_str(), |(f, _)| f).to_string());
        }
    }
    names
}

/// The table hash (hex, 128 bits of SHA-256): routes.toml's text, then each copybook it uses in
/// name order — its name, and the digest of its bytes and of every COPY member's name and bytes.
/// Two tables with the same hash were built from the same inputs.
pub fn table_hash<'a>(text: &str, copybooks: impl Iterator<Item = (&'a str, &'a Digest32)>) -> String {
    let mut h = Sha256::new();
    h.update((text.len() as u64).to_be_bytes());
    h.update(text.as_bytes());
    for (name, digest) in copybooks {
        h.update((name.len() as u64).to_be_bytes());
        h.update(name.as_bytes());
        h.update(digest);
    }
    hex::encode(&h.finalize()[..16])
}

/// The hash a table built from `text` (routes.toml at `path`) would have, reading its copybooks
/// through `cache` — no build, and no parse unless a copybook changed. `None` if the text does
/// not parse or a copybook cannot be read (a build would fail then).
pub fn fingerprint(text: &str, path: &Path, cache: &CopybookCache) -> Option<String> {
    let file: RoutesFile = toml::from_str(text).ok()?;
    let dir = path.parent().unwrap_or(Path::new(".")).join(&file.gateway.copybooks);
    let mut entries = Vec::new();
    for name in copybook_files(&file) {
        let entry = cache.load(&dir.join(&name)).ok()?;
        entries.push((name, entry));
    }
    Some(table_hash(text, entries.iter().map(|(n, c)| (n.as_str(), &c.digest))))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REC: &str = "       01 R.\n           05 A PIC X(2).\n           COPY MEM.\n";

    #[test]
    fn a_copybook_is_parsed_once_until_it_or_a_member_changes() {
        let dir = tempfile::tempdir().unwrap();
        let (top, mem) = (dir.path().join("TOP.cpy"), dir.path().join("MEM.cpy"));
        std::fs::write(&top, REC).unwrap();
        std::fs::write(&mem, "           05 B PIC X(3).\n").unwrap();
        let cache = CopybookCache::new();
        let first = cache.load(&top).unwrap();
        assert_eq!(first.parsed.as_ref().unwrap().records[0].max_size(), 5);
        assert_eq!(first.files().count(), 2, "the COPY member is one of its files");
        let again = cache.load(&top).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(cache.parses(), 1);
        std::fs::write(&mem, "           05 B PIC X(9).\n").unwrap();
        let changed = cache.load(&top).unwrap();
        assert_eq!((cache.parses(), changed.parsed.as_ref().unwrap().records[0].max_size()), (2, 11));
        assert_ne!(changed.digest, first.digest, "a member's content is part of the digest");
    }

    #[test]
    fn the_hash_covers_text_names_and_contents() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        let base = table_hash("x", [("A.cpy", &a)].into_iter());
        assert_eq!(base, table_hash("x", [("A.cpy", &a)].into_iter()));
        assert_ne!(base, table_hash("x", [("A.cpy", &b)].into_iter()));
        assert_ne!(base, table_hash("x", [("B.cpy", &a)].into_iter()));
        assert_ne!(base, table_hash("y", [("A.cpy", &a)].into_iter()));
        assert_eq!(base.len(), 32);
    }
}
