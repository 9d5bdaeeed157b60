//! Fuzz target `routes_toml`: Bytes → routes.toml text → `config::build::build`: a table or a list of problems, never a panic.
//!
//! The check is `tests/fuzz_checks/mod.rs::routes_toml`, which `tests/fuzz_seeds.rs` also runs on
//! every file of `fuzz/corpus/routes_toml/`.

#![no_main]

#[allow(dead_code)]
#[path = "../../tests/fuzz_checks/mod.rs"]
mod fuzz_checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzz_checks::routes_toml(data);
});
