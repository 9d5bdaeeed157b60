//! routes.toml validation: every problem reported with its line; `ficus check` exits 64.

mod common;

use common::*;
use std::process::Command;

fn check(toml: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("routes.toml");
    std::fs::write(&path, toml).unwrap();
    std::fs::write(dir.path().join("tokens"), "ops:secret\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ficus")).args(["check", "--config"]).arg(&path).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn base() -> String {
    routes_toml(
        &Upstreams { legacy: "127.0.0.1:7001".into(), accounts: "http://127.0.0.1:7002/ops".into() },
        "legacy",
        "accounts",
        "",
    )
}

fn line_of(toml: &str, needle: &str) -> usize {
    toml.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn check_says_whether_replies_can_be_correlated() {
    let (code, out) = check(&base());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("replies correlated with their requests by HDR-SEQ-NO"), "{out}");
    let (code, out) = check(&base().replace("message_id       = \"HDR-SEQ-NO\"\n", ""));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("warning: [header] names no message_id, so replies cannot be correlated"), "{out}");
}

#[test]
fn the_shipped_routes_toml_is_valid() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("routes.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_ficus")).args(["check", "--config"]).arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ACCTINQ"));
}

#[test]
fn a_valid_file_passes() {
    let (code, out) = check(&base());
    assert_eq!(code, 0, "{out}");
}

#[test]
fn unknown_keys_are_typos_with_their_line() {
    let toml = base().replace("read_only = true", "read_onyl = true");
    let (code, out) = check(&toml);
    assert_eq!(code, 64, "{out}");
    assert!(out.contains("read_onyl") && out.contains(&format!(":{}:", line_of(&toml, "read_onyl"))), "{out}");
}

#[test]
fn semantic_problems_are_all_listed_with_lines() {
    let toml = base()
        .replace("target   = \"accounts\"", "target   = \"acounts\"")
        .replace("ACCTINQ.cpy#ACCTINQ-RESP", "ACCTINQ.cpy#NO-SUCH-RECORD")
        .replace("XFER.cpy#XFER-REQ", "MISSING.cpy#XFER-REQ")
        .replace("address = \"127.0.0.1:7001\"", "address = \"localhost\"");
    let (code, out) = check(&toml);
    assert_eq!(code, 64, "{out}");
    for (needle, what) in [
        ("acounts", "is not an upstream"),
        ("NO-SUCH-RECORD", "has no record"),
        ("MISSING.cpy", "MISSING.cpy"),
        ("address = \"localhost\"", "not host:port"),
    ] {
        let line = line_of(&toml, needle);
        assert!(
            out.contains(&format!(":{line}: ")) && out.contains(what),
            "expected line {line} / {what:?} in:\n{out}"
        );
    }
}

#[test]
fn header_fields_must_exist() {
    let toml = base().replace("response_code    = \"HDR-RESP-CODE\"", "response_code    = \"HDR-RC\"");
    let (code, out) = check(&toml);
    assert_eq!(code, 64);
    assert!(out.contains("HDR-RC"), "{out}");
}

