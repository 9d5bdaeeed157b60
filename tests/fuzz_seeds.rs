//! The fuzz seeds as ordinary tests: every file in `fuzz/corpus/<target>/` goes through the
//! same check function as the fuzz target `<target>` (`tests/fuzz_checks/mod.rs`), so a crash
//! the fuzzer found and we kept as a seed stays fixed without cargo-fuzz or a nightly compiler.
//!
//! Seeds named `ok-*` must also be accepted (parsed, decoded, framed, built): they are the
//! valid inputs the fuzzer starts from, and a check that rejected them would fuzz nothing.
//! Seeds named `known-bug-*` are crashes the fuzzer found in code not yet fixed: they must
//! still fail their check, so the fix shows up here as a failure that says to rename the seed
//! (after which it guards against the bug coming back).

#[path = "fuzz_checks/mod.rs"]
mod fuzz_checks;

use std::path::Path;

/// Runs every seed of `target` through `check`; returns how many seeds there were.
fn run_seeds(target: &str, check: fuzz_checks::Check) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    entries.sort();
    for path in &entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        let data = std::fs::read(path).expect("seed is readable");
        let outcome = std::panic::catch_unwind(|| check(&data));
        if name.starts_with("known-bug-") {
            assert!(
                outcome.is_err(),
                "{target}: seed {name} passes now: the bug is fixed, rename the seed without `known-bug-`"
            );
            continue;
        }
        let accepted =
            outcome.unwrap_or_else(|_| panic!("{target}: seed {name} fails its check (see the panic above)"));
        if name.starts_with("ok-") {
            assert!(accepted, "{target}: seed {name} should be accepted");
        }
    }
    entries.len()
}

#[test]
fn every_target_has_seeds_and_they_pass() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for (target, check) in fuzz_checks::TARGETS {
        let count = run_seeds(target, check);
        assert!(count >= 2, "{target}: only {count} seeds in {}", corpus.display());
    }
}

#[test]
fn every_corpus_directory_is_a_known_target() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for entry in std::fs::read_dir(&corpus).expect("fuzz/corpus exists") {
        let name = entry.expect("directory entry").file_name().to_string_lossy().into_owned();
        assert!(
            fuzz_checks::TARGETS.iter().any(|(t, _)| *t == name),
            "fuzz/corpus/{name} has no check: its seeds would never run as tests"
        );
    }
}

#[test]
fn the_fixed_layouts_compile_and_cover_odo_and_redefines() {
    let layouts = fuzz_checks::layouts();
    let names: Vec<&str> = layouts.iter().map(|l| l.name.as_str()).collect();
    for want in ["COMMHDR.cpy#COMM-HDR/cp037", "TXNHIST.cpy#TXNHIST-RESP/cp037", "MIXED.cpy#MIXED-REC/ascii"] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let mixed = layouts.iter().find(|l| l.name == "MIXED.cpy#MIXED-REC/cp037").expect("mixed layout");
    assert!(mixed.strict.plan().counters == 2, "MIXED-REC has two DEPENDING ON counters");
}

#[test]
fn the_checks_catch_what_they_claim() {
    // An empty input is accepted by nothing; a broken length field frames nothing.
    for (target, check) in fuzz_checks::TARGETS {
        if target != "copybook_parse" {
            assert!(!check(b""), "{target}: the empty input was accepted");
        }
    }
    // 4 ASCII digits before the message: a non-digit length, a wrong trailer frame nothing.
    assert!(fuzz_checks::frame(b"\x00\x02\x03\x00\x000005HELLO"), "a good ASCII prefix framed nothing");
    assert!(!fuzz_checks::frame(b"\x00\x02\x03\x00\x0000X5HELLO"), "a non-digit length framed a message");
    assert!(!fuzz_checks::frame(b"\x00\x42\x03\x00\x000005HELLOZY"), "a wrong trailer framed a message");
    assert!(!fuzz_checks::routes_toml(b"[gateway]\nlisten_http = 5\n"), "a bad routes.toml built");
}
