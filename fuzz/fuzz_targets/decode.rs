//! Fuzz target `decode`: Bytes → strict and lenient decode against the fixed layouts (demo copybooks, ODO/REDEFINES, Korean).
//!
//! The check is `tests/fuzz_checks/mod.rs::decode`, which `tests/fuzz_seeds.rs` also runs on
//! every file of `fuzz/corpus/decode/`.

#![no_main]

#[allow(dead_code)]
#[path = "../../tests/fuzz_checks/mod.rs"]
mod fuzz_checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzz_checks::decode(data);
});
