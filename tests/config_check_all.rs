//! `ficus check` reports every problem of a routes.toml, each once and at its place, and
//! `ficus serve` refuses exactly what `check` refuses (both exit 64): listeners sharing a port,
//! an upstream that is the gateway itself, an unreadable token file, unknown keys (all of them,
//! in line order), comparison paths that name no field, operation codes the header cannot hold.

mod common;

use common::*;
use std::process::Command;

/// Runs `ficus <command> --config routes.toml` on `toml` (with a readable `tokens` file beside
/// it unless `tokens` is false): exit code and output.
fn ficus(command: &str, toml: &str, tokens: bool) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("routes.toml");
    std::fs::write(&path, toml).unwrap();
    if tokens {
        std::fs::write(dir.path().join("tokens"), "ops:secret\n").unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_ficus")).args([command, "--config"]).arg(&path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

fn base() -> String {
    let up = Upstreams { legacy: "127.0.0.1:7001".into(), accounts: "http://127.0.0.1:7002/ops".into() };
    routes_toml(&up, "legacy", "accounts", "")
}

fn line_of(toml: &str, needle: &str) -> usize {
    toml.lines().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("no {needle:?}")) + 1
}

/// The problem lines (`…routes.toml:line[:col]: message`).
fn problems(out: &str) -> Vec<String> {
    out.lines().filter(|l| l.contains("routes.toml:")).map(str::to_string).collect()
}

/// Asserts `check` and `serve` both refuse `toml` with 64 and the same problems; returns them.
fn refused(toml: &str, tokens: bool) -> Vec<String> {
    let (code, out) = ficus("check", toml, tokens);
    assert_eq!(code, 64, "check: {out}");
    let (served, serve_out) = ficus("serve", toml, tokens);
    assert_eq!(served, 64, "serve refuses what check refuses: {serve_out}");
    // The problems after the file's name, each up to a temporary directory's path (tempfile's
    // `.tmpXXXXXX`: check and serve run in different ones; the checkout itself may well live
    // under /tmp, as CI's clean clone does).
    let strip = |p: Vec<String>| {
        p.into_iter()
            .map(|l| l.split_once("routes.toml").unwrap().1.split("/.tmp").next().unwrap().to_string())
            .collect()
    };
    let found: Vec<String> = strip(problems(&out));
    assert_eq!(found, strip(problems(&serve_out)) as Vec<String>, "the same problems");
    found
}

#[test]
fn two_listeners_on_one_port_are_refused_by_check_and_serve() {
    let toml = base()
        .replace("listen_http = \"127.0.0.1:0\"", "listen_http = \"127.0.0.1:18080\"")
        .replace("admin       = \"127.0.0.1:0\"", "admin       = \"127.0.0.1:18080\"");
    let found = refused(&toml, true);
    assert_eq!(found.len(), 1, "{found:#?}");
    let line = line_of(&toml, "admin       =");
    assert!(found[0].starts_with(&format!(":{line}: ")), "{found:#?}");
    assert!(found[0].contains("share port 18080"), "{found:#?}");

    // A wildcard overlaps every address on its port.
    let toml = base()
        .replace("listen_tcp  = \"127.0.0.1:0\"", "listen_tcp  = \"0.0.0.0:18080\"")
        .replace("admin       = \"127.0.0.1:0\"", "admin       = \"127.0.0.1:18080\"");
    assert_eq!(refused(&toml, true).len(), 1);

    // An upstream that is the gateway's own listener would loop.
    let toml = base()
        .replace("listen_tcp  = \"127.0.0.1:0\"", "listen_tcp  = \"127.0.0.1:17001\"")
        .replace("address = \"127.0.0.1:7001\"", "address = \"127.0.0.1:17001\"");
    let found = refused(&toml, true);
    assert!(found.iter().any(|p| p.contains("own listen_tcp") && p.contains("loop")), "{found:#?}");
}

#[test]
fn an_unreadable_token_file_is_a_problem_with_its_line() {
    let toml = base().replace("admin_token_file = \"tokens\"", "admin_token_file = \"nope\"");
    let found = refused(&toml, true);
    assert_eq!(found.len(), 1, "{found:#?}");
    let line = line_of(&toml, "admin_token_file");
    assert!(found[0].starts_with(&format!(":{line}: admin_token_file = \"nope\": cannot read")), "{found:#?}");
}

