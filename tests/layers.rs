//! The layering rule of ARCHITECTURE.md, checked on the source: no two top-level modules import
//! each other, directly or through others, and the pure core (copybook, codec) does no I/O.
//! A module's imports are the `crate::<module>` paths in its files (`use` lines and inline
//! paths alike); `lib.rs` and `main.rs` tie everything together and are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Top-level module → the top-level modules its files name.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        let top = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        if top == "lib" || top == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let deps = graph.entry(top.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            let name: String = text[i + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            // Skip comments' prose: a path in a doc link still counts, it is a real dependency.
            if !name.is_empty() && name != top {
                deps.insert(name);
            }
        }
    }
    graph
}

/// Every module reachable from `from`.
fn reachable(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_string()];
    while let Some(m) = stack.pop() {
        for d in graph.get(&m).into_iter().flatten() {
            if seen.insert(d.clone()) {
                stack.push(d.clone());
            }
        }
    }
    seen
}

#[test]
fn no_two_top_level_modules_import_each_other() {
    let graph = graph();
    let mut cycles = Vec::new();
    for (a, deps) in &graph {
        for b in deps {
            if a < b && reachable(&graph, b).contains(a) {
                cycles.push(format!("{a} → {b} → … → {a}"));
            }
        }
    }
    assert!(cycles.is_empty(), "import cycles between top-level modules:\n{}\ngraph: {graph:#?}", cycles.join("\n"));
}

#[test]
fn the_pure_core_does_no_io_and_imports_only_itself() {
    let graph = graph();
    for core in ["copybook", "codec"] {
        let outside: Vec<_> = reachable(&graph, core).into_iter().filter(|m| m != "copybook" && m != "codec").collect();
        assert!(outside.is_empty(), "{core} imports {outside:?}");
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for core in ["copybook", "codec"] {
        let mut files = Vec::new();
        rust_files(&src.join(core), &mut files);
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for io in ["tokio::", "std::net", "std::fs::File::create", "hyper::"] {
                assert!(!text.contains(io), "{} uses {io}", f.display());
            }
        }
    }
}
