//! `tcp_framing` / `framing` in routes.toml: every convention builds and `ficus check` says it
//! in words; every invalid combination is refused with its reason and its line (exit 64).

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

/// The test configuration with this channel framing and (if given) this legacy upstream framing.
fn with(channel: &str, upstream: Option<&str>) -> String {
    let up = Upstreams { legacy: "127.0.0.1:7001".into(), accounts: "http://127.0.0.1:7002/ops".into() };
    let toml = routes_toml(&up, "legacy", "accounts", "")
        .replace("tcp_framing = { length_prefix = 4 }", &format!("tcp_framing = {channel}"));
    match upstream {
        Some(f) => toml.replacen("max_connections = 8\n", &format!("max_connections = 8\nframing = {f}\n"), 1),
        None => toml,
    }
}

fn line_of(toml: &str, needle: &str) -> usize {
    toml.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn check_says_each_framing_in_words() {
    let (code, out) = check(&with(
        r#"{ length_prefix = 8, digits = "ascii", counts = "after" }"#,
        Some(r#"{ length_field = "HDR-MSG-LEN", counts = "body", trailer = "0x03" }"#),
    ));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("tcp channel framing: 8 ASCII digits length before each message, counting the bytes after it"),
        "{out}"
    );
    assert!(
        out.contains(
            "upstream legacy framing: length in HDR-MSG-LEN at offset 0 (6 EBCDIC digits), counting the body after \
             the header; each message followed by 0x03"
        ),
        "{out}"
    );
    // The classic settings keep meaning what they meant.
    let (code, out) = check(&with("{ length_field = \"HDR-MSG-LEN\" }", None));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(
            "tcp channel framing: length in HDR-MSG-LEN at offset 0 (6 EBCDIC digits), counting the whole message"
        ),
        "{out}"
    );
    assert!(out.contains("upstream legacy framing: 4-byte binary (big-endian) length before each message"), "{out}");
    // A text trailer is written in the link's code page: ZZ in cp037 is 0xE9E9.
    let (code, out) = check(&with(r#"{ length_prefix = 4, digits = "ebcdic", trailer = "ZZ" }"#, None));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(
            "4 EBCDIC digits length before each message, counting the bytes after it; each message followed by 0xE9E9"
        ),
        "{out}"
    );
}

#[test]
fn invalid_framings_are_refused_with_reason_and_line() {
    let channel = [
        (r#"{ length_prefix = 3 }"#, "binary lengths take 1, 2, 4 or 8 bytes"),
        (r#"{ length_prefix = 12, digits = "ascii" }"#, "ascii lengths take 1 to 10 digits"),
        (r#"{ length_prefix = 6, digits = "bcd" }"#, "bcd lengths take 1 to 5 bytes"),
        (r#"{ length_prefix = 4, counts = "body" }"#, "counts = \"body\" is for a length_field"),
        (r#"{ length_prefix = 4, counts = "message" }"#, "a prefix is not part of the message"),
        (r#"{ length_prefix = 4, digits = "decimal" }"#, "digits = \"decimal\" is not one of binary, binary-le"),
        (r#"{ length_prefix = 4, counts = "total" }"#, "counts = \"total\" is not one of after, all, message, body"),
        (r#"{ length_prefix = 4, trailer = "0x0" }"#, "after 0x come hex digits"),
        (r#"{ length_prefix = 4, trailer = "\u0003" }"#, "write control bytes as hex"),
        (r#"{ length_prefix = 4, trailer = "" }"#, "leave trailer out for none"),
        (r#"{ length_prefix = 2, digits = "ascii", adjust = -100 }"#, "would leave a negative length"),
        (r#"{ length_field = "HDR-MSG-LEN", adjust = -1000000 }"#, "shorter than the 85-byte header"),
        (r#"{ length_field = "HDR-MSG-LEN", digits = "ascii" }"#, "declare it PIC X(n)"),
        (r#"{ length_field = "HDR-MSG-LEN", digits = "bcd" }"#, "must be PIC X(n) for digits = \"bcd\""),
        (r#"{ length_field = "HDR-NOPE" }"#, "length_field HDR-NOPE is not a field of the header"),
        (r#"{ length_prefix = 4, length_field = "HDR-MSG-LEN" }"#, "exactly one of length_prefix or length_field"),
    ];
    for (framing, why) in channel {
        let toml = with(framing, None);
        let (code, out) = check(&toml);
        assert_eq!(code, 64, "{framing}: {out}");
        let line = line_of(&toml, "tcp_framing");
        assert!(
            out.contains(&format!(":{line}: tcp_framing: ")) && out.contains(why),
            "{framing}: want line {line}, {why:?}:\n{out}"
        );
    }
}

#[test]
fn framings_on_one_field_must_agree() {
    let toml =
        with(r#"{ length_field = "HDR-MSG-LEN", counts = "body" }"#, Some(r#"{ length_field = "HDR-MSG-LEN" }"#));
    let (code, out) = check(&toml);
    assert_eq!(code, 64, "{out}");
    let line = toml.lines().position(|l| l.starts_with("framing = {")).unwrap() + 1;
    assert!(
        out.contains(&format!(":{line}: framing: its length field is also [gateway] tcp_framing"))
            && out.contains("must agree"),
        "{out}"
    );
    // The same rule in both places is fine, trailers aside.
    let (code, out) = check(&with(
        r#"{ length_field = "HDR-MSG-LEN", counts = "body" }"#,
        Some(r#"{ length_field = "HDR-MSG-LEN", counts = "body", trailer = "0x0D0A" }"#),
    ));
    assert_eq!(code, 0, "{out}");
}
