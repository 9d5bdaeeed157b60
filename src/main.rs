//! The `ficus` command: thin; parses arguments, sets up tracing, calls the library.
fn main() {}
