//! Fuzz target `copybook_parse`: Copybook text (bytes, lossily UTF-8) → parse_copybook → compile → decode: no panics.
//!
//! The check is `tests/fuzz_checks/mod.rs::copybook_parse`, which `tests/fuzz_seeds.rs` also runs on
//! every file of `fuzz/corpus/copybook_parse/`.

#![no_main]

#[allow(dead_code)]
#[path = "../../tests/fuzz_checks/mod.rs"]
mod fuzz_checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzz_checks::copybook_parse(data);
});
