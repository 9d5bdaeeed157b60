//! Fuzz target `roundtrip`: Bytes → decode → encode → decode: the value survives and the canonical bytes are a fixed point.
//!
//! The check is `tests/fuzz_checks/mod.rs::roundtrip`, which `tests/fuzz_seeds.rs` also runs on
//! every file of `fuzz/corpus/roundtrip/`.

#![no_main]

#[allow(dead_code)]
#[path = "../../tests/fuzz_checks/mod.rs"]
mod fuzz_checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzz_checks::roundtrip(data);
});
