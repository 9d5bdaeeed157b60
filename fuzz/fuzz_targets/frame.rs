//! Fuzz target `frame`: the first bytes choose a framing (prefix or header field; binary,
//! binary-le, ASCII, EBCDIC or BCD; what the length counts; adjust; trailer), the rest is a
//! stream → `Framing::read` over an in-memory reader with a small limit.
//!
//! The check is `tests/fuzz_checks/mod.rs::frame`, which `tests/fuzz_seeds.rs` also runs on
//! every file of `fuzz/corpus/frame/`.

#![no_main]

#[allow(dead_code)]
#[path = "../../tests/fuzz_checks/mod.rs"]
mod fuzz_checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzz_checks::frame(data);
});
