//! `ficus … | head -1`: a command whose reader has gone stops quietly (exit 0, no panic, no
//! backtrace), whatever it was printing.

use std::io::Read;
use std::process::{Command, Stdio};

#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    // A listing far larger than a pipe's buffer, so writes go on after the reader has gone.
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("BIG.cpy");
    let mut text = String::from("       01  BIG-REC.\n");
    for i in 0..4000 {
        text.push_str(&format!("           05  FIELD-{i:05}  PIC X(10).\n"));
    }
    std::fs::write(&book, text).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ficus"))
        .args(["layout"])
        .arg(&book)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, as `head -1` does, then go away.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(status.code(), Some(0), "{stderr}");
}
