//! Per-route encode options for replies built from a JSON service's answer: `fill_missing`
//! and `truncate_text` in `[routes.OP]` reach the route's response layout, default off.

use std::path::Path;

fn copy_example(dir: &Path, route_lines: &str) -> std::path::PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(dir.join("copybooks")).unwrap();
    for entry in std::fs::read_dir(root.join("copybooks")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join("copybooks").join(entry.file_name())).unwrap();
    }
    let text = std::fs::read_to_string(root.join("routes.toml")).unwrap();
    let text = text.replacen("[routes.ACCTINQ]\n", &format!("[routes.ACCTINQ]\n{route_lines}"), 1);
    let path = dir.join("routes.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn fill_missing_and_truncate_text_are_per_route_and_default_off() {
    let dir = std::env::temp_dir().join(format!("ficus-reply-options-{}", std::process::id()));
    let path = copy_example(&dir, "fill_missing = true\ntruncate_text = true\n");
    let table = ficus::config::load(&path, None, 1).unwrap_or_else(|e| panic!("{e}"));
    let options = |op: &str| table.routes[op].response.as_ref().expect("response layout").plan().options;
    assert!(options("ACCTINQ").fill_missing && options("ACCTINQ").truncate_text);
    assert!(!options("TXNHIST").fill_missing && !options("TXNHIST").truncate_text);
    // Decoding the request is never affected.
    assert!(!table.routes["ACCTINQ"].request.as_ref().unwrap().plan().options.fill_missing);
    // A misspelt key is refused, not ignored.
    let path = copy_example(&dir, "fill_mising = true\n");
    let e = ficus::config::load(&path, None, 1).err().expect("refused").to_string();
    assert!(e.contains("fill_mising"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}
