//! `ficus … | head -1`: a command whose reader has gone stops quietly (exit 0, no panic, no
//! backtrace), whatever it was printing.

use std::io::Read;
use std::process::{Command, Stdio};

/// Runs `ficus args…`, reads 16 bytes of its output as `head` would, goes away; the command
/// must end with exit 0 and no panic.
fn head_of(args: &[&std::ffi::OsStr]) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ficus"))
        .args(args)
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

#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    // Outputs far larger than a pipe's buffer, so writes go on after the reader has gone: one
    // command that writes through a writer (layout), one that prints line by line (check).
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("BIG.cpy");
    let mut text = String::from("       01  BIG-REC.\n");
    for i in 0..4000 {
        text.push_str(&format!("           05  FIELD-{i:05}  PIC X(10).\n"));
    }
    std::fs::write(&book, text).unwrap();
    head_of(&["layout".as_ref(), book.as_os_str()]);

    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut routes = std::fs::read_to_string(repo.join("routes.toml")).unwrap().replace(
        "copybooks   = \"copybooks\"",
        &format!("copybooks   = {:?}", repo.join("copybooks").display().to_string()),
    );
    for i in 0..3000 {
        routes.push_str(&format!("\n[routes.Q{i:05}]\nrequest = \"ACCTINQ.cpy#ACCTINQ-REQ\"\nresponse = \"ACCTINQ.cpy#ACCTINQ-RESP\"\ntarget = \"legacy\"\n"));
    }
    let config = dir.path().join("routes.toml");
    std::fs::write(&config, routes).unwrap();
    head_of(&["check".as_ref(), "--config".as_ref(), config.as_os_str()]);
}
