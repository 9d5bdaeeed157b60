//! Proxy load harness: see bench/load/ (being written).
fn main() {}