#[test]
fn serve_refuses_an_invalid_file_with_64() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("routes.toml");
    std::fs::write(&path, "[gateway]\nlisten_http = 8080\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ficus")).args(["serve", "--config"]).arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains(":2:"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The problem lines of `ficus check`'s output (`path:line[:col]: message`).
fn problems(out: &str) -> Vec<&str> {
    out.lines().filter(|l| l.contains("routes.toml:")).map(|l| l.trim_start_matches("ficus: ")).collect()
}

#[test]
fn every_syntax_error_is_reported_each_with_line_and_column() {
    let toml = base()
        .replace("admin       = \"127.0.0.1:0\"", "admin       = \"127.0.0.1:0")
        .replace("[routes.TXNHIST]", "[routes.TXNHIST")
        .replace("timeout_ms = 1000\nconnect_timeout_ms", "timeout_ms = 1000\ntimeout_ms = 2000\nconnect_timeout_ms")
        .replacen("target   = \"legacy\"\n", "target   = legacy\n", 1);
    let (code, out) = check(&toml);
    assert_eq!(code, 64, "{out}");
    let mut expected = [
        line_of(&toml, "admin       = \"127.0.0.1:0"),
        line_of(&toml, "timeout_ms = 2000"),
        line_of(&toml, "[routes.TXNHIST"),
        line_of(&toml, "target   = legacy"),
    ];
    expected.sort();
    let found = problems(&out);
    assert_eq!(found.len(), expected.len(), "one problem per error, no knock-ons:\n{out}");
    for (problem, line) in found.iter().zip(expected) {
        let at = problem.split(": ").next().unwrap();
        let parts: Vec<_> = at.rsplit(':').take(2).collect();
        assert_eq!(parts[1], line.to_string(), "{problem}\nin:\n{out}");
        assert!(parts[0].parse::<usize>().is_ok(), "a column: {problem}");
    }
}

#[test]
fn every_semantic_error_is_reported_once_with_its_line_and_no_knock_ons() {
    let toml = base()
        .replace("read_only = true\n\n[routes.TXNHIST]", "read_onyl = true\n\n[routes.TXNHIST]")
        .replace("target   = \"accounts\"", "target   = \"acounts\"\nshadow   = \"acounts\"")
        .replace("timeout_ms = 1000\n\n[default]", "timeout_ms = \"fast\"\n\n[default]")
        .replace("[default]", "[upstreams.spare]\nkind = \"tcp\"\naddress = \"localhost\"\n\n[default]")
        .replace(
            "XFER.cpy#XFER-REQ\"",
            "MISSING.cpy#XFER-REQ\"\ncanary = { to = \"legacy\", percent = 10, sticky = \"FROM-ACCT\" }\nshadow = \"legacy\"",
        )
        + "\n[routes.PAYSTMT]\ntarget = \"accounts\"\n";
    let (code, out) = check(&toml);
    assert_eq!(code, 64, "{out}");
    let expected = [
        ("address = \"localhost\"", "not host:port"),
        ("timeout_ms = \"fast\"", "invalid type"),
        ("read_onyl", "unknown field `read_onyl`"),
        ("target   = \"acounts\"", "target = \"acounts\" is not an upstream"),
        ("shadow   = \"acounts\"", "shadow = \"acounts\" is not an upstream"),
        ("MISSING.cpy", "MISSING.cpy"),
        ("shadow = \"legacy\"", "a write"),
    ];
    let found = problems(&out);
    for (needle, what) in expected {
        let line = line_of(&toml, needle);
        assert!(
            found.iter().any(|p| p.contains(&format!(":{line}: ")) && p.contains(what)),
            "expected line {line} / {what:?} in:\n{out}"
        );
    }
    // Not: the sticky field or the comparison of the route whose copybook is missing, nor
    // PAYSTMT's target `accounts`, whose section did not read.
    assert_eq!(found.len(), expected.len(), "no knock-ons:\n{out}");
}

#[test]
fn check_describes_each_channel() {
    let toml = base()
        + r#"
[[channels]]
name = "internet-banking"
listen_tcp = "127.0.0.1:9100"
codepage = "cp949"
framing = { length_prefix = 8, digits = "ascii", counts = "after" }
heartbeat = { op = "LINKTEST", reply_code = "0000" }

[[channels]]
name = "branch"
listen_http = "127.0.0.1:9101"
"#;
    let (code, out) = check(&toml);
    assert_eq!(code, 0, "{out}");
    let line = |name: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("  channel {name}: ")))
            .unwrap_or_else(|| panic!("{out}"))
            .to_string()
    };
    let ib = line("internet-banking");
    assert!(ib.contains("tcp 127.0.0.1:9100, cp949 (converted to and from the host's cp037"), "{ib}");
    assert!(ib.contains("framing: 8 ASCII digits"), "{ib}");
    assert!(ib.ends_with("heartbeat LINKTEST answered with 0000"), "{ib}");
    let branch = line("branch");
    assert_eq!(branch, "  channel branch: http 127.0.0.1:9101, cp037 (the host's: bytes pass through)");
}