#[test]
fn every_unknown_key_of_a_section_is_reported_in_line_order() {
    let toml = base()
        .replace("target   = \"accounts\"", "targt   = \"accounts\"\nshadw = \"legacy\"")
        .replace("codepage    = \"cp037\"", "codepage    = \"cp037\"\nfoo = 1\nbar = 2");
    let found = refused(&toml, true);
    let at = |needle: &str| format!(":{}: ", line_of(&toml, needle));
    let expected = [(at("foo = 1"), "foo"), (at("bar = 2"), "bar"), (at("targt"), "targt"), (at("shadw"), "shadw")];
    assert_eq!(found.len(), expected.len(), "one problem each, no knock-on `missing target`: {found:#?}");
    for (problem, (line, key)) in found.iter().zip(expected) {
        assert!(problem.starts_with(&line) && problem.contains(&format!("`{key}`")), "{key} at {line}: {found:#?}");
    }
}

#[test]
fn one_missing_comma_in_a_multi_line_array_is_one_problem() {
    let ignore = "ignore = [\n  \"HDR-TIMESTAMP\",\n  \"TXN-ROW[*].TXN-TIME\"\n  \"TXN-ROW[*].TXN-DATE\",\n  \"HDR-SEQ-NO\",\n]\n";
    let toml =
        base().replace("read_only = true\n\n[routes.XFER]", &format!("read_only = true\n{ignore}\n[routes.XFER]"));
    let found = refused(&toml, true);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].starts_with(&format!(":{}:", line_of(&toml, "TXN-ROW[*].TXN-DATE"))), "{found:#?}");
}

#[test]
fn comparison_paths_must_name_a_field() {
    // Generalised forms are accepted: `[*]`, a written index, `*` within a name, a group.
    let good = "ignore = [\"HDR-TIMESTAMP\", \"TXN-ROW[*].TXN-TIME\", \"TXN-ROW[3].TXN-DATE\", \"*-TIMESTAMP\", \"TXN-ROW[#]\"]\n\
                tolerance = { \"TXN-ROW[*].TXN-AMT\" = 0.01 }\nmask = [\"TXN-ROW[*].TXN-MEMO\"]\n";
    let toml = base().replace("read_only = true\n\n[routes.XFER]", &format!("read_only = true\n{good}\n[routes.XFER]"));
    let (code, out) = ficus("check", &toml, true);
    assert_eq!(code, 0, "{out}");

    let bad =
        "mask = [\"CUST-NAM\"]\nignore = [\"HDR-TIMESTAMP\", \"NO-SUCH-FIELD\"]\ntolerance = { \"BALANCEE\" = 1 }\n";
    let toml = base().replacen("read_only = true\n", &format!("read_only = true\n{bad}"), 1);
    let found = refused(&toml, true);
    assert_eq!(found.len(), 3, "{found:#?}");
    let at = |needle: &str| format!(":{}: ", line_of(&toml, needle));
    assert!(found[0].starts_with(&at("mask")) && found[0].contains("did you mean \"CUST-NAME\"?"), "{found:#?}");
    assert!(found[1].starts_with(&at("NO-SUCH-FIELD")) && found[1].contains("\"NO-SUCH-FIELD\""), "{found:#?}");
    assert!(found[2].starts_with(&at("BALANCEE")) && found[2].contains("did you mean \"BALANCE\"?"), "{found:#?}");
}

#[test]
fn operation_codes_must_fit_the_operation_field() {
    let toml =
        base() + "\n[routes.ACCOUNTINQUIRY]\ntarget = \"legacy\"\n\n[routes.\"계좌조회\"]\ntarget = \"legacy\"\n";
    let found = refused(&toml, true);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].starts_with(&format!(":{}: ", line_of(&toml, "ACCOUNTINQUIRY"))), "{found:#?}");
    assert!(found[0].contains("is 14 characters, HDR-TRAN-CODE holds 8"), "{found:#?}");
    assert!(found[1].starts_with(&format!(":{}: ", line_of(&toml, "계좌조회"))), "{found:#?}");
    assert!(found[1].contains("not printable ASCII"), "{found:#?}");
}

#[test]
fn positions_are_those_an_editor_shows() {
    // A byte-order mark is not a column.
    let (code, out) = ficus("check", "\u{feff}x = = 1\n", true);
    assert_eq!(code, 64, "{out}");
    assert!(problems(&out)[0].contains("routes.toml:1:5: "), "{out}");
    // A copybook that cannot be read has no line to point at: no `:0:0`.
    let toml = base().replace("ACCTINQ.cpy#ACCTINQ-REQ", "NOPE.cpy#ACCTINQ-REQ");
    let found = refused(&toml, true);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("NOPE.cpy: cannot read") && !found[0].contains(":0:0"), "{found:#?}");
}
