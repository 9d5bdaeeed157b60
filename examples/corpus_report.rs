//! Measures the copybook parser on the public corpus (cb2xml and Cobrix copybooks with their
//! expected layouts). Usage: `cargo run --example corpus_report [-- CORPUS_DIR]` (default
//! `../shared/corpus`). Reads the corpus in place; prints counts and the first mismatch per file.

use ficus::copybook::{parse_copybook, Copybook, DirResolver, Item, ItemKind};
use std::path::{Path, PathBuf};

/// One item as (name, 1-based start, length of one occurrence, length with occurrences).
type Flat = (String, usize, usize, usize);

/// Preorder items; a root named `implicit` (the synthetic record of a file without an 01) is skipped.
fn flatten(cb: &Copybook, implicit: &str) -> Vec<Flat> {
    fn walk(item: &Item, out: &mut Vec<Flat>) {
        let count = item.occurs.as_ref().map_or(1, |o| o.max as usize);
        out.push((item.display_name().to_string(), item.offset + 1, item.size, item.size * count));
        if let ItemKind::Group(children) = &item.kind {
            children.iter().for_each(|c| walk(c, out));
        }
    }
    let mut out = Vec::new();
    for r in &cb.records {
        match &r.root.kind {
            ItemKind::Group(children) if r.root.level == 1 && r.name == implicit => {
                children.iter().for_each(|c| walk(c, &mut out))
            }
            _ => walk(&r.root, &mut out),
        }
    }
    out
}

/// `name="X"` inside one tag.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    tag[start..].split('"').next()
}

/// Expected (name, position, storage-length) of every `<item>` in a cb2xml file.
fn cb2xml_expected(xml: &str) -> Vec<(String, usize, usize)> {
    xml.split("<item ")
        .skip(1)
        .filter_map(|t| {
            let tag = format!(" {}", t.split('>').next()?);
            let name = attr(&tag, "name").filter(|n| !n.is_empty()).unwrap_or("FILLER");
            Some((
                name.to_ascii_uppercase(),
                attr(&tag, "position")?.parse().ok()?,
                attr(&tag, "storage-length")?.parse().ok()?,
            ))
        })
        .collect()
}

/// Expected (name, start, length) from a Cobrix layout listing.
fn cobrix_expected(text: &str) -> Vec<(String, usize, usize)> {
    text.lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            if w.len() < 6 || w[0].parse::<u32>().is_err() {
                return None;
            }
            let n = w.len();
            Some((w[1].to_string(), w[n - 3].parse().ok()?, w[n - 1].parse().ok()?))
        })
        .collect()
}

struct Tally {
    parsed: usize,
    total: usize,
    matching: usize,
    compared: usize,
}

fn parse_file(path: &Path, t: &mut Tally) -> Option<Copybook> {
    t.total += 1;
    let text = String::from_utf8_lossy(&std::fs::read(path).ok()?).into_owned();
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    match parse_copybook(&text, &path.display().to_string(), &DirResolver(dir)) {
        Ok(cb) => {
            t.parsed += 1;
            Some(cb)
        }
        Err(e) => {
            println!("  PARSE FAIL {e}");
            None
        }
    }
}

fn compare_cb2xml(name: &str, cb: &Copybook, expected: &[(String, usize, usize)], t: &mut Tally) {
    let got = flatten(cb, &name.to_ascii_uppercase());
    t.compared += 1;
    let first_bad = expected.iter().enumerate().find(|(i, (en, ep, el))| {
        got.get(*i).is_none_or(|(gn, gp, gl, _)| !gn.eq_ignore_ascii_case(en) || gp != ep || gl != el)
    });
    match first_bad {
        None if got.len() == expected.len() => t.matching += 1,
        None => println!("  MISMATCH {name}: {} items expected, {} parsed", expected.len(), got.len()),
        Some((i, e)) => println!("  MISMATCH {name}: item {i} expected {e:?}, got {:?}", got.get(i)),
    }
}

fn compare_cobrix(name: &str, cb: &Copybook, expected: &[(String, usize, usize)], t: &mut Tally) {
    let got = flatten(cb, &name.to_ascii_uppercase());
    t.compared += 1;
    let mut from = 0;
    for e in expected {
        let norm = |s: &str| s.replace('-', "_").to_ascii_uppercase();
        match got.iter().enumerate().skip(from).find(|(_, g)| norm(&g.0) == norm(&e.0)) {
            Some((i, g)) if g.1 == e.1 && (g.3 == e.2 || g.2 == e.2) => from = i + 1,
            other => {
                println!("  MISMATCH {name}: expected {e:?}, got {:?}", other.map(|(_, g)| g));
                return;
            }
        }
    }
    t.matching += 1;
}

fn files_in(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| exts.iter().any(|e| x.eq_ignore_ascii_case(e))))
        .collect();
    v.sort();
    v
}

fn main() {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "../shared/corpus".to_string()));
    let mut t = Tally { parsed: 0, total: 0, matching: 0, compared: 0 };
    let cb2 = root.join("cb2xml");
    for path in files_in(&cb2.join("cobolCopybook"), &["cbl"]) {
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        println!("{}", path.display());
        let Some(cb) = parse_file(&path, &mut t) else {
            continue;
        };
        let xml_name = match stem.strip_prefix("cbl2xml_Test") {
            Some(n) => format!("cb2xml_Output{n}.xml"),
            None => {
                format!("xml{}{}.Xml", stem.get(..1).unwrap_or("").to_ascii_uppercase(), stem.get(1..).unwrap_or(""))
            }
        };
        if let Ok(xml) = std::fs::read_to_string(cb2.join("xmlCopybook").join(xml_name)) {
            compare_cb2xml(&stem, &cb, &cb2xml_expected(&xml), &mut t);
        }
    }
    let cobrix = root.join("cobrix");
    let mut cob_files = files_in(&cobrix.join("data"), &["cob", "cpy"]);
    cob_files.extend(files_in(&cobrix.join("examples/example_data"), &["cob", "cpy"]));
    cob_files.extend(files_in(&cobrix.join("examples/spark-cobol-app/src/main/resources/copybooks"), &["cob", "cpy"]));
    cob_files.extend(files_in(&cobrix.join("spark-cobol/src/test/resources/test"), &["cob", "cpy"]));
    let layouts = [
        ("test6_copybook", "test6_expected/test6_layout.txt"),
        ("test19_display_num", "test19_display_num_expected/test19_layout.txt"),
        ("test24_copybook", "test24_expected/test24_layout.txt"),
    ];
    for path in cob_files {
        println!("{}", path.display());
        let Some(cb) = parse_file(&path, &mut t) else {
            continue;
        };
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        for (_, layout) in layouts.iter().filter(|(s, _)| *s == stem) {
            if let Ok(text) = std::fs::read_to_string(cobrix.join("data").join(layout)) {
                compare_cobrix(&stem, &cb, &cobrix_expected(&text), &mut t);
            }
        }
    }
    println!("files parsed: {}/{}", t.parsed, t.total);
    println!("layouts matching: {}/{}", t.matching, t.compared);
}
